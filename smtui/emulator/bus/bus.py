"""The emulator's event plumbing: its SQS queues, its EventBridge rules, and the delivery between them."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from smtui.emulator.bus import events, patterns
from smtui.emulator.bus.delivery import EventFaults, policy_allows
from smtui.emulator.bus.queues import Queues
from smtui.emulator.bus.rules import Rule, Rules
from smtui.emulator.clock import Clock
from smtui.emulator.engine.changes import StatusChange
from smtui.emulator.engine.engine import Engine


class Bus:
    """SQS and EventBridge state of one emulator (one account), shared by every request."""

    def __init__(self, engine: Engine, clock: Clock, *, account: str, region: str, seed: int = 0) -> None:
        self.engine = engine
        self.clock = clock
        self.account = account
        self.region = region
        self.queues = Queues(clock, account=account, region=region)
        self.rules = Rules(account=account)
        self.faults = EventFaults(seed)
        # events: emitted (by the engine), matched (a rule's target), delivered (messages enqueued, copies
        # counted), dropped/duplicated/delayed/reordered (faults), denied (queue policy), no_queue.
        self.stats: Counter[str] = Counter()
        engine.observer = self.on_change

    def on_change(self, change: StatusChange) -> None:
        """The engine passed a status change: publish SageMaker's event for it on the default bus."""
        if not any(rule.enabled and rule.targets for rule in self.rules.by_name.values()):
            self.stats["emitted"] += 1  # nobody listens (the usual case): not worth building the event
            return
        self.publish(events.build(change, account=self.account), change.at)

    def publish(self, event: dict[str, Any], at: float) -> None:
        """Deliver `event` to every SQS target of every enabled rule whose pattern matches it."""
        self.stats["emitted"] += 1
        for rule in list(self.rules.by_name.values()):
            if rule.enabled and rule.pattern is not None and patterns.matches(rule.pattern, event):
                for target in rule.targets.values():
                    self._deliver(rule, target, event, at)

    def _deliver(self, rule: Rule, target: dict[str, Any], event: dict[str, Any], at: float) -> None:
        self.stats["matched"] += 1
        queue = self.queues.find_by_arn(str(target.get("Arn", "")))
        if queue is None:
            self.stats["no_queue"] += 1  # another kind of target, or a queue deleted since
            return
        if not policy_allows(queue.attributes.get("Policy"), rule.arn):
            self.stats["denied"] += 1
            return
        plan = self.faults.plan()
        if plan.copies == 0:
            self.stats["dropped"] += 1
            return
        self.stats["duplicated"] += plan.copies - 1
        self.stats["delayed"] += plan.delay > 0
        self.stats["reordered"] += plan.reorder
        body = _body(target, event)
        for _ in range(plan.copies):
            position = self.faults.position(len(queue.messages)) if plan.reorder else None
            self.queues.send(queue, body, delay=plan.delay, position=position, at=at)
            self.stats["delivered"] += 1

    def catch_up(self) -> None:
        """Bring every running execution to the clock: the status changes it passes become events now."""
        self.engine.advance_all()

    def next_due(self) -> float | None:
        """The next simulated time something may arrive: an engine event, or a message becoming visible."""
        times = [t for t in (self.engine.next_due(),) if t is not None]
        for queue in self.queues.by_name.values():
            visible = self.queues.next_visible(queue)
            if visible is not None:
                times.append(visible)
        return min(times) if times else None

    def clock_moved(self) -> None:
        """The clock jumped (`/_emulator/clock`): long polls look again."""
        self.queues.notify()


def _body(target: dict[str, Any], event: dict[str, Any]) -> str:
    """The message body: the event as JSON (what EventBridge sends an SQS target), or the target's `Input`,
    or the part `InputPath` (`$.detail`, `$.detail.stepName`) selects."""
    if target.get("Input") is not None:
        return str(target["Input"])
    selected: Any = event
    path = str(target.get("InputPath") or "$")
    for part in [p for p in path.removeprefix("$").split(".") if p]:
        selected = selected.get(part) if isinstance(selected, dict) else None
    return json.dumps(selected)
