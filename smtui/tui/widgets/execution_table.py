"""The executions table: one row per execution, keyed by ARN, updated cell by cell."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, ClassVar

from rich.padding import Padding
from rich.style import Style
from rich.text import Text
from textual import events
from textual._types import SegmentLines
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.renderables.styled import Styled
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowDoesNotExist, RowKey

from smtui.core.model import ExecutionStatus
from smtui.tui import format as fmt
from smtui.tui.widgets.cell_renders import CellRenders

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
    """A cell's text plus the value it sorts by (DataTable sorts on cell contents)."""

    __slots__ = ("sort_key",)

    def __init__(self, text: Text | str, sort_key: Any) -> None:
        base = text if isinstance(text, Text) else Text(text)
        super().__init__(base.plain, style=base.style, no_wrap=True, overflow="ellipsis")
        self._spans = list(base.spans)
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


def _cells(row: ExecutionRow, compact: bool) -> dict[str, Cell]:
    done_ratio = -1.0
    if row.progress is not None and row.progress[1] > 0:
        done_ratio = row.progress[0] / row.progress[1]
    started = fmt.clock_time(row.started) if compact and row.started else fmt.timestamp(row.started)
    return {
        "mark": Cell(Text("◆", style="bold") if row.marked else Text(" "), row.marked),
        "status": Cell(fmt.execution_status_text(row.status), _STATUS_ORDER[row.status]),
        "pipeline": Cell(row.pipeline, row.pipeline.lower()),
        "name": Cell(row.name, row.name.lower()),
        "started": Cell(started, row.started.timestamp() if row.started else 0.0),
        "elapsed": Cell(fmt.duration(row.elapsed), row.elapsed.total_seconds() if row.elapsed else -1.0),
        "progress": Cell(fmt.progress_bar(row.progress, running=row.status.is_active), done_ratio),
        "running": Cell(", ".join(row.running), ", ".join(row.running).lower()),
        "reason": Cell(
            Text(fmt.shorten(row.reason, 120), style=fmt.styled("red")), (row.reason or "").lower()
        ),
    }


