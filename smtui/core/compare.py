"""A comparison of 2–8 executions, of one pipeline or of several: what `smtui diff` prints and the TUI's
compare screen shows, column per execution.

Pure: it is built from what was read (each execution, its step tree, every listed attempt, the jobs behind
them), so the headless command and the monitor-fed screen share it and neither re-reads anything here.

- Parameters: every name any execution has, its value in each (None: that execution has none), `differs`
  when the values are not all the same; the screen folds the equal ones behind `equal_parameters`.
- Steps: aligned by name across executions. ForEach iterations are named `<Body>-<i>` by the API, so
  aligning by name aligns them by index. A step an execution does not have is None in its column.
- Metrics: the final metrics (`FinalMetricDataList`) of the training jobs, one row per step and metric,
  with the column(s) holding the best value. Lower is better when the name says loss, error or rmse
  (`lower_is_better`); `MetricRow.best_for` recomputes for the other direction (a screen's toggle).
- Billable instance-seconds: training `BillableTimeInSeconds` × instance count; processing and transform
  their job's duration × instance count; summed over a step's attempts (each attempt is billed); a cache
  hit costs nothing (its job is the earlier run's, billed there).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from smtui.core.jobs import JobInfo
from smtui.core.model import Execution, StepRun, StepStatus, StepTree
from smtui.core.timing import execution_elapsed, step_elapsed

MIN_EXECUTIONS = 2
MAX_EXECUTIONS = 8
DIFFERS = "≠"  # marks a row whose values are not the same in every execution
BEST = "★"  # marks the best value of a metric (a character: it reads without colour)

_LOWER_IS_BETTER = re.compile(r"loss|error|rmse", re.IGNORECASE)


def lower_is_better(metric: str) -> bool:
    """The direction a metric improves in, from its name: `loss`, `error` and `rmse` go down, others up."""
    return _LOWER_IS_BETTER.search(metric) is not None


@dataclass(frozen=True, slots=True)
class ExecutionData:
    """What was read of one execution: the inputs of `build_comparison`."""

    execution: Execution  # with `parameters` read
    tree: StepTree
    runs: tuple[StepRun, ...]  # every attempt ListPipelineExecutionSteps listed
    jobs: Mapping[str, JobInfo]  # job ARN → the job (the ones read; a missing one counts unknown)
    now: datetime  # when it was read: running times tick up to here


@dataclass(frozen=True, slots=True)
class Column:
    """One execution's column header: status, start, elapsed, billable total."""

    execution: Execution
    elapsed_s: float | None
    billable_s: float | None  # the sum over its steps; None when no step's cost is known


@dataclass(frozen=True, slots=True)
class ParameterRow:
    name: str
    values: tuple[str | None, ...]  # per column; None: that execution has no such parameter
    differs: bool


@dataclass(frozen=True, slots=True)
class StepCell:
    """One step in one execution."""

    status: StepStatus
    duration_s: float | None
    attempts: int  # the API's attempt count (a retry policy's retries included); 0: it never started
    cache_hit: bool
    billable_s: float | None  # None: not a billed job kind, or its job was not read


@dataclass(frozen=True, slots=True)
class StepRow:
    name: str
    type: str
    depth: int  # 0 for top-level steps; iterations and branch steps deeper
    cells: tuple[StepCell | None, ...]  # per column; None: that execution has no such step
    differs: bool  # status, attempts or cache hit not the same everywhere


@dataclass(frozen=True, slots=True)
class MetricRow:
    step: str
    metric: str
    values: tuple[float | None, ...]
    lower_is_better: bool
    best: tuple[int, ...]  # columns holding the best value (ties: all of them)

    def best_for(self, lower: bool) -> tuple[int, ...]:
        """The best columns when the direction is `lower` (the screen's toggle)."""
        return best_columns(self.values, lower)


@dataclass(frozen=True, slots=True)
class Comparison:
    columns: tuple[Column, ...]
    parameters: tuple[ParameterRow, ...]
    steps: tuple[StepRow, ...]
    metrics: tuple[MetricRow, ...]

    @property
    def equal_parameters(self) -> int:
        """How many parameters have the same value in every column (folded away)."""
        return sum(1 for p in self.parameters if not p.differs)


def best_columns(values: Sequence[float | None], lower: bool) -> tuple[int, ...]:
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return ()  # one value is not a winner: nothing was compared
    best = min(known) if lower else max(known)
    return tuple(i for i, v in enumerate(values) if v == best)


