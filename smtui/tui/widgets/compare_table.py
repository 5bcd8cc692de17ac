"""The compare screen's table: row labels in a fixed first column, one column per execution, scrolled
sideways when they do not all fit (80 columns show two or three)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable

from smtui.tui.widgets.compare_rows import CompareRow

NARROW_BELOW = 120  # terminal columns under which labels and cells are kept shorter
LABEL_WIDTH = {True: 22, False: 32}  # the row labels' column at most, by narrow
CELL_WIDTH = {True: 16, False: 20}  # an execution's column, by narrow


@dataclass(frozen=True, slots=True)
class CompareColumn:
    """An execution's column: keyed by its ARN, titled by its name."""

    arn: str
    title: str


class CompareTable(DataTable[Text]):
    """Rows by key, a cursor on a cell: its column is an execution, its row may be a metric's.

    `show` updates the cells that changed; the table is rebuilt only when its rows or columns are not
    the same ones (a step appeared, a column was dropped, the terminal's width crossed `NARROW_BELOW`),
    keeping the cursor on the same row and column."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="cell", zebra_stripes=False)
        self.fixed_columns = 1
        self._shape: tuple[object, ...] = ()
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._row_keys: list[str] = []
        self._column_keys: list[str] = []

    def show(self, columns: Sequence[CompareColumn], rows: Sequence[CompareRow], *, narrow: bool) -> None:
        label_max, cell = LABEL_WIDTH[narrow], CELL_WIDTH[narrow]
        label = min(label_max, max([10, *(r.label.cell_len for r in rows)]))
        shape = (tuple(columns), tuple(r.key for r in rows), label, cell)
        if shape != self._shape:
            self._rebuild(columns, rows, label, cell)
            self._shape = shape
            return
        for row in rows:
            cells = (_fit(row.label, label), *(_fit(c, cell) for c in row.cells))
            known = self._cells.get(row.key)
            if known == cells:
                continue
            for key, new, old in zip(["label", *self._column_keys], cells, known or cells, strict=True):
                if new != old:
                    self.update_cell(row.key, key, new)
            self._cells[row.key] = cells

    def _rebuild(
        self, columns: Sequence[CompareColumn], rows: Sequence[CompareRow], label: int, cell: int
    ) -> None:
        at_row, at_column = self.cursor_row_key, self.cursor_arn
        self.clear(columns=True)
        self.add_column(Text(""), width=label, key="label")
        for column in columns:
            self.add_column(_fit(Text(column.title, style="bold"), cell), width=cell, key=column.arn)
        self._cells = {}
        for row in rows:
            cells = (_fit(row.label, label), *(_fit(c, cell) for c in row.cells))
            self.add_row(*cells, key=row.key)
            self._cells[row.key] = cells
        self._row_keys = [r.key for r in rows]
        self._column_keys = [c.arn for c in columns]
        row_index = self._row_keys.index(at_row) if at_row in self._row_keys else self.cursor_row
        column_index = self._column_keys.index(at_column) + 1 if at_column in self._column_keys else 1
        self.move_cursor(
            row=min(row_index, max(0, len(rows) - 1)),
            column=min(column_index, len(columns)),
            scroll=True,
        )

    @property
    def cursor_arn(self) -> str | None:
        """The execution of the column under the cursor (the labels' column: none)."""
        column = self.cursor_column
        return self._column_keys[column - 1] if 0 < column <= len(self._column_keys) else None

    @property
    def row_keys(self) -> list[str]:
        """The rows' keys, top to bottom (`compare_rows`' keys)."""
        return list(self._row_keys)

    @property
    def cursor_row_key(self) -> str | None:
        row = self.cursor_row
        return self._row_keys[row] if 0 <= row < len(self._row_keys) else None


def _fit(text: Text, width: int) -> Text:
    """Cut to the column's width with an ellipsis (a pipeline's name can be 256 characters)."""
    if text.cell_len <= width:
        return text
    cut = text.copy()
    cut.truncate(width, overflow="ellipsis")
    return cut
