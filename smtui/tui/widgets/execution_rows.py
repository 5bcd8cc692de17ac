"""What a row of the executions table shows: its values, its cells, and which cells a change touches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from rich.text import Text

from smtui.core.model import ExecutionStatus
from smtui.core.timing import Remaining
from smtui.tui import format as fmt

_STATUS_ORDER = {status: index for index, status in enumerate(ExecutionStatus)}


@dataclass(frozen=True, slots=True)
class ExecutionRow:
    """What one row shows; the table diffs these to decide which cells to update."""

    arn: str
    status: ExecutionStatus
    pipeline: str
    name: str
    started: datetime | None
    elapsed: timedelta | None
    progress: tuple[int, int] | None
    running: tuple[str, ...]
    reason: str | None
    marked: bool = False
    started_today: bool = True  # at 80 columns a run from another day shows its date, today's its time
    left: Remaining | None = None  # the time-left estimate of a running row, cut to what it shows
    # The values of the parameter columns (name, value; a parameter the execution does not have is left
    # out), or None while the execution's parameters are not read.
    params: tuple[tuple[str, str], ...] | None = ()
    context: str = ""  # the context's name with several contexts (`⚠ name` while its credentials fail)


class Cell(Text):
    """A cell's text plus the value it sorts by; None when the value is not known yet (see `sort_key`)."""

    __slots__ = ("sort_key",)

    def __init__(self, text: Text | str, sort_key: Any) -> None:
        base = text if isinstance(text, Text) else Text(text)
        super().__init__(
            base.plain, style=base.style, no_wrap=True, overflow="ellipsis", spans=list(base.spans)
        )
        self.sort_key = sort_key


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int
    compact_width: int  # at 80 columns


COLUMNS: tuple[Column, ...] = (
    Column("mark", " ", 1, 1),
    Column("status", "Status", 11, 11),
    # Shown with several contexts only (`ExecutionTable.show_context`), at 80 columns instead of Started.
    Column("context", "Context", 10, 7),
    Column("pipeline", "Pipeline", 22, 12),
    Column("name", "Execution", 16, 12),
    Column("started", "Started", 14, 11),
    Column("elapsed", "Elapsed", 7, 7),
    Column("progress", "Progress", 14, 14),
    # After the progress bar: at 80 columns the bar stays in view, as before this column was added.
    Column("left", "Left", 11, 11),
    Column("running", "Running", 24, 20),
    Column("reason", "Failure", 48, 40),
)
PARAM = "param:"  # the key of a parameter column: `param:<name>`


def columns_with(parameters: Sequence[str]) -> tuple[Column, ...]:
    """`COLUMNS` with a column per parameter (in that order) after the execution's name: chosen to be
    read beside it, they come before the columns that a narrow terminal cuts first."""
    # Wide enough for the name and a date, an instance type, a number; a longer value ends in `…`.
    extra = tuple(
        Column(f"{PARAM}{name}", name, min(max(len(name), 12), 24), min(max(len(name), 10), 16))
        for name in parameters
    )
    after = next(index for index, column in enumerate(COLUMNS) if column.key == "name") + 1
    return (*COLUMNS[:after], *extra, *COLUMNS[after:])


SORTABLE = ("status", "context", "pipeline", "name", "started", "elapsed", "progress", "running", "reason")
COMPACT_BELOW = 120  # terminal columns under which the narrow layout is used
COMPACT_BAR = 6  # the progress bar's cells at 80 columns, so that `██████ 3/6` is not cut


def cell_for(column: str, row: ExecutionRow, compact: bool) -> Cell:
    """What `row` shows in `column`, and the value it sorts by (built only for the cells that changed)."""
    match column:
        case "mark":
            return Cell(Text("◆", style="bold") if row.marked else Text(" "), row.marked)
        case "status":
            return Cell(fmt.execution_status_text(row.status), _STATUS_ORDER[row.status])
        case "context":
            style = fmt.styled("red") if row.context.startswith("⚠") else ""
            return Cell(Text(row.context, style=style), row.context.lower())
        case "pipeline":
            return Cell(row.pipeline, row.pipeline.lower())
        case "name":
            return Cell(row.name, row.name.lower())
        case "started":
            if compact and row.started:
                # Narrow: the time of day for today's runs, the date (and minute) for older ones.
                started = fmt.clock_time(row.started) if row.started_today else fmt.day_time(row.started)
            else:
                started = fmt.timestamp(row.started)
            return Cell(started, row.started.timestamp() if row.started else 0.0)
        case "elapsed":
            if row.elapsed is None:
                # A finished run whose end time is not read yet (it is read once the row is in view).
                unknown = Text("…", style=fmt.styled("bright_black")) if row.status.is_terminal else ""
                return Cell(unknown, None)
            return Cell(fmt.age(row.elapsed), row.elapsed.total_seconds())
        case "left":
            seconds = row.left.seconds if row.left is not None else None
            return Cell(fmt.time_left(row.left), seconds)
        case "progress":
            done, total = row.progress or (0, 0)
            width = COMPACT_BAR if compact else 8
            bar = fmt.progress_bar(row.progress, width, running=row.status.is_active, status=row.status)
            return Cell(bar, done / total if total > 0 else None)
        case "running":
            return Cell(", ".join(row.running), ", ".join(row.running).lower())
        case "reason":
            reason = Text(fmt.shorten(row.reason, 120), style=fmt.styled("red"))
            return Cell(reason, (row.reason or "").lower())
        case _:  # a parameter's column
            if row.params is None:
                # Not read yet: it is, while the row is in view.
                return Cell(Text("…", style=fmt.styled("bright_black")), None)
            value = dict(row.params).get(column.removeprefix(PARAM), "")
            return Cell(value, value.lower())


def sort_key(primary: Cell, secondary: Cell, reverse: bool) -> tuple[Any, ...]:
    """What the table sorts a row by: the sorted column's value, then the secondary column's.

    A value not known yet (an elapsed time whose end time is not read, a progress whose steps are not) is
    no number: its rows go after all the others in both directions, in the secondary order among
    themselves, rather than reading as the smallest value (at the top one way, the bottom the other).
    """
    unknown = primary.sort_key is None
    # With `reverse` the largest come first: there the unknown rows take the smallest group, else the largest.
    return (unknown != reverse, 0 if unknown else primary.sort_key, secondary.sort_key)


# The cells to build again when a field of the row changes.
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "status": ("status", "progress"),  # the bar of a finished run shows no "…" while it is fetched
    "pipeline": ("pipeline",),
    "name": ("name",),
    "started": ("started", "elapsed"),
    "elapsed": ("elapsed",),
    "progress": ("progress",),
    "running": ("running",),
    "reason": ("reason",),
    "marked": ("mark",),
    "started_today": ("started",),
    "left": ("left",),
    "params": (),  # every parameter column: the table knows which (`ShownRows`)
    "context": ("context",),
    "arn": (),
}


def changed_fields(before: ExecutionRow, after: ExecutionRow) -> Sequence[str]:
    """The fields of `ExecutionRow` whose values differ (see `FIELD_COLUMNS` for the cells they touch)."""
    return [f.name for f in fields(ExecutionRow) if getattr(before, f.name) != getattr(after, f.name)]