def build_comparison(data: Sequence[ExecutionData]) -> Comparison:
    """The comparison of the executions, in the order given."""
    per_column = [_cells(d) for d in data]  # once: the columns' totals and the step rows share them
    columns = tuple(
        Column(
            d.execution,
            _seconds(execution_elapsed(d.execution, d.now)),
            _total(list(cells.values())),
        )
        for d, cells in zip(data, per_column, strict=True)
    )
    return Comparison(columns, _parameters(data), _steps(data, per_column), _metrics(data))


def _parameters(data: Sequence[ExecutionData]) -> tuple[ParameterRow, ...]:
    maps = [dict(d.execution.parameters or ()) for d in data]
    names: dict[str, None] = {}
    for found in maps:
        names.update(dict.fromkeys(found))
    rows = []
    for name in sorted(names):
        values = tuple(found.get(name) for found in maps)
        rows.append(ParameterRow(name, values, len(set(values)) > 1))
    return tuple(rows)


def _cells(d: ExecutionData) -> dict[str, StepCell]:
    attempts: dict[str, list[StepRun]] = {}
    for run in d.runs:
        attempts.setdefault(run.name, []).append(run)
    out: dict[str, StepCell] = {}
    for _, node in d.tree.walk():
        runs = attempts.get(node.name, [])
        cache_hit = node.run is not None and node.run.cache_source_arn is not None
        duration = step_elapsed(node, d.now)
        out[node.name] = StepCell(
            status=node.status,
            duration_s=_seconds(duration),
            attempts=max([len(runs), *(r.attempt for r in runs)]) if runs else 0,
            cache_hit=cache_hit,
            billable_s=0.0 if cache_hit else _billable(runs, d.jobs),
        )
    return out


def _billable(runs: Sequence[StepRun], jobs: Mapping[str, JobInfo]) -> float | None:
    total: float | None = None
    for run in runs:
        if run.job_arn is None:
            continue
        job = jobs.get(run.job_arn)
        cost = job_billable_seconds(job) if job is not None else None
        if cost is None:
            return None  # one attempt unknown: the sum would understate
        total = (total or 0.0) + cost
    return round(total, 3) if total is not None else None


def job_billable_seconds(job: JobInfo) -> float | None:
    """Billable instance-seconds of a job: training BillableTimeInSeconds × instances; processing and
    transform their duration × instances (they report no billable time). None while unknown."""
    count = job.instance_count or 1
    if job.kind == "Training":
        return float(job.billable_seconds * count) if job.billable_seconds is not None else None
    if job.started is None or job.ended is None:
        return None
    return max(0.0, (job.ended - job.started).total_seconds()) * count


def _total(cells: Sequence[StepCell]) -> float | None:
    known = [c.billable_s for c in cells if c.billable_s is not None]
    return round(sum(known), 3) if known else None


def _steps(data: Sequence[ExecutionData], per_column: Sequence[dict[str, StepCell]]) -> tuple[StepRow, ...]:
    order: dict[str, tuple[str, int]] = {}
    for d in data:
        for depth, node in d.tree.walk():
            order.setdefault(node.name, (node.type, depth))
    rows = []
    for name, (kind, depth) in order.items():
        cells = tuple(found.get(name) for found in per_column)
        looks = {(c.status, c.attempts, c.cache_hit) if c else None for c in cells}
        rows.append(StepRow(name, kind, depth, cells, len(looks) > 1))
    return tuple(rows)


def _metrics(data: Sequence[ExecutionData]) -> tuple[MetricRow, ...]:
    found: dict[tuple[str, str], list[float | None]] = {}
    for column, d in enumerate(data):
        for _, node in d.tree.walk():
            run = node.run
            if run is None or run.job_arn is None:
                continue
            job = d.jobs.get(run.job_arn)
            if job is None or job.kind != "Training":
                continue
            for metric, value in job.metrics:
                values = found.setdefault((node.name, metric), [None] * len(data))
                values[column] = value
    rows = []
    for (step, metric), values in found.items():
        lower = lower_is_better(metric)
        rows.append(MetricRow(step, metric, tuple(values), lower, best_columns(values, lower)))
    return tuple(rows)


def _seconds(value: timedelta | None) -> float | None:
    return round(value.total_seconds(), 3) if isinstance(value, timedelta) else None
