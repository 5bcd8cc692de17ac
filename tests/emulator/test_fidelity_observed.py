"""Fidelity to real service output users have published (a 2024 DescribePipelineExecution and
ListPipelineExecutionSteps for pipeline `SimpleXGBoostPipeline`): ARN case, experiment names, CreatedBy,
empty step Metadata, millisecond timestamps; and idempotent callback answers."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _token() -> str:
    return str(uuid.uuid4())


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


# ---- what a 2024 DescribePipelineExecution / ListPipelineExecutionSteps looked like ------------------------
# (a user's real output for pipeline `SimpleXGBoostPipeline`: the experiment is the lower-cased name, a step
# with nothing to show lists `"Metadata": {}`. ARNs follow the documented lower-cased form.)


def test_arns_lower_case_the_pipeline_name_and_lookups_stay_case_blind(sm: Any, unique_name: Any) -> None:
    from wire_harness import create_pipeline, simple_definition

    name = unique_name("SimpleXGBoostPipeline")
    definition = json.loads(simple_definition())
    definition["PipelineExperimentConfig"] = {  # what the SDK writes by default
        "ExperimentName": {"Get": "Execution.PipelineName"},
        "TrialName": {"Get": "Execution.PipelineExecutionId"},
    }
    arn = create_pipeline(sm, name, json.dumps(definition))
    assert arn.endswith(f":pipeline/{name.lower()}")
    execution = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert execution.startswith(f"{arn}/execution/")
    described = sm.describe_pipeline_execution(PipelineExecutionArn=execution)
    assert described["PipelineArn"] == arn
    assert described["PipelineExperimentConfig"] == {
        "ExperimentName": name.lower(),
        "TrialName": execution.rsplit("/", 1)[-1],
    }
    # An ARN written with the name's own case (as newer output shows it) names the same execution.
    again = sm.describe_pipeline_execution(PipelineExecutionArn=execution.replace(name.lower(), name))
    assert again["PipelineExecutionArn"] == execution
    listed = sm.list_pipelines(PipelineNamePrefix=name)["PipelineSummaries"]
    assert [p["PipelineArn"] for p in listed] == [arn]


def test_a_step_with_nothing_to_show_lists_empty_metadata(
    sm: Any, make_pipeline: Any, make_definition: Any
) -> None:
    # A Condition step's Metadata appears once it has evaluated; until then it lists `"Metadata": {}`.
    step = {
        "Name": "Check",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}],
            "IfSteps": [],
            "ElseSteps": [],
        },
    }
    name, _ = make_pipeline(definition=make_definition(step))
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    (listed,) = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    assert listed["StepStatus"] in ("Starting", "Executing")
    assert listed["Metadata"] == {}


def test_created_by_and_last_modified_by_name_the_iam_caller(
    sm: Any, emulator: Any, make_pipeline: Any
) -> None:
    import boto3
    from wire_harness import REGION, client_config

    creator = {
        "IamIdentity": {"Arn": "arn:aws:iam::123456789012:user/AKIAEMULATOR", "PrincipalId": "AKIAEMULATOR"}
    }
    name, _ = make_pipeline()
    described = sm.describe_pipeline(PipelineName=name)
    assert described["CreatedBy"] == described["LastModifiedBy"] == creator
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["CreatedBy"] == creator

    other = boto3.client(
        "sagemaker",
        endpoint_url=emulator.url,
        region_name=REGION,
        config=client_config(),
        aws_access_key_id="AKIAOPERATOR",
        aws_secret_access_key="secret",
    )
    other.stop_pipeline_execution(PipelineExecutionArn=arn)
    stopped = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert stopped["CreatedBy"] == creator
    assert stopped["LastModifiedBy"]["IamIdentity"]["PrincipalId"] == "AKIAOPERATOR"
    other.update_pipeline(PipelineName=name, PipelineDescription="changed by the operator")
    updated = sm.describe_pipeline(PipelineName=name)
    assert updated["CreatedBy"] == creator
    assert updated["LastModifiedBy"]["IamIdentity"]["Arn"].endswith(":user/AKIAOPERATOR")


def test_timestamps_have_millisecond_precision(sm: Any, emulator: Any, make_pipeline: Any) -> None:
    name, _ = make_pipeline()
    emulator.advance(0.123456)  # a simulated "now" with sub-millisecond digits
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    emulator.advance(3600.000777)
    described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    times = [described["CreationTime"], described["LastModifiedTime"]]
    times += [s[k] for s in steps for k in ("StartTime", "EndTime") if k in s]
    for moment in times:
        millis = moment.timestamp() * 1000
        assert abs(millis - round(millis)) < 1e-3, moment
    # The default display name is `execution-<epoch ms>` of the same instant the CreationTime shows.
    created_ms = round(described["CreationTime"].timestamp() * 1000)
    assert described["PipelineExecutionDisplayName"] == f"execution-{created_ms}"


def test_a_retried_callback_answer_is_idempotent(
    sm: Any, emulator: Any, make_pipeline: Any, make_definition: Any
) -> None:
    callback = {
        "Name": "Approve",
        "Type": "Callback",
        "Arguments": {},
        "SqsQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
        "OutputParameters": [{"OutputName": "by", "OutputType": "String"}],
    }
    name, _ = make_pipeline(definition=make_definition(callback))
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    emulator.advance(600)
    (step,) = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    answer = {
        "CallbackToken": step["Metadata"]["Callback"]["CallbackToken"],
        "OutputParameters": [{"Name": "by", "Value": "ana"}],
        "ClientRequestToken": _token(),
    }
    assert sm.send_pipeline_execution_step_success(**answer)["PipelineExecutionArn"] == arn
    # The same answer again (the reply was lost, the client retries): the same reply, not "token used".
    assert sm.send_pipeline_execution_step_success(**answer)["PipelineExecutionArn"] == arn
    with pytest.raises(ClientError) as error:
        sm.send_pipeline_execution_step_success(
            **{**answer, "OutputParameters": [{"Name": "by", "Value": "bo"}]}
        )
    assert _code(error) == "ValidationException" and answer["ClientRequestToken"] in str(error.value)
    (step,) = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    assert step["Metadata"]["Callback"]["OutputParameters"] == [{"Name": "by", "Value": "ana"}]
