"""The rows the executions table shows: keyed by ARN, their cells, their order under the current sort."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from smtui.tui.widgets.execution_rows import (
    COLUMNS,
    FIELD_COLUMNS,
    PARAM,
    SORTABLE,
    Cell,
    Column,
    ExecutionRow,
    cell_for,
    changed_fields,
    columns_with,
    sort_key,
)


@dataclass(slots=True)
class Change:
    """What one `ShownRows.apply` did."""

    moved: bool = False  # rows were added, removed or re-sorted: the order changed
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    cells: dict[str, list[int]] = field(default_factory=dict)  # by ARN: the columns whose cells changed


class ShownRows:
    """Rows by ARN with their cells (one per column of `columns`: `COLUMNS` and the parameter columns
    chosen), and the ARNs from top to bottom.

    A diff of `ExecutionRow`s builds only the cells that changed; the rows are sorted again only when a
    row arrived or a cell of the sort column changed.
    """

    def __init__(self) -> None:
        self.rows: dict[str, ExecutionRow] = {}  # in the order they arrived
        self.cells: dict[str, list[Cell]] = {}
        self.order: list[str] = []
        self.index: dict[str, int] = {}  # where each ARN is in `order`
        self.sort_column = "started"
        self.sort_reverse = True
        self.compact = False
        self.columns: tuple[Column, ...] = COLUMNS
        self.column_index = {column.key: index for index, column in enumerate(COLUMNS)}
        self._param_keys: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.order)

    def cell(self, arn: str, column: str) -> Cell:
        return self.cells[arn][self.column_index[column]]

    def set_compact(self, compact: bool) -> None:
        """Build every cell again for the wide or the 80-column layout."""
        self.compact = compact
        self._build_all()

    def set_parameters(self, parameters: tuple[str, ...]) -> None:
        """Show a column per parameter of `parameters` (every cell is built again: a rare change)."""
        self.columns = columns_with(parameters)
        self.column_index = {column.key: index for index, column in enumerate(self.columns)}
        self._param_keys = tuple(c.key for c in self.columns if c.key.startswith(PARAM))
        self._build_all()

    def _build_all(self) -> None:
        compact, columns = self.compact, self.columns
        for arn, row in self.rows.items():
            self.cells[arn] = [cell_for(column.key, row, compact) for column in columns]

    def apply(self, rows: Iterable[ExecutionRow], removed: Iterable[str]) -> Change:
        """Add or update `rows`, remove the rows of `removed`; say what changed."""
        change = Change(removed=[arn for arn in removed if arn in self.rows])
        for arn in change.removed:
            del self.rows[arn], self.cells[arn]
        if change.removed:
            gone = set(change.removed)
            self.order = [arn for arn in self.order if arn not in gone]
        needs_sort = False
        compact, columns, column_index = self.compact, self.columns, self.column_index
        for row in rows:
            arn = row.arn
            before = self.rows.get(arn)
            if before == row:
                continue
            self.rows[arn] = row
            if before is None:
                self.cells[arn] = [cell_for(column.key, row, compact) for column in columns]
                self.order.append(arn)
                change.added.append(arn)
                needs_sort = True
                continue
            cells = self.cells[arn]
            changed = change.cells.setdefault(arn, [])
            for name in changed_fields(before, row):
                for key in self._param_keys if name == "params" else FIELD_COLUMNS[name]:
                    index = column_index[key]
                    cells[index] = cell_for(key, row, compact)
                    changed.append(index)
                    needs_sort = needs_sort or key == self.sort_column
        if needs_sort:
            self.sort()
        elif change.removed:
            self._reindex()
        change.moved = needs_sort or bool(change.removed)
        return change

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
        self.sort()

    def sort(self) -> None:
        column = self.column_index[self.sort_column]
        secondary = self.column_index["started" if self.sort_column != "started" else "name"]
        cells, reverse = self.cells, self.sort_reverse

        def key(arn: str) -> tuple[Any, ...]:
            row = cells[arn]
            return sort_key(row[column], row[secondary], reverse)

        # Stable, from the order the rows arrived in (as Textual's DataTable sorted them, before).
        self.order = sorted(self.rows, key=key, reverse=self.sort_reverse)
        self._reindex()

    def _reindex(self) -> None:
        self.index = {arn: index for index, arn in enumerate(self.order)}
