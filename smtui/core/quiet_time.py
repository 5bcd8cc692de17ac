"""How long an execution's running steps cannot have ended yet, as the pipeline's history tells: each
started at a known time, and the shortest successful run of the same step in earlier executions says when
it can end at the soonest. The planner lets a row's step polls wait that long (`Planner.steps_interval`).

Measured in seconds of the monitor's clock: history is in the server's time, which an emulator may run
faster than the monotonic clock, so the rate of one to the other is measured too (`clock_rate`).
"""

from __future__ import annotations

from datetime import datetime

from smtui.core.clock import Clock
from smtui.core.model import StepStatus
from smtui.core.store import Store

RATE_WARMUP = 5.0  # seconds of the scheduler's clock before the rate of the server's clock is trusted


class QuietTime:
    """`quiet_for(arn)`: clock seconds before any running step of an execution can end, or None."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._rate_origin: tuple[float, datetime] | None = None  # clock readings at the first `clock_rate`

    def quiet_for(self, arn: str) -> float | None:
        """Clock seconds before any running step of this execution can end, as far as history tells: for
        each, its start plus the shortest successful run of that step seen in the same pipeline. None when
        a running step has no such history, or when there is no running step to judge by."""
        execution = self.store.executions.get(arn)
        runs = self.store.runs.get(arn)
        rate = self.clock_rate()
        if execution is None or not runs or rate is None:
            return None
        now = self.clock.now()
        soonest: float | None = None
        for run in runs.values():
            if run.status.is_done:
                continue
            shortest = self.store.shortest_step(execution.pipeline_name, run.name)
            if shortest is None or run.started is None or run.status is not StepStatus.EXECUTING:
                return None
            left = shortest - (now - run.started).total_seconds()
            soonest = left if soonest is None else min(soonest, left)
        return None if soonest is None else soonest / rate

    def clock_rate(self) -> float | None:
        """Seconds of the server's clock per second of the monotonic one, measured since the first call: 1
        against AWS, the time scale on a simulated emulator. None for the first `RATE_WARMUP` seconds, or
        while the server's clock stands still (an emulator stepped by hand)."""
        now, server = self.clock.monotonic(), self.clock.now()
        if self._rate_origin is None:
            self._rate_origin = (now, server)
            return None
        start, server_start = self._rate_origin
        if now - start < RATE_WARMUP:
            return None
        rate = (server - server_start).total_seconds() / (now - start)
        return rate if rate > 0.1 else None
