"""Execution operations end to end over boto3: start, describe, list (pages and orders), steps, parameters,
stop, retry refusals, update, callbacks, delete while running. The clock is paused; tests advance it."""

from __future__ import annotations

import json
import math
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from wire_harness import ROLE_ARN

EXECUTION_ARN = re.compile(
    r"arn:aws:sagemaker:us-east-1:123456789012:pipeline/([A-Za-z0-9-]+)/execution/[a-z0-9]{12}"
)
QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/callbacks"
LONG_ENOUGH = 4 * 3600  # simulated seconds after which the default scenario has finished any small pipeline


def code_of(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_start_describe_and_finish(sm: Any, emulator: Any, make_pipeline: Any) -> None:
    name, pipeline_arn = make_pipeline()
    arn = sm.start_pipeline_execution(PipelineName=name, PipelineExecutionDisplayName="first-run")[
        "PipelineExecutionArn"
    ]
    match = EXECUTION_ARN.fullmatch(arn)
    assert match and match.group(1) == name
    described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["PipelineArn"] == pipeline_arn
    assert described["PipelineExecutionStatus"] == "Executing"
    assert described["PipelineExecutionDisplayName"] == "first-run"
    assert sm.list_pipelines(PipelineNamePrefix=name)["PipelineSummaries"][0]["LastExecutionTime"] is not None
    emulator.advance(LONG_ENOUGH)
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Succeeded"
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    assert [(s["StepName"], s["StepStatus"]) for s in steps] == [("Prepare", "Succeeded")]
    assert steps[0]["Metadata"]["ProcessingJob"]["Arn"].startswith(
        "arn:aws:sagemaker:us-east-1:123456789012:processing-job/"
    )


def test_start_is_idempotent_on_the_client_token(sm: Any, make_pipeline: Any) -> None:
    name, _ = make_pipeline()
    token = uuid.uuid4().hex
    first = sm.start_pipeline_execution(PipelineName=name, ClientRequestToken=token)["PipelineExecutionArn"]
    again = sm.start_pipeline_execution(PipelineName=name, ClientRequestToken=token)["PipelineExecutionArn"]
    assert again == first
    assert len(sm.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"]) == 1


def test_start_on_an_unknown_pipeline_is_resource_not_found(sm: Any, unique_name: Any) -> None:
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.start_pipeline_execution(PipelineName=unique_name("ghost"))


def _all_executions(sm: Any, **kwargs: Any) -> list[dict[str, Any]]:
    pages = sm.get_paginator("list_pipeline_executions").paginate(**kwargs)
    return [row for page in pages for row in page["PipelineExecutionSummaries"]]


def test_list_executions_newest_first_in_pages_without_duplicates(
    sm: Any, emulator: Any, make_pipeline: Any
) -> None:
    name, _ = make_pipeline()
    started = []
    for _ in range(7):
        started.append(sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"])
        emulator.advance(1)
    newest_first = _all_executions(sm, PipelineName=name, PaginationConfig={"PageSize": 3})
    assert [e["PipelineExecutionArn"] for e in newest_first] == started[::-1]
    oldest_first = _all_executions(
        sm, PipelineName=name, SortOrder="Ascending", PaginationConfig={"PageSize": 2}
    )
    assert [e["PipelineExecutionArn"] for e in oldest_first] == started
    by_arn = _all_executions(
        sm,
        PipelineName=name,
        SortBy="PipelineExecutionArn",
        SortOrder="Ascending",
        PaginationConfig={"PageSize": 4},
    )
    assert [e["PipelineExecutionArn"] for e in by_arn] == sorted(started)
    times = [e["StartTime"].timestamp() for e in oldest_first]
    # Whole-second bounds (botocore may truncate fractions): after the 2nd execution, before the 6th.
    window = _all_executions(
        sm, PipelineName=name, CreatedAfter=math.ceil(times[1]), CreatedBefore=math.floor(times[5])
    )
    assert [e["PipelineExecutionArn"] for e in window] == started[4:1:-1]


def test_a_new_execution_does_not_shift_the_next_page(sm: Any, emulator: Any, make_pipeline: Any) -> None:
    name, _ = make_pipeline()
    started = []
    for _ in range(4):
        started.append(sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"])
        emulator.advance(1)
    first = sm.list_pipeline_executions(PipelineName=name, MaxResults=2)
    sm.start_pipeline_execution(PipelineName=name)  # lands on the newest end, before page 1
    second = sm.list_pipeline_executions(PipelineName=name, MaxResults=2, NextToken=first["NextToken"])
    seen = [
        e["PipelineExecutionArn"]
        for e in first["PipelineExecutionSummaries"] + second["PipelineExecutionSummaries"]
    ]
    assert seen == started[::-1]
    assert "NextToken" not in second


def test_parameters_defaults_included_as_strings_page_by_page(
    sm: Any, definitions: Path, make_pipeline: Any
) -> None:
    definition = (definitions / "condition-foreach.json").read_text()
    name, _ = make_pipeline(definition=definition)
    arn = sm.start_pipeline_execution(
        PipelineName=name, PipelineParameters=[{"Name": "AccuracyThreshold", "Value": "0.5"}]
    )["PipelineExecutionArn"]
    pages = sm.get_paginator("list_pipeline_parameters_for_execution").paginate(
        PipelineExecutionArn=arn, PaginationConfig={"PageSize": 1}
    )
    values = {p["Name"]: p["Value"] for page in pages for p in page["PipelineParameters"]}
    assert values == {
        "ProcessingInstanceType": "ml.m5.xlarge",
        "InstanceCount": "1",
        "AccuracyThreshold": "0.5",
    }
    sent = sm.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn)["PipelineDefinition"]
    assert json.loads(sent) == json.loads(definition)


def test_unknown_parameter_starts_nothing(sm: Any, make_pipeline: Any) -> None:
    name, _ = make_pipeline()
    with pytest.raises(ClientError) as caught:
        sm.start_pipeline_execution(PipelineName=name, PipelineParameters=[{"Name": "Nope", "Value": "1"}])
    assert code_of(caught) == "ValidationException"
    assert sm.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"] == []


def test_steps_newest_first_and_in_pages(
    sm: Any, emulator: Any, definitions: Path, make_pipeline: Any
) -> None:
    name, _ = make_pipeline(definition=(definitions / "condition-foreach.json").read_text())
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    emulator.advance(LONG_ENOUGH)
    whole = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    assert len(whole) >= 3
    starts = [s["StartTime"] for s in whole]
    assert starts == sorted(starts, reverse=True)
    ascending = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn, SortOrder="Ascending")
    assert ascending["PipelineExecutionSteps"] == whole[::-1]
    pages = sm.get_paginator("list_pipeline_execution_steps").paginate(
        PipelineExecutionArn=arn, PaginationConfig={"PageSize": 2}
    )
    assert [s for page in pages for s in page["PipelineExecutionSteps"]] == whole


def test_stop_goes_through_stopping_to_stopped_and_only_from_executing(
    sm: Any, emulator: Any, make_pipeline: Any
) -> None:
    name, _ = make_pipeline()
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    emulator.advance(10)
    sm.stop_pipeline_execution(PipelineExecutionArn=arn)
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Stopping"
    emulator.advance(LONG_ENOUGH)
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Stopped"
    with pytest.raises(ClientError) as caught:
        sm.stop_pipeline_execution(PipelineExecutionArn=arn)
    assert code_of(caught) == "ValidationException"


def test_retry_of_a_succeeded_execution_is_refused(sm: Any, emulator: Any, make_pipeline: Any) -> None:
    name, _ = make_pipeline()
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    emulator.advance(LONG_ENOUGH)
    with pytest.raises(ClientError) as caught:
        sm.retry_pipeline_execution(PipelineExecutionArn=arn)
    assert code_of(caught) == "ValidationException"
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Succeeded"


def test_update_execution_changes_what_describe_shows(sm: Any, make_pipeline: Any) -> None:
    name, _ = make_pipeline()
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    sm.update_pipeline_execution(
        PipelineExecutionArn=arn,
        PipelineExecutionDisplayName="renamed",
        PipelineExecutionDescription="now described",
        ParallelismConfiguration={"MaxParallelExecutionSteps": 2},
    )
    described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["PipelineExecutionDisplayName"] == "renamed"
    assert described["PipelineExecutionDescription"] == "now described"
    assert described["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 2}


def test_unknown_execution_is_resource_not_found(sm: Any, make_pipeline: Any) -> None:
    name, _ = make_pipeline()
    ghost = f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/{name.lower()}/execution/zzzzzzzzzzzz"
    for call in (sm.describe_pipeline_execution, sm.list_pipeline_execution_steps):
        with pytest.raises(sm.exceptions.ResourceNotFound):
            call(PipelineExecutionArn=ghost)


def test_callback_step_waits_for_send_step_success(
    sm: Any, emulator: Any, make_definition: Any, make_pipeline: Any
) -> None:
    callback = {
        "Name": "Approve",
        "Type": "Callback",
        "Arguments": {"ticket": "T-1"},
        "SqsQueueUrl": QUEUE,
        "OutputParameters": [{"OutputName": "approver", "OutputType": "String"}],
    }
    name, _ = make_pipeline(definition=make_definition(callback))
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    emulator.advance(600)
    (step,) = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    assert step["StepStatus"] == "Executing"
    token = step["Metadata"]["Callback"]["CallbackToken"]
    assert re.fullmatch(r"[A-Za-z0-9]{10}", token)
    assert step["Metadata"] == {"Callback": {"CallbackToken": token, "SqsQueueUrl": QUEUE}}  # no outputs yet
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Executing"
    reply = sm.send_pipeline_execution_step_success(
        CallbackToken=token, OutputParameters=[{"Name": "approver", "Value": "ana"}]
    )
    assert reply["PipelineExecutionArn"] == arn
    emulator.advance(60)
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Succeeded"
    (step,) = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    assert step["Metadata"]["Callback"] == {
        "CallbackToken": token,
        "SqsQueueUrl": QUEUE,
        "OutputParameters": [{"Name": "approver", "Value": "ana"}],
    }
    with pytest.raises(ClientError):
        sm.send_pipeline_execution_step_failure(CallbackToken=token, FailureReason="too late")


def test_unknown_callback_token_is_refused(sm: Any) -> None:
    with pytest.raises(ClientError) as caught:
        sm.send_pipeline_execution_step_success(CallbackToken="AAAAAAAAAA")
    assert code_of(caught) == "ValidationException"


def test_delete_refused_while_running_then_takes_the_executions(
    sm: Any, emulator: Any, make_pipeline: Any
) -> None:
    name, _ = make_pipeline()
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    with pytest.raises(ClientError) as caught:
        sm.delete_pipeline(PipelineName=name)
    assert code_of(caught) == "ConflictException"
    emulator.advance(LONG_ENOUGH)
    sm.delete_pipeline(PipelineName=name)
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    # The name is free again, with no history.
    sm.create_pipeline(PipelineName=name, PipelineDefinition=_definition(), RoleArn=ROLE_ARN)
    assert sm.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"] == []


def _definition() -> str:
    return json.dumps(
        {
            "Version": "2020-12-01",
            "Steps": [{"Name": "Boom", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}}],
        }
    )
