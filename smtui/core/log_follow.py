"""Following a step's logs: new lines as events within a read interval, a bounded buffer, a clean end.

A screen (or `smtui logs`) asks `LogFollows.follow(execution_arn, step_node)`; the follower reads the step's
source (`log_sources`) through the Logs client's budget, with a reader of `log_readers`, appends what it reads
to its `LogBuffer` and publishes `LogLinesRead` / `LogFollowChanged` events. Whoever polls the step (the
monitor; `smtui logs` on its own) passes each new look at it to `step_changed` / `tree_changed`.

Pace: a read every `interval` (2 s) while lines come, and for the first `quiet_after` (30 s) without any;
after that each read that finds nothing stretches the next one by half, up to `max_interval` (10 s); a line
brings it back to `interval`. So a log that writes at least every half minute shows each line within ~2 s
plus a call, and one that went quiet costs a call per 10 s. When the step ends, one final read
(every page) and the follower stops by itself. A step that has not started, or whose job has not, is looked
at again when the step changes (or every `max_interval`). A new attempt of the step (a retry policy, a
retried execution) runs a new job: the follower moves on to it, keeping the lines read so far.
Only what a view shows is followed: `stop` when the view closes.

Every wait is on the Logs client's `Clock`, so a test or a benchmark drives time (the emulator's clock) and
never sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Protocol

from smtui.core.errors import AwsError
from smtui.core.log_buffer import DEFAULT_LINES, LogBuffer
from smtui.core.log_readers import Reader, make_reader
from smtui.core.log_sources import resolve_source, same_source
from smtui.core.logs import LogEvent, LogFollowChanged, LogLinesRead, LogSource, LogState, NoLogs
from smtui.core.logs_client import LogsClient
from smtui.core.model import StepNode, StepTree

INTERVAL = 2.0
MAX_INTERVAL = 10.0
QUIET_AFTER = 30.0
BACKOFF = 1.5
ONE_SHOT_RETRIES = 4  # a one-time read (no --follow) gives up after this many failed attempts


class _Caller(Protocol):
    async def call(self, operation: str, **params: Any) -> dict[str, Any]: ...


class LogFollower:
    """Reads one step's logs, until the step ends (`follow`) or once; `run()` returns the final state."""

    def __init__(
        self,
        logs: LogsClient,
        sm: _Caller,
        execution_arn: str,
        node: StepNode,
        *,
        follow: bool = True,
        since_ms: int | None = None,
        buffer: LogBuffer | None = None,
        publish: Callable[[LogEvent], None] | None = None,
        interval: float = INTERVAL,
        max_interval: float = MAX_INTERVAL,
        quiet_after: float = QUIET_AFTER,
        mode: str = "filter",
    ) -> None:
        self.logs = logs
        self.sm = sm
        self.execution_arn = execution_arn
        self.node = node
        self.follow = follow
        self.since_ms = since_ms
        self.buffer = buffer if buffer is not None else LogBuffer()
        self._publish = publish or (lambda event: None)
        self.interval = interval
        self.max_interval = max(max_interval, interval)
        self.quiet_after = quiet_after
        self.mode = mode
        self.state = LogState.WAITING
        self.reason: str | None = None
        self.source: LogSource | None = None
        self.error: AwsError | None = None  # the error it stopped on, if any
        self.lines_read = 0
        self.reads = 0
        self._reader: Reader | None = None
        self._wake = asyncio.Event()
        self._last_event: LogFollowChanged | None = None

    @property
    def step(self) -> str:
        return self.node.name

    def step_changed(self, node: StepNode) -> None:
        """A new look at the step (from a step poll). Wakes the follower when that matters to it: the step
        started, ended, or runs another job."""
        old, self.node = self.node, node
        before = (old.status, old.run.job_arn if old.run else None, old.run is None)
        after = (node.status, node.run.job_arn if node.run else None, node.run is None)
        if before != after:
            self._wake.set()

    async def run(self) -> LogState:
        clock = self.logs.clock
        delay = self.interval
        last_lines = clock.monotonic()
        failures = 0
        while True:
            node = self.node
            last = node.status.is_done or not self.follow  # the step ended: this read is the final one
            try:
                if self.source is None or not same_source(node, self.source):
                    if self._reader is not None and self._moved_on(node):
                        await self._read(True)  # the last lines of the attempt that ended
                        self._reader = None
                    found = await resolve_source(self.sm, node)
                    if isinstance(found, NoLogs):
                        if found.final or last:
                            return self._end(LogState.NO_LOGS, found.reason)
                        self._set(LogState.WAITING, found.reason)
                        await self._pause(self.max_interval)
                        continue
                    self._use(found)
                count = await self._read(last)
            except AwsError as exc:
                failures += 1
                if exc.is_credentials or (not self.follow and failures >= ONE_SHOT_RETRIES):
                    self.error = exc
                    return self._end(LogState.ERROR, str(exc))
                if exc.is_not_found:  # the group (or a stream) does not exist: the job has written nothing
                    group = self.source.group if self.source is not None else "its log group"
                    if last:
                        return self._end(LogState.NO_LOGS, f"{self.step}: no logs ({group} has none for it)")
                    self._set(LogState.WAITING, f"{self.step}: no logs yet ({group} has none for it yet)")
                    await self._pause(self.max_interval)
                    continue
                self._set(LogState.ERROR, str(exc))
                await self._pause(min(2 * self.max_interval, self.interval * 2.0**failures))
                continue
            failures = 0
            if last:
                return self._end(LogState.ENDED, None)
            if count:
                last_lines = clock.monotonic()
            quiet = not count and clock.monotonic() - last_lines >= self.quiet_after
            delay = min(self.max_interval, delay * BACKOFF) if quiet else self.interval
            self._set(LogState.FOLLOWING, None, interval=delay)
            await self._pause(delay)

    def _moved_on(self, node: StepNode) -> bool:
        """The step runs another job than the one being read (a new attempt)."""
        job = node.run.job_arn if node.run is not None else None
        return self.source is not None and job is not None and job != self.source.resolved_from

    def _use(self, source: LogSource) -> None:
        """Read from `source`; a Lambda step's window that closed keeps its reader (and what it has read)."""
        old = self.source
        same_job = old is not None and (old.group, old.resolved_from) == (source.group, source.resolved_from)
        if same_job and self._reader is not None:
            self._reader.end_ms = source.end_ms
        else:
            starts = [t for t in (self.since_ms, source.start_ms) if t is not None]
            self._reader = make_reader(self.mode, self.logs, source, max(starts) if starts else None)
        self.source = source
        self._set(LogState.FOLLOWING, None, interval=self.interval)

    async def _read(self, final: bool) -> int:
        assert self._reader is not None
        self.reads += 1
        count = 0
        async for lines in self._reader.pages(final=final):
            first = self.buffer.total
            self.buffer.extend(lines)
            count += len(lines)
            self._publish(LogLinesRead(self.execution_arn, self.step, tuple(lines), first))
        self.lines_read += count
        return count

    async def _pause(self, seconds: float) -> None:
        """Sleep on the clock, or less if the step changes meanwhile."""
        if not self._wake.is_set():
            sleeper = asyncio.ensure_future(self.logs.clock.sleep(seconds))
            waker = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (sleeper, waker):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
        self._wake.clear()

    def _set(self, state: LogState, reason: str | None, *, interval: float | None = None) -> None:
        self.state, self.reason = state, reason
        event = LogFollowChanged(self.execution_arn, self.step, state, reason, self.source, interval)
        if event != self._last_event:
            self._last_event = event
            self._publish(event)

    def _end(self, state: LogState, reason: str | None) -> LogState:
        self.state, self.reason = state, reason
        self._publish(LogFollowChanged(self.execution_arn, self.step, state, reason, self.source, None, True))
        return state


