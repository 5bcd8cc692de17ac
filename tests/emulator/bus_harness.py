"""Helpers for the event tests: a queue subscribed to SageMaker's events through a rule, and reading it."""

from __future__ import annotations

import json
from typing import Any

from wire_harness import new_name

DETAIL_TYPES = [
    "SageMaker Model Building Pipeline Execution Status Change",
    "SageMaker Model Building Pipeline Execution Step Status Change",
]


def queue_policy(queue_arn: str, rule_arn: str) -> str:
    """What `smtui events setup` writes: only this rule may send."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
                }
            ],
        }
    )


def subscribe(
    sqs: Any, events: Any, pattern: dict[str, Any], *, policy: bool = True, **queue_attributes: str
) -> tuple[str, str]:
    """A new queue, a rule with `pattern` targeting it, and (unless `policy=False`) the queue policy that
    lets the rule send; returns (queue URL, rule ARN)."""
    name = new_name("events")
    url = sqs.create_queue(QueueName=name, Attributes=queue_attributes)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule_arn = events.put_rule(Name=name, EventPattern=json.dumps(pattern))["RuleArn"]
    if policy:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": queue_policy(queue_arn, rule_arn)})
    reply = events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": queue_arn}])
    assert reply["FailedEntryCount"] == 0
    return url, rule_arn


def for_pipeline(pipeline_arn: str) -> dict[str, Any]:
    """The pattern smtui subscribes with, narrowed to one pipeline (tests share one emulator)."""
    return {"source": ["aws.sagemaker"], "detail-type": DETAIL_TYPES, "resources": [pipeline_arn]}


def drain(sqs: Any, url: str, *, delete: bool = True) -> list[dict[str, Any]]:
    """Every message visible now, in the order received, as decoded events (deleted unless told not to)."""
    found: list[dict[str, Any]] = []
    while True:
        reply = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        messages = reply.get("Messages", [])
        if not messages:
            return found
        found.extend(json.loads(m["Body"]) for m in messages)
        if delete:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
            assert not sqs.delete_message_batch(QueueUrl=url, Entries=entries)["Failed"]
