"""The emulator's event plumbing: its SQS queues, its EventBridge rules, and the delivery between them."""

from __future__ import annotations

from collections import Counter

from smtui.emulator.bus.queues import Queues
from smtui.emulator.clock import Clock
from smtui.emulator.engine.engine import Engine


class Bus:
    """SQS and EventBridge state of one emulator (one account), shared by every request."""

    def __init__(self, engine: Engine, clock: Clock, *, account: str, region: str, seed: int = 0) -> None:
        self.engine = engine
        self.clock = clock
        self.account = account
        self.region = region
        self.queues = Queues(clock, account=account, region=region)
        self.stats: Counter[str] = Counter()

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
