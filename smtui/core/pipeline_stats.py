"""A pipeline at a glance: its runs going on now, its last run, and how its recent runs went.

The figures come from what the monitor holds: ListPipelineExecutions gives every run's status and start,
and the end time of a finished run comes from one DescribePipelineExecution (the list has none), read once
and kept (`Monitor.want_end_times`). So a duration is unknown until that read has answered, and the
figures say over how many runs they are (`timed`), never pretending the unknown ones away.

Durations (p50, p95, the sparkline's heights) are those of the successful runs: a failed run's duration says
when it failed, not how long the pipeline takes. The sparkline still shows every finished run in its place.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from smtui.core.model import Execution, ExecutionStatus

RECENT_RUNS = 20  # the finished runs the success rate, the durations and the sparkline are over


@dataclass(frozen=True, slots=True)
class RecentRun:
    """One finished run in the window: its status, and its duration in seconds once its end is read."""

    status: ExecutionStatus
    seconds: float | None


@dataclass(frozen=True, slots=True)
class PipelineSummary:
    """What the pipelines view shows of one pipeline (see the module's docstring)."""

    name: str
    active: int  # runs executing or stopping now
    last: Execution | None  # the latest started run, whatever its status
    recent: tuple[RecentRun, ...]  # the last `RECENT_RUNS` finished runs, oldest first
    succeeded: int  # of `recent`
    p50: float | None  # seconds, over the successful runs of `recent` whose end is known
    p95: float | None
    timed: int  # the successful runs of `recent` whose end is known: what p50 and p95 are over
    untimed: int  # the successful runs of `recent` whose end is not read yet

    @property
    def rate(self) -> float | None:
        """The share of `recent` that succeeded; None without a finished run."""
        return self.succeeded / len(self.recent) if self.recent else None


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of non-empty `values`: always one of the values, so a
    p95 over few runs is the slowest of them, not an interpolation nobody ran."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summarise(name: str, executions: Iterable[Execution], *, runs: int = RECENT_RUNS) -> PipelineSummary:
    """The summary of a pipeline from its executions as the monitor knows them."""
    known = sorted(executions, key=_start_of, reverse=True)
    finished = [e for e in known if e.status.is_terminal][:runs]
    recent = tuple(RecentRun(e.status, _seconds(e)) for e in reversed(finished))
    successes = [r for r in recent if r.status is ExecutionStatus.SUCCEEDED]
    timed = [r.seconds for r in successes if r.seconds is not None]
    return PipelineSummary(
        name=name,
        active=sum(1 for e in known if e.is_active),
        last=known[0] if known else None,
        recent=recent,
        succeeded=len(successes),
        p50=percentile(timed, 0.5) if timed else None,
        p95=percentile(timed, 0.95) if timed else None,
        timed=len(timed),
        untimed=len(successes) - len(timed),
    )


def untimed_runs(executions: Iterable[Execution], *, runs: int = RECENT_RUNS) -> list[Execution]:
    """The successful runs of the window whose end time is not read yet: the ones to describe (only their
    durations are shown; a failed run is a glyph in the sparkline and costs no call)."""
    known = sorted(executions, key=_start_of, reverse=True)
    finished = [e for e in known if e.status.is_terminal][:runs]
    return [e for e in finished if e.status is ExecutionStatus.SUCCEEDED and e.ended is None]


def _seconds(execution: Execution) -> float | None:
    if execution.started is None or execution.ended is None:
        return None
    return max(0.0, (execution.ended - execution.started).total_seconds())


def _start_of(execution: Execution) -> datetime:
    # No start time (never seen from the API, but the field is optional): counts as the newest.
    return execution.started or datetime.max.replace(tzinfo=UTC)
