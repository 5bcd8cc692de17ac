"""`smtui events setup` / `teardown`: the queue, its policy, the EventBridge rule and its target that push
updates need (docs/push.md).

Setup reads what exists first (GetQueueUrl, GetQueueAttributes, DescribeRule, ListTargetsByRule) and makes
only the calls that change something, so a second run changes nothing; with `dry_run` it makes no other call
and says what it would do. Teardown removes exactly what setup made: smtui's target of the rule, the rule,
and the queue; what is already gone is skipped. Both use clients of the SageMaker client's session (its
credentials, region and endpoint: the emulator serves SQS and EventBridge on its own port).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from smtui.core.client import SageMakerClient
from smtui.core.errors import AwsError, aws_failures, map_error
from smtui.core.push import DETAIL_TYPES, SOURCE
from smtui.core.push_feed import NO_QUEUE

DEFAULT_NAME = "smtui-events"  # the queue's, and the rule's
TARGET_ID = "smtui-events-queue"  # smtui's target of the rule: teardown removes this one only
STATEMENT_ID = "smtui-events-rule"
# SQS queue names allow up to 80 of these, EventBridge rule names 64 (plus `.`): the rule bears the same name.
NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NO_RULE = frozenset({"ResourceNotFoundException", "ResourceNotFound"})

EVENT_PATTERN = {"source": [SOURCE], "detail-type": list(DETAIL_TYPES)}


@dataclass
class Plan:
    """What setup or teardown did (or, in a dry run, would do): one line per resource, and the queue URL."""

    queue_url: str | None = None
    queue_arn: str | None = None
    rule_arn: str | None = None
    steps: list[tuple[str, str]] = field(default_factory=list)  # (resource, what happened to it)

    def note(self, resource: str, what: str) -> None:
        self.steps.append((resource, what))

    @property
    def changed(self) -> bool:
        return any(not what.startswith(("exists", "already", "up to date")) for _, what in self.steps)


def check_name(name: str) -> str:
    """The name itself, or ValueError: a queue name and a rule name at once."""
    if not NAME.fullmatch(name):
        raise ValueError(f"--queue: {name!r} is not a valid name (1 to 64 letters, digits, '-' or '_')")
    return name


def queue_policy(queue_arn: str, rule_arn: str) -> dict[str, Any]:
    """Only this rule may send to the queue: EventBridge's service principal, on the rule's ARN."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": STATEMENT_ID,
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }


