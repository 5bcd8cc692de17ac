"""`p`: every pipeline at a glance, one row each: its runs active now, its last run, and how its last
`RECENT_RUNS` finished runs went (success rate, p50/p95 duration, a sparkline of the durations).

Statuses and starts come from what the monitor already lists. Durations need each run's end time, which
only DescribePipelineExecution gives: the screen asks the monitor for those of the rows in view
(`want_end_times`), read once each inside the budget, and says meanwhile over how many runs its figures are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from smtui.core.events import ExecutionsChanged, PipelinesChanged
from smtui.core.pipeline_stats import RECENT_RUNS, PipelineSummary, summarise
from smtui.tui import format as fmt
from smtui.tui.host import Host, ReportsWorkerFailures
from smtui.tui.palette import PaletteCommand
from smtui.tui.widgets.footer import Footer
from smtui.tui.widgets.pipeline_rows import Column, cells, columns, last_run_cell
from smtui.tui.widgets.status_bar import StatusBar

# How each sortable column orders its rows, and in which direction first (the most telling on top).
SORTS: dict[str, tuple[Callable[[PipelineSummary], Any], bool]] = {
    "name": (lambda s: s.name.lower(), False),
    "active": (lambda s: s.active, True),
    "last": (lambda s: s.last.started.timestamp() if s.last and s.last.started else 0.0, True),
    "rate": (lambda s: -1.0 if s.rate is None else s.rate, False),
    "p50": (lambda s: -1.0 if s.p50 is None else s.p50, True),
}


class PipelinesScreen(ReportsWorkerFailures, Screen[None]):
    """One row per pipeline; Enter shows its executions, `s` its definition, Escape goes back."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "back", "Back", id="pipelines.back", tooltip="Back (clears the filter first)"),
        Binding(
            "enter",
            "show_executions",
            "Executions",
            id="pipelines.executions",
            tooltip="The executions of this pipeline (the table, filtered)",
            priority=True,  # over the table's own Enter, so that `?` tells what it does here
        ),
        Binding("s", "show_definition", "Steps", id="pipelines.definition", tooltip="The step graph"),
        Binding("slash", "filter", "Filter", id="pipelines.filter", tooltip="Filter by name", priority=True),
        Binding("N", "sort('name')", "Sort name", show=False, id="pipelines.sort.name"),
        Binding("A", "sort('active')", "Sort active", show=False, id="pipelines.sort.active"),
        Binding("L", "sort('last')", "Sort last run", show=False, id="pipelines.sort.last"),
        Binding("R", "sort('rate')", "Sort success rate", show=False, id="pipelines.sort.rate"),
        Binding("D", "sort('p50')", "Sort p50 duration", show=False, id="pipelines.sort.p50"),
    ]
    AUTO_FOCUS = "#pipelines"

    @dataclass
    class PipelineChosen(Message):
        """Enter: the app shows the executions table filtered to this pipeline (of this context)."""

        name: str
        context: str | None = None  # with several contexts, the pipeline's

    @dataclass
    class DefinitionOpened(Message):
        """`s`: the app opens the pipeline's definition as a step graph."""

        key: str  # the pipeline's key in the monitor's `pipelines` (what the monitor is asked)
        title: str  # its name, and its context with several

    def __init__(self, host: Host, *, runs: int = RECENT_RUNS) -> None:
        super().__init__()
        self.smtui = host
        self.runs = runs
        self.filter = ""
        self.sort_column = "last"
        self.sort_reverse = True
        self._columns: list[Column] = []
        # Pipelines by their key in the monitor's `pipelines` (with several contexts, context and name).
        self._shown: dict[str, list[Text]] = {}  # pipeline → its cells as drawn
        self._summaries: dict[str, PipelineSummary] = {}
        self._asked: list[str] = []  # the pipelines whose end times were last asked for
        self._dirty: set[str] | None = set()  # pipelines the monitor changed since the last tick (None: all)
        self._ready = False
        self.table: DataTable[Text] = DataTable(id="pipelines", cursor_type="row", zebra_stripes=False)
        self.info = Static(id="info")

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Input(placeholder="filter pipelines by name — Enter keeps, Esc clears", id="filter")
        yield self.info
        yield self.table
        yield Footer()

    def on_mount(self) -> None:
        self._ready = True
        self.query_one("#filter", Input).display = False
        self._layout(self.app.size.width)

    def on_unmount(self) -> None:
        self._ready = False
        self.smtui.session.monitor.want_end_times(())  # nothing shown: what is not read yet is dropped

    def on_resize(self, event: Resize) -> None:
        self._layout(event.size.width)

    def _layout(self, width: int) -> None:
        """The columns for this width (`pipeline_rows.columns`); the rows are drawn again only when they
        changed."""
        contexts = self.smtui.session.contexts
        context_width = 0
        if contexts is not None:  # a Context column: as wide as its label, or its longest name up to 16
            context_width = min(16, max(len("Context"), *(len(name) for name in contexts.names)))
        wanted = columns(width, self.runs, context_width)
        if wanted == self._columns:
            return
        self._columns = wanted
        self.table.clear(columns=True)
        self._shown.clear()
        for column in wanted:
            self.table.add_column(column.label, width=column.width, key=column.key)
        self.reload()

    # -- data ---------------------------------------------------------------------------------

    def monitor_event(self, event: Any) -> None:
        # Applied on the next tick, only to the pipelines concerned: summing up a pipeline's runs costs a
        # sort of them, and with hundreds of pipelines a full pass every second would be felt.
        if self._dirty is None:
            return
        if isinstance(event, PipelinesChanged):
            self._dirty.update(event.names)
        elif isinstance(event, ExecutionsChanged):
            monitor = self.smtui.session.monitor
            for arn in event.arns:
                execution = monitor.executions.get(arn)
                if execution is None:  # forgotten (`history`): of which pipeline, the store no longer says
                    self._dirty = None
                    return
                self._dirty.add(monitor.pipeline_key(execution))

    def session_changed(self) -> None:
        self._columns = []  # the real session may have several contexts: a Context column
        self._layout(self.app.size.width)

    def tick(self) -> None:
        """Once a second: the monitor's changes, and the ages of the last runs (they move)."""
        if self._ready:
            dirty, self._dirty = self._dirty, set()
            self.reload(dirty)

    def reload(self, dirty: set[str] | None = None) -> None:
        """Show every pipeline that passes the filter, cell by cell: only what changed is redrawn. Only the
        pipelines in `dirty` (None: all) are summed up again; the others get their last run's age."""
        monitor = self.smtui.session.monitor
        contexts = self.smtui.session.contexts
        now = self.smtui.session.now()
        keys = [column.key for column in self._columns]
        table = self.table
        summaries: dict[str, PipelineSummary] = {}
        rows: dict[str, list[Text]] = {}
        pipelines = monitor.pipelines
        for key in sorted(pipelines):
            name = pipelines[key].name
            if self.filter.lower() not in name.lower():
                continue
            summary = self._summaries.get(key)
            row = self._shown.get(key)
            if dirty is None or key in dirty or summary is None or row is None:
                summary = summarise(name, monitor.executions_of(key), runs=self.runs)
                context = "" if contexts is None else contexts.pipeline_context(key)
                row = cells(summary, keys, now, self.runs, context)
            else:
                row = [*row]  # the age of its last run is all that moves
                row[keys.index("last")] = last_run_cell(summary, now, keys)
            summaries[key], rows[key] = summary, row
        self._summaries = summaries
        for gone in [k for k in self._shown if k not in summaries]:
            table.remove_row(gone)
            del self._shown[gone]
        first = not self._shown  # the first rows: the cursor starts on the top one, once sorted
        added = False
        for key, row in rows.items():
            old = self._shown.get(key)
            if old is None:
                table.add_row(*row, key=key)
                added = True
            else:
                for column, before, after in zip(keys, old, row, strict=True):
                    if before != after:
                        table.update_cell(key, column, after)
            self._shown[key] = row
        if added or self._order_changed():
            self._sort(keep_cursor=not first)
        visible = self._visible()
        if dirty is None or dirty or visible != self._asked:  # new runs ended, or other rows in view
            self._asked = visible
            self.smtui.session.monitor.want_end_times(visible, runs=self.runs)
        self._update_info()

    def _order_changed(self) -> bool:
        order = [str(row.key.value) for row in self.table.ordered_rows]
        return order != self._sorted_keys()

    def _sorted_keys(self) -> list[str]:
        by, _ = SORTS[self.sort_column]
        ties = sorted(self._summaries.items(), key=lambda item: (item[1].name.lower(), item[0]))  # by name
        return [key for key, _ in sorted(ties, key=lambda item: by(item[1]), reverse=self.sort_reverse)]

    def _sort(self, *, keep_cursor: bool = True) -> None:
        """Rows in the order of the sort, the cursor kept on its pipeline (a new run moves rows around).
        The table sorts by cells: a row is told by its name and, with several contexts, its context."""
        selected = self._cursor_pipeline() if keep_cursor else None
        told_by = [c.key for c in self._columns if c.key in ("name", "context")]
        at = [[c.key for c in self._columns].index(k) for k in told_by]
        rank = {tuple(self._shown[key][i].plain for i in at): n for n, key in enumerate(self._sorted_keys())}
        self.table.sort(*told_by, key=lambda cells: rank[_plain(cells)])
        row = 0 if selected is None else self.table.get_row_index(selected)
        self.table.move_cursor(row=row, animate=False)

    def _visible(self) -> list[str]:
        """The pipelines in the table's viewport (the monitor reads the end times of those only)."""
        rows = [str(row.key.value) for row in self.table.ordered_rows]
        top = int(self.table.scroll_y)
        height = max(1, self.table.scrollable_content_region.height - 1)  # its header row
        return rows[top : top + height]

    def _update_info(self) -> None:
        self.query_one(StatusBar).show(self.smtui.status_text())
        total = len(self.smtui.session.monitor.pipelines)
        shown = len(self._summaries)
        info = Text(f" {shown} of {total} pipelines" if shown != total else f" {total} pipelines")
        # What a key changes first, so that 80 columns still show it; the explanation last.
        arrow = "↓" if self.sort_reverse else "↑"
        info.append(f" · sorted by {self.sort_column} {arrow}", style="bright_black")
        if self.filter:
            info.append(" · filter: ", style="bright_black")
            info.append(self.filter, style="bold")
        visible = set(self._visible())
        reading = sum(s.untimed for key, s in self._summaries.items() if key in visible)
        if reading:
            info.append(f" · reading {reading} end times", style=fmt.styled("yellow"))
        info.append(f" · last {self.runs} finished runs, durations of the successful ones")
        self.info.update(info)

    # -- actions ------------------------------------------------------------------------------

    def _cursor_pipeline(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("show_executions", "show_definition") and self._cursor_pipeline() is None:
            return None
        return True

    @on(DataTable.RowSelected, "#pipelines")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_show_executions()

    def action_show_executions(self) -> None:
        if self.query_one("#filter", Input).has_focus:
            raise SkipAction()  # Enter in the filter box keeps the filter
        key = self._cursor_pipeline()
        if key is not None and key in self._summaries:
            self.post_message(self.PipelineChosen(self._summaries[key].name, self._context_of(key)))

    def action_show_definition(self) -> None:
        key = self._cursor_pipeline()
        if key is not None and key in self._summaries:
            name, context = self._summaries[key].name, self._context_of(key)
            self.post_message(self.DefinitionOpened(key, name if context is None else f"{name} · {context}"))

    def _context_of(self, key: str) -> str | None:
        contexts = self.smtui.session.contexts
        return None if contexts is None else contexts.pipeline_context(key)

    def action_sort(self, column: str) -> None:
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, SORTS[column][1]
        self._sort()
        self._update_info()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_focus:
            raise SkipAction()
        box.display = True
        self.set_focus(box)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter = event.value.strip()
        self.reload()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.query_one("#filter", Input).display = bool(event.value)
        self.table.focus()

    def action_back(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_focus or self.filter:
            box.value = ""
            box.display = False
            self.table.focus()
        else:
            self.app.pop_screen()

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield PaletteCommand(
            "pipeline: executions", "The executions of the selected pipeline", "show_executions"
        )
        yield PaletteCommand(
            "pipeline: steps", "The selected pipeline's definition as a step graph", "show_definition"
        )
        yield PaletteCommand("pipelines: filter", "Filter the pipelines by name", "filter")
        for column in SORTS:
            yield PaletteCommand(
                f"pipelines: sort by {column}", f"Sort the pipelines by {column}", f"sort('{column}')"
            )
        yield PaletteCommand("pipelines: back", "Back to the executions", "back")


def _plain(cells: Any) -> tuple[str, ...]:
    """The text of what `DataTable.sort` hands its key: one cell, or a tuple of cells for several columns."""
    return tuple(cell.plain for cell in (cells if isinstance(cells, tuple) else (cells,)))