class LogFollows:
    """The log followers of one account/region: one Logs client and budget for all of them.

    What a monitor owns (DESIGN "Push, contexts, logs"): a view asks `follow(...)`, receives the events
    through `publish`, and calls `stop(...)` when it closes; the step polls feed `tree_changed`.
    """

    def __init__(
        self,
        logs: LogsClient,
        sm: _Caller,
        *,
        publish: Callable[[LogEvent], None],
        buffer_lines: int = DEFAULT_LINES,
        interval: float = INTERVAL,
        max_interval: float = MAX_INTERVAL,
        quiet_after: float = QUIET_AFTER,
        mode: str = "filter",
    ) -> None:
        self.logs = logs
        self.sm = sm
        self.publish = publish
        self.quiet_after = quiet_after
        self.buffer_lines = buffer_lines
        self.interval = interval
        self.max_interval = max_interval
        self.mode = mode
        self._followers: dict[tuple[str, str], LogFollower] = {}
        self._tasks: dict[tuple[str, str], asyncio.Task[LogState]] = {}

    def follow(
        self, execution_arn: str, node: StepNode, *, follow: bool = True, since_ms: int | None = None
    ) -> LogFollower:
        """Start following a step (its buffer holds `buffer_lines`); the running follower if there is one."""
        key = (execution_arn, node.name)
        task = self._tasks.get(key)
        if task is not None and not task.done():
            return self._followers[key]
        follower = LogFollower(
            self.logs,
            self.sm,
            execution_arn,
            node,
            follow=follow,
            since_ms=since_ms,
            buffer=LogBuffer(self.buffer_lines),
            publish=self.publish,
            interval=self.interval,
            max_interval=self.max_interval,
            quiet_after=self.quiet_after,
            mode=self.mode,
        )
        self._followers[key] = follower
        self._tasks[key] = asyncio.get_running_loop().create_task(
            follower.run(), name=f"smtui-logs-{node.name}"
        )
        return follower

    def get(self, execution_arn: str, step: str) -> LogFollower | None:
        return self._followers.get((execution_arn, step))

    def tree_changed(self, execution_arn: str, tree: StepTree) -> None:
        """A step poll's new tree: each followed step of that execution hears of its node."""
        nodes = {node.name: node for _, node in tree.walk()}
        for (arn, step), follower in self._followers.items():
            if arn == execution_arn and step in nodes:
                follower.step_changed(nodes[step])

    async def stop(self, execution_arn: str, step: str) -> None:
        """Stop following (the view closed): no further reads, no further events."""
        task = self._tasks.pop((execution_arn, step), None)
        self._followers.pop((execution_arn, step), None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def join(self) -> dict[tuple[str, str], LogState]:
        """Wait until every follower has stopped by itself; their final states."""
        keys = list(self._tasks)
        states = await asyncio.gather(*(self._tasks[key] for key in keys))
        return dict(zip(keys, states, strict=True))

    async def close(self) -> None:
        for execution_arn, step in list(self._tasks):
            await self.stop(execution_arn, step)
