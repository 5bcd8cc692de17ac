"""The compare screen's table: row labels in a fixed first column, one column per execution, and as many
of those as fit beside the labels (80 columns show three); the cursor's column is always among them.

A line-API widget, as `ExecutionTable` is: Textual's `DataTable` keys its cell cache by a table-wide
counter that every `update_cell` bumps, so one elapsed time ticking rendered every visible cell again
(about 200 ms at 160×50 with 8 executions). Here a line is kept until its row changes, or the cursor or
the columns shown move, and a changed row repaints its own line only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from smtui.tui.widgets.cell_renders import render_cell
from smtui.tui.widgets.compare_rows import CompareRow

NARROW_BELOW = 120  # terminal columns under which labels and cells are kept shorter
LABEL_WIDTH = {True: 25, False: 32}  # the row labels' column at most, by narrow
CELL_WIDTH = {True: 18, False: 22}  # an execution's column, by narrow (1 blank each side included)
HEADER = 1  # lines above the first row


@dataclass(frozen=True, slots=True)
class CompareColumn:
    """An execution's column: keyed by its ARN, titled by its name."""

    arn: str
    title: str


class CompareTable(ScrollView, can_focus=True):
    """Rows by key, a cursor on a cell: its column is an execution, its row may be a metric's.

    `show` takes the whole comparison each time; only the lines of rows whose content changed are
    drawn again (and the whole table when its columns or their widths change)."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "compare-table--header",
        "compare-table--labels",
        "compare-table--cursor",
        "compare-table--cursor-row",
    }
    DEFAULT_CSS = """
    CompareTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        overflow-x: hidden;  /* columns scroll by whole columns, the labels stay: `first_column` */
        scrollbar-size-vertical: 1;
        & > .compare-table--header {
            text-style: bold;
            background: $panel;
        }
        & > .compare-table--labels {
            background: $boost;
        }
        & > .compare-table--cursor-row {
            background: $block-hover-background;
        }
        & > .compare-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .compare-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
    """
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("up", "cursor(-1, 0)", "Cursor up", show=False, id="compare.cursor_up"),
        Binding("down", "cursor(1, 0)", "Cursor down", show=False, id="compare.cursor_down"),
        Binding("left", "cursor(0, -1)", "Previous execution", show=False, id="compare.cursor_left"),
        Binding("right", "cursor(0, 1)", "Next execution", show=False, id="compare.cursor_right"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="compare.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="compare.page_down"),
        Binding("home", "edge(-1)", "First execution", show=False, id="compare.home"),
        Binding("end", "edge(1)", "Last execution", show=False, id="compare.end"),
    ]

    @dataclass
    class Selected(Message):
        """A click on the cell under the cursor: open the execution of its column."""

        arn: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns: list[CompareColumn] = []
        self.rows: list[CompareRow] = []
        self.cursor_row = 0
        self.cursor_column = 0  # an execution's index in `columns`
        self.first_column = 0  # the leftmost execution shown
        self._index: dict[str, int] = {}
        self._narrow = False
        self._lines: dict[str, tuple[object, Strip]] = {}  # by row key: how it was drawn, the line

    # -- data -----------------------------------------------------------------------------------

    @property
    def narrow(self) -> bool:
        """Whether the labels and cells are the short ones (a terminal under `NARROW_BELOW` columns)."""
        return self._narrow

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def row_keys(self) -> list[str]:
        """The rows' keys, top to bottom (`compare_rows`' keys)."""
        return [row.key for row in self.rows]

    @property
    def cursor_arn(self) -> str | None:
        """The execution of the column under the cursor."""
        return self.columns[self.cursor_column].arn if self.columns else None

    @property
    def cursor_row_key(self) -> str | None:
        return self.rows[self.cursor_row].key if self.rows else None

    def show(self, columns: Sequence[CompareColumn], rows: Sequence[CompareRow], *, narrow: bool) -> None:
        """Show these rows; the cursor stays on the same row (by key) and execution (by ARN)."""
        at_row, at_column = self.cursor_row_key, self.cursor_arn
        reshaped = list(columns) != self.columns or narrow != self._narrow
        old = {row.key: row for row in self.rows}
        moved = [row.key for row in rows] != self.row_keys
        self.columns, self.rows, self._narrow = list(columns), list(rows), narrow
        self._index = {row.key: i for i, row in enumerate(rows)}
        if reshaped:
            self._lines.clear()
        changed = [i for i, row in enumerate(rows) if old.get(row.key) != row]
        for i in changed:
            self._lines.pop(rows[i].key, None)
        self.virtual_size = Size(self.size.width, HEADER + len(rows))
        arns = [c.arn for c in self.columns]
        self.cursor_column = (
            arns.index(at_column) if at_column in arns else min(self.cursor_column, len(arns) - 1)
        )
        self.cursor_column = max(0, self.cursor_column)
        row = self._index.get(at_row) if at_row is not None else None
        self._move(self.cursor_row if row is None else row, self.cursor_column)
        if reshaped or moved:
            self.refresh()
        else:
            self._refresh_rows(*changed)

    # -- keys and mouse -------------------------------------------------------------------------

    def action_cursor(self, rows: int, columns: int) -> None:
        self._move(self.cursor_row + rows, self.cursor_column + columns)

    def action_page(self, direction: int) -> None:
        self._move(self.cursor_row + direction * max(1, self.size.height - HEADER - 1), self.cursor_column)

    def action_edge(self, direction: int) -> None:
        self._move(self.cursor_row, 0 if direction < 0 else len(self.columns) - 1)

    def on_click(self, event: events.Click) -> None:
        if event.y < HEADER:
            return
        row = event.y - HEADER + int(self.scroll_y)
        label, cell = self._widths()
        if event.x < label or row >= len(self.rows):
            return
        column = self.first_column + (event.x - label) // cell
        if column >= len(self.columns):
            return
        if (row, column) == (self.cursor_row, self.cursor_column):
            self.post_message(self.Selected(self.columns[column].arn))
        else:
            self._move(row, column)

    def _move(self, row: int, column: int) -> None:
        row = max(0, min(row, len(self.rows) - 1))
        column = max(0, min(column, len(self.columns) - 1))
        old_row, old_column, old_first = self.cursor_row, self.cursor_column, self.first_column
        self.cursor_row, self.cursor_column = row, column
        # The cursor's column among those shown: scrolled by whole columns, the labels stay.
        shown = self._shown_columns()
        if column < self.first_column:
            self.first_column = column
        elif column >= self.first_column + shown:
            self.first_column = column - shown + 1
        self.first_column = max(0, min(self.first_column, len(self.columns) - shown))
        top, height = int(self.scroll_y), max(1, self.size.height - HEADER)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)
        if self.first_column != old_first:
            self.refresh()
        elif (row, column) != (old_row, old_column):
            self._refresh_rows(old_row, row)

    def _refresh_rows(self, *indexes: int) -> None:
        top, width = int(self.scroll_y), self.size.width
        lines = {HEADER + index - top for index in indexes if index >= 0}
        regions = [Region(0, line, width, 1) for line in lines if HEADER <= line < self.size.height]
        if regions:
            self.refresh(*regions)

    def on_focus(self, event: events.Focus) -> None:
        self.refresh()  # the cursor's colours differ with and without focus

    def on_blur(self, event: events.Blur) -> None:
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, HEADER + len(self.rows))
        self._lines.clear()
        self._move(self.cursor_row, self.cursor_column)
        self.refresh()

    # -- drawing --------------------------------------------------------------------------------

    def _widths(self) -> tuple[int, int]:
        label = min(LABEL_WIDTH[self._narrow], max([12, *(row.label.cell_len + 2 for row in self.rows)]))
        return label, CELL_WIDTH[self._narrow]

    def _shown_columns(self) -> int:
        label, cell = self._widths()
        return max(1, (self.scrollable_content_region.width - label) // cell)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        label, cell = self._widths()
        shown = range(self.first_column, min(len(self.columns), self.first_column + self._shown_columns()))
        get = self.get_component_rich_style
        base = self.rich_style
        console = self.app.console
        if y < HEADER:
            header = base + get("compare-table--header")
            # Which columns are shown, when not all are, and on which side the others are.
            left = "← " if shown.start > 0 else ""
            right = " →" if shown.stop < len(self.columns) else ""
            title = Text(
                f"{left}{shown.start + 1}–{shown.stop} of {len(self.columns)}{right}" if left or right else ""
            )
            segments = _cell(title, label, header, console)
            for i in shown:
                segments += _cell(Text(self.columns[i].title), cell, header, console)
            return _line(segments, width, header)
        index = y - HEADER + int(self.scroll_y)
        if index >= len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[index]
        on_row = index == self.cursor_row
        placed = (shown, width, label, cell, self.cursor_column if on_row else -1, base, self.has_focus)
        cached = self._lines.get(row.key)
        if cached is not None and cached[0] == placed:
            return cached[1]
        row_style = base + get("compare-table--cursor-row") if on_row else base
        segments = _cell(row.label, label, row_style + get("compare-table--labels"), console)
        cursor = get("compare-table--cursor")
        for i in shown:
            style = base + cursor if on_row and i == self.cursor_column else row_style
            segments += _cell(row.cells[i], cell, style, console)
        strip = _line(segments, width, row_style)
        self._lines[row.key] = (placed, strip)
        return strip


def _cell(text: Text, width: int, style: Style, console: Console) -> list[Segment]:
    [line] = render_cell(text, width, 1, style, Style(), console)
    return line


def _line(segments: list[Segment], width: int, fill: Style) -> Strip:
    return Strip(segments).adjust_cell_length(width, fill).simplify()
