"""The executions table: one row per execution, keyed by ARN, updated cell by cell."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from smtui.tui.widgets.execution_lines import HEADER, PADDING, Frame, Look, TableLines
from smtui.tui.widgets.execution_rows import PARAM, Cell, ExecutionRow
from smtui.tui.widgets.shown_rows import ShownRows
from smtui.tui.widgets.table_scrollbar import BAR_WIDTH, LineScrollbar


class ExecutionTable(ScrollView, can_focus=True):
    """Executions, newest first by default; `show()` applies a new set of rows as a diff.

    A line-API widget on Textual's public API: `ShownRows` keeps the rows, their cells and their order,
    `TableLines` draws each line from cells rendered once per content, and the cursor, the mouse and the
    scrolling are handled here. Rows are only added, removed or updated cell by cell, and the cursor stays
    on the same execution whatever moves around it. Colours come from the component classes below.

    The vertical scrollbar is drawn in the lines (see `LineScrollbar`), not by Textual's `ScrollBar`
    widget: a widget beside the table cuts every repainted line in two at each frame, which cost about a
    third of a frame's compositing while rows tick.
    """

    ALLOW_SELECT = False  # a drag scrolls or moves the cursor; it does not select text

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "execution-table--header",
        "execution-table--cursor",
        "execution-table--hover",
    }

    # The colours of Textual's DataTable, which this table replaced.
    DEFAULT_CSS = """
    ExecutionTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        scrollbar-size-vertical: 0;
        &:focus {
            background-tint: $foreground 5%;
            & > .execution-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .execution-table--header {
                background-tint: $foreground 5%;
            }
        }
        & > .execution-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .execution-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .execution-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .execution-table--hover {
            background: $block-hover-background;
        }
    }
    """

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("enter", "select_cursor", "Select", show=False, id="table.select"),
        Binding("up", "cursor_up", "Cursor up", show=False, id="table.cursor_up"),
        Binding("down", "cursor_down", "Cursor down", show=False, id="table.cursor_down"),
        Binding("right", "scroll_right", "Cursor right", show=False, id="table.scroll_right"),
        Binding("left", "scroll_left", "Cursor left", show=False, id="table.scroll_left"),
        Binding("pageup", "page_up", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="table.page_down"),
        Binding("ctrl+home", "first_row", "Top", show=False, id="table.top"),
        Binding("ctrl+end", "last_row", "Bottom", show=False, id="table.bottom"),
        Binding("home", "leftmost", "Home", show=False, id="table.home"),
        Binding("end", "rightmost", "End", show=False, id="table.end"),
        Binding("S", "sort('status')", "Sort status", show=False, id="sort.status"),
        Binding("P", "sort('pipeline')", "Sort pipeline", show=False, id="sort.pipeline"),
        Binding("N", "sort('name')", "Sort name", show=False, id="sort.name"),
        Binding("T", "sort('started')", "Sort started", show=False, id="sort.started"),
        Binding("E", "sort('elapsed')", "Sort elapsed", show=False, id="sort.elapsed"),
        Binding("G", "sort('progress')", "Sort progress", show=False, id="sort.progress"),
        Binding("U", "sort('running')", "Sort running", show=False, id="sort.running"),
        Binding("F", "sort('reason')", "Sort failure", show=False, id="sort.reason"),
    ]

    class ExecutionHighlighted(Message):
        """The cursor is on another execution (`arn`; None when the table is empty)."""

        def __init__(self, table: ExecutionTable, arn: str | None) -> None:
            super().__init__()
            self.table = table
            self.arn = arn

        @property
        def control(self) -> ExecutionTable:
            return self.table

    class ExecutionSelected(Message):
        """Enter, or a click on the row under the cursor: open `arn`."""

        def __init__(self, table: ExecutionTable, arn: str) -> None:
            super().__init__()
            self.table = table
            self.arn = arn

        @property
        def control(self) -> ExecutionTable:
            return self.table

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown = ShownRows()
        self.show_context = False  # the context column, with several contexts
        self._widths = self._column_widths()
        self._labels = tuple(c.label for c in self._shown.columns)
        self.cursor_row = 0
        self.hover_row = -1  # the row under the mouse, highlighted while the mouse moves over the rows
        self._show_hover = False
        self._highlighted: str | None = None
        # Until the user moves the cursor it stays on the top (newest) row; after that it follows
        # the execution it is on, whatever arrives above it.
        self.touched = False
        self._draw = TableLines(max_rows=600)
        self._frame: Frame | None = None
        self.scrollbar = LineScrollbar(self)

    # -- what the screens read ----------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._shown)

    @property
    def sort_column(self) -> str:
        return self._shown.sort_column

    @property
    def sort_reverse(self) -> bool:
        return self._shown.sort_reverse

    @property
    def rows_shown(self) -> dict[str, ExecutionRow]:
        return dict(self._shown.rows)

    def shown_row(self, arn: str) -> ExecutionRow | None:
        """What the row of `arn` shows now, if it is in the table."""
        return self._shown.rows.get(arn)

    def get_cell(self, arn: str, column: str) -> Cell:
        """The cell of `arn` in `column` (KeyError if either is not in the table)."""
        return self._shown.cell(arn, column)

    def get_row_index(self, arn: str) -> int:
        """Where the row of `arn` is, from the top (KeyError if it is not in the table)."""
        return self._shown.index[arn]

    @property
    def cursor_arn(self) -> str | None:
        """The ARN of the execution under the cursor."""
        order = self._shown.order
        return order[self.cursor_row] if 0 <= self.cursor_row < len(order) else None

    def ordered_arns(self) -> list[str]:
        return list(self._shown.order)

    @property
    def body_height(self) -> int:
        """How many rows the viewport shows (the lines under the header, above any horizontal scrollbar)."""
        return max(0, self.scrollable_content_region.height - HEADER)

    def visible_arns(self) -> list[str]:
        """ARNs of the rows inside the viewport (the monitor polls them first)."""
        top = int(self.scroll_y)
        return self._shown.order[top : top + max(1, self.body_height)]

    # -- what the screens change --------------------------------------------------------------

    def select_arn(self, arn: str) -> bool:
        index = self._shown.index.get(arn)
        if index is None:
            return False
        self.touched = True
        self._move_cursor(index)
        return True

    def set_show_context(self, show: bool) -> None:
        """Show the context column (several contexts) or not (one: the table as it always was)."""
        if show == self.show_context:
            return
        self.show_context = show
        self._widths = self._column_widths()
        self._draw.clear()
        self._resize_virtual()
        self.refresh()

    def set_compact(self, compact: bool) -> None:
        """Switch between the wide and the 80-column layout (every cell again, on resize only)."""
        if compact == self._shown.compact:
            return
        self._shown.set_compact(compact)
        self._widths = self._column_widths()
        self._draw.clear()
        self._resize_virtual()
        self.refresh()

    @property
    def parameter_columns(self) -> tuple[str, ...]:
        """The parameters shown as columns, in order."""
        return tuple(c.label for c in self._shown.columns if c.key.startswith(PARAM))

    def set_parameter_columns(self, names: Iterable[str]) -> None:
        """Show a column per parameter of `names` (after the execution's name); the rows' `params` hold
        their values."""
        names = tuple(names)
        if names == self.parameter_columns:
            return
        self._shown.set_parameters(names)
        self._widths = self._column_widths()
        self._labels = tuple(c.label for c in self._shown.columns)
        self._draw.clear()
        self._resize_virtual()
        self.refresh()

    def show(self, rows: Iterable[ExecutionRow]) -> None:
        """Make the table show exactly `rows`, touching only what changed."""
        wanted = {row.arn: row for row in rows}
        self._apply(wanted.values(), [arn for arn in self._shown.rows if arn not in wanted])

    def upsert(self, rows: Iterable[ExecutionRow]) -> None:
        """Add or update these rows and leave the others alone."""
        self._apply(rows, ())

    def discard(self, arns: Iterable[str]) -> None:
        self._apply((), arns)

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Sort by `column`; choosing the current column again flips the direction."""
        keep, old_index = self.cursor_arn, self.cursor_row
        self._shown.sort_by(column, reverse)
        self.refresh()
        self._place_cursor(keep, old_index)

    # -- actions ------------------------------------------------------------------------------

    def action_sort(self, column: str) -> None:
        self.sort_by(column)
        arrow = "↓" if self.sort_reverse else "↑"
        self.notify(f"sorted by {column} {arrow}", timeout=1.5)

    def action_cursor_up(self) -> None:
        self._keyboard_move(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self._keyboard_move(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.scroll_to(y=self.scroll_y - self.body_height, animate=False, force=True)
        self._keyboard_move(self.cursor_row - self.body_height)

    def action_page_down(self) -> None:
        self.scroll_to(y=self.scroll_y + self.body_height, animate=False, force=True)
        self._keyboard_move(self.cursor_row + self.body_height)

    def action_first_row(self) -> None:
        self._keyboard_move(0)

    def action_last_row(self) -> None:
        self._keyboard_move(self.row_count - 1)

    def action_leftmost(self) -> None:
        self._set_hover(False)
        self.scroll_to(x=0, animate=False)

    def action_rightmost(self) -> None:
        self._set_hover(False)
        self.scroll_to(x=self.max_scroll_x, animate=False)

    def action_select_cursor(self) -> None:
        self._set_hover(False)
        arn = self.cursor_arn
        if arn is not None:
            self.post_message(self.ExecutionSelected(self, arn))

    def _keyboard_move(self, index: int) -> None:
        self._set_hover(False)
        self._move_cursor(index)

    # -- keyboard and mouse -------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        self.touched = True

    def _row_under(self, event: events.MouseEvent) -> int | None:
        if event.y < HEADER or event.y >= HEADER + self.body_height:
            return None
        index = event.y - HEADER + int(self.scroll_y)
        return index if 0 <= index < self.row_count else None

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if self.scrollbar.mouse_down(event):
            event.stop()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self.scrollbar.mouse_up(event):
            event.stop()

    def on_leave(self, event: events.Leave) -> None:
        self.scrollbar.leave()
        self._set_hover(False)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self.scrollbar.mouse_move(event):
            self._set_hover(False)
            return
        self._set_hover(True, self._row_under(event))

    def on_click(self, event: events.Click) -> None:
        self.touched = True
        if self.scrollbar.over(event):
            event.stop()
            return
        index = self._row_under(event)
        if index is None:
            return  # the header, or below the last row
        event.stop()
        self._set_hover(True, index)
        arn = self.cursor_arn
        if index == self.cursor_row and arn is not None:
            self.post_message(self.ExecutionSelected(self, arn))  # a second click opens it
        else:
            self._move_cursor(index)

    def _set_hover(self, show: bool, index: int | None = None) -> None:
        """Show the mouse's row highlighted (on `index`, or where it was), or not (the keyboard moved)."""
        if index is None:
            show, index = False, self.hover_row
        if (show, index) != (self._show_hover, self.hover_row):
            old = self.hover_row
            self._show_hover, self.hover_row = show, index
            self._refresh_rows(old, index)

    # -- internals: rows, cursor, repaints ----------------------------------------------------

    def _column_widths(self) -> tuple[int, ...]:
        compact = self._shown.compact
        return tuple(
            0 if self._hidden(c.key) else (c.compact_width if compact else c.width) + 2 * PADDING
            for c in self._shown.columns
        )

    def _hidden(self, key: str) -> bool:
        """The context column with one context; at 80 columns with several, the start time, so that the
        progress bar stays in view beside the context (the elapsed time still says how long it has run)."""
        if key == "context":
            return not self.show_context
        return key == "started" and self.show_context and self._shown.compact

    def _apply(self, rows: Iterable[ExecutionRow], removed: Iterable[str]) -> None:
        keep, old_index = self.cursor_arn, self.cursor_row
        change = self._shown.apply(rows, removed)
        for arn in (*change.removed, *change.added):  # an added row may have been shown before
            self._draw.forget(arn)
        for arn, columns in change.cells.items():
            self._draw.forget(arn, columns)
        if change.moved:
            self._resize_virtual()
            self.refresh()  # every line moved; each is drawn again from its cache
        else:
            index = self._shown.index
            self._refresh_rows(*(index[arn] for arn in change.cells))  # off-screen rows cost nothing
        self._place_cursor(keep, old_index)

    def _resize_virtual(self) -> None:
        size = Size(sum(self._widths), HEADER + self.row_count)
        if size != self.virtual_size:
            self.virtual_size = size

    def _place_cursor(self, keep: str | None, old_index: int) -> None:
        """After rows moved: the cursor on the execution it was on (once the user moved it), at the same
        place on screen when scrolled, and never off screen (a filter cleared brings back rows above it);
        else on the same line (the newest row, until touched)."""
        new_index = self._shown.index.get(keep) if keep is not None and self.touched else None
        if new_index is None:
            self._move_cursor(old_index, scroll=False)
            return
        if new_index != old_index and self.scroll_y > 0:
            self.scroll_to(y=self.scroll_y + new_index - old_index, animate=False, immediate=True)
        self._move_cursor(new_index, scroll=new_index != old_index)

    def _move_cursor(self, index: int, *, scroll: bool = True) -> None:
        index = max(0, min(index, self.row_count - 1))
        if index != self.cursor_row:
            old, self.cursor_row = self.cursor_row, index
            self._refresh_rows(old, index)
        if scroll:
            self._scroll_cursor_into_view()
        arn = self.cursor_arn
        if arn != self._highlighted:
            self._highlighted = arn
            self.post_message(self.ExecutionHighlighted(self, arn))

    def _scroll_cursor_into_view(self) -> None:
        top, height = int(self.scroll_y), max(1, self.body_height)
        # force: rows just added may not have brought the scrollbar (which allows scrolling) yet
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True, force=True)
        elif self.cursor_row >= top + height:
            self.scroll_to(y=self.cursor_row - height + 1, animate=False, immediate=True, force=True)

    def _refresh_rows(self, *indexes: int) -> None:
        """Repaint the lines of these rows that are on screen (one refresh for all)."""
        top, height, width = int(self.scroll_y), self.size.height, self.size.width
        lines = {HEADER + index - top for index in indexes if index >= 0}
        regions = [Region(0, line, width, 1) for line in lines if HEADER <= line < height]
        if regions:
            self.refresh(*regions)

    # -- internals: drawing -------------------------------------------------------------------

    @property
    def max_scroll_x(self) -> int:
        """As far right as the last column, beside the scrollbar drawn in the lines."""
        bar = BAR_WIDTH if self.scrollbar.shown() else 0
        return max(0, self.virtual_size.width - (self.container_size.width - bar))

    def render_lines(self, crop: Region) -> list[Strip]:
        # What every line of a frame shares, computed once.
        self._frame = self._frame_now()
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def _frame_now(self) -> Frame:
        get = self.get_component_rich_style
        look = Look(
            base=self.rich_style,
            header=get("execution-table--header"),
            cursor=get("execution-table--cursor"),
            hover=get("execution-table--hover"),
        )
        bar = self.scrollbar.segments()
        scroll_x, scroll_y = self.scroll_offset
        return Frame(
            look=look,
            look_id=self._draw.look_id(look, self._widths),
            widths=self._widths,
            labels=self._labels,
            progress=self._shown.column_index["progress"],
            width=self.size.width - (BAR_WIDTH if bar else 0),
            bar=bar,
            scroll_x=scroll_x,
            scroll_y=scroll_y,
            cursor_row=self.cursor_row,
            hover_row=self.hover_row if self._show_hover else -1,
        )

    def render_line(self, y: int) -> Strip:
        """The header, a row's line, or a blank line below the last row."""
        frame = self._frame or self._frame_now()
        if y < HEADER:
            return self._draw.header(frame, self.app.console)
        index = y - HEADER + frame.scroll_y
        order = self._shown.order
        if index >= len(order):
            return self._draw.blank(frame, y)
        arn = order[index]
        return self._draw.row(frame, y, index, arn, self._shown.cells[arn], self.app.console)
