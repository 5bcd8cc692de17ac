"""What the jobs and functions that steps run write to CloudWatch Logs, read over HTTP: the metric lines a
training job's MetricDefinitions match (agreeing with its FinalMetricDataList), one stream per instance, a
traceback naming the FailureReason, nothing from a job that never ran, a stop cutting the log short, and a
Lambda step's invocation in its function's log group over the step's window."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from logs_harness import AUC, LOSS, definition, events, job_name, processing, run, steps, training, transform
from shape_check import ShapeChecker
from wire_harness import EmulatorProcess, create_pipeline, make_logs, make_sm, new_name

TRAINING_GROUP = "/aws/sagemaker/TrainingJobs"
REASON = (
    'AlgorithmError: ExecuteUserScriptError: Command "/opt/conda/bin/python3.10 train.py" exited with code 1'
)
SCENARIO = f"""
seed = 5
[pipelines."metrics-*".steps.Train]
duration = 3000
metrics = {{ "validation:auc" = 0.91, "train:loss" = 0.12 }}
[pipelines."failing-*"]
outcome = "Failed"
[pipelines."failing-*".steps.Train]
duration = 1200
failures = [{{ reason = '{REASON}', exception = "" }}]
[pipelines."capacity-*".steps.Train]
outcome = "Failed"
failures = [{{ reason = "CapacityError: Unable to provision requested ML compute.", exception = "" }}]
[pipelines."lambda-*".steps.Notify]
duration = 30
outputs = {{ message_id = "msg-42" }}
[pipelines."stopped-*"]
duration = 2000
"""


@pytest.fixture(scope="module")
def emulator_with_scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    path = Path(tmp_path_factory.mktemp("scenario")) / "scenario.toml"
    path.write_text(SCENARIO)
    process = EmulatorProcess(["--port", "0", "--time-scale", "0", "--scenario", str(path)])
    yield process
    process.stop()


@pytest.fixture
def clients(emulator_with_scenario: EmulatorProcess, shape_checker: ShapeChecker) -> tuple[Any, Any]:
    return make_sm(emulator_with_scenario, shape_checker), make_logs(emulator_with_scenario, shape_checker)


def _start(sm: Any, prefix: str, *step_list: dict[str, Any]) -> str:
    name = new_name(prefix)
    create_pipeline(sm, name, definition(*step_list))
    arn: str = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    return arn


def test_metric_lines_agree_with_the_final_metric_data_list(
    clients: tuple[Any, Any], emulator_with_scenario: EmulatorProcess
) -> None:
    sm, logs = clients
    arn = _start(sm, "metrics", training(count=2))
    assert run(sm, emulator_with_scenario, arn) == "Succeeded"
    job = sm.describe_training_job(TrainingJobName=job_name(sm, steps(sm, arn)["Train"]))
    final = {m["MetricName"]: m for m in job["FinalMetricDataList"]}
    assert {name: m["Value"] for name, m in final.items()} == {"validation:auc": 0.91, "train:loss": 0.12}
    lines = events(logs, TRAINING_GROUP, logStreamNamePrefix=job["TrainingJobName"] + "/")
    for definition_ in (AUC, LOSS):
        matched = [(e, re.search(definition_["Regex"], e["message"])) for e in lines]
        history = [(e["timestamp"], float(m.group(1))) for e, m in matched if m]
        assert len(history) == 25  # one per boosting round (num_round = 25)
        # SageMaker's rule: the last value the regex matched is the final metric, stamped with its line.
        metric = final[definition_["Name"]]
        assert history[-1][1] == metric["Value"]
        assert history[-1][0] == int(metric["Timestamp"].timestamp() * 1000)
    aucs = [float(m.group(1)) for e in lines if (m := re.search(AUC["Regex"], e["message"]))]
    losses = [float(m.group(1)) for e in lines if (m := re.search(LOSS["Regex"], e["message"]))]
    assert aucs[0] < 0.75 < aucs[-1] and losses[0] > 2 * losses[-1]  # a model that learned
    rounds = [line for line in (e["message"] for e in lines) if "#011validation-auc:" in line]
    assert rounds[0].startswith("[0]#011") and rounds[-1].startswith("[24]#011")  # XGBoost counts from 0


def test_one_stream_per_instance_named_as_sagemaker_names_them(
    clients: tuple[Any, Any], emulator_with_scenario: EmulatorProcess
) -> None:
    sm, logs = clients
    arn = _start(sm, "hosts", training(count=2), processing(count=3), transform(count=2))
    assert run(sm, emulator_with_scenario, arn) == "Succeeded"
    listed = steps(sm, arn)
    train = sm.describe_training_job(TrainingJobName=job_name(sm, listed["Train"]))
    container_start = next(t for t in train["SecondaryStatusTransitions"] if t["Status"] == "Training")
    epoch = int(container_start["StartTime"].timestamp())
    expected = {
        "/aws/sagemaker/TrainingJobs": (
            job_name(sm, listed["Train"]),
            [rf"algo-{k}-{epoch}" for k in (1, 2)],
        ),
        "/aws/sagemaker/ProcessingJobs": (
            job_name(sm, listed["Prep"]),
            [rf"algo-{k}-\d{{10}}" for k in (1, 2, 3)],
        ),
        "/aws/sagemaker/TransformJobs": (
            job_name(sm, listed["Score"]),
            [r"i-[0-9a-f]{17}-\d{10}", r"i-[0-9a-f]{17}-\d{10}/data-log"] * 2,
        ),
    }
    for group, (job, patterns) in expected.items():
        names = [
            s["logStreamName"]
            for s in logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=job + "/")[
                "logStreams"
            ]
        ]
        assert len(names) == len(patterns), names
        for name in names:
            assert any(re.fullmatch(re.escape(job) + "/" + p, name) for p in patterns), name
    score = job_name(sm, listed["Score"])
    data_log = events(logs, "/aws/sagemaker/TransformJobs", logStreamNamePrefix=score + "/")
    settings = [e for e in data_log if e["logStreamName"].endswith("/data-log")]
    assert all("[sagemaker logs]: MaxConcurrentTransforms=" in e["message"] for e in settings)
    prep = events(
        logs, "/aws/sagemaker/ProcessingJobs", logStreamNamePrefix=job_name(sm, listed["Prep"]) + "/"
    )
    assert any(
        "Reading input 'raw' from /opt/ml/processing/input/raw (s3://bucket/raw)" in e["message"]
        for e in prep
    )
    assert {e["logStreamName"].split("/")[1].rsplit("-", 1)[0] for e in prep} == {
        "algo-1",
        "algo-2",
        "algo-3",
    }


def test_a_failed_job_ends_with_a_traceback_naming_its_failure_reason(
    clients: tuple[Any, Any], emulator_with_scenario: EmulatorProcess
) -> None:
    sm, logs = clients
    arn = _start(sm, "failing", training(count=2))
    assert run(sm, emulator_with_scenario, arn) == "Failed"
    job = sm.describe_training_job(TrainingJobName=job_name(sm, steps(sm, arn)["Train"]))
    assert job["FailureReason"] == REASON
    lines = [
        e["message"] for e in events(logs, TRAINING_GROUP, logStreamNamePrefix=job["TrainingJobName"] + "/")
    ]
    assert lines[-1] == REASON  # interleaved over both hosts, the lead host's traceback comes last
    tail = lines[-12:]
    assert "Traceback (most recent call last):" in tail
    assert any("sagemaker-training-toolkit ERROR    Reporting training FAILURE" in line for line in lines)
    statuses = [t["Status"] for t in job["SecondaryStatusTransitions"]]
    assert statuses == ["Starting", "Downloading", "Training", "Failed"]
    assert job["SecondaryStatusTransitions"][-1]["StatusMessage"] == REASON


def test_failed_processing_and_transform_jobs_end_with_their_failure_reason(
    clients: tuple[Any, Any], emulator_with_scenario: EmulatorProcess
) -> None:
    sm, logs = clients
    arn = _start(sm, "failing", processing(count=2), transform(count=2))
    assert run(sm, emulator_with_scenario, arn) == "Failed"
    listed = steps(sm, arn)
    for step, group in (("Prep", "ProcessingJobs"), ("Score", "TransformJobs")):
        job = job_name(sm, listed[step])
        lines = [e["message"] for e in events(logs, f"/aws/sagemaker/{group}", logStreamNamePrefix=job + "/")]
        assert lines[-1] == listed[step]["FailureReason"], step
        assert "Traceback (most recent call last):" in lines[-8:], step


def test_a_job_that_never_ran_a_container_has_no_log(
    clients: tuple[Any, Any], emulator_with_scenario: EmulatorProcess
) -> None:
    sm, logs = clients
    arn = _start(sm, "capacity", training())
    assert run(sm, emulator_with_scenario, arn) == "Failed"
    job = sm.describe_training_job(TrainingJobName=job_name(sm, steps(sm, arn)["Train"]))
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]] == ["Starting", "Failed"]
    assert "TrainingStartTime" not in job and "BillableTimeInSeconds" not in job
    try:
        found = logs.describe_log_streams(
            logGroupName=TRAINING_GROUP, logStreamNamePrefix=job["TrainingJobName"]
        )
    except logs.exceptions.ResourceNotFoundException:
        return  # no training job has logged on this emulator yet: the group does not exist either
    assert found["logStreams"] == []


def test_a_stop_cuts_the_log_where_it_came(
    clients: tuple[Any, Any], emulator_with_scenario: EmulatorProcess
) -> None:
    sm, logs = clients
    arn = _start(sm, "stopped", training())
    emulator_with_scenario.advance(1000)  # well into training (it starts within 12 % of 2000 s)
    stopped_at = emulator_with_scenario.now()
    sm.stop_pipeline_execution(PipelineExecutionArn=arn)
    assert run(sm, emulator_with_scenario, arn, tick=5) == "Stopped"
    emulator_with_scenario.advance(5000)
    job = sm.describe_training_job(TrainingJobName=job_name(sm, steps(sm, arn)["Train"]))
    lines = events(logs, TRAINING_GROUP, logStreamNamePrefix=job["TrainingJobName"] + "/")
    assert lines[-1]["message"].startswith("Received SIGTERM")
    assert all(e["timestamp"] <= stopped_at * 1000 for e in lines)
    assert not any("Reporting training SUCCESS" in e["message"] for e in lines)
    statuses = [t["Status"] for t in job["SecondaryStatusTransitions"]]
    assert statuses == ["Starting", "Downloading", "Training", "Stopping", "Stopped"]
    assert job["TrainingJobStatus"] == "Stopped"


def test_a_lambda_step_logs_to_its_function_group_over_the_steps_window(
    clients: tuple[Any, Any], emulator_with_scenario: EmulatorProcess
) -> None:
    sm, logs = clients
    function = new_name("notify")
    notify = {
        "Name": "Notify",
        "Type": "Lambda",
        "Arguments": {"rows": 1200},
        "FunctionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{function}",
        "OutputParameters": [{"OutputName": "message_id", "OutputType": "String"}],
    }
    arn = _start(sm, "lambda", notify)
    assert run(sm, emulator_with_scenario, arn) == "Succeeded"
    step = steps(sm, arn)["Notify"]
    window = {
        "startTime": int(step["StartTime"].timestamp() * 1000),
        "endTime": int(step["EndTime"].timestamp() * 1000),
    }
    group = f"/aws/lambda/{function}"
    (stream,) = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", stream["logStreamName"])
    lines = events(logs, group, **window)
    assert all(window["startTime"] <= e["timestamp"] <= window["endTime"] for e in lines)
    messages = [e["message"] for e in lines]
    request = re.fullmatch(r"START RequestId: ([0-9a-f-]{36}) Version: \$LATEST", messages[1])
    assert request is not None and messages[0].startswith("INIT_START Runtime Version: python:3.12")
    assert any(m.endswith('Received event: {"rows": 1200}') for m in messages)
    assert any(m.endswith('Returning {"message_id": "msg-42"}') for m in messages)
    assert messages[-2:] == [f"END RequestId: {request.group(1)}", messages[-1]]
    assert messages[-1].startswith(f"REPORT RequestId: {request.group(1)}\tDuration: ")
    assert step["Metadata"]["Lambda"] == {
        "Arn": notify["FunctionArn"],
        "OutputParameters": [{"Name": "message_id", "Value": "msg-42"}],
    }


def test_lines_appear_as_the_clock_passes_them(
    clients: tuple[Any, Any], emulator_with_scenario: EmulatorProcess
) -> None:
    sm, logs = clients
    arn = _start(sm, "metrics", training(count=2))
    emulator_with_scenario.advance(400)
    name = job_name(sm, steps(sm, arn)["Train"])
    early = events(logs, TRAINING_GROUP, logStreamNamePrefix=name + "/")
    now = emulator_with_scenario.now()
    assert early and all(e["timestamp"] <= now * 1000 for e in early)
    emulator_with_scenario.advance(600)
    later = events(logs, TRAINING_GROUP, logStreamNamePrefix=name + "/")
    assert len(later) > len(early) and later[: len(early)] == early
    assert {e["logStreamName"] for e in later} == {e["logStreamName"] for e in early}  # both hosts log
