"""EventBridge rules on the default event bus, and their targets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smtui.emulator.bus import patterns
from smtui.emulator.errors import ServiceError

DEFAULT_BUS = "default"


def rule_missing(name: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Rule {name} does not exist on EventBus default.")


@dataclass
class Rule:
    """A rule: its pattern (parsed once), state and targets by Id, in the order they were put."""

    name: str
    arn: str
    event_pattern: str | None
    pattern: dict[str, Any] | None
    state: str
    description: str | None = None
    schedule: str | None = None
    role_arn: str | None = None
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.state.startswith("ENABLED")

    def describe(self, account: str) -> dict[str, Any]:
        return {
            "Name": self.name,
            "Arn": self.arn,
            "EventPattern": self.event_pattern,
            "ScheduleExpression": self.schedule,
            "State": self.state,
            "Description": self.description,
            "RoleArn": self.role_arn,
            "EventBusName": DEFAULT_BUS,
            "CreatedBy": account,
        }


class Rules:
    """The rules of the emulator's one event bus, `default`."""

    def __init__(self, *, account: str) -> None:
        self.account = account
        self.by_name: dict[str, Rule] = {}

    def check_bus(self, name_or_arn: str | None, region: str) -> None:
        """Only the default bus exists: its name or its ARN; ResourceNotFoundException for any other."""
        if name_or_arn is None or name_or_arn == DEFAULT_BUS:
            return
        if name_or_arn == f"arn:aws:events:{region}:{self.account}:event-bus/{DEFAULT_BUS}":
            return
        raise ServiceError("ResourceNotFoundException", f"Event bus {name_or_arn} does not exist.")

    def put(self, request: dict[str, Any], region: str) -> Rule:
        """PutRule: create, or update in place (targets kept), as the service does."""
        name = request["Name"]
        text, schedule = request.get("EventPattern"), request.get("ScheduleExpression")
        if text is None and schedule is None:
            raise ServiceError(
                "ValidationException", "Parameter(s) EventPattern or ScheduleExpression must be specified."
            )
        if schedule is not None:
            raise ServiceError("ValidationException", "The emulator does not run scheduled rules.")
        pattern = patterns.parse(text) if text is not None else None
        existing = self.by_name.get(name)
        rule = Rule(
            name=name,
            arn=f"arn:aws:events:{region}:{self.account}:rule/{name}",
            event_pattern=text,
            pattern=pattern,
            state=request.get("State") or "ENABLED",
            description=request.get("Description"),
            role_arn=request.get("RoleArn"),
            targets=existing.targets if existing is not None else {},
        )
        if existing is not None:
            rule.arn = existing.arn  # the ARN names the rule where it was first created
        self.by_name[name] = rule
        return rule

    def get(self, name: str) -> Rule:
        rule = self.by_name.get(name)
        if rule is None:
            raise rule_missing(name)
        return rule

    def delete(self, name: str) -> None:
        """DeleteRule: refused while targets remain, even with `Force` (which is for managed rules), as the
        service does; an unknown rule is no error."""
        rule = self.by_name.get(name)
        if rule is None:
            return
        if rule.targets:
            raise ServiceError("ValidationException", "Rule can't be deleted since it has targets.")
        del self.by_name[name]
