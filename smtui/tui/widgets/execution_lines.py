"""The lines of the executions table: its header, its rows, drawn from cells rendered once per content.

A repainted line costs ~0.1 ms here: a row's line is kept until the row changes or moves under or away
from the cursor, and a line is assembled from the row's cells, each rendered once per content and look
(`CellRenders`). Nothing is keyed by a row's index, so a row that only moved (a new execution above it)
keeps its line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from smtui.tui.widgets.cell_renders import CellRenders, render_cell
from smtui.tui.widgets.execution_rows import Cell

HEADER = 1  # lines above the first row
PADDING = 1  # blank cells on each side of a cell's text
_Variant = tuple[int, bool, bool]  # how a row is drawn: the frame's look id, cursor on it, mouse on it


@dataclass(frozen=True, slots=True)
class Look:
    """The styles a frame draws with: the widget's and its component classes'."""

    base: Style
    header: Style
    cursor: Style
    hover: Style


@dataclass(frozen=True, slots=True)
class Frame:
    """What every line of one frame shares."""

    look: Look
    look_id: int  # stands for the look and the columns' widths in cache keys
    widths: tuple[int, ...]
    labels: tuple[str, ...]  # the columns' headers
    progress: int  # the index of the progress bar's column
    width: int  # of the lines, without the scrollbar
    bar: Sequence[Segment] | None  # the scrollbar's piece beside each line
    scroll_x: int
    scroll_y: int
    cursor_row: int
    hover_row: int  # -1: no row under the mouse


class TableLines:
    """Draws the table's lines and keeps what it drew; told what to forget when cells change."""

    def __init__(self, max_rows: int) -> None:
        self.cells = CellRenders(max_rows=max_rows)
        self._lines: dict[str, tuple[object, Strip]] = {}  # by row key: where and how drawn, the line
        self._header: tuple[object, Strip] | None = None
        self._look_ids: dict[object, int] = {}
        self._next_look_id = 0

    def look_id(self, look: Look, widths: tuple[int, ...]) -> int:
        """A small number for everything a row's rendering depends on besides its content and whether
        the cursor or the mouse is on it."""
        key = (look, widths)
        look_id = self._look_ids.get(key)
        if look_id is None:
            if len(self._look_ids) > 64:
                self._look_ids.clear()
                self.clear()
            # Never reused: a cached line or cell keyed by an old number must not match another look.
            self._next_look_id += 1
            look_id = self._look_ids[key] = self._next_look_id
        return look_id

    def forget(self, key: str, columns: Sequence[int] | None = None) -> None:
        """The row `key` changed: its `columns` (all when None) are rendered again when next drawn."""
        if columns is None:
            self.cells.discard(key)
        else:
            for column in columns:
                self.cells.discard(key, column)
        self._lines.pop(key, None)

    def clear(self) -> None:
        self.cells.clear()
        self._lines.clear()
        self._header = None

    def header(self, frame: Frame, console: Console) -> Strip:
        bar = _bar(frame, 0)
        placed = (frame.look_id, frame.labels, frame.look.header, frame.width, frame.scroll_x, bar)
        if self._header is None or self._header[0] != placed:
            segments: list[Segment] = []
            for column, (label, width) in enumerate(zip(frame.labels, frame.widths, strict=True)):
                if not width:
                    continue  # a column not shown (the context, with one context)
                pre_style = frame.look.header + Style.from_meta({"column": column})
                [line] = render_cell(Text(label), width, PADDING, pre_style, Style(), console)
                segments.extend(Segment.simplify(line))
            self._header = (placed, _place(segments, frame.look.header, frame, bar))
        return self._header[1]

    def blank(self, frame: Frame, y: int) -> Strip:
        """A line below the last row."""
        return _with_bar(Strip.blank(frame.width, frame.look.base), _bar(frame, y))

    def row(self, frame: Frame, y: int, index: int, key: str, cells: list[Cell], console: Console) -> Strip:
        """Line `y` of the widget: row `key`, the `index`-th from the top, showing `cells`."""
        variant = (frame.look_id, index == frame.cursor_row, index == frame.hover_row)
        bar = _bar(frame, y)
        # A line also depends on where it is cut, and on the piece of scrollbar beside it.
        placed = (variant, frame.width, frame.scroll_x, bar)
        cached = self._lines.get(key)
        if cached is not None and cached[0] == placed:
            return cached[1]
        segments: list[Segment] = []
        renders = self.cells
        for column, width in enumerate(frame.widths):
            if not width:
                continue
            line = renders.get(key, column, variant)
            if line is None:
                line = _body_cell(cells[column], column, width, frame, variant, console)
                renders.put(key, column, variant, line)
            segments.extend(line)
        # The row's colours (cursor, hover) extend to the right edge.
        strip = _place(segments, frame.look.base + _row_style(frame.look, variant), frame, bar)
        if len(self._lines) > 2 * renders.max_rows:
            self._lines.clear()
        self._lines[key] = (placed, strip)
        return strip


def _bar(frame: Frame, y: int) -> Segment | None:
    return None if frame.bar is None else frame.bar[y]


def _place(segments: list[Segment], fill: Style, frame: Frame, bar: Segment | None) -> Strip:
    """A line: the cells, `fill` to the right edge, cut where scrolled to, the scrollbar's piece."""
    table_width = sum(frame.widths)
    segments.append(Segment(" " * max(0, frame.width - table_width), fill))
    if frame.scroll_x == 0 and table_width <= frame.width:  # the line is `width` long already
        strip = Strip(segments, frame.width)
    else:
        strip = Strip(segments).crop(frame.scroll_x, frame.scroll_x + frame.width)
        strip = strip.adjust_cell_length(frame.width, frame.look.base).simplify()
    return _with_bar(strip, bar)


def _with_bar(strip: Strip, bar: Segment | None) -> Strip:
    return strip if bar is None else Strip.join([strip, Strip([bar], bar.cell_length)])


def _row_style(look: Look, variant: _Variant) -> Style:
    """The mouse's and the cursor's colours on a row (the cursor's on top)."""
    _, cursor, hover = variant
    style = Style()
    if hover:
        style += look.hover
    if cursor:
        style += look.cursor
    return style


def _body_cell(
    cell: Text, column: int, width: int, frame: Frame, variant: _Variant, console: Console
) -> list[Segment]:
    """A body cell: its text over the row's style, the cursor's colours on top (its segments of one
    style merged).

    Its segments carry the column's index as metadata: a cell stays a run of its own through Textual's
    merging of equal styles, so screenshots place each cell where the terminal does.
    """
    look = frame.look
    style = _row_style(look, variant)
    post_style = Style()
    if variant[1] or variant[2]:
        # The progress bar keeps its colours under the cursor: filled and empty are otherwise one colour.
        if column != frame.progress:
            post_style += Style.from_color(color=style.color)
        post_style += Style.from_color(bgcolor=style.bgcolor)
    [line] = render_cell(cell, width, PADDING, look.base + style, post_style, console)
    meta = Style.from_meta({"column": column})
    return [Segment(text, meta if s is None else s + meta) for text, s, _ in Segment.simplify(line)]
