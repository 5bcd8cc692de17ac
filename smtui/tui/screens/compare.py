"""2–8 executions side by side: a column per execution, a row per header field, parameter, step, final
metric and billable step (`smtui.core.compare`, the comparison `smtui diff` prints).

What it shows is read through the monitor, never by the screen: `Monitor.compare` has the executions read
as rows in view are (definition, parameters, steps and end time once; steps again while they run), and
`want_job` describes the jobs behind their steps, a finished job once for the whole session. The screen
rebuilds the comparison when one of those answers arrives (soon after, once for a burst of them), and
each second while an execution runs (its elapsed time).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static

from smtui.core.compare import BEST, DIFFERS, MIN_EXECUTIONS, Comparison, ExecutionData, build_comparison
from smtui.core.events import (
    ExecutionsChanged,
    HealthChanged,
    JobDescribed,
    RequestFailed,
    RequestKind,
    StepsChanged,
)
from smtui.core.jobs import JobInfo, job_kind
from smtui.tui import format as fmt
from smtui.tui.host import Host, ReportsWorkerFailures
from smtui.tui.palette import PaletteCommand
from smtui.tui.widgets.compare_rows import compare_rows, metric_of
from smtui.tui.widgets.compare_table import NARROW_BELOW, CompareColumn, CompareTable
from smtui.tui.widgets.footer import Footer
from smtui.tui.widgets.status_bar import StatusBar

SETTLE = 0.05  # seconds an answer waits for the ones arriving with it before the table is rebuilt


@dataclass(frozen=True, slots=True)
class Loading:
    """What the comparison still waits for: it is complete when every count is zero."""

    executions: int = 0  # not known to the monitor (yet)
    steps: int = 0  # executions whose definition, steps or parameters are not read yet
    jobs: int = 0  # jobs not described yet
    failed: int = 0  # jobs whose description failed: their cost shows `-`

    @property
    def complete(self) -> bool:
        return not (self.executions or self.steps or self.jobs)


class CompareScreen(ReportsWorkerFailures, Screen[None]):
    """Opened with `d` on the marked executions; Escape goes back. Enter opens the execution of the column
    under the cursor, `x` drops that column, `m` turns the metric under the cursor's direction around."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "app.pop_screen", "Back", id="compare.back"),
        Binding(
            "enter",
            "open_execution",
            "Open",
            id="compare.open",
            tooltip="Open the execution of the column under the cursor",
        ),
        Binding("x", "drop_column", "Drop column", id="compare.drop", tooltip="Drop this execution"),
        Binding(
            "m",
            "toggle_direction",
            "Lower/higher better",
            id="compare.direction",
            tooltip="Whether lower or higher is better for the metric under the cursor",
        ),
        Binding(
            "f",
            "toggle_equal",
            "Equal parameters",
            id="compare.equal",
            tooltip="Show or fold the parameters that are the same in every execution",
        ),
    ]
    AUTO_FOCUS = "#compare"

    @dataclass
    class ExecutionOpened(Message):
        """Enter on a column: the app opens the execution's screen."""

        arn: str

    def __init__(self, arns: Sequence[str], host: Host) -> None:
        super().__init__()
        self.smtui = host
        self.arns = list(dict.fromkeys(arns))
        self.show_equal = False
        self.lower: dict[tuple[str, str], bool] = {}  # the direction the user chose for a metric
        self.waiting = Loading()
        self.comparison: Comparison | None = None  # as last shown
        self._ready = False
        self._jobs: set[str] = set()  # the job ARNs behind the compared steps
        self._failed: set[str] = set()  # jobs whose description failed
        self._timer: Timer | None = None
        self._info_shown: Text | None = None
        self.table = CompareTable(id="compare")
        self.info = Static(id="info")

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield self.info
        yield self.table
        yield Footer()

    def on_mount(self) -> None:
        self._ready = True
        self.smtui.session.monitor.compare(self.arns)
        self.refresh_comparison()

    def on_unmount(self) -> None:
        self._ready = False
        self.smtui.session.monitor.compare(())

    def on_resize(self, event: Resize) -> None:
        if (event.size.width < NARROW_BELOW) != self.table.narrow:
            self.refresh_comparison()  # shorter labels and cells, or longer ones

    # -- data ---------------------------------------------------------------------------------

    def monitor_event(self, event: Any) -> None:
        if not self._ready:
            return
        ours = self.arns
        if isinstance(event, ExecutionsChanged):
            relevant = not event.arns.isdisjoint(ours)
        elif isinstance(event, StepsChanged):
            relevant = event.execution_arn in ours
        elif isinstance(event, JobDescribed):
            relevant = event.job.arn in self._jobs
        elif isinstance(event, RequestFailed):
            relevant = event.request.kind is RequestKind.JOB and event.request.subject in self._jobs
            if relevant:
                self._failed.add(event.request.subject)
        else:
            relevant = False
            if isinstance(event, HealthChanged):
                self._status()
        if relevant and self._timer is None:
            self._timer = self.set_timer(SETTLE, self._settled)

    def _settled(self) -> None:
        self._timer = None
        self.refresh_comparison()

    def session_changed(self) -> None:
        self.smtui.session.monitor.compare(self.arns)
        self.refresh_comparison()

    def tick(self) -> None:
        if not self._ready:
            return
        self._status()
        executions = self.smtui.session.monitor.executions
        if any((e := executions.get(arn)) is not None and e.is_active for arn in self.arns):
            self.refresh_comparison()  # elapsed times move

    def collect(self) -> tuple[list[ExecutionData], Loading]:
        """What the monitor knows of each execution, and asks it for the jobs it has not described."""
        monitor = self.smtui.session.monitor
        now = self.smtui.session.now()
        data: list[ExecutionData] = []
        missing = steps = jobs_left = 0
        for arn in self.arns:
            execution = monitor.executions.get(arn)
            tree = monitor.tree(arn)
            if execution is None or tree is None:
                missing += execution is None
                steps += execution is not None
                continue
            runs = monitor.runs(arn)
            if execution.parameters is None or monitor.progress(arn) is None:
                steps += 1  # its parameters or its steps are on their way
            jobs: dict[str, JobInfo] = {}
            for job_arn in sorted({r.job_arn for r in runs if r.job_arn and job_kind(r.job_arn)}):
                self._jobs.add(job_arn)
                monitor.want_job(job_arn)  # a finished one is described once; a running one at its pace
                job = monitor.job(job_arn)
                if isinstance(job, JobInfo):
                    jobs[job_arn] = job
                elif job_arn not in self._failed:
                    jobs_left += 1
            data.append(ExecutionData(execution, tree, runs, jobs, now))
        failed = len(self._failed - {j for d in data for j in d.jobs})
        return data, Loading(missing, steps, jobs_left, failed)

    def refresh_comparison(self) -> None:
        if not self._ready:
            return
        data, self.waiting = self.collect()
        self._status()
        self._info(len(data))
        if len(data) < MIN_EXECUTIONS and not self.table.row_count:
            return  # nothing to compare yet: the info line says what it waits for
        comparison = self.comparison = build_comparison(data)
        rows = compare_rows(comparison, show_equal=self.show_equal, lower=self.lower)
        columns = [
            CompareColumn(c.execution.arn, fmt.execution_name(c.execution)) for c in comparison.columns
        ]
        self.table.show(columns, rows, narrow=self.app.size.width < NARROW_BELOW)

    def _status(self) -> None:
        self.query_one(StatusBar).show(self.smtui.status_text())

    def _info(self, shown: int) -> None:
        loading, total = self.waiting, len(self.arns)
        info = Text(f" Comparing {total} executions" if shown == total else f" Comparing {shown} of {total}")
        waits = [
            (loading.executions, "not known yet"),
            (loading.steps, "steps to read"),
            (loading.jobs, "jobs to describe"),
        ]
        told = [f"{count} {what}" for count, what in waits if count]
        if told:
            info.append(" · loading: " + ", ".join(told) + "…", style=fmt.styled("yellow"))
        if loading.failed:
            info.append(f" · {loading.failed} jobs could not be read", style=fmt.styled("red"))
        info.append(
            f" · {DIFFERS} differs  {BEST} best  ↓↑ lower/higher better  ×N attempts  ⚡ cache hit",
            style=fmt.styled("bright_black"),
        )
        if info != self._info_shown:
            self._info_shown = info
            self.info.update(info, layout=False)

    # -- actions ------------------------------------------------------------------------------

    def action_open_execution(self) -> None:
        arn = self.table.cursor_arn
        if arn is not None:  # None until the first execution is read
            self.post_message(self.ExecutionOpened(arn))

    @on(CompareTable.Selected)
    def _cell_selected(self, event: CompareTable.Selected) -> None:
        event.stop()  # a click on the cell under the cursor
        self.post_message(self.ExecutionOpened(event.arn))

    def action_drop_column(self) -> None:
        arn = self.table.cursor_arn
        if arn is None:
            return
        if len(self.arns) <= MIN_EXECUTIONS:
            self.notify(f"A comparison needs {MIN_EXECUTIONS} executions: Esc goes back", severity="warning")
            return
        self.arns.remove(arn)
        self.smtui.session.monitor.compare(self.arns)
        self.refresh_comparison()

    def action_toggle_direction(self) -> None:
        key = self.table.cursor_row_key
        found = metric_of(key) if key is not None else None
        if found is None:
            self.notify("Move the cursor to a metric's row (Final metrics)", severity="warning")
            return
        for row in self.comparison.metrics if self.comparison is not None else ():
            if (row.step, row.metric) == found:
                self.lower[found] = not self.lower.get(found, row.lower_is_better)
        self.refresh_comparison()

    def action_toggle_equal(self) -> None:
        self.show_equal = not self.show_equal
        self.refresh_comparison()

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield PaletteCommand(
            "compare: open", "Open the execution of the column under the cursor", "open_execution"
        )
        yield PaletteCommand("compare: drop column", "Drop the execution under the cursor", "drop_column")
        yield PaletteCommand(
            "compare: toggle direction",
            "Lower or higher is better for the metric under the cursor",
            "toggle_direction",
        )
        yield PaletteCommand("compare: equal parameters", "Show or fold the equal parameters", "toggle_equal")
        yield PaletteCommand("compare: back", "Back to the executions", "app.pop_screen")
