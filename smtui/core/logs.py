"""Step logs: the lines, where a step's lines are, the events a follower publishes, and the clock it waits on.

A log view (or `smtui logs`) asks to follow one step; a `log_follow.LogFollower` reads its lines through the
Logs client's own budget (`logs_client.LogsClient`) and publishes `LogLinesRead` batches and
`LogFollowChanged` states. Nothing here calls AWS.
"""

from __future__ import annotations

import asyncio
import enum
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class LogLine:
    """One CloudWatch Logs event. `timestamp` is epoch milliseconds, as the service gives it (an int, not a
    datetime: a buffer of 100,000 lines holds no 100,000 datetimes)."""

    timestamp: int
    stream: str  # the full log stream name (`<job>/algo-1-<epoch>`); one shared string per stream
    message: str

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp / 1000, UTC)


@dataclass(frozen=True, slots=True)
class LogSource:
    """Where one step's lines are: a log group, the prefix of its streams, and the time window to read.

    A job's streams are `<exact-case job name>/<host>-<epoch>`, one per instance, so `<job>/` names them
    all. A Lambda function's group holds every invocation: its step's lines are the ones in the step's
    StartTime–EndTime window (`start_ms`/`end_ms`, end None while it runs).
    """

    group: str
    stream_prefix: str | None = None
    job_name: str | None = None  # exact case, from Describe*Job
    resolved_from: str | None = None  # the step's Metadata ARN: another one (a new attempt) is another source
    instances: int = 1  # streams the job writes (its instance count); a transform job adds a data log
    start_ms: int | None = None
    end_ms: int | None = None
    kind: str = "job"  # "job" | "lambda"

    @property
    def streams(self) -> int:
        """How many streams the job writes once every instance runs: one per instance, and a transform
        job's instances each write a data log beside the model server's stream."""
        return self.instances * (2 if self.group.endswith("/TransformJobs") else 1)

    @property
    def many_streams(self) -> bool:
        """Whether lines come from more than one stream, so that a view shows each line's stream."""
        return self.kind == "lambda" or self.streams > 1

    def short(self, stream: str) -> str:
        """The stream name without the job's prefix: `algo-1-1700000000`."""
        if self.stream_prefix and stream.startswith(self.stream_prefix):
            return stream[len(self.stream_prefix) :]
        return stream


@dataclass(frozen=True, slots=True)
class NoLogs:
    """Why a step has no lines to show, in one line. `final` False: it may have some later (not started)."""

    reason: str
    final: bool = True


class LogState(enum.StrEnum):
    """Where a follower is."""

    WAITING = "waiting"  # the step or its job has not started, or its log group does not exist yet
    FOLLOWING = "following"  # reading; `interval` says how often
    ENDED = "ended"  # the step ended and its final read is done (or a one-time read is done)
    NO_LOGS = "no-logs"  # this step has none: `reason` says why
    ERROR = "error"  # reads fail; `reason` is the error. Retried, unless it is final (credentials)

    @property
    def is_final(self) -> bool:
        return self in (LogState.ENDED, LogState.NO_LOGS)


@dataclass(frozen=True, slots=True)
class LogLinesRead:
    """New lines of one followed step (a page at most: ≤ 10,000), in time order within the batch."""

    execution_arn: str
    step: str
    lines: tuple[LogLine, ...]
    first_seq: int  # the buffer's sequence number of `lines[0]` (`LogBuffer.get(seq)`)


@dataclass(frozen=True, slots=True)
class LogFollowChanged:
    """A follower's state changed (or its reason, its source, or its pace)."""

    execution_arn: str
    step: str
    state: LogState
    reason: str | None = None
    source: LogSource | None = None
    interval: float | None = None  # seconds until the next read while following
    final: bool = False  # no further event will come from this follower


LogEvent = LogLinesRead | LogFollowChanged


class Clock(Protocol):
    """What a follower and its budget wait on: monotonic seconds, and a sleep measured in them. Tests pass
    a simulated one whose `sleep` advances the emulator's clock instead of waiting."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock: `time.monotonic` and `asyncio.sleep`."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def epoch_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)
