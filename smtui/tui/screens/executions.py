"""The home screen: every execution across pipelines, newest first, live.

This file holds the screen's state, its handlers and its actions: the monitor's changes applied on the
app's tick, the filter box, marks, navigation by messages. Its keys and palette commands are
`executions_keys`; what each row and the line above the table say, and which executions an action is
aimed at, `executions_view`; the export of the rows shown, `executions_export`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.message import Message
from textual.widgets import Input, Static

from smtui.core.compare import MAX_EXECUTIONS, MIN_EXECUTIONS
from smtui.core.events import ExecutionsChanged, HealthChanged, StepsChanged
from smtui.core.model import Execution
from smtui.core.timing import execution_elapsed
from smtui.tui import format as fmt
from smtui.tui.filtering import ExecutionFilter
from smtui.tui.host import Host
from smtui.tui.palette import PaletteCommand
from smtui.tui.screens import executions_keys, executions_view
from smtui.tui.screens.acting import ActingScreen
from smtui.tui.screens.columns import ColumnsScreen
from smtui.tui.screens.contexts import sso_login, troubled
from smtui.tui.screens.executions_export import export_shown
from smtui.tui.time_left import TimeLeft
from smtui.tui.widgets.execution_rows import COMPACT_BELOW, ExecutionRow
from smtui.tui.widgets.execution_table import ExecutionTable
from smtui.tui.widgets.footer import Footer
from smtui.tui.widgets.status_bar import StatusBar


class ExecutionsScreen(ActingScreen):
    """Table of executions; `/` filters, Shift+letter sorts, Enter opens, space marks."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = executions_keys.BINDINGS
    # The table has the keys from the start. (By default the first focusable widget would: the filter box,
    # hidden, which took the keys typed in the first second, `/` included, as a filter.)
    AUTO_FOCUS = "#executions"

    @dataclass
    class ExecutionOpened(Message):
        """Enter on a row: the app opens the execution's screen."""

        arn: str

    @dataclass
    class StartRequested(Message):
        """`n`: the app opens the start form."""

    @dataclass
    class PipelinesOpened(Message):
        """`p`: the app opens the pipelines view."""

    @dataclass
    class CompareRequested(Message):
        """`d` with 2 to 8 executions marked: the app opens the compare screen on them."""

        arns: tuple[str, ...]

    def __init__(self, host: Host) -> None:
        super().__init__(host)
        self.filter = ExecutionFilter()
        self.marked: set[str] = set()
        self._pending_select: str | None = None
        self._ready = False  # composed and mounted: events before that are covered by the first reload
        self._pending: set[str] = set()
        self._binding_state: tuple[object, ...] = ()
        self._info_shown: Text | None = None
        self._day: date | None = None  # the local day of the last tick
        self._filter_minute: datetime | None = None  # when a `since:` filter was last counted back from now
        self.time_left = TimeLeft(lambda: self.smtui.session.monitor)
        self.only_context = ""  # with several contexts, the one the palette switched to ("": every one)
        self._troubled: frozenset[str] = frozenset()
        # Kept, not queried: they are read on every tick and key.
        self.table = ExecutionTable(id="executions")
        self.status_bar = StatusBar(id="status")
        self.info = Static(id="info")

    def compose(self) -> ComposeResult:
        yield self.status_bar
        yield Input(
            placeholder="filter: words, pipeline:x status:failed Key=Value since:24h started:>2026-11-01"
            " — Enter keeps, Esc clears",
            id="filter",
        )
        yield self.info
        yield self.table
        yield Footer()

    def on_mount(self) -> None:
        self._ready = True
        self.query_one("#filter", Input).display = False
        self.table.set_compact(self.app.size.width < COMPACT_BELOW)
        self.table.set_show_context(self.smtui.session.contexts is not None)
        self.reload()

    def on_unmount(self) -> None:
        self._ready = False

    def on_resize(self, event: Resize) -> None:
        self.table.set_compact(event.size.width < COMPACT_BELOW)
        self._update_visible()

    # -- data ---------------------------------------------------------------------------------

    def row_for(self, execution: Execution) -> ExecutionRow:
        return executions_view.row_for(
            self.smtui.session,
            execution,
            marked=execution.arn in self.marked,
            time_left=self.time_left,
            columns=self.table.parameter_columns,
        )

    def reload(self) -> None:
        """Show every execution that passes the filter (after the filter changed)."""
        monitor = self.smtui.session.monitor
        executions = monitor.executions.values()
        self._day = self._today()
        self.time_left.new_batch()
        self.table.show(self.row_for(e) for e in executions if self._shows(e))
        monitor.drop_parameter_wants()
        self._want_parameters(executions)
        self._after_change()

    def _shows(self, execution: Execution) -> bool:
        return executions_view.shows(self.smtui.session, self.filter, self.only_context, execution)

    def _today(self) -> date:
        return self.smtui.session.now().astimezone().date()

    def _want_parameters(self, executions: Iterable[Execution]) -> None:
        """A filter that names a parameter can only match executions whose parameters were read: ask the
        monitor for those of every candidate (the executions the other terms match)."""
        if self.filter.reads_parameters:
            self.smtui.session.monitor.want_parameters(e.arn for e in self._unread(executions))

    def _unread(self, executions: Iterable[Execution]) -> Iterator[Execution]:
        return executions_view.unread(self.smtui.session, self.filter, executions)

    def refresh_rows(self, arns: Iterable[str], *, ticked: Iterable[str] = ()) -> None:
        """Show the monitor's state of `arns` (added, changed, or gone if filtered out), and the elapsed
        time of the rows `ticked`, which nothing else changed: one diff, one sort at most."""
        executions = self.smtui.session.monitor.executions
        upsert: list[ExecutionRow] = []
        drop: list[str] = []
        self.time_left.new_batch()
        for arn in arns:
            execution = executions.get(arn)
            if execution is not None and self._shows(execution):
                upsert.append(self.row_for(execution))
            else:
                drop.append(arn)
        self._want_parameters(e for arn in arns if (e := executions.get(arn)) is not None)  # new ones too
        now = self.smtui.session.now()
        for arn in ticked:
            execution = executions.get(arn)
            row = self.table.shown_row(arn)
            if execution is not None and row is not None:
                elapsed = fmt.elapsed_shown(execution_elapsed(execution, now))
                left = self.time_left.shown(execution, now)
                # Most ticks of a run older than ten minutes change nothing.
                if elapsed != row.elapsed or left != row.left:
                    upsert.append(replace(row, elapsed=elapsed, left=left))
        self.table.discard(drop)
        self.table.upsert(upsert)
        self._after_change()

    def monitor_event(self, event: Any) -> None:
        # Changes are applied in batches, on the app's tick: with hundreds of live executions the monitor
        # publishes many small events a second, and each repaint has a cost.
        if isinstance(event, ExecutionsChanged):
            self._pending.update(event.arns)
        elif isinstance(event, StepsChanged):
            self._pending.add(event.execution_arn)
        elif isinstance(event, HealthChanged) and self.smtui.session.contexts is not None:
            now_troubled = troubled(self.smtui.session.contexts)
            if now_troubled != self._troubled:  # a context failed or recovered: its rows' context cells
                self._troubled = now_troubled
                self._pending.update(self.smtui.session.monitor.executions)

    def session_changed(self) -> None:
        self.table.set_show_context(self.smtui.session.contexts is not None)
        self.reload()

    def tick(self) -> None:
        """Once a second: the monitor's changes since the last tick, and elapsed times of running executions.

        One cadence for both, so a running row whose step moved is painted once a second, not twice; a row
        that only ticks gets a new elapsed time and nothing else is asked of the monitor. Elapsed times move
        only in the rows on screen (off-screen ones catch up within a second of coming into view), unless
        the table is sorted by elapsed time; a row is repainted only when its text changes.
        """
        if not self._ready:
            return
        if self._today() != self._day:
            # Past midnight yesterday's runs show their date at 80 columns: every row is looked at, once.
            self.reload()
            return
        if (
            self.filter.relative
            and self.smtui.session.now().replace(second=0, microsecond=0) != self._filter_minute
        ):
            # `since:24h` counts back from now: once a minute the rows that grew older than that go.
            self._parse_filter(self.filter.text, self.filter.active_only)
            return
        table = self.table
        arns = table.ordered_arns() if table.sort_column == "elapsed" else table.visible_arns()
        shown = table.shown_row
        pending, self._pending = self._pending, set()
        ticking = [
            arn
            for arn in arns
            if arn not in pending and (row := shown(arn)) is not None and row.status.is_active
        ]
        self.refresh_rows(pending, ticked=ticking)

    def _after_change(self) -> None:
        self._sync_bindings()
        if self._pending_select is not None and self.table.select_arn(self._pending_select):
            self._pending_select = None
        self._update_status()
        self._update_visible()

    def _update_status(self) -> None:
        self.status_bar.show(self.smtui.status_text())
        info = executions_view.info_line(
            self.smtui.session, self.table, self.filter, self.marked, self.only_context
        )
        if info != self._info_shown:  # a fixed one-line widget: no layout pass, no repaint if unchanged
            self._info_shown = info
            self.info.update(info, layout=False)

    def _update_visible(self) -> None:
        monitor = self.smtui.session.monitor
        visible = self.table.visible_arns()
        monitor.set_visible(visible)
        monitor.keep(self.marked)  # a marked row stays, however old (the monitor forgets old ones)
        if self.table.parameter_columns:
            # The parameter columns are read for the rows in view only, once each, inside the budget.
            executions = monitor.executions
            monitor.want_parameters(
                arn for arn in visible if (e := executions.get(arn)) is not None and e.parameters is None
            )

    # -- targets ------------------------------------------------------------------------------

    def target_executions(self) -> list[Execution]:
        return executions_view.targets(self.marked, self.table, self.smtui.session.monitor.executions)

    def targets_marked(self) -> bool:
        return bool(self.marked)

    def hidden_by_filter(self, execution: Execution) -> bool:
        return self.table.shown_row(execution.arn) is None

    def execution_started(self, arn: str) -> None:
        """A run started from here: selected when it appears."""
        self._pending_select = arn
        if arn in self.smtui.session.monitor.executions:
            self.refresh_rows([arn])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open_execution", "open_logs") and self.table.cursor_arn is None:
            return None
        return super().check_action(action, parameters)

    # -- actions ------------------------------------------------------------------------------

    @on(ExecutionTable.ExecutionSelected)
    def _row_selected(self, event: ExecutionTable.ExecutionSelected) -> None:
        event.stop()
        self.action_open_execution()

    @on(ExecutionTable.ExecutionHighlighted)
    def _row_highlighted(self, event: ExecutionTable.ExecutionHighlighted) -> None:
        self._sync_bindings()

    def _sync_bindings(self) -> None:
        # refresh_bindings() rebuilds the footer: only when what the keys can do has changed.
        state = (self.table.cursor_arn is not None, bool(self.marked))
        if state != self._binding_state:
            self._binding_state = state
            self.refresh_bindings()

    def action_open_execution(self) -> None:
        arn = self.table.cursor_arn
        if arn is not None:
            self.post_message(self.ExecutionOpened(arn))

    def action_open_logs(self) -> None:
        arn = self.table.cursor_arn
        if arn is not None:
            self.post_message(self.LogsOpened(arn))

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_focus:
            raise SkipAction()  # a `/` typed in the filter is part of it (s3://...)
        box.display = True
        # At once, not as `box.focus()` does (on a later turn of the app's queue, behind the keys typed
        # after `/`): the app gives each key to the widget focused when it reads the key.
        self.set_focus(box)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._parse_filter(event.value, self.filter.active_only)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        box = self.query_one("#filter", Input)
        box.display = bool(event.value)
        self.table.focus()

    def action_clear(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_focus or self.filter.text:
            box.value = ""
            box.display = False
            self.table.focus()
        elif self.marked:
            marked, self.marked = self.marked, set()
            self.refresh_rows(marked)

    def action_choose_columns(self) -> None:
        """The `columns` dialog, for the pipeline of the row under the cursor."""
        executions = self.smtui.session.monitor.executions
        arn = self.table.cursor_arn
        if arn is None or arn not in executions:
            self.notify(
                "no execution selected: the columns are its pipeline's parameters", severity="warning"
            )
            return
        execution = executions[arn]
        key = self.smtui.session.monitor.pipeline_key(execution)
        self.app.push_screen(
            ColumnsScreen(self.smtui, key, execution.pipeline_name, self.table.parameter_columns),
            self._columns_chosen,
        )

    def _columns_chosen(self, names: tuple[str, ...] | None) -> None:
        if names is None or names == self.table.parameter_columns:
            return
        self.table.set_parameter_columns(names)
        self.reload()  # every row gets its values (the unread ones are read when in view)

    def action_export(self, form: str) -> None:
        """The rows shown (filtered, in the table's order), to a new file; a toast names it."""
        try:
            text, title = export_shown(self.smtui.session, self.table, self.time_left, form)
        except OSError as error:
            self.notify(f"{error.strerror or error}", title="Not exported", severity="error", markup=False)
            return
        self.notify(text, title=title, markup=False, timeout=8)

    def action_toggle_active(self) -> None:
        self._parse_filter(self.filter.text, not self.filter.active_only)

    def _parse_filter(self, text: str, active_only: bool) -> None:
        now = self.smtui.session.now()
        self.filter = ExecutionFilter.parse(text, active_only=active_only, now=now)
        self._filter_minute = now.replace(second=0, microsecond=0)
        self.reload()

    def action_only_context(self, name: str) -> None:
        """Show one context's executions (the palette's `context NAME`), or every context's (`""`)."""
        self.only_context = name
        self.reload()

    def action_login(self, name: str) -> None:
        """`aws sso login` for a context, the app suspended meanwhile; then that context is retried at once
        (it would also recover by itself, at its next retry, after a login outside). The retry runs in a
        worker: awaited here, it held this screen's messages, and so its repaint after the resume, for as
        long as the calls took (up to 10 s of a blank terminal)."""
        contexts = self.smtui.session.contexts
        if contexts is None:
            return
        with self.app.suspend():
            problem = sso_login(contexts.profile_of(name))
        if problem is not None:
            self.notify(problem, severity="warning")
        self.run_worker(contexts.retry_now(name), group=f"login-{name}", exclusive=True)

    def action_mark(self) -> None:
        arn = self.table.cursor_arn
        if arn is None:
            return
        self.marked.symmetric_difference_update({arn})
        self.refresh_rows([arn])
        self.table.action_cursor_down()

    def action_sort(self, column: str) -> None:
        self.table.action_sort(column)
        self._update_status()

    def action_copy_arn(self) -> None:
        targets = self.target_executions()
        if targets:
            text = "\n".join(e.arn for e in targets)
            self.app.copy_to_clipboard(text)
            self.notify(text if len(targets) == 1 else f"{len(targets)} ARNs", title="Copied")

    def action_open_console(self) -> None:
        targets = self.target_executions()
        if targets:
            url = fmt.console_url(targets[0].arn, targets[0].pipeline_name)
            self.app.open_url(url)
            self.notify(url, title="Opening the AWS console")

    def action_start_execution(self) -> None:
        self.post_message(self.StartRequested())

    def action_open_pipelines(self) -> None:
        self.post_message(self.PipelinesOpened())

    def show_pipeline(self, name: str, context: str | None = None) -> None:
        """The executions of one pipeline (chosen in the pipelines view): the filter says `pipeline:=NAME`
        (that pipeline, not those whose name contains it; with several contexts `ctx:=CONTEXT` too, its
        context's), in the box, which Escape clears as any filter."""
        box = self.query_one("#filter", Input)
        box.value = f"pipeline:={name}" + (
            "" if context is None else f" ctx:={context}"
        )  # Input.Changed applies it
        box.display = True
        self.table.focus()

    def action_compare(self) -> None:
        marked = [e.arn for e in self.target_executions()] if self.marked else []
        if not MIN_EXECUTIONS <= len(marked) <= MAX_EXECUTIONS:
            self.notify(
                f"Mark {MIN_EXECUTIONS} to {MAX_EXECUTIONS} executions to compare (space marks):"
                f" {len(marked)} marked",
                severity="warning",
            )
            return
        self.post_message(self.CompareRequested(tuple(marked)))

    def palette_commands(self) -> Iterable[PaletteCommand]:
        return executions_keys.palette_commands(self.smtui.session, self.only_context)
