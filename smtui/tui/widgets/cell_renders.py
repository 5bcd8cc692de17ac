"""Rendered table cells that survive rows being added, removed or re-sorted.

Textual's `DataTable` (which `ExecutionTable` replaced) keyed its cell cache by a table-wide counter that
every `add_row`, `remove_row` and `sort` bumped: one new execution arriving made the table render every
visible cell again (about 150 ms at 120×36, most of the idle CPU of `smtui demo`, and the slow key
presses of a 5,000-row table). Here the line of a cell is kept until that cell's content changes. It
does not carry the row's index as mouse metadata (each row that moved would have to be rendered again):
`ExecutionTable` finds the row under the mouse from its position.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text


class CellRenders:
    """Rendered cells by row key, column key and rendering variant (width, style, cursor, ...).

    Bounded by rows: past `max_rows` the rows cached longest ago are dropped (they are rendered again if
    they come back into view). Invalidation is explicit: `discard` what changed.
    """

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self._rows: dict[Any, dict[Any, dict[Hashable, list[Segment]]]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, row_key: Any, column_key: Any, variant: Hashable) -> list[Segment] | None:
        """The cell's line, or None if not cached."""
        columns = self._rows.get(row_key)
        if columns is None:
            return None
        variants = columns.get(column_key)
        return None if variants is None else variants.get(variant)

    def put(self, row_key: Any, column_key: Any, variant: Hashable, line: list[Segment]) -> list[Segment]:
        """Remember a cell's `line` and return it."""
        columns = self._rows.get(row_key)
        if columns is None:
            if len(self._rows) >= self.max_rows:
                # Dicts keep insertion order: the first quarter holds the rows cached longest ago.
                for stale in list(self._rows)[: max(1, self.max_rows // 4)]:
                    del self._rows[stale]
            columns = self._rows[row_key] = {}
        columns.setdefault(column_key, {})[variant] = line
        return line

    def discard(self, row_key: Any, column_key: Any | None = None) -> None:
        """Forget a cell (its content changed), or a whole row when `column_key` is None."""
        if column_key is None:
            self._rows.pop(row_key, None)
        else:
            columns = self._rows.get(row_key)
            if columns is not None:
                columns.pop(column_key, None)

    def clear(self) -> None:
        self._rows.clear()


def render_cell(
    cell: Text, width: int, padding: int, pre_style: Style, post_style: Style, console: Console
) -> list[list[Segment]]:
    """The line of a one-line cell, as `Console.render_lines` renders `Styled(Padding(cell), pre_style,
    post_style)` (as DataTable did), segment for segment, at a fraction of the cost (Rich's general path
    was most of the time spent repainting a row whose elapsed time ticked)."""
    inner = max(0, width - 2 * padding)
    blank = console.get_style("none")  # Padding's style
    line = [Segment(" " * padding, blank)] if padding else []
    plain = cell.plain
    used = cell_len(plain)
    if plain and not cell.spans and used <= inner:
        # Most cells (an elapsed time, a name): one style, and it fits. Rich's path gives this one segment.
        line.append(Segment(plain, console.get_style(cell.style) if cell.style else None))
    else:
        text = cell.copy()
        text.truncate(inner, overflow="ellipsis")
        # Joined as Text.__rich_console__ joins its lines: the text's own style becomes a span.
        joined = _NEWLINE.join([text])
        line.extend(joined.render(console))
        used = text.cell_len
    if used < inner:
        line.append(Segment(" " * (inner - used), blank))
    if padding:
        line.append(Segment(" " * padding, blank))
    return [[Segment(text, _styled(style, pre_style, post_style)) for text, style, _ in line]]


_NEWLINE = Text("\n")


def _styled(style: Style | None, pre_style: Style, post_style: Style) -> Style | None:
    # As `Segment.apply_style(segments, pre_style, post_style)`.
    if pre_style:
        style = pre_style + style
    if post_style:
        style = style + post_style if style else post_style
    return style