class EventsSetup:
    """Async context manager: the SQS and EventBridge clients, and the two procedures."""

    def __init__(self, client: SageMakerClient, name: str = DEFAULT_NAME) -> None:
        self.client = client
        self.name = check_name(name)
        self._stack: AsyncExitStack | None = None
        self._sqs: Any = None
        self._events: Any = None

    async def __aenter__(self) -> EventsSetup:
        self._stack = AsyncExitStack()
        self._sqs = await self._stack.enter_async_context(self.client.sibling("sqs"))
        self._events = await self._stack.enter_async_context(self.client.sibling("events"))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None

    async def _call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        client = self._sqs if service == "sqs" else self._events
        try:
            result: dict[str, Any] = await getattr(client, operation)(**params)
        except aws_failures() as exc:
            raise map_error(
                exc, operation=operation, profile=self.client.target.profile, service=service
            ) from exc
        return result

    # -- reading what exists --------------------------------------------------------------------------

    async def _queue_url(self) -> str | None:
        try:
            return str((await self._call("sqs", "get_queue_url", QueueName=self.name))["QueueUrl"])
        except AwsError as error:
            if error.code in NO_QUEUE:
                return None
            raise

    async def _queue_attributes(self, url: str) -> dict[str, str]:
        reply = await self._call("sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=["All"])
        return dict(reply.get("Attributes") or {})

    async def _rule(self) -> dict[str, Any] | None:
        try:
            return await self._call("events", "describe_rule", Name=self.name)
        except AwsError as error:
            if error.code in _NO_RULE:
                return None
            raise

    async def _target_ids(self) -> dict[str, str]:
        """The rule's targets: id → ARN."""
        targets: dict[str, str] = {}
        token: str | None = None
        while True:
            params: dict[str, Any] = {"Rule": self.name}
            if token:
                params["NextToken"] = token
            reply = await self._call("events", "list_targets_by_rule", **params)
            targets.update({str(t["Id"]): str(t.get("Arn", "")) for t in reply.get("Targets") or ()})
            token = reply.get("NextToken")
            if not token:
                return targets

    # -- setup ----------------------------------------------------------------------------------------

    async def setup(self, *, dry_run: bool = False) -> Plan:
        plan = Plan()
        name = self.name
        url = await self._queue_url()
        if url is None:
            plan.note(f"queue {name}", "would create" if dry_run else "created")
            if not dry_run:
                url = str((await self._call("sqs", "create_queue", QueueName=name))["QueueUrl"])
        else:
            plan.note(f"queue {name}", "exists")
        attributes = await self._queue_attributes(url) if url else {}
        plan.queue_url, plan.queue_arn = url, attributes.get("QueueArn")

        rule = await self._rule()
        pattern = json.dumps(EVENT_PATTERN)
        if (
            rule is not None
            and _same_pattern(rule.get("EventPattern"), EVENT_PATTERN)
            and (rule.get("State") == "ENABLED")
        ):
            plan.note(f"rule {name}", "exists")
            plan.rule_arn = str(rule.get("Arn"))
        else:
            verb = "create" if rule is None else "update"
            plan.note(f"rule {name}", f"would {verb}" if dry_run else f"{verb}d")
            if not dry_run:
                reply = await self._call(
                    "events",
                    "put_rule",
                    Name=name,
                    EventPattern=pattern,
                    State="ENABLED",
                    Description="SageMaker pipeline status changes for smtui (smtui events setup)",
                )
                plan.rule_arn = str(reply["RuleArn"])
            elif rule is not None:
                plan.rule_arn = str(rule.get("Arn"))

        if plan.queue_arn and plan.rule_arn:
            wanted = queue_policy(plan.queue_arn, plan.rule_arn)
            current = _json(attributes.get("Policy"))
            if current == wanted:
                plan.note("queue policy", "up to date")
            else:
                plan.note("queue policy", "would set" if dry_run else "set")
                if not dry_run:
                    await self._call(
                        "sqs",
                        "set_queue_attributes",
                        QueueUrl=url,
                        Attributes={"Policy": json.dumps(wanted)},
                    )
        else:
            plan.note("queue policy", "would set (only the rule may send)")

        targets = await self._target_ids() if rule is not None or (plan.rule_arn and not dry_run) else {}
        if plan.queue_arn and targets.get(TARGET_ID) == plan.queue_arn:
            plan.note(f"target {TARGET_ID}", "exists")
        else:
            plan.note(f"target {TARGET_ID}", "would add" if dry_run else "added")
            if not dry_run:
                reply = await self._call(
                    "events",
                    "put_targets",
                    Rule=name,
                    Targets=[{"Id": TARGET_ID, "Arn": plan.queue_arn}],
                )
                if reply.get("FailedEntryCount"):
                    failed = (reply.get("FailedEntries") or [{}])[0]
                    raise AwsError(
                        str(failed.get("ErrorCode") or "PutTargetsFailed"),
                        str(failed.get("ErrorMessage") or "the target was not added"),
                        operation="PutTargets",
                    )
        return plan

    # -- teardown -------------------------------------------------------------------------------------

    async def teardown(self) -> Plan:
        plan = Plan()
        name = self.name
        rule = await self._rule()
        if rule is None:
            plan.note(f"target {TARGET_ID}", "already gone")
            plan.note(f"rule {name}", "already gone")
        else:
            plan.rule_arn = str(rule.get("Arn"))
            targets = await self._target_ids()
            if TARGET_ID in targets:
                await self._call("events", "remove_targets", Rule=name, Ids=[TARGET_ID])
                plan.note(f"target {TARGET_ID}", "removed")
            else:
                plan.note(f"target {TARGET_ID}", "already gone")
            others = sorted(set(targets) - {TARGET_ID})
            if others:
                # Someone else's targets: deleting the rule would cut them off.
                plan.note(f"rule {name}", f"kept (other targets: {', '.join(others)})")
            else:
                await self._call("events", "delete_rule", Name=name)
                plan.note(f"rule {name}", "deleted")
        url = await self._queue_url()
        if url is None:
            plan.note(f"queue {name}", "already gone")
        else:
            plan.queue_url = url
            await self._call("sqs", "delete_queue", QueueUrl=url)
            plan.note(f"queue {name}", "deleted")
        return plan


def describe(plan: Plan, echo: Callable[[str], None]) -> None:
    for resource, what in plan.steps:
        echo(f"{resource}: {what}")


def _same_pattern(text: Any, wanted: dict[str, Any]) -> bool:
    current = _json(text)
    if not isinstance(current, dict):
        return False
    return {k: sorted(v) if isinstance(v, list) else v for k, v in current.items()} == {
        k: sorted(v) for k, v in wanted.items()
    }


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
