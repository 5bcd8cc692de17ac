"""The protocol layer, as any AWS client sees it: targets, error encoding, validation messages, ARNs."""

from __future__ import annotations

import asyncio
import functools
import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from shape_check import ShapeChecker, check_response
from wire_harness import CREDENTIALS, ROLE_ARN, EmulatorProcess, client_config, make_sm

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def raw_post(url: str, body: bytes, target: str | None) -> tuple[int, dict[str, str], dict[str, Any]]:
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    if target is not None:
        headers["X-Amz-Target"] = target
    request = urllib.request.Request(url + "/", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def error_of(call: Callable[[], Any]) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value


@pytest.fixture
def unchecked_sm(emulator: EmulatorProcess, shape_checker: ShapeChecker) -> Any:
    """botocore's own validation off, so the emulator's is what answers."""
    return make_sm(emulator, shape_checker, parameter_validation=False)


def test_reply_is_json_1_1_with_a_request_id(emulator: EmulatorProcess) -> None:
    status, headers, body = raw_post(emulator.url, b"{}", "SageMaker.ListPipelines")
    assert status == 200
    assert headers["Content-Type"] == "application/x-amz-json-1.1"
    assert UUID.fullmatch(headers["x-amzn-RequestId"])
    assert isinstance(body["PipelineSummaries"], list)


def test_request_id_reaches_boto3_response_metadata(sm: Any) -> None:
    reply = sm.list_pipelines(MaxResults=1)
    assert UUID.fullmatch(reply["ResponseMetadata"]["RequestId"])
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_unknown_pipeline_is_resource_not_found_with_capital_message(sm: Any, unique_name: Any) -> None:
    name = unique_name("missing")
    error = error_of(lambda: sm.describe_pipeline(PipelineName=name))
    assert isinstance(error, sm.exceptions.ResourceNotFound)
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.response["Error"]["Code"] == "ResourceNotFound"
    assert name.lower() in error.response["Error"]["Message"]
    # The modeled error's `Message` member reaches the parsed response, as botocore does with the service.
    assert error.response["Message"] == error.response["Error"]["Message"]


def test_unmodeled_errors_carry_lower_case_message(emulator: EmulatorProcess) -> None:
    status, _, body = raw_post(emulator.url, b'{"MaxResults": 0}', "SageMaker.ListPipelines")
    assert status == 400
    assert body["__type"] == "ValidationException"
    assert "message" in body and "Message" not in body


def test_malformed_json_is_serialization_exception(emulator: EmulatorProcess) -> None:
    status, headers, body = raw_post(emulator.url, b'{"PipelineName": ', "SageMaker.DescribePipeline")
    assert (status, body["__type"]) == (400, "SerializationException")
    assert UUID.fullmatch(headers["x-amzn-RequestId"])
    status, _, body = raw_post(emulator.url, b"[1, 2]", "SageMaker.ListPipelines")
    assert (status, body["__type"]) == (400, "SerializationException")


def test_unknown_operation_and_missing_target(emulator: EmulatorProcess) -> None:
    status, _, body = raw_post(emulator.url, b"{}", "SageMaker.ListTeapots")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    assert "SageMaker.ListTeapots" in body["message"]
    status, _, body = raw_post(emulator.url, b"{}", "Glacier.ListVaults")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    status, _, body = raw_post(emulator.url, b"{}", None)
    assert (status, body["__type"]) == (400, "UnknownOperationException")


def test_wrong_member_type_is_serialization_exception(emulator: EmulatorProcess) -> None:
    status, _, body = raw_post(emulator.url, b'{"MaxResults": "ten"}', "SageMaker.ListPipelines")
    assert (status, body["__type"]) == (400, "SerializationException")
    assert "maxResults" in body["message"]


def test_unknown_members_are_ignored(emulator: EmulatorProcess) -> None:
    # A client built from a newer model may send members this model lacks; AWS JSON services ignore them.
    status, _, body = raw_post(
        emulator.url, b'{"MaxResults": 1, "Futuristic": true}', "SageMaker.ListPipelines"
    )
    assert status == 200
    assert "PipelineSummaries" in body


def test_underscore_in_pipeline_name_names_the_field_and_pattern(sm: Any, make_definition: Any) -> None:
    error = error_of(
        lambda: sm.create_pipeline(
            PipelineName="bad_name", PipelineDefinition=make_definition(), RoleArn=ROLE_ARN
        )
    )
    assert error.response["Error"]["Code"] == "ValidationException"
    assert error.response["Error"]["Message"] == (
        "1 validation error detected: Value 'bad_name' at 'pipelineName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}"
    )


def test_too_long_display_name_is_rejected_by_max_length(sm: Any, make_pipeline: Any) -> None:
    name, _ = make_pipeline()
    error = error_of(
        lambda: sm.start_pipeline_execution(PipelineName=name, PipelineExecutionDisplayName="a" * 83)
    )
    message = error.response["Error"]["Message"]
    assert error.response["Error"]["Code"] == "ValidationException"
    assert "at 'pipelineExecutionDisplayName'" in message
    assert "Member must have length less than or equal to 82" in message
    assert sm.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"] == []


@pytest.mark.parametrize(
    ("value", "constraint"), [(0, "greater than or equal to 1"), (101, "less than or equal to 100")]
)
def test_max_results_out_of_range(unchecked_sm: Any, value: int, constraint: str) -> None:
    error = error_of(lambda: unchecked_sm.list_pipelines(MaxResults=value))
    assert error.response["Error"]["Message"] == (
        f"1 validation error detected: Value '{value}' at 'maxResults' failed to satisfy constraint: "
        f"Member must have value {constraint}"
    )


def test_bad_enum_lists_the_allowed_values(sm: Any) -> None:
    error = error_of(lambda: sm.list_pipelines(SortOrder="Sideways"))
    assert error.response["Error"]["Message"] == (
        "1 validation error detected: Value 'Sideways' at 'sortOrder' failed to satisfy constraint: "
        "Member must satisfy enum value set: [Ascending, Descending]"
    )


def test_several_errors_are_counted_and_nested_paths_are_one_based(
    unchecked_sm: Any, make_pipeline: Any
) -> None:
    name, _ = make_pipeline()
    error = error_of(
        lambda: unchecked_sm.start_pipeline_execution(
            PipelineName=name,
            ClientRequestToken="short",
            PipelineParameters=[{"Name": "ok", "Value": "1"}, {"Name": "bad name!", "Value": "2"}],
        )
    )
    message = error.response["Error"]["Message"]
    assert message.startswith("2 validation errors detected: ")
    assert (
        "at 'clientRequestToken' failed to satisfy constraint: Member must have length greater than or equal"
        in message
    )
    assert "Value 'bad name!' at 'pipelineParameters.2.member.name'" in message


def test_missing_required_member_is_null(unchecked_sm: Any) -> None:
    error = error_of(lambda: unchecked_sm.describe_pipeline())
    assert error.response["Error"]["Message"] == (
        "1 validation error detected: Value null at 'pipelineName' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_pipeline_arn_lower_cases_the_name_and_uses_the_signing_region(
    emulator: EmulatorProcess, shape_checker: ShapeChecker, unique_name: Any, make_definition: Any
) -> None:
    name = unique_name("MixedCase")
    client = shape_checker.attach(
        boto3.client(
            "sagemaker",
            endpoint_url=emulator.url,
            region_name="eu-west-1",
            config=client_config(),
            **CREDENTIALS,
        )
    )
    arn = client.create_pipeline(PipelineName=name, PipelineDefinition=make_definition(), RoleArn=ROLE_ARN)[
        "PipelineArn"
    ]
    # The documented form: the name lower-cased in the ARN, the region from the signing scope.
    assert arn == f"arn:aws:sagemaker:eu-west-1:123456789012:pipeline/{name.lower()}"
    # Names are case-blind: the upper-cased name, and the ARN in the name's case, find the same pipeline.
    assert client.describe_pipeline(PipelineName=name.upper())["PipelineName"] == name
    assert client.describe_pipeline(PipelineName=arn.replace(name.lower(), name))["PipelineArn"] == arn


def test_shape_checker_catches_bad_bodies(sm: Any) -> None:
    model = sm.meta.service_model
    describe = model.operation_model("DescribePipelineExecution")
    good = {"PipelineExecutionArn": "arn", "PipelineExecutionStatus": "Executing", "CreationTime": 1.5}
    assert check_response(describe, 200, json.dumps(good).encode()) == []
    bad = {**good, "PipelineExecutionStatus": "Queued", "Surprise": 1, "CreationTime": "2026-01-01T00:00:00Z"}
    problems = check_response(describe, 200, json.dumps(bad).encode())
    assert any("Surprise" in p and "not a member" in p for p in problems)
    assert any("'Queued' is not one of" in p for p in problems)
    assert any("CreationTime" in p and "epoch seconds" in p for p in problems)
    steps = model.operation_model("ListPipelineExecutionSteps")
    missing_required = {"PipelineExecutionSteps": [{"StepName": "A", "AttemptCount": "1"}]}
    assert any("AttemptCount" in p for p in check_response(steps, 200, json.dumps(missing_required).encode()))
    jobs = model.operation_model("DescribeTrainingJob")
    assert any(
        "TrainingJobArn" in p and "required" in p
        for p in check_response(jobs, 200, b'{"TrainingJobName": "x"}')
    )
    assert check_response(describe, 400, b'{"oops": 1}') != []


async def test_many_concurrent_aiobotocore_calls_on_one_client(asm: Any, make_pipeline: Any) -> None:
    name, arn = make_pipeline()
    started = await asyncio.gather(*(asm.start_pipeline_execution(PipelineName=name) for _ in range(10)))
    arns = {reply["PipelineExecutionArn"] for reply in started}
    assert len(arns) == 10  # each call got its own token, so ten executions
    described = await asyncio.gather(*(asm.describe_pipeline_execution(PipelineExecutionArn=a) for a in arns))
    assert {d["PipelineArn"] for d in described} == {arn}
    listed = await asm.list_pipeline_executions(PipelineName=name)
    assert {e["PipelineExecutionArn"] for e in listed["PipelineExecutionSummaries"]} == arns


SAGEMAKER_OPERATIONS = [
    "CreatePipeline",
    "UpdatePipeline",
    "DeletePipeline",
    "DescribePipeline",
    "ListPipelines",
    "ListPipelineVersions",
    "UpdatePipelineVersion",
    "StartPipelineExecution",
    "StopPipelineExecution",
    "RetryPipelineExecution",
    "DescribePipelineExecution",
    "UpdatePipelineExecution",
    "ListPipelineExecutions",
    "ListPipelineExecutionSteps",
    "ListPipelineParametersForExecution",
    "DescribePipelineDefinitionForExecution",
    "SendPipelineExecutionStepSuccess",
    "SendPipelineExecutionStepFailure",
    "DescribeTrainingJob",
    "DescribeProcessingJob",
    "DescribeTransformJob",
    "AddTags",
    "ListTags",
    "DeleteTags",
]
LOGS_OPERATIONS = ["GetLogEvents", "FilterLogEvents", "DescribeLogStreams"]


@functools.cache
def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def _wrong_types(shape: Any) -> dict[str, Any]:
    """Every top-level member with a value of the wrong JSON type."""
    wrong = {"string": 7, "integer": "7", "long": "7", "boolean": "yes", "timestamp": [1], "list": "x"}
    return {name: wrong.get(member.type_name, "x") for name, member in shape.members.items()}


@pytest.mark.parametrize(
    ("prefix", "operation"),
    [("SageMaker", op) for op in SAGEMAKER_OPERATIONS] + [("Logs_20140328", op) for op in LOGS_OPERATIONS],
)
def test_no_input_gets_a_500(emulator: EmulatorProcess, prefix: str, operation: str) -> None:
    model = _model("logs" if prefix.startswith("Logs") else "sagemaker")
    input_shape = model.operation_model(operation).input_shape
    for body in ({}, _wrong_types(input_shape)):
        status, _, reply = raw_post(emulator.url, json.dumps(body).encode(), f"{prefix}.{operation}")
        assert status < 500, reply
        if status >= 400:
            assert reply["__type"] in {
                "ValidationException",
                "SerializationException",
                "InvalidParameterException",
                "ResourceNotFoundException",
                "ResourceNotFound",
            }, reply
