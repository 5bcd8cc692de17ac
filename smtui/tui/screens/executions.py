"""The home screen: every execution across pipelines, newest first, live."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.message import Message
from textual.widgets import Footer, Input, Static

from smtui.core.compare import MAX_EXECUTIONS, MIN_EXECUTIONS
from smtui.core.events import ExecutionsChanged, HealthChanged, StepsChanged
from smtui.core.model import Execution
from smtui.core.timing import execution_elapsed
from smtui.tui import format as fmt
from smtui.tui.export import ExportFormat, export_executions
from smtui.tui.filtering import ExecutionFilter
from smtui.tui.host import Host
from smtui.tui.palette import PaletteCommand
from smtui.tui.screens.acting import ActingScreen
from smtui.tui.screens.columns import ColumnsScreen
from smtui.tui.screens.contexts import context_commands, context_label, sso_login, troubled
from smtui.tui.time_left import TimeLeft
from smtui.tui.widgets.execution_rows import COMPACT_BELOW, SORTABLE, ExecutionRow
from smtui.tui.widgets.execution_table import ExecutionTable
from smtui.tui.widgets.status_bar import StatusBar


class ExecutionsScreen(ActingScreen):
    """Table of executions; `/` filters, Shift+letter sorts, Enter opens, space marks."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("enter", "open_execution", "Open", id="execution.open", tooltip="Open the step tree"),
        # A priority binding: run when the app reads `/`, before it hands the keys typed after it to the
        # focused widget. A plain one runs only once `/` has gone through the table, and by then the
        # keys behind it are the table's: `/churn` typed fast copied (c), retried (r), started (n).
        Binding(
            "slash",
            "filter",
            "Filter",
            id="executions.filter",
            tooltip="Filter by pipeline, name, status…",
            priority=True,
        ),
        Binding(
            "l", "open_logs", "Logs", id="execution.logs", tooltip="Logs of the failed (or running) step"
        ),
        Binding(
            "a",
            "toggle_active",
            "Active",
            id="executions.active_only",
            tooltip="Only running ones",
            show=False,
        ),
        Binding("space", "mark", "Mark", show=False, id="executions.mark", tooltip="Mark for a batch action"),
        # Not in the footer (at 80 columns it would cut `?`): the info line shows it once a row is marked.
        Binding(
            "d",
            "compare",
            "Compare marked",
            show=False,
            id="executions.compare",
            tooltip="Compare 2 to 8 marked executions side by side",
        ),
        Binding("n", "start_execution", "Start", id="execution.start", tooltip="Start a pipeline"),
        Binding(
            "p",
            "open_pipelines",
            "Pipelines",
            show=False,  # the footer is full at 80 columns: `?` and the palette list it
            id="executions.pipelines",
            tooltip="Pipelines at a glance",
        ),
        Binding("x", "stop_execution", "Stop", id="execution.stop"),
        Binding("r", "retry_execution", "Retry", id="execution.retry", tooltip="Retry failed (same ARN)"),
        Binding(
            "e",
            "rerun_execution",
            "Rerun",
            show=False,
            id="execution.rerun",
            tooltip="New run, same parameters",
        ),
        Binding("c", "copy_arn", "Copy ARN", show=False, id="execution.copy_arn"),
        Binding(
            "ctrl+s",
            "export('csv')",
            "Export",
            show=False,
            id="executions.export",
            tooltip="The rows shown, to a CSV file (JSON: the palette)",
        ),
        Binding(
            "o",
            "open_console",
            "Console",
            show=False,
            id="execution.console",
            tooltip="Open in the AWS console",
        ),
        Binding("escape", "clear", "Clear", show=False, id="executions.clear"),
    ]
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
        monitor = self.smtui.session.monitor
        arn = execution.arn
        now = self.smtui.session.now()
        return ExecutionRow(
            arn=arn,
            status=execution.status,
            pipeline=execution.pipeline_name,
            name=fmt.execution_name(execution),
            started=execution.started,
            elapsed=fmt.elapsed_shown(execution_elapsed(execution, now)),
            progress=monitor.progress(arn),
            running=monitor.running_steps(arn),
            reason=execution.failure_reason,
            marked=arn in self.marked,
            started_today=fmt.same_day(execution.started, now),
            left=self.time_left.shown(execution, now),
            params=self._params(execution),
            context=context_label(self.smtui.session, arn),
        )

    def _params(self, execution: Execution) -> tuple[tuple[str, str], ...] | None:
        """The values of the parameter columns (none shown: nothing to read); None until read."""
        shown = self.table.parameter_columns
        if not shown:
            return ()
        if execution.parameters is None:
            return None
        return tuple((name, value) for name, value in execution.parameters if name in shown)

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
        """The filter, and the one context the palette switched to (with several)."""
        contexts = self.smtui.session.contexts
        if contexts is None:
            return self.filter.matches(execution)
        context = contexts.context_of(execution.arn)
        if self.only_context and context != self.only_context:
            return False
        return self.filter.matches(execution, context)

    def _today(self) -> date:
        return self.smtui.session.now().astimezone().date()

    def _want_parameters(self, executions: Iterable[Execution]) -> None:
        """A filter that names a parameter can only match executions whose parameters were read: ask the
        monitor for those of every candidate (the executions the other terms match)."""
        if self.filter.reads_parameters:
            self.smtui.session.monitor.want_parameters(e.arn for e in self._unread(executions))

    def _unread(self, executions: Iterable[Execution]) -> Iterator[Execution]:
        """The candidates of a filter naming a parameter whose parameters are not read yet."""
        contexts = self.smtui.session.contexts
        return (
            e
            for e in executions
            if e.parameters is None
            and self.filter.candidates(e, None if contexts is None else contexts.context_of(e.arn))
        )

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
        total = len(self.smtui.session.monitor.executions)
        shown = self.table.row_count
        info = Text()
        if self.filter.error:
            # First, where a narrow terminal does not cut it: the term it names is left out meanwhile.
            info.append(f" {self.filter.error} ·", style=fmt.styled("bold red"))
        info.append(f" {shown} of {total} executions" if shown != total else f" {total} executions")
        if self.marked:
            # Next to the count, so a narrow terminal cuts the sort and the filter before it.
            info.append(f" · {len(self.marked)} marked", style="bold")
            executions = self.smtui.session.monitor.executions
            hidden = sum(1 for arn in self.marked if arn in executions and self.table.shown_row(arn) is None)
            if hidden:
                info.append(f", {hidden} hidden by the filter", style="bold yellow")
            info.append(" (d compares)", style="bright_black")
        if self.only_context:
            info.append(f" · context {self.only_context}", style="bold")
        arrow = "↓" if self.table.sort_reverse else "↑"
        info.append(f" · sorted by {self.table.sort_column} {arrow}", style="bright_black")
        if self.filter.text:
            info.append(" · filter: ", style="bright_black")
            info.append(self.filter.text, style="bold")
        if self.filter.reads_parameters:
            unread = sum(1 for _ in self._unread(self.smtui.session.monitor.executions.values()))
            if unread:
                info.append(f" · reading the parameters of {unread} more", style="yellow")
        if self.filter.active_only:
            info.append(" · active only", style="bold")
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
        """The marked executions, the ones the filter hides included (a mark is a choice the filter does
        not undo; the confirmation counts them), else the one under the cursor."""
        executions = self.smtui.session.monitor.executions
        if self.marked:
            shown = [arn for arn in self.table.ordered_arns() if arn in self.marked]
            hidden = sorted(
                (executions[arn] for arn in self.marked.difference(shown) if arn in executions),
                key=lambda e: e.started.timestamp() if e.started else 0.0,
                reverse=True,
            )
            return [executions[arn] for arn in shown if arn in executions] + hidden
        arn = self.table.cursor_arn
        return [executions[arn]] if arn is not None and arn in executions else []

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
        executions = self.smtui.session.monitor.executions
        rows = [executions[arn] for arn in self.table.ordered_arns() if arn in executions]
        now = self.smtui.session.now()
        self.time_left.new_batch()
        parameters = self.table.parameter_columns
        contexts = self.smtui.session.contexts
        try:
            path = export_executions(
                rows,
                now=now,
                left=lambda e: self.time_left.estimate(e, now),
                parameters=parameters,
                form=ExportFormat(form),
                directory=Path.cwd(),  # which fails too once the directory is deleted
                named_at=datetime.now().astimezone(),
                context=None if contexts is None else (lambda e: contexts.context_of(e.arn)),
            )
        except OSError as error:
            self.notify(f"{error.strerror or error}", title="Not exported", severity="error", markup=False)
            return
        unread = sum(1 for e in rows if e.parameters is None) if parameters else 0
        note = f" ({unread} without their parameters: not read yet)" if unread else ""
        self.notify(f"{path}{note}", title=f"Exported {len(rows):,} rows", markup=False, timeout=8)

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

    async def action_login(self, name: str) -> None:
        """`aws sso login` for a context, the app suspended meanwhile; then that context is retried at once
        (it would also recover by itself, at its next retry, after a login outside)."""
        contexts = self.smtui.session.contexts
        if contexts is None:
            return
        with self.app.suspend():
            problem = sso_login(contexts.profile_of(name))
        if problem is not None:
            self.notify(problem, severity="warning")
        await contexts.retry_now(name)

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
        yield PaletteCommand(
            "execution: open", "Open the step tree of the selected execution", "open_execution"
        )
        yield PaletteCommand(
            "execution: logs",
            "Logs of the failed step of the selected execution, else its running one",
            "open_logs",
        )
        yield PaletteCommand("execution: start", "Start a pipeline with parameters", "start_execution")
        yield PaletteCommand("execution: stop", "Stop the selected/marked executions", "stop_execution")
        yield PaletteCommand("execution: retry", "Retry failed executions (same ARN)", "retry_execution")
        yield PaletteCommand("execution: rerun", "Start new runs with the same parameters", "rerun_execution")
        yield PaletteCommand("execution: copy ARN", "Copy the ARN to the clipboard (OSC 52)", "copy_arn")
        yield PaletteCommand("execution: open in console", "Open the AWS console page", "open_console")
        yield PaletteCommand("executions: filter", "Filter the table", "filter")
        yield PaletteCommand(
            "pipelines", "Every pipeline at a glance: runs, success rate, durations", "open_pipelines"
        )
        yield PaletteCommand(
            "executions: toggle active only", "Show only running executions", "toggle_active"
        )
        yield PaletteCommand("executions: mark", "Mark the selected execution", "mark")
        yield PaletteCommand("executions: export CSV", "The rows shown, to a CSV file", "export('csv')")
        yield PaletteCommand("executions: export JSON", "The rows shown, to a JSON file", "export('json')")
        yield PaletteCommand(
            "executions: columns", "Show parameters of the selected pipeline as columns", "choose_columns"
        )
        yield PaletteCommand(
            "executions: compare", "Compare the marked executions (2 to 8) side by side", "compare"
        )
        yield from context_commands(self.smtui.session, self.only_context or None)
        for column in SORTABLE:
            yield PaletteCommand(
                f"executions: sort by {column}", f"Sort the table by {column}", f"sort('{column}')"
            )
