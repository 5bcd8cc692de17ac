"""Opening a monitored session: the client, the started monitor, the step logs and (unless read-only) the
actions.

The TUI calls `open_monitor` and keeps only the monitor and the actions: it holds no client, so every call
it causes goes through the monitor's budget (STYLE.md rule 13). `AwsTarget` is re-exported for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smtui.core.actions import Actions
from smtui.core.client import AwsTarget, SageMakerClient
from smtui.core.clock import Clock
from smtui.core.monitor import Monitor
from smtui.core.step_logs import StepLogs

__all__ = ["AwsTarget", "Opened", "open_monitor"]


@dataclass(frozen=True)
class Opened:
    """What `open_monitor` yields. `actions` is None in read-only mode: nothing can mutate."""

    monitor: Monitor
    actions: Actions | None
    endpoint_label: str  # `us-east-1 · 123456789012`, or the endpoint URL
    now: Callable[[], datetime]  # the clock elapsed times are measured with
    logs: StepLogs  # the step logs, on a budget of their own (opened at the first follow)


@asynccontextmanager
async def open_monitor(
    target: AwsTarget,
    *,
    read_only: bool = False,
    now: Callable[[], datetime] | None = None,
    monitor_options: Mapping[str, Any] | None = None,
    logs_options: Mapping[str, Any] | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[Opened]:
    """A client of `target`, a started monitor on it, the step logs (`StepLogs`: `rate`, `lines`,
    `options`) and the actions, all closed on exit. `clock`: the one the monitor and the log followers
    run on (tests hold a `ManualClock`); by default real time, with `now` (or the server's time) as
    its `now`."""
    async with SageMakerClient.create(target) as client:
        # The server's time unless told otherwise: elapsed times then agree with the timestamps it sends.
        server_now = clock.now if clock is not None else now or client.now
        monitor = Monitor(client, clock=clock or server_now, **dict(monitor_options or {}))
        await monitor.start()
        logs = StepLogs(client, monitor, clock=clock, **dict(logs_options or {}))
        try:
            yield Opened(
                monitor=monitor,
                actions=None if read_only else Actions(client, monitor),
                endpoint_label=client.endpoint_label,
                now=server_now,
                logs=logs,
            )
        finally:
            await logs.close()
            await monitor.stop()