class ExecutionTable(DataTable[Cell]):
    """Executions, newest first by default; `show()` applies a new set of rows as a diff.

    Rows are only added, removed or updated cell by cell, and the cursor stays on the same
    execution whatever moves around it.
    """

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("S", "sort('status')", "Sort status", show=False, id="sort.status"),
        Binding("P", "sort('pipeline')", "Sort pipeline", show=False, id="sort.pipeline"),
        Binding("N", "sort('name')", "Sort name", show=False, id="sort.name"),
        Binding("T", "sort('started')", "Sort started", show=False, id="sort.started"),
        Binding("E", "sort('elapsed')", "Sort elapsed", show=False, id="sort.elapsed"),
        Binding("G", "sort('progress')", "Sort progress", show=False, id="sort.progress"),
        Binding("U", "sort('running')", "Sort running", show=False, id="sort.running"),
        Binding("F", "sort('reason')", "Sort failure", show=False, id="sort.reason"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._rows: dict[str, ExecutionRow] = {}
        self.sort_column = "started"
        self.sort_reverse = True
        self._compact = False
        self._columns_added = False
        # Until the user moves the cursor it stays on the top (newest) row; after that it follows
        # the execution it is on, whatever arrives above it.
        self.touched = False
        # Body cells are cached here, per cell, across sorts and new rows (see `cell_renders`); the row
        # cache is smaller than DataTable's default because `_update_rows` scans it on each update.
        self._cell_renders = CellRenders(max_rows=600)
        self._row_render_cache.maxsize = 400

    def on_key(self, event: events.Key) -> None:
        self.touched = True

    def on_click(self, event: events.Click) -> None:
        self.touched = True

    # -- public API ---------------------------------------------------------------------------

    @property
    def rows_shown(self) -> dict[str, ExecutionRow]:
        return dict(self._rows)

    def shown_row(self, arn: str) -> ExecutionRow | None:
        """What the row of `arn` shows now, if it is in the table."""
        return self._rows.get(arn)

    @property
    def cursor_arn(self) -> str | None:
        """The ARN of the execution under the cursor."""
        if not self._rows or self.cursor_row < 0:
            return None
        try:
            return self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value
        except CellDoesNotExist:
            return None

    def ordered_arns(self) -> list[str]:
        return [str(row.key.value) for row in self.ordered_rows]

    def visible_arns(self) -> list[str]:
        """ARNs of the rows inside the viewport (the monitor polls them first)."""
        top = int(self.scroll_y)
        bottom = min(self.row_count, top + max(1, self.size.height - 1))
        keys = (self._row_locations.get_key(index) for index in range(top, bottom))
        return [str(key.value) for key in keys if key is not None]

    def select_arn(self, arn: str) -> bool:
        try:
            index = self.get_row_index(arn)
        except RowDoesNotExist:
            return False
        self.touched = True
        self.move_cursor(row=index)
        return True

    def set_compact(self, compact: bool) -> None:
        """Switch between the wide and the 80-column layout (a rebuild, on resize only)."""
        if compact == self._compact and self._columns_added:
            return
        self._compact = compact
        keep = self.cursor_arn
        rows = list(self._rows.values())
        self.clear(columns=True)
        self._rows.clear()
        self._cell_renders.clear()
        for column in COLUMNS:
            width = column.compact_width if compact else column.width
            self.add_column(column.label, width=width, key=column.key)
        self._columns_added = True
        self.show(rows)
        if keep is not None:
            self.select_arn(keep)

    def show(self, rows: Iterable[ExecutionRow]) -> None:
        """Make the table show exactly `rows`, touching only what changed."""
        wanted = {row.arn: row for row in rows}
        self._apply(wanted.values(), [arn for arn in self._rows if arn not in wanted])

    def upsert(self, rows: Iterable[ExecutionRow]) -> None:
        """Add or update these rows and leave the others alone."""
        self._apply(rows, ())

    def discard(self, arns: Iterable[str]) -> None:
        self._apply((), [arn for arn in arns if arn in self._rows])

    def _apply(self, rows: Iterable[ExecutionRow], removed: Iterable[str]) -> None:
        if not self._columns_added:
            self.set_compact(self._compact)
        keep = self.cursor_arn
        old_index = self.cursor_row
        needs_sort = False
        updates: dict[str, dict[str, Cell]] = {}
        for arn in removed:
            self.remove_row(arn)
            del self._rows[arn]
            self._cell_renders.discard(RowKey(arn))
        for row in rows:
            arn = row.arn
            before = self._rows.get(arn)
            if before == row:
                continue
            cells = _cells(row, self._compact)
            if before is None:
                self._cell_renders.discard(RowKey(arn))  # it may have been shown before, with other cells
                self.add_row(*(cells[column.key] for column in COLUMNS), key=arn)
                needs_sort = True
            else:
                changed = {
                    key: cells[key] for name in _changed_fields(before, row) for key in _FIELD_COLUMNS[name]
                }
                updates[arn] = changed
                needs_sort = needs_sort or self.sort_column in changed
            self._rows[arn] = row
        if updates:
            self._update_rows(updates)
        if needs_sort:
            self._apply_sort(keep, old_index)
        elif keep is not None and keep not in self._rows and self._rows:
            self.move_cursor(row=min(old_index, self.row_count - 1))

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Sort by `column`; choosing the current column again flips the direction."""
        if column not in SORTABLE:
            raise ValueError(f"cannot sort by {column!r}")
        if reverse is None:
            # Times and progress read best largest first; names alphabetically.
            first = column in ("started", "elapsed", "progress")
            reverse = (not self.sort_reverse) if column == self.sort_column else first
        self.sort_column = column
        self.sort_reverse = reverse
        self._apply_sort(self.cursor_arn, self.cursor_row)

    def action_sort(self, column: str) -> None:
        self.sort_by(column)
        arrow = "↓" if self.sort_reverse else "↑"
        self.notify(f"sorted by {column} {arrow}", timeout=1.5)

    # -- internals ----------------------------------------------------------------------------

    def _update_rows(self, updates: dict[str, dict[str, Cell]]) -> None:
        """Set cells and re-render only those cells.

        `DataTable.update_cell` bumps a table-wide counter that throws away every cached cell, so each
        update re-rendered the whole visible table: with thousands of live rows that was most of the CPU.
        Here only the changed cells are rendered again; their rows are re-assembled from cached cells.
        """
        keys = {RowKey(arn) for arn in updates}
        for arn, cells in updates.items():
            row = RowKey(arn)
            data = self._data[row]
            for column, value in cells.items():
                data[ColumnKey(column)] = value
                self._cell_renders.discard(row, ColumnKey(column))
        row_cache = self._row_render_cache
        for row_key in [k for k in row_cache.keys() if k[0] in keys]:  # noqa: SIM118 (an LRUCache)
            row_cache.discard(row_key)
        self._row_renderable_cache.clear()  # keyed by row index: cheap to rebuild
        self._line_cache.clear()
        # Repaint just those rows (off-screen ones cost nothing).
        for key in keys:
            index = self._row_locations.get(key)
            if index is not None:
                self.refresh_row(index)

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> SegmentLines:
        """A body cell from `_cell_renders`, rendered the way DataTable does it when not cached."""
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:  # the header row: DataTable's own cache suits one row
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        variant = (
            base_style,
            width,
            cursor,
            hover,
            self.show_cursor,
            self._show_hover_cursor,
            self._pseudo_class_state,
        )
        lines = self._cell_renders.get(row_key, column_key, variant, row_index, column_index)
        if lines is not None:
            return lines
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            # The progress bar keeps its colours under the cursor: filled and empty are otherwise one colour.
            self.cursor_foreground_priority == "css" and column_key != _PROGRESS,
            self.cursor_background_priority == "css",
        )
        cell = self._data[row_key][column_key]
        options = self.app.console_options.update_dimensions(width, 1).update(no_wrap=True)
        rendered = self.app.console.render_lines(
            Styled(
                Padding(cell, (0, self.cell_padding)),
                pre_style=base_style + component_style,
                post_style=post_style,
            ),
            options,
        )
        return self._cell_renders.put(row_key, column_key, variant, row_index, column_index, rendered)

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> tuple[SegmentLines, SegmentLines]:
        # DataTable caches a rendered row under the cursor's and the mouse's coordinates, so moving the
        # cursor one row re-assembles every visible row. With a row cursor only "is it on this row?"
        # matters: pass coordinates that say just that, and the other rows stay cached.
        if self.cursor_type != "row":
            return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
        found = self._row_locations.get(row_key)
        index = -1 if found is None else found  # the header row
        return super()._render_line_in_row(
            row_key, line_no, base_style, _on_row(cursor_location, index), _on_row(hover_location, index)
        )

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._cell_renders.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cell_renders.clear()

    def _apply_sort(self, keep: str | None, old_index: int) -> None:
        if not self._rows:
            return
        column = self.sort_column
        secondary = "started" if column != "started" else "name"

        def key(cells: tuple[Cell, Cell]) -> tuple[Any, Any]:
            first, second = cells
            return (first.sort_key, second.sort_key)

        old_scroll = self.scroll_y
        self.sort(column, secondary, key=key, reverse=self.sort_reverse)
        if keep is None or not self.touched:
            return
        try:
            new_index = self.get_row_index(keep)
        except RowDoesNotExist:
            return
        if new_index != old_index:
            # Same execution under the cursor, at the same place on screen when scrolled.
            self.move_cursor(row=new_index, scroll=False)
            if old_scroll > 0:
                self.scroll_to(y=max(0, old_scroll + new_index - old_index), animate=False, immediate=True)


_PROGRESS = ColumnKey("progress")
_ELSEWHERE = Coordinate(-2, 0)  # highlights no cell: DataTable's header row is -1, body rows from 0


def _on_row(location: Coordinate, row_index: int) -> Coordinate:
    return Coordinate(row_index, 0) if location.row == row_index else _ELSEWHERE


_FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "status": ("status",),
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


def _changed_fields(before: ExecutionRow, after: ExecutionRow) -> Sequence[str]:
    return [f.name for f in fields(ExecutionRow) if getattr(before, f.name) != getattr(after, f.name)]
