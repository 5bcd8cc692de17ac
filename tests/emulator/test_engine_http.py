"""Engine behaviour seen through the wire: boto3 against an emulator process running a test scenario."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from shape_check import ShapeChecker
from wire_harness import DEFINITIONS, EmulatorProcess, create_pipeline, make_sm, new_name

SCENARIO = """
seed = 3
[pipelines."cf-high-*".steps.Evaluate]
outputs = { accuracy = 0.95 }
[pipelines."cf-low-*".steps.Evaluate]
outputs = { accuracy = 0.1 }
[pipelines."flaky-*".steps.B]
fail_attempts = 1
failures = [{ reason = "InternalServerError: try again", exception = "SageMaker.JOB_INTERNAL_ERROR" }]
[pipelines."retrying-*".steps.Train]
fail_attempts = 2
failures = [{ reason = "CapacityError: no capacity", exception = "SageMaker.CAPACITY_ERROR" }]
[pipelines."long-*"]
duration = 5000
[pipelines."types-*".steps.Wait]
callback_reply_after = 60
outputs = { ok = true }
"""


@pytest.fixture(scope="module")
def engine_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    scenario = tmp_path_factory.mktemp("scenario") / "scenario.toml"
    scenario.write_text(SCENARIO)
    process = EmulatorProcess(["--port", "0", "--time-scale", "0", "--scenario", str(scenario)])
    yield process
    process.stop()


@pytest.fixture
def client(engine_emulator: EmulatorProcess, shape_checker: ShapeChecker) -> Any:
    return make_sm(engine_emulator, shape_checker)


def _steps(client: Any, arn: str) -> dict[str, dict[str, Any]]:
    pages = client.get_paginator("list_pipeline_execution_steps").paginate(PipelineExecutionArn=arn)
    return {s["StepName"]: s for page in pages for s in page["PipelineExecutionSteps"]}


def _status(client: Any, arn: str) -> str:
    status: str = client.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
    return status


def _run(client: Any, emulator: EmulatorProcess, arn: str, *, tick: float = 600, limit: int = 200) -> str:
    for _ in range(limit):
        status = _status(client, arn)
        if status not in ("Executing", "Stopping"):
            return status
        emulator.advance(tick)
    return _status(client, arn)


def _step(name: str, kind: str = "Processing", **extra: Any) -> dict[str, Any]:
    return {"Name": name, "Type": kind, "Arguments": extra.pop("Arguments", {}), **extra}


def _definition(*steps: dict[str, Any], parameters: list[dict[str, Any]] | None = None) -> str:
    return json.dumps({"Version": "2020-12-01", "Parameters": parameters or [], "Steps": list(steps)})


def test_condition_true_branch_and_foreach_children_over_http(
    client: Any, engine_emulator: EmulatorProcess
) -> None:
    name = new_name("cf-high")
    create_pipeline(client, name, (DEFINITIONS / "condition-foreach.json").read_text())
    arn = client.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert _run(client, engine_emulator, arn) == "Succeeded"
    steps = _steps(client, arn)
    assert steps["CheckAccuracy"]["Metadata"] == {"Condition": {"Outcome": "True"}}
    assert "TooInaccurate" not in steps
    assert steps["ScoreShard-1"]["IterationContext"] == {
        "ParentStepName": "ScoreAll",
        "Index": 1,
        "Item": "b",
    }
    assert steps["ScoreAll"]["Metadata"]["ForEach"]["SucceededStepCount"] == 3
    assert steps["Evaluate"]["Metadata"]["Lambda"]["OutputParameters"] == [
        {"Name": "accuracy", "Value": "0.95"}
    ]
    # The job a step ran is describable from the ARN in its metadata (name lookup is case-insensitive).
    job_name = steps["Preprocess"]["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[1]
    job = client.describe_processing_job(ProcessingJobName=job_name)
    assert job["ProcessingJobStatus"] == "Completed"
    assert job["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.m5.xlarge"


def test_condition_false_fails_with_the_fail_step_message_and_cannot_be_retried(
    client: Any, engine_emulator: EmulatorProcess
) -> None:
    name = new_name("cf-low")
    create_pipeline(client, name, (DEFINITIONS / "condition-foreach.json").read_text())
    arn = client.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert _run(client, engine_emulator, arn) == "Failed"
    described = client.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["FailureReason"] == "accuracy below threshold"
    steps = _steps(client, arn)
    assert steps["TooInaccurate"]["Metadata"] == {"Fail": {"ErrorMessage": "accuracy below threshold"}}
    assert "ScoreAll" not in steps
    with pytest.raises(ClientError) as caught:
        client.retry_pipeline_execution(PipelineExecutionArn=arn)
    assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_stop_and_retry_state_machines(client: Any, engine_emulator: EmulatorProcess) -> None:
    name = new_name("flaky")
    create_pipeline(
        client, name, _definition(_step("A"), _step("B", DependsOn=["A"]), _step("C", DependsOn=["B"]))
    )
    arn = client.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert _run(client, engine_emulator, arn) == "Failed"
    assert "C" not in _steps(client, arn)
    again = client.retry_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionArn"]
    assert again == arn
    assert _status(client, arn) == "Executing"
    assert _run(client, engine_emulator, arn) == "Succeeded"
    steps = _steps(client, arn)
    assert (steps["A"]["AttemptCount"], steps["B"]["AttemptCount"], steps["C"]["AttemptCount"]) == (1, 2, 1)

    long_name = new_name("long")
    create_pipeline(
        client, long_name, _definition(_step("Slow", "Training"), _step("Next", DependsOn=["Slow"]))
    )
    long_arn = client.start_pipeline_execution(PipelineName=long_name)["PipelineExecutionArn"]
    engine_emulator.advance(100)
    client.stop_pipeline_execution(PipelineExecutionArn=long_arn)
    assert _status(client, long_arn) == "Stopping"
    assert _run(client, engine_emulator, long_arn, tick=5) == "Stopped"
    steps = _steps(client, long_arn)
    assert steps["Slow"]["StepStatus"] == "Stopped" and "Next" not in steps
    job_name = steps["Slow"]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[1]
    assert client.describe_training_job(TrainingJobName=job_name)["TrainingJobStatus"] == "Stopped"
    with pytest.raises(ClientError) as caught:
        client.stop_pipeline_execution(PipelineExecutionArn=long_arn)
    assert (
        "Only pipelines with 'Executing' status can be stopped" in caught.value.response["Error"]["Message"]
    )


def test_retry_policy_attempts_are_visible(client: Any, engine_emulator: EmulatorProcess) -> None:
    name = new_name("retrying")
    policy = {
        "ExceptionType": ["SageMaker.CAPACITY_ERROR"],
        "IntervalSeconds": 5,
        "BackoffRate": 2.0,
        "MaxAttempts": 3,
    }
    create_pipeline(client, name, _definition(_step("Train", "Training", RetryPolicies=[policy])))
    arn = client.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert _run(client, engine_emulator, arn, tick=60) == "Succeeded"
    assert _steps(client, arn)["Train"]["AttemptCount"] == 3


def test_callback_answered_over_the_wire(client: Any, engine_emulator: EmulatorProcess) -> None:
    name = new_name("callback")
    callback = _step(
        "Approve",
        "Callback",
        SqsQueueUrl="https://sqs.us-east-1.amazonaws.com/123456789012/q",
        OutputParameters=[{"OutputName": "rows", "OutputType": "Integer"}],
    )
    create_pipeline(
        client,
        name,
        _definition(
            callback,
            _step(
                "Load", Arguments={"Environment": {"n": {"Get": "Steps.Approve.OutputParameters['rows']"}}}
            ),
        ),
    )
    arn = client.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    engine_emulator.advance(3600)
    approve = _steps(client, arn)["Approve"]
    assert approve["StepStatus"] == "Executing"
    token = approve["Metadata"]["Callback"]["CallbackToken"]
    with pytest.raises(ClientError) as caught:
        client.send_pipeline_execution_step_success(
            CallbackToken=token, OutputParameters=[{"Name": "nope", "Value": "1"}]
        )
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    reply = client.send_pipeline_execution_step_success(
        CallbackToken=token, OutputParameters=[{"Name": "rows", "Value": "12"}]
    )
    assert reply["PipelineExecutionArn"] == arn
    assert _run(client, engine_emulator, arn) == "Succeeded"
    assert _steps(client, arn)["Approve"]["Metadata"]["Callback"]["OutputParameters"] == [
        {"Name": "rows", "Value": "12"}
    ]


def test_cache_hit_shows_its_source_though_the_output_path_and_instance_type_differ(
    client: Any, engine_emulator: EmulatorProcess
) -> None:
    name = new_name("cached")
    # As the SDK writes an output without a destination: the path holds the execution id.
    per_execution = {"Std:Join": {"On": "/", "Values": ["s3://b", {"Get": "Execution.PipelineExecutionId"}]}}
    arguments = {
        "Environment": {"MODE": {"Get": "Parameters.Mode"}},
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "o", "S3Output": {"S3Uri": per_execution}}]},
        "ProcessingResources": {"ClusterConfig": {"InstanceType": {"Get": "Parameters.Instance"}}},
    }
    parameters = [
        {"Name": "Mode", "Type": "String", "DefaultValue": "fast"},
        {"Name": "Instance", "Type": "String", "DefaultValue": "ml.m5.xlarge"},
    ]
    cached = _step("Prep", Arguments=arguments, CacheConfig={"Enabled": True, "ExpireAfter": "P1D"})
    create_pipeline(client, name, _definition(cached, parameters=parameters))
    first = client.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert _run(client, engine_emulator, first) == "Succeeded"
    bigger = [{"Name": "Instance", "Value": "ml.m5.4xlarge"}]
    second = client.start_pipeline_execution(PipelineName=name, PipelineParameters=bigger)[
        "PipelineExecutionArn"
    ]
    prep = _steps(client, second)["Prep"]
    assert prep["StepStatus"] == "Succeeded"
    assert prep["CacheHitResult"] == {"SourcePipelineExecutionArn": first}
    slow = [{"Name": "Mode", "Value": "slow"}]
    third = client.start_pipeline_execution(PipelineName=name, PipelineParameters=slow)[
        "PipelineExecutionArn"
    ]
    assert "CacheHitResult" not in _steps(client, third)["Prep"]


def test_bad_parameters_start_nothing(client: Any) -> None:
    name = new_name("params")
    create_pipeline(
        client,
        name,
        _definition(_step("A"), parameters=[{"Name": "N", "Type": "Integer", "DefaultValue": 1}]),
    )
    for bad in ([{"Name": "M", "Value": "1"}], [{"Name": "N", "Value": "x"}]):
        with pytest.raises(ClientError) as caught:
            client.start_pipeline_execution(PipelineName=name, PipelineParameters=bad)
        assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert client.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"] == []
    token = "a" * 40
    one = client.start_pipeline_execution(PipelineName=name, ClientRequestToken=token)["PipelineExecutionArn"]
    two = client.start_pipeline_execution(PipelineName=name, ClientRequestToken=token)["PipelineExecutionArn"]
    assert one == two
    params = client.list_pipeline_parameters_for_execution(PipelineExecutionArn=one)["PipelineParameters"]
    assert params == [{"Name": "N", "Value": "1"}]


def test_running_execution_carries_on_after_restart(
    tmp_path: Path, emulator_factory: Callable[..., EmulatorProcess]
) -> None:
    state = str(tmp_path / "state.sqlite")
    first = emulator_factory("--time-scale", "0", "--state", state)
    client = make_sm(first)
    name = new_name("restart")
    create_pipeline(client, name, _definition(_step("A"), _step("B", "Training", DependsOn=["A"])))
    arn = client.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    first.advance(400)
    before = _steps(client, arn)
    assert _status(client, arn) == "Executing"
    first.stop()
    second = emulator_factory("--time-scale", "0", "--state", state)
    client = make_sm(second)
    assert _steps(client, arn)["A"]["StartTime"] == before["A"]["StartTime"]
    assert _run(client, second, arn) == "Succeeded"
    assert set(_steps(client, arn)) == {"A", "B"}


def test_every_step_type_lists_its_metadata_in_the_model_shape(
    client: Any, engine_emulator: EmulatorProcess
) -> None:
    name = new_name("types")
    kinds = {
        "Prep": ("Processing", "ProcessingJob"),
        "Train": ("Training", "TrainingJob"),
        "Batch": ("Transform", "TransformJob"),
        "Tune": ("Tuning", "TuningJob"),
        "MakeModel": ("Model", "Model"),
        "Register": ("RegisterModel", "RegisterModel"),
        "Spark": ("EMR", "EMR"),
        "Serverless": ("EMRServerless", "EMRServerless"),
        "DataCheck": ("QualityCheck", "QualityCheck"),
        "Bias": ("ClarifyCheck", "ClarifyCheck"),
        "AutoPilot": ("AutoML", "AutoMLJob"),
        "Deploy": ("Endpoint", "Endpoint"),
    }
    steps = [_step(step_name, kind) for step_name, (kind, _) in kinds.items()]
    # CreateModelPackage needs a group (or a package name): without either the service refuses it.
    steps[5]["Arguments"] = {"ModelPackageGroupName": f"{name}-models"}
    steps.append(
        _step(
            "Fn",
            "Lambda",
            FunctionArn="arn:aws:lambda:us-east-1:123456789012:function:f",
            OutputParameters=[{"OutputName": "n", "OutputType": "Integer"}],
        )
    )
    steps.append(
        _step(
            "Wait",
            "Callback",
            SqsQueueUrl="https://sqs.us-east-1.amazonaws.com/123456789012/q",
            OutputParameters=[{"OutputName": "ok", "OutputType": "Boolean"}],
        )
    )
    create_pipeline(client, name, _definition(*steps))
    arn = client.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert _run(client, engine_emulator, arn) == "Succeeded"
    listed = _steps(client, arn)  # the shape checker validates every Metadata member against botocore's model
    for step_name, (_, key) in kinds.items():
        assert list(listed[step_name]["Metadata"]) == [key], step_name
    assert listed["Fn"]["Metadata"]["Lambda"]["OutputParameters"][0]["Name"] == "n"
    check_job = listed["DataCheck"]["Metadata"]["QualityCheck"]["CheckJobArn"].rsplit("/", 1)[1]
    assert client.describe_processing_job(ProcessingJobName=check_job)["ProcessingJobStatus"] == "Completed"
    assert listed["Wait"]["Metadata"]["Callback"]["OutputParameters"] == [{"Name": "ok", "Value": "true"}]
