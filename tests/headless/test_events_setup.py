"""`smtui events setup` / `teardown` against the emulator's SQS and EventBridge: what they create, that a
second run changes nothing, that a dry run makes no mutating call (the emulator's /_emulator/stats), and that
teardown removes exactly what setup created."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import boto3
from click.testing import Result
from emulator_proc import EmulatorProcess

MUTATING = {
    "CreateQueue",
    "SetQueueAttributes",
    "DeleteQueue",
    "PutRule",
    "PutTargets",
    "RemoveTargets",
    "DeleteRule",
}
PATTERN = {
    "source": ["aws.sagemaker"],
    "detail-type": [
        "SageMaker Model Building Pipeline Execution Status Change",
        "SageMaker Model Building Pipeline Execution Step Status Change",
    ],
}


def aws(emu: EmulatorProcess, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=emu.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def queue_exists(emu: EmulatorProcess, name: str) -> bool:
    sqs = aws(emu, "sqs")
    try:
        sqs.get_queue_url(QueueName=name)
    except sqs.exceptions.QueueDoesNotExist:
        return False
    return True


def rule_names(emu: EmulatorProcess) -> set[str]:
    return {r["Name"] for r in aws(emu, "events").list_rules().get("Rules", [])}


def test_dry_run_reads_only_and_says_what_it_would_create(
    emu: EmulatorProcess, smtui: Callable[..., Result]
) -> None:
    name = unique("dry")
    before = emu.stats()
    result = smtui("events", "setup", "--queue", name, "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"queue {name}: would create" in result.output
    assert f"rule {name}: would create" in result.output
    assert "target smtui-events-queue: would add" in result.output
    assert '"aws:SourceArn"' in result.output and "events.amazonaws.com" in result.output
    calls = delta(emu.stats(), before)
    assert not set(calls) & MUTATING, calls
    assert calls  # it did read (GetQueueUrl, DescribeRule)
    assert not queue_exists(emu, name) and name not in rule_names(emu)


def test_setup_creates_queue_policy_rule_and_target_and_a_second_run_changes_nothing(
    emu: EmulatorProcess, smtui: Callable[..., Result]
) -> None:
    name = unique("push")
    result = smtui("events", "setup", "--queue", name)
    assert result.exit_code == 0, result.output
    for line in (
        f"queue {name}: created",
        f"rule {name}: created",
        "queue policy: set",
        "target smtui-events-queue: added",
    ):
        assert line in result.output
    url = aws(emu, "sqs").get_queue_url(QueueName=name)["QueueUrl"]
    assert f"queue URL: {url}" in result.output

    attributes = aws(emu, "sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    rule = aws(emu, "events").describe_rule(Name=name)
    assert json.loads(rule["EventPattern"]) == PATTERN and rule["State"] == "ENABLED"
    (statement,) = json.loads(attributes["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage" and statement["Resource"] == attributes["QueueArn"]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": rule["Arn"]}}
    targets = aws(emu, "events").list_targets_by_rule(Rule=name)["Targets"]
    assert [(t["Id"], t["Arn"]) for t in targets] == [("smtui-events-queue", attributes["QueueArn"])]

    before = emu.stats()
    again = smtui("events", "setup", "--queue", name, "--json")
    assert again.exit_code == 0, again.output
    report = json.loads(again.output)
    assert report["changed"] is False and report["queue_url"] == url
    assert {r["action"] for r in report["resources"]} == {"exists", "up to date"}
    assert not set(delta(emu.stats(), before)) & MUTATING


def test_teardown_removes_exactly_what_setup_created_and_can_run_again(
    emu: EmulatorProcess, smtui: Callable[..., Result]
) -> None:
    name, other = unique("gone"), unique("theirs")
    # Someone else's queue and rule, and a second target on a rule of theirs: teardown leaves them.
    sqs, events = aws(emu, "sqs"), aws(emu, "events")
    their_url = sqs.create_queue(QueueName=other)["QueueUrl"]
    their_arn = sqs.get_queue_attributes(QueueUrl=their_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name=other, EventPattern=json.dumps({"source": ["aws.sagemaker"]}))
    events.put_targets(Rule=other, Targets=[{"Id": "theirs", "Arn": their_arn}])
    assert smtui("events", "setup", "--queue", name).exit_code == 0

    result = smtui("events", "teardown", "--queue", name)
    assert result.exit_code == 0, result.output
    assert "target smtui-events-queue: removed" in result.output
    assert f"rule {name}: deleted" in result.output and f"queue {name}: deleted" in result.output
    assert not queue_exists(emu, name) and name not in rule_names(emu)
    assert queue_exists(emu, other) and other in rule_names(emu)
    assert [t["Id"] for t in events.list_targets_by_rule(Rule=other)["Targets"]] == ["theirs"]

    before = emu.stats()
    again = smtui("events", "teardown", "--queue", name)
    assert again.exit_code == 0, again.output
    assert again.output.count("already gone") == 3
    assert not set(delta(emu.stats(), before)) & MUTATING


def test_a_bad_queue_name_is_a_usage_error_before_any_call(
    emu: EmulatorProcess, smtui: Callable[..., Result]
) -> None:
    before = emu.stats()
    result = smtui("events", "setup", "--queue", "no spaces allowed")
    assert result.exit_code == 2
    assert result.output.startswith("smtui: ") and len(result.output.strip().splitlines()) == 1
    assert delta(emu.stats(), before) == {}


def test_read_only_refuses_setup_but_not_a_dry_run(
    emu: EmulatorProcess, smtui: Callable[..., Result]
) -> None:
    name = unique("ro")
    refused = smtui("--read-only", "events", "setup", "--queue", name)
    assert refused.exit_code == 2 and "read-only" in refused.output
    assert smtui("--read-only", "events", "setup", "--queue", name, "--dry-run").exit_code == 0
    assert not queue_exists(emu, name)


def test_expired_credentials_are_one_line_naming_the_api_call_exit_2(
    emu: EmulatorProcess, smtui: Callable[..., Result]
) -> None:
    emu.faults(expired_token=True)
    try:
        setup = smtui("events", "setup", "--queue", unique("exp"), "--dry-run")
        teardown = smtui("events", "teardown", "--queue", unique("exp"))
    finally:
        emu.faults()
    for result, call in ((setup, "GetQueueUrl"), (teardown, "DescribeRule")):
        assert result.exit_code == 2
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"smtui: AWS credentials expired or invalid ({call}): "), line
