"""Elapsed times (running ones tick against `now`) and the estimate of the time left.

The estimate is the median duration of the same pipeline's most recent successful executions minus the
elapsed time: the median, not the mean, so one stuck run in the history does not skew it.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from smtui.core.model import Execution, ExecutionStatus, StepNode, StepRun, StepStatus

HISTORY_RUNS = 5  # how many earlier successful runs the estimate looks at


def utcnow() -> datetime:
    """The current time, aware UTC (the clock every core component uses by default)."""
    return datetime.now(UTC)


def elapsed(started: datetime | None, ended: datetime | None, now: datetime) -> timedelta | None:
    """Time between start and end, or start and now while it runs; None before it started."""
    if started is None:
        return None
    return max(timedelta(0), (ended or now) - started)


def execution_elapsed(execution: Execution, now: datetime) -> timedelta | None:
    """Elapsed time of an execution. A finished one whose end is unknown yet has no elapsed time."""
    if execution.status.is_terminal and execution.ended is None:
        return None
    return elapsed(execution.started, execution.ended, now)


def step_elapsed(node: StepNode, now: datetime) -> timedelta | None:
    """Elapsed time of a step node that ran (or runs); None for pending/skipped ones."""
    if node.run is None:
        return None
    ended = node.run.ended or node.clock_end  # under an execution that ended, it stops there
    if ended is None and node.status.is_done:
        return None  # ended but the API gave no EndTime: do not let it tick
    return elapsed(node.run.started, ended, now)


def typical_duration(history: Iterable[Execution], pipeline_name: str) -> timedelta | None:
    """Median duration of the pipeline's last `HISTORY_RUNS` successful executions with known times."""
    runs = [
        e
        for e in history
        if e.pipeline_name == pipeline_name
        and e.status is ExecutionStatus.SUCCEEDED
        and e.started is not None
        and e.ended is not None
    ]
    runs.sort(key=lambda e: e.started or datetime.min.replace(tzinfo=UTC), reverse=True)
    durations = [(e.ended - e.started).total_seconds() for e in runs[:HISTORY_RUNS] if e.ended and e.started]
    if not durations:
        return None
    return timedelta(seconds=statistics.median(durations))


def estimate_remaining(execution: Execution, history: Iterable[Execution], now: datetime) -> timedelta | None:
    """Time left for an active execution, from earlier successful runs; None if unknown or finished."""
    if not execution.is_active or execution.started is None:
        return None
    typical = typical_duration((e for e in history if e.arn != execution.arn), execution.pipeline_name)
    if typical is None:
        return None
    return max(timedelta(0), typical - (now - execution.started))


@dataclass(frozen=True, slots=True)
class Remaining:
    """The estimate as it should be told: `seconds` when there is one, and `note` saying why there is not
    (or why it is not to be trusted): `ended`, `no-history` (no earlier successful run to go by), or
    `longer-than-history` (already running longer than every earlier successful run looked at)."""

    seconds: float | None
    note: str | None


def remaining(execution: Execution, history: Iterable[Execution], now: datetime) -> Remaining:
    """`estimate_remaining`, with the reason when it gives nothing."""
    return remaining_from(execution, success_durations(history, execution.pipeline_name), now)


def remaining_from(execution: Execution, earlier: list[float], now: datetime) -> Remaining:
    """`remaining`, from the durations `success_durations` gave for the execution's pipeline (a table
    estimating many rows of one pipeline reads its history once)."""
    if not execution.is_active or execution.started is None:
        return Remaining(None, "ended" if not execution.is_active else None)
    if not earlier:
        return Remaining(None, "no-history")
    running = (now - execution.started).total_seconds()
    if running > max(earlier):
        return Remaining(None, "longer-than-history")
    return Remaining(round(max(0.0, statistics.median(earlier) - running), 3), None)


def success_durations(history: Iterable[Execution], pipeline_name: str) -> list[float]:
    """Durations in seconds of the pipeline's last `HISTORY_RUNS` successful executions with known times,
    newest first (an active execution is never among them: it has not succeeded)."""
    typical = [
        e
        for e in history
        if e.pipeline_name == pipeline_name
        and e.status is ExecutionStatus.SUCCEEDED
        and e.started
        and e.ended
    ]
    typical.sort(key=lambda e: e.started or datetime.min.replace(tzinfo=UTC), reverse=True)
    return [(e.ended - e.started).total_seconds() for e in typical[:HISTORY_RUNS] if e.ended and e.started]


def step_remaining(node: StepNode, earlier: Sequence[float], now: datetime) -> Remaining | None:
    """The time left of a running step: the median of how long the same step ran in the pipeline's earlier
    successful runs (`Store.step_durations`) minus how long it has run, with the same notes as
    `remaining`. None for a step that is not running (nothing to estimate)."""
    run = node.run
    if run is None or run.started is None or node.status not in _RUNNING or node.clock_end is not None:
        return None
    if node.children:
        return None  # a ForEach: its iterations carry the estimate
    if not earlier:
        return Remaining(None, "no-history")
    running = (now - run.started).total_seconds()
    if running > max(earlier):
        return Remaining(None, "longer-than-history")
    return Remaining(round(max(0.0, statistics.median(earlier) - running), 3), None)


_RUNNING = (StepStatus.STARTING, StepStatus.EXECUTING)


def add_step_durations(into: dict[str, list[float]], runs: Iterable[StepRun]) -> None:
    """Add to `into` (step name → durations) how long each step of one earlier run took: the steps that
    succeeded and were not cache hits (a cache hit's time says nothing about the step's)."""
    for run in runs:
        if (
            run.status is StepStatus.SUCCEEDED
            and run.started is not None
            and run.ended is not None
            and run.cache_source_arn is None
        ):
            into.setdefault(run.name, []).append((run.ended - run.started).total_seconds())


def success_history(history: Iterable[Execution], pipeline_name: str) -> list[float] | None:
    """`success_durations`, or None when the pipeline has successful executions but the end of none of
    them is known yet (a listing gives no end time: the monitor reads them later), so that "no history"
    is said only when there is none."""
    history = list(history)
    durations = success_durations(history, pipeline_name)
    if durations:
        return durations
    succeeded = (
        e for e in history if e.pipeline_name == pipeline_name and e.status is ExecutionStatus.SUCCEEDED
    )
    return None if any(True for _ in succeeded) else []
