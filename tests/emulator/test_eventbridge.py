"""The emulator's EventBridge (AWS JSON 1.1) through boto3: rules, targets, errors; and pattern matching."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from wire_harness import new_name

from smtui.emulator.bus import patterns

PATTERN = json.dumps({"source": ["aws.sagemaker"]})
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:some-queue"


def code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_put_rule_creates_then_updates_in_place(events: Any) -> None:
    name = new_name("rule")
    arn = events.put_rule(Name=name, EventPattern=PATTERN, Description="first")["RuleArn"]
    assert arn == f"arn:aws:events:us-east-1:123456789012:rule/{name}"
    events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": QUEUE_ARN}])
    again = events.put_rule(Name=name, EventPattern=PATTERN, State="DISABLED", Description="second")
    assert again["RuleArn"] == arn
    described = events.describe_rule(Name=name)
    assert (described["State"], described["Description"], described["EventBusName"]) == (
        "DISABLED",
        "second",
        "default",
    )
    assert json.loads(described["EventPattern"]) == {"source": ["aws.sagemaker"]}
    assert described["Arn"] == arn and described["CreatedBy"] == "123456789012"
    assert [t["Id"] for t in events.list_targets_by_rule(Rule=name)["Targets"]] == ["q"]  # kept


def test_list_rules_by_prefix_and_page(events: Any) -> None:
    prefix = new_name("lr")
    names = [f"{prefix}-{i}" for i in range(3)]
    for name in names:
        events.put_rule(Name=name, EventPattern=PATTERN)
    listed = events.list_rules(NamePrefix=prefix)["Rules"]
    assert [r["Name"] for r in listed] == names
    assert all(r["State"] == "ENABLED" and r["EventBusName"] == "default" for r in listed)
    first = events.list_rules(NamePrefix=prefix, Limit=2)
    rest = events.list_rules(NamePrefix=prefix, Limit=2, NextToken=first["NextToken"])
    assert [r["Name"] for r in first["Rules"] + rest["Rules"]] == names
    assert "NextToken" not in rest


def test_targets_are_put_listed_and_removed(events: Any) -> None:
    name = new_name("rule")
    events.put_rule(Name=name, EventPattern=PATTERN)
    reply = events.put_targets(
        Rule=name, Targets=[{"Id": "a", "Arn": QUEUE_ARN}, {"Id": "b", "Arn": QUEUE_ARN + "-2"}]
    )
    assert (reply["FailedEntryCount"], reply["FailedEntries"]) == (0, [])
    assert [t["Arn"] for t in events.list_targets_by_rule(Rule=name)["Targets"]] == [
        QUEUE_ARN,
        QUEUE_ARN + "-2",
    ]
    removed = events.remove_targets(Rule=name, Ids=["a"])
    assert removed["FailedEntryCount"] == 0
    assert [t["Id"] for t in events.list_targets_by_rule(Rule=name)["Targets"]] == ["b"]


def test_delete_rule_refuses_while_targets_remain(events: Any) -> None:
    name = new_name("rule")
    events.put_rule(Name=name, EventPattern=PATTERN)
    events.put_targets(Rule=name, Targets=[{"Id": "a", "Arn": QUEUE_ARN}])
    with pytest.raises(ClientError) as caught:
        events.delete_rule(Name=name)
    assert code(caught) == "ValidationException"
    assert "has targets" in caught.value.response["Error"]["Message"]
    events.remove_targets(Rule=name, Ids=["a"])
    events.delete_rule(Name=name)
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_rule(Name=name)
    events.delete_rule(Name=name)  # already gone: no error


def test_errors(events: Any) -> None:
    missing = new_name("nope")
    for call in (
        lambda: events.describe_rule(Name=missing),
        lambda: events.put_targets(Rule=missing, Targets=[{"Id": "a", "Arn": QUEUE_ARN}]),
        lambda: events.list_targets_by_rule(Rule=missing),
        lambda: events.remove_targets(Rule=missing, Ids=["a"]),
        lambda: events.put_rule(Name=missing, EventPattern=PATTERN, EventBusName="central"),
    ):
        with pytest.raises(events.exceptions.ResourceNotFoundException):
            call()
    with pytest.raises(events.exceptions.InvalidEventPatternException):
        events.put_rule(Name=missing, EventPattern="{not json")
    with pytest.raises(events.exceptions.InvalidEventPatternException):
        events.put_rule(Name=missing, EventPattern=json.dumps({"source": "aws.sagemaker"}))
    with pytest.raises(ClientError) as caught:
        events.put_rule(Name=missing)
    assert code(caught) == "ValidationException"
    with pytest.raises(ClientError) as caught:
        events.put_rule(Name="bad name!", EventPattern=PATTERN)
    assert code(caught) == "ValidationException" and "name" in caught.value.response["Error"]["Message"]
    # The default bus by ARN is the default bus.
    bus = "arn:aws:events:us-east-1:123456789012:event-bus/default"
    assert events.put_rule(Name=missing, EventPattern=PATTERN, EventBusName=bus)["RuleArn"].endswith(missing)


EVENT = {
    "source": "aws.sagemaker",
    "detail-type": "SageMaker Model Building Pipeline Execution Step Status Change",
    "resources": [
        "arn:aws:sagemaker:us-east-1:1:pipeline/p",
        "arn:aws:sagemaker:us-east-1:1:pipeline/p/execution/x",
    ],
    "detail": {"stepName": "Train", "currentStepStatus": "Failed", "attempt": 2, "metadata": {}},
}


@pytest.mark.parametrize(
    ("pattern", "matched"),
    [
        ({"source": ["aws.sagemaker"]}, True),
        ({"source": ["aws.other", "aws.sagemaker"], "detail-type": [EVENT["detail-type"]]}, True),
        ({"source": ["aws.other"]}, False),
        ({"resources": ["arn:aws:sagemaker:us-east-1:1:pipeline/p"]}, True),  # any element of an array
        ({"resources": ["arn:aws:sagemaker:us-east-1:1:pipeline/q"]}, False),
        ({"detail": {"currentStepStatus": ["Failed"], "stepName": ["Train"]}}, True),
        ({"detail": {"currentStepStatus": ["Succeeded"]}}, False),
        ({"detail": {"failureReason": ["x"]}}, False),  # a missing field matches nothing...
        ({"detail": {"failureReason": [{"exists": False}]}}, True),  # ...but exists: false
        ({"detail": {"stepName": [{"exists": True}]}}, True),
        ({"detail-type": [{"prefix": "SageMaker Model Building"}]}, True),
        ({"detail-type": [{"suffix": "Step Status Change"}]}, True),
        ({"detail": {"currentStepStatus": [{"anything-but": ["Succeeded", "Stopped"]}]}}, True),
        ({"detail": {"currentStepStatus": [{"anything-but": "Failed"}]}}, False),
        ({"detail": {"stepName": [{"equals-ignore-case": "train"}]}}, True),
        ({"detail": {"attempt": [{"numeric": [">", 1, "<=", 2]}]}}, True),
        ({"detail": {"attempt": [{"numeric": [">", 2]}]}}, False),
        ({"resources": [{"wildcard": "*:pipeline/p/execution/*"}]}, True),
    ],
)
def test_pattern_matching(pattern: dict[str, Any], matched: bool) -> None:
    assert patterns.matches(patterns.parse(json.dumps(pattern)), EVENT) is matched


@pytest.mark.parametrize(
    "text",
    ["[]", "{}", '{"source": "x"}', '{"source": []}', '{"a": [{"prefix": 1}]}', '{"a": [{"nope": 1}]}'],
)
def test_malformed_patterns_are_refused(text: str) -> None:
    with pytest.raises(Exception, match="Event pattern is not valid"):
        patterns.parse(text)
