"""The executions table: one row per execution, keyed by ARN, updated cell by cell."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from math import ceil
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.scrollbar import ScrollBarRender
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowDoesNotExist, RowKey

from smtui.tui.widgets.cell_renders import CellRenders, render_cell
from smtui.tui.widgets.execution_rows import (
    COLUMNS,
    FIELD_COLUMNS,
    SORTABLE,
    Cell,
    ExecutionRow,
    cell_for,
    changed_fields,
    sort_key,
)


class ExecutionTable(DataTable[Cell]):
    """Executions, newest first by default; `show()` applies a new set of rows as a diff.

    Rows are only added, removed or updated cell by cell, and the cursor stays on the same
    execution whatever moves around it.

    The vertical scrollbar is drawn here, as the last columns of each line, not by Textual's
    `ScrollBar` widget: a widget beside the table cuts every repainted line in two at each frame (two
    new strips a line, each with its own caches), which cost about a third of a frame's compositing
    while rows tick. It looks and handles as Textual's does: drag the thumb, click the track to page.
    """

    DEFAULT_CSS = """
    ExecutionTable {
        scrollbar-size-vertical: 0;
    }
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
        # Body lines are drawn here (`render_line`), from cells cached across sorts and new rows (see
        # `cell_renders`), and kept per row until the row changes; DataTable draws only the header.
        self._cell_renders = CellRenders(max_rows=600)
        self._lines: dict[RowKey, tuple[Hashable, Strip]] = {}
        self._frame: _Frame | None = None
        self._look_ids: dict[Hashable, int] = {}
        self._next_look_id = 0
        self._bar_state = ""  # the scrollbar: "", "hover" (mouse over it) or "grab" (thumb dragged)
        self._grab: tuple[int, float] | None = None  # screen y of the grab, scroll_y then
        self._bar_memo: tuple[Hashable, tuple[Segment, ...]] | None = None

    def on_key(self, event: events.Key) -> None:
        self.touched = True

    # Body lines carry no `row` metadata (DataTable's mouse handlers read it): the row under the mouse
    # comes from its position. The header keeps DataTable's metadata and handling. (Textual calls
    # one handler per class for a message: `_on_click` here also stands for `on_click`.)

    def _row_under(self, event: events.MouseEvent) -> int | None:
        header = self.header_height if self.show_header else 0
        if event.y < header:
            return None
        index = event.y - header + int(self.scroll_y)
        return index if 0 <= index < self.row_count else None

    def _on_bar(self, event: events.MouseEvent) -> bool:
        return self._scrollbar_shown() and event.x >= self.size.width - _BAR

    def _thumb(self) -> tuple[int, int]:
        """The lines the scrollbar's thumb covers (as `ScrollBarRender` places it)."""
        height, virtual = self.size.height, ceil(self.virtual_size.height)
        thumb = max(1.0, height / (virtual / height))
        top = (height - thumb) * self.scroll_y / max(1, virtual - height)
        return int(top), ceil(top + thumb)

    # Textual calls the handler of each class in turn: `prevent_default` keeps Widget's from acting too.

    async def _on_mouse_down(self, event: events.MouseDown) -> None:
        if not self._on_bar(event):
            return
        event.prevent_default()
        event.stop()
        top, bottom = self._thumb()
        if event.y < top:
            self.scroll_page_up()
        elif event.y >= bottom:
            self.scroll_page_down()
        else:
            self._grab = (event.screen_y, self.scroll_y)
            self.capture_mouse()
            self._set_bar_state("grab")

    async def _on_mouse_up(self, event: events.MouseUp) -> None:
        if self._grab is None:
            return
        event.prevent_default()
        event.stop()
        self._grab = None
        self.release_mouse()
        self._set_bar_state("hover" if self._on_bar(event) else "")

    def _on_leave(self, event: events.Leave) -> None:
        if self._grab is None:
            self._set_bar_state("")

    def _set_bar_state(self, state: str) -> None:
        if state != self._bar_state:
            self._bar_state = state
            self.refresh()

    async def _on_click(self, event: events.Click) -> None:
        self.touched = True
        if "row" in event.style.meta:
            return  # the header: DataTable's handler
        event.prevent_default()
        if self._on_bar(event):
            event.stop()
            return
        index = self._row_under(event)
        if index is None or not self.show_cursor:
            return
        self._set_hover_cursor(True)
        coordinate = Coordinate(index, self.cursor_column)
        again = coordinate == self.cursor_coordinate
        self.cursor_coordinate = coordinate
        row_key = self._row_locations.get_key(index)
        if again and row_key is not None:
            self.post_message(DataTable.RowSelected(self, index, row_key))
        self._scroll_cursor_into_view(animate=True)
        event.stop()

    def _on_mouse_move(self, event: events.MouseMove) -> None:
        if self._grab is not None:
            event.prevent_default()
            grabbed_at, scroll_y = self._grab
            rows_per_line = self.virtual_size.height / max(1, self.size.height)
            self.scroll_to(y=scroll_y + (event.screen_y - grabbed_at) * rows_per_line, animate=False)
            return
        on_bar = self._on_bar(event)
        self._set_bar_state("hover" if on_bar else "")
        if "row" in event.style.meta:
            return  # the header: DataTable's handler
        event.prevent_default()
        if on_bar:
            self._set_hover_cursor(False)
            return
        index = self._row_under(event)
        self._set_hover_cursor(index is not None)
        if index is not None and self.show_cursor:
            self.hover_coordinate = Coordinate(index, 0)

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
            self._lines.pop(RowKey(arn), None)
        for row in rows:
            arn = row.arn
            before = self._rows.get(arn)
            if before == row:
                continue
            if before is None:
                self._cell_renders.discard(RowKey(arn))  # it may have been shown before, with other cells
                self._lines.pop(RowKey(arn), None)
                self.add_row(*(cell_for(column.key, row, self._compact) for column in COLUMNS), key=arn)
                needs_sort = True
            else:
                changed = {
                    key: cell_for(key, row, self._compact)
                    for name in changed_fields(before, row)
                    for key in FIELD_COLUMNS[name]
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
        """Set cells and repaint only those rows, re-rendering only the changed cells.

        `DataTable.update_cell` bumps a table-wide counter that throws away every cached cell, so each
        update re-rendered the whole visible table: with thousands of live rows that was most of the CPU.
        """
        header = self.header_height if self.show_header else 0
        top = int(self.scroll_y)
        bottom = top + self.size.height - header
        width = self.size.width
        regions: list[Region] = []
        for arn, cells in updates.items():
            row = RowKey(arn)
            data = self._data[row]
            for column, value in cells.items():
                data[ColumnKey(column)] = value
                self._cell_renders.discard(row, ColumnKey(column))
            self._lines.pop(row, None)
            index = self._row_locations.get(row)
            if index is not None and top <= index < bottom:  # off-screen rows cost nothing
                regions.append(Region(0, header + index - top, width, 1))  # every row is one line high
        if regions:
            self.refresh(*regions)

    def render_lines(self, crop: Region) -> list[Strip]:
        # What every line of a frame shares, computed once.
        self._frame = self._frame_now()
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def _frame_now(self) -> _Frame:
        widths = tuple(column.get_render_width(self) for column in self.ordered_columns)
        keys = tuple(column.key for column in self.ordered_columns)
        scroll_x, scroll_y = self.scroll_offset
        base_style = self.rich_style
        show_cursor, show_hover = self.show_cursor, self._show_hover_cursor
        # Everything a cell's rendering depends on besides its content and whether the cursor or the mouse
        # is on its row; a small number stands for it in the cache keys. Not the row's index: lines do not
        # carry it as mouse metadata (see `_row_under`), so a row that moved (a new execution above it) keeps
        # its line.
        look = (base_style, show_cursor, show_hover, self._pseudo_class_state, widths)
        look_id = self._look_ids.get(look)
        if look_id is None:
            if len(self._look_ids) > 64:
                self._look_ids.clear()
            # Never reused: a cached line or cell keyed by an old number must not match another look.
            self._next_look_id += 1
            look_id = self._look_ids[look] = self._next_look_id
        bar = self._scrollbar()
        return _Frame(
            look_id=look_id,
            base_style=base_style,
            width=self.size.width - (_BAR if bar else 0),
            bar=bar,
            widths=widths,
            keys=keys,
            scroll_x=scroll_x,
            scroll_y=scroll_y,
            header=self.header_height if self.show_header else 0,
            cursor_row=self.cursor_row,
            hover_row=self.hover_row,
            show_cursor=show_cursor,
            show_hover=show_hover,
        )

    def _scrollbar_shown(self) -> bool:
        return self.virtual_size.height > self.size.height > 0

    @property
    def max_scroll_x(self) -> int:
        """As far right as the last column, beside the scrollbar drawn in the lines."""
        bar = _BAR if self._scrollbar_shown() else 0
        return max(0, self.virtual_size.width - (self.container_size.width - bar))

    def _scrollbar(self) -> tuple[Segment, ...] | None:
        """The scrollbar's segment for each line, in the colours of Textual's own (or None: all fits)."""
        if not self._scrollbar_shown():
            return None
        styles = self.styles
        if self._bar_state == "grab":
            background, color = styles.scrollbar_background_active, styles.scrollbar_color_active
        elif self._bar_state == "hover":
            background, color = styles.scrollbar_background_hover, styles.scrollbar_color_hover
        else:
            background, color = styles.scrollbar_background, styles.scrollbar_color
        if background.a < 1:
            background = self.background_colors[0] + background
        color = background + color
        height = self.size.height
        key = (background, color, height, self.virtual_size.height, self.scroll_y)
        if self._bar_memo is not None and self._bar_memo[0] == key:
            return self._bar_memo[1]
        bar = ScrollBarRender.render_bar(
            size=height,
            virtual_size=ceil(self.virtual_size.height),
            window_size=height,
            position=self.scroll_y,
            thickness=_BAR,
            back_color=background.rich_color,
            bar_color=color.rich_color,
        )
        # Without the actions Textual's scrollbar widget carries as metadata: the mouse is handled here.
        segments = tuple(
            Segment(segment.text, segment.style and segment.style.clear_meta_and_links())
            for segment in bar.segments
        )
        self._bar_memo = (key, segments)
        return segments

    def _with_bar(self, strip: Strip, y: int, frame: _Frame) -> Strip:
        if frame.bar is None:
            return strip
        return Strip.join([strip.crop(0, frame.width), Strip([frame.bar[y]], _BAR)])

    def render_line(self, y: int) -> Strip:
        """A body line from the row's cached line, or assembled from its cached cells.

        DataTable's own path costs about half a millisecond a line, and every running row on screen
        changes each second; the header line is still DataTable's.
        """
        frame = self._frame or self._frame_now()
        if y < frame.header or self.fixed_rows or self.cursor_type != "row":
            return self._with_bar(super().render_line(y), y, frame)
        row_index = y - frame.header + frame.scroll_y
        row_key = self._row_locations.get_key(row_index)
        if row_key is None:
            return self._with_bar(super().render_line(y), y, frame)  # below the last row
        variant = (frame.look_id, row_index == frame.cursor_row, row_index == frame.hover_row)
        # A line also depends on where it is cut, and on the piece of scrollbar beside it.
        bar = None if frame.bar is None else frame.bar[y]
        placed = (variant, frame.width, frame.scroll_x, bar)
        cached = self._lines.get(row_key)
        if cached is not None and cached[0] == placed:
            return cached[1]
        segments: list[Segment] = []
        cells = self._cell_renders
        for column_index, (column_key, cell_width) in enumerate(zip(frame.keys, frame.widths, strict=True)):
            line = cells.get(row_key, column_key, variant)
            if line is None:
                line = self._body_cell(row_key, column_key, column_index, cell_width, frame, variant)
                cells.put(row_key, column_key, variant, line)
            segments.extend(line)
        # The row's colours (cursor, hover) extend to the right edge, as DataTable draws it.
        extend_style, _ = self._get_styles_to_render_cell(
            False, False, False, variant[2], variant[1], frame.show_cursor, frame.show_hover, False, False
        )
        table_width = sum(frame.widths)
        segments.append(Segment(" " * max(0, frame.width - table_width), frame.base_style + extend_style))
        if frame.scroll_x == 0 and table_width <= frame.width:  # the line is `width` long already
            if bar is not None:
                segments.append(bar)
            strip = Strip(segments, frame.width + (_BAR if bar else 0))
        else:
            strip = Strip(segments).crop(frame.scroll_x, frame.scroll_x + frame.width)
            strip = self._with_bar(
                strip.adjust_cell_length(frame.width, frame.base_style).simplify(), y, frame
            )
        if len(self._lines) > 2 * self._cell_renders.max_rows:
            self._lines.clear()
        self._lines[row_key] = (placed, strip)
        return strip

    def _body_cell(
        self,
        row_key: RowKey,
        column_key: ColumnKey,
        column_index: int,
        width: int,
        frame: _Frame,
        variant: _Variant,
    ) -> list[Segment]:
        """A body cell with the styles DataTable gives its cells (its segments of one style merged).

        Its segments carry the column's index as metadata, as DataTable's do (without the row's): a cell
        stays a run of its own through Textual's merging of equal styles, so screenshots place each cell
        where the terminal does.
        """
        _, cursor, hover = variant
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            frame.show_cursor,
            frame.show_hover,
            # The progress bar keeps its colours under the cursor: filled and empty are otherwise one colour.
            self.cursor_foreground_priority == "css" and column_key != _PROGRESS,
            self.cursor_background_priority == "css",
        )
        cell = self._data[row_key][column_key]
        pre_style = frame.base_style + component_style
        [line] = render_cell(cell, width, self.cell_padding, pre_style, post_style, self.app.console)
        meta = Style.from_meta({"column": column_index})
        return [
            Segment(text, meta if style is None else style + meta)
            for text, style, _ in Segment.simplify(line)
        ]

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._cell_renders.clear()
        self._lines.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cell_renders.clear()
        self._lines.clear()

    def _apply_sort(self, keep: str | None, old_index: int) -> None:
        if not self._rows:
            return
        column = self.sort_column
        secondary = "started" if column != "started" else "name"
        reverse = self.sort_reverse

        def key(cells: tuple[Cell, Cell]) -> tuple[Any, ...]:
            return sort_key(*cells, reverse)

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
_BAR = 2  # the scrollbar's width, as Textual draws it
_Variant = tuple[int, bool, bool]  # how a line is drawn: the frame's look id, cursor on it, mouse on it


@dataclass(frozen=True, slots=True)
class _Frame:
    """What every line of one frame shares (see `_frame_now`)."""

    look_id: int
    base_style: Style
    width: int  # of the table's lines, without the scrollbar
    bar: tuple[Segment, ...] | None
    widths: tuple[int, ...]
    keys: tuple[ColumnKey, ...]
    scroll_x: int
    scroll_y: int
    header: int
    cursor_row: int
    hover_row: int
    show_cursor: bool
    show_hover: bool
