"""A session's step logs: one place where the log followers meet the client, the monitor and the app.

A log screen asks `follow(execution_arn, step_node)` and `stop(...)`; it never holds a client (STYLE 13).
Lines and states come back as `LogLinesRead` / `LogFollowChanged` events to `subscribe`rs (the app, which
posts them to its screens as it does the monitor's events). The monitor's step polls reach the followers
here (`tree_changed`), so a follow ends by itself when its step does. The Logs client, with its own budget
(`logs_rate`), is opened at the first follow: a session that never opens a log costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from smtui.core.events import StepsChanged
from smtui.core.logs import LogEvent
from smtui.core.model import StepNode

if TYPE_CHECKING:
    from smtui.core.client import SageMakerClient
    from smtui.core.log_follow import LogFollower, LogFollows
    from smtui.core.logs import Clock
    from smtui.core.monitor import Monitor


class StepLogs:
    """Follows the steps whose logs are on screen, on the Logs budget; events go to the subscribers."""

    def __init__(
        self,
        client: SageMakerClient,
        monitor: Monitor,
        *,
        rate: float = 2.0,
        lines: int = 100_000,
        options: Mapping[str, Any] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._client = client
        self._clock = clock  # what the followers and the Logs budget wait on (None: real time)
        self._monitor = monitor
        self._rate = rate
        self._lines = lines
        self._options = dict(options or {})  # LogFollows' pace (tests read faster than every 2 s)
        self._follows: LogFollows | None = None
        self._stack = AsyncExitStack()
        self._subscribers: list[Callable[[LogEvent], None]] = []
        self._unsubscribe = monitor.subscribe(self._monitor_event)

    def subscribe(self, callback: Callable[[LogEvent], None]) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    async def follow(self, execution_arn: str, node: StepNode) -> LogFollower:
        """Start reading a step's logs (the running follower if it is already followed)."""
        follows = await self._open()
        return follows.follow(execution_arn, node)

    async def stop(self, execution_arn: str, step: str) -> None:
        """The view closed: no further reads for this step."""
        if self._follows is not None:
            await self._follows.stop(execution_arn, step)

    async def close(self) -> None:
        self._unsubscribe()
        if self._follows is not None:
            await self._follows.close()
        await self._stack.aclose()

    async def _open(self) -> LogFollows:
        if self._follows is None:
            from smtui.core.log_follow import LogFollows
            from smtui.core.logs_client import LogsClient

            logs = await self._stack.enter_async_context(
                LogsClient(self._client, rate=self._rate, clock=self._clock)
            )
            self._follows = LogFollows(
                logs, self._client, publish=self._publish, buffer_lines=self._lines, **self._options
            )
        return self._follows

    def _publish(self, event: LogEvent) -> None:
        for callback in list(self._subscribers):
            callback(event)

    def _monitor_event(self, event: Any) -> None:
        # A new look at an execution's steps: the followed ones hear of their node (started, ended, retried).
        if self._follows is not None and isinstance(event, StepsChanged):
            tree = self._monitor.tree(event.execution_arn)
            if tree is not None:
                self._follows.tree_changed(event.execution_arn, tree)
