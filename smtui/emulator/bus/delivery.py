"""What stands between a matching rule and its SQS target: the queue's policy, checked loosely, and the
injected delivery faults (drop, duplicate, delay, reorder) of `/_emulator/faults`."""

from __future__ import annotations

import fnmatch
import functools
import json
import random
from dataclasses import dataclass
from typing import Any


def _probability(value: Any, name: str) -> float:
    rate = float(value)
    if not 0 <= rate <= 1:
        raise ValueError(f"events.{name} must be between 0 and 1")
    return rate


@dataclass
class Plan:
    """What happens to one event on its way to one queue."""

    copies: int  # 0: dropped, 2: duplicated
    delay: float  # simulated seconds before it becomes visible
    reorder: bool  # put ahead of up to 10 messages already waiting


class EventFaults:
    """`{"events": {"drop": p, "duplicate": p, "delay": p, "delay_seconds": s | [min, max], "reorder": p}}`.

    Each is drawn per event and per queue from an RNG seeded by `--seed`, so a drill is repeatable.
    """

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(f"{seed}/events")
        self.drop = self.duplicate = self.delay = self.reorder = 0.0
        self.delay_seconds: tuple[float, float] = (1.0, 60.0)

    def configure(self, settings: Any) -> None:
        """Replace every setting (`None` or `{}` clears them); ValueError on a malformed one."""
        settings = settings or {}
        if not isinstance(settings, dict):
            raise ValueError("events must be an object")
        unknown = set(settings) - {"drop", "duplicate", "delay", "delay_seconds", "reorder"}
        if unknown:
            raise ValueError(f"unknown events fault: {', '.join(sorted(unknown))}")
        rates = {k: _probability(settings.get(k) or 0, k) for k in ("drop", "duplicate", "delay", "reorder")}
        window = settings.get("delay_seconds", [1, 60])
        low, high = (window, window) if isinstance(window, int | float) else tuple(window)
        if not 0 <= float(low) <= float(high):
            raise ValueError("events.delay_seconds must be a number or [min, max] with 0 <= min <= max")
        self.drop, self.duplicate = rates["drop"], rates["duplicate"]
        self.delay, self.reorder = rates["delay"], rates["reorder"]
        self.delay_seconds = (float(low), float(high))

    def describe(self) -> dict[str, Any]:
        return {
            "drop": self.drop,
            "duplicate": self.duplicate,
            "delay": self.delay,
            "delay_seconds": list(self.delay_seconds),
            "reorder": self.reorder,
        }

    def plan(self) -> Plan:
        rng = self._rng
        if self.drop and rng.random() < self.drop:
            return Plan(copies=0, delay=0.0, reorder=False)
        copies = 2 if self.duplicate and rng.random() < self.duplicate else 1
        delay = rng.uniform(*self.delay_seconds) if self.delay and rng.random() < self.delay else 0.0
        reorder = bool(self.reorder) and rng.random() < self.reorder
        return Plan(copies=copies, delay=delay, reorder=reorder)

    def position(self, waiting: int) -> int:
        """Where a reordered message goes: ahead of 1 to 10 of the `waiting` messages."""
        return waiting - self._rng.randint(1, min(10, waiting)) if waiting else 0


@functools.lru_cache(maxsize=256)  # asked for every event; the policy rarely changes
def policy_allows(policy_text: str | None, rule_arn: str) -> bool:
    """Whether the queue policy lets EventBridge send for this rule (loosely: see docs/emulator.md).

    Some `Allow` statement must grant `sqs:SendMessage` (or `sqs:*`, `*`) to `events.amazonaws.com` (or `*`);
    if it has an `aws:SourceArn` condition (ArnEquals/ArnLike/StringEquals/StringLike), the rule's ARN must
    match it. `Resource`, `Deny` statements and other conditions are not checked. No policy: no delivery, as
    on AWS, where EventBridge needs the queue's resource policy to send.
    """
    try:
        policy = json.loads(policy_text) if policy_text else None
    except ValueError:
        return False
    if not isinstance(policy, dict):
        return False
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    return any(isinstance(s, dict) and _statement_allows(s, rule_arn) for s in statements)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statement_allows(statement: dict[str, Any], rule_arn: str) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    actions = [str(a).lower() for a in _listed(statement.get("Action"))]
    if not {"sqs:sendmessage", "sqs:*", "*"} & set(actions):
        return False
    principal = statement.get("Principal")
    if principal != "*":
        services = _listed(principal.get("Service")) if isinstance(principal, dict) else []
        everyone = isinstance(principal, dict) and "*" in _listed(principal.get("AWS"))
        if "events.amazonaws.com" not in services and not everyone:
            return False
    for operator_name, checks in (statement.get("Condition") or {}).items():
        if not isinstance(checks, dict):
            continue
        for key, wanted in checks.items():
            if key.lower() != "aws:sourcearn":
                continue
            like = operator_name.endswith("Like")
            if not any(
                fnmatch.fnmatchcase(rule_arn, str(w)) if like else rule_arn == w for w in _listed(wanted)
            ):
                return False
    return True
