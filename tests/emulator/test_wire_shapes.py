"""The model-driven validator and trimmer on their own (no HTTP): every pattern usable, replies trimmed."""

from __future__ import annotations

import botocore.session
import pytest

from smtui.emulator.errors import ServiceError
from smtui.emulator.shapes import compile_pattern, service_shapes


@pytest.mark.parametrize("service", ["sagemaker", "logs", "events"])  # SQS's model has no patterns
def test_every_pattern_of_the_model_translates_to_python(service: str) -> None:
    model = botocore.session.get_session().get_service_model(service)
    patterns = {
        model.shape_for(name).metadata["pattern"]
        for name in model.shape_names
        if "pattern" in model.shape_for(name).metadata
    }
    assert len(patterns) > 20
    assert [p for p in patterns if compile_pattern(p) is None] == []


def test_java_only_constructs_keep_their_meaning() -> None:
    tag_value = compile_pattern(r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)")
    assert tag_value is not None
    assert tag_value.fullmatch("Équipe data: v1.0 @ml")
    assert not tag_value.fullmatch("no;semicolons")
    lambda_arn = compile_pattern(r"arn:[\p{Alnum}\-]+:lambda:[\p{Alnum}\-]+:[0-9]{12}:function:.*")
    assert lambda_arn is not None
    assert lambda_arn.fullmatch("arn:aws:lambda:us-east-1:123456789012:function:f")


ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/abcdefabcdef"


def test_trim_keeps_only_model_members_and_converts_wire_types() -> None:
    shapes = service_shapes("sagemaker")
    reply = shapes.trim_output(
        "DescribePipelineExecution",
        {
            "PipelineExecutionArn": ARN,
            "PipelineExecutionStatus": "Executing",
            "CreationTime": 1700000000,
            "FailureReason": None,
            "PipelineVersionId": "3",
            "internal": {"engine": "state"},
        },
    )
    assert reply == {
        "PipelineExecutionArn": ARN,
        "PipelineExecutionStatus": "Executing",
        "CreationTime": 1700000000.0,
        "PipelineVersionId": 3,
    }


def test_a_missing_required_member_is_an_emulator_bug_not_a_silent_reply() -> None:
    with pytest.raises(RuntimeError, match="TrainingJobArn"):
        service_shapes("sagemaker").trim_output("DescribeTrainingJob", {"TrainingJobName": "x"})


def test_logs_constraint_errors_are_invalid_parameter() -> None:
    with pytest.raises(ServiceError) as caught:
        service_shapes("logs").validate_input("GetLogEvents", {"logStreamName": "s", "limit": 20000})
    assert caught.value.code == "InvalidParameterException"
    assert "Value '20000' at 'limit'" in caught.value.message


def test_sqs_and_eventbridge_replies_are_trimmed_to_their_models() -> None:
    sqs = service_shapes("sqs").trim_output(
        "ReceiveMessage",
        {"Messages": [{"MessageId": "m", "Body": "b", "Attributes": None, "internal": 1}], "extra": True},
    )
    assert sqs == {"Messages": [{"MessageId": "m", "Body": "b"}]}
    rule = service_shapes("events").trim_output(
        "DescribeRule", {"Name": "r", "Arn": "arn", "State": "ENABLED", "Description": None, "targets": {}}
    )
    assert rule == {"Name": "r", "Arn": "arn", "State": "ENABLED"}


def test_sqs_constraint_errors_are_invalid_parameter_value_and_events_validation_exception() -> None:
    with pytest.raises(ServiceError) as caught:
        service_shapes("sqs").validate_input("ReceiveMessage", {})
    assert caught.value.code == "InvalidParameterValue"
    assert "'queueUrl' failed to satisfy constraint: Member must not be null" in caught.value.message
    with pytest.raises(ServiceError) as caught:
        service_shapes("events").validate_input("PutRule", {"Name": "a b"})
    assert caught.value.code == "ValidationException"
    assert "Value 'a b' at 'name'" in caught.value.message
