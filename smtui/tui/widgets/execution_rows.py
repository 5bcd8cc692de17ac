"""What a row of the executions table shows: its values, its cells, and which cells a change touches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from rich.text import Text

from smtui.core.model import ExecutionStatus
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


class Cell(Text):
    """A cell's text plus the value it sorts by."""

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
    Column("pipeline", "Pipeline", 22, 14),
    Column("name", "Execution", 16, 12),
    Column("started", "Started", 14, 8),
    Column("elapsed", "Elapsed", 7, 7),
    Column("progress", "Progress", 14, 14),
    Column("running", "Running", 24, 20),
    Column("reason", "Failure", 48, 40),
)
SORTABLE = ("status", "pipeline", "name", "started", "elapsed", "progress", "running", "reason")
COMPACT_BELOW = 120  # terminal columns under which the narrow layout is used


def cell_for(column: str, row: ExecutionRow, compact: bool) -> Cell:
    """What `row` shows in `column`, and the value it sorts by (built only for the cells that changed)."""
    match column:
        case "mark":
            return Cell(Text("◆", style="bold") if row.marked else Text(" "), row.marked)
        case "status":
            return Cell(fmt.execution_status_text(row.status), _STATUS_ORDER[row.status])
        case "pipeline":
            return Cell(row.pipeline, row.pipeline.lower())
        case "name":
            return Cell(row.name, row.name.lower())
        case "started":
            started = fmt.clock_time(row.started) if compact and row.started else fmt.timestamp(row.started)
            return Cell(started, row.started.timestamp() if row.started else 0.0)
        case "elapsed":
            return Cell(fmt.age(row.elapsed), row.elapsed.total_seconds() if row.elapsed else -1.0)
        case "progress":
            done, total = row.progress or (0, 0)
            ratio = done / total if total > 0 else -1.0
            return Cell(
                fmt.progress_bar(row.progress, running=row.status.is_active, status=row.status), ratio
            )
        case "running":
            return Cell(", ".join(row.running), ", ".join(row.running).lower())
        case _:
            reason = Text(fmt.shorten(row.reason, 120), style=fmt.styled("red"))
            return Cell(reason, (row.reason or "").lower())


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
    "arn": (),
}


def changed_fields(before: ExecutionRow, after: ExecutionRow) -> Sequence[str]:
    """The fields of `ExecutionRow` whose values differ (see `FIELD_COLUMNS` for the cells they touch)."""
    return [f.name for f in fields(ExecutionRow) if getattr(before, f.name) != getattr(after, f.name)]
