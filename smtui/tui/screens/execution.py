"""One execution: the live step tree beside the selected step's details and the parameters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.events import Resize
from textual.widgets import Static, Tree

from smtui.core.events import JobDescribed, MetricHistoryRead, RequestFailed, RequestKind, RequestWaiting
from smtui.core.jobs import JobInfo, MetricHistory, describable
from smtui.core.model import Execution, ModelPackage, StepNode
from smtui.core.timeline import build_timeline
from smtui.core.timing import execution_elapsed, step_elapsed
from smtui.tui import format as fmt
from smtui.tui.host import Host
from smtui.tui.palette import PaletteCommand
from smtui.tui.screens.step_acting import StepActingScreen
from smtui.tui.widgets.footer import Footer
from smtui.tui.widgets.job_panel import job_panel
from smtui.tui.widgets.status_bar import StatusBar
from smtui.tui.widgets.step_details import StepDetails, job_rows, package_rows, parameters_panel, step_panel
from smtui.tui.widgets.step_tree import StepTreeView
from smtui.tui.widgets.timeline_view import TimelineView

NARROW_BELOW = 110  # columns under which the details go below the tree instead of beside it


def summary(execution: Execution | None, progress: tuple[int, int] | None, now: Any) -> Text:
    if execution is None:
        return Text(" execution not known (yet)", style="bright_black")
    line = Text(" ")
    line.append_text(fmt.execution_status_text(execution.status))
    line.append(f"   {execution.pipeline_name}", style="bold")
    line.append(f" / {fmt.execution_name(execution)}")
    line.append(f"  elapsed {fmt.duration(execution_elapsed(execution, now))}")
    if progress is not None:
        line.append("  ")
        line.append_text(fmt.progress_bar(progress, status=execution.status))
    # Last: on a narrow terminal it is what wraps.
    line.append(f"  started {fmt.timestamp(execution.started)}", style=fmt.styled("bright_black"))
    if execution.failure_reason:
        line.append("\n ")
        line.append(fmt.shorten(execution.failure_reason, 300), style=fmt.styled("red"))
    return line


class ExecutionScreen(StepActingScreen):
    """Opened with Enter on the executions table; Escape goes back. The step actions (`b`, `A`, `R`) are
    `StepActingScreen`'s."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "app.pop_screen", "Back", id="execution.back"),
        Binding("l", "open_logs", "Logs", id="step.logs", tooltip="The selected step's logs"),
        Binding("x", "stop_execution", "Stop", id="execution.stop"),
        Binding("r", "retry_execution", "Retry", id="execution.retry", tooltip="Retry failed (same ARN)"),
        Binding("e", "rerun_execution", "Rerun", id="execution.rerun", tooltip="New run, same parameters"),
        Binding("c", "copy_arn", "Copy ARN", id="execution.copy_arn"),
        Binding("t", "toggle_timeline", "Timeline", id="execution.timeline", tooltip="Tree / Gantt view"),
        Binding("y", "copy_job_arn", "Copy job ARN", show=False, id="step.copy_job_arn"),
        Binding(
            "o",
            "open_console",
            "Console",
            show=False,
            id="execution.console",
            tooltip="Open in the AWS console",
        ),
    ]

    def __init__(self, arn: str, host: Host) -> None:
        super().__init__(host)
        self.arn = arn
        self._ready = False
        self._had_job = False
        self._summary_shown: Text | None = None
        self._details_shown: tuple[object, str] | None = None
        self._job_notes: dict[str, Text] = {}  # job ARN -> why its details are not shown (yet)

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Static(id="summary")
        with Horizontal(id="execution-body"):
            yield StepTreeView(now=self._now, history=self._step_history, id="steps")
            yield TimelineView(id="timeline")
            with VerticalScroll(id="side"):
                yield StepDetails(id="step-details")
                yield Static(id="parameters")
        yield Footer()

    def _now(self) -> Any:
        return self.smtui.session.now()

    def _step_history(self) -> Mapping[str, list[float]]:
        return self.smtui.session.monitor.step_durations(self.arn)

    def on_mount(self) -> None:
        self._ready = True
        self.smtui.session.monitor.watch(self.arn)
        self.smtui.watch_execution(self.arn)
        self._layout(self.app.size.width)
        self.refresh_all()
        self.tree_view.focus()

    def on_unmount(self) -> None:
        self._ready = False
        self.smtui.session.monitor.unwatch(self.arn)

    def on_resize(self, event: Resize) -> None:
        self._layout(event.size.width)

    def _layout(self, width: int) -> None:
        self.query_one("#execution-body").set_class(width < NARROW_BELOW, "-narrow")

    # -- data ---------------------------------------------------------------------------------

    def monitor_event(self, event: Any) -> None:
        if not self._ready:
            return
        if isinstance(event, JobDescribed | MetricHistoryRead | RequestWaiting | RequestFailed):
            self._job_answered(event)
            return
        arns = getattr(event, "arns", None)
        if (arns is not None and self.arn in arns) or getattr(event, "execution_arn", None) == self.arn:
            self.refresh_all()
        elif hasattr(event, "health"):
            self._status()

    def session_changed(self) -> None:
        self.refresh_all()

    def tick(self) -> None:
        if not self._ready:
            return
        execution = self.execution
        if execution is not None and execution.is_active:
            self.tree_view.tick()
            self._timeline()
            self._summary()
            self._details()
        self._status()

    def refresh_all(self) -> None:
        tree = self.smtui.session.monitor.tree(self.arn)
        if tree is not None:
            self.tree_view.show_tree(tree)
            self._timeline()
        self._status()
        self._summary()
        self._details()
        self.query_one("#parameters", Static).update(parameters_panel(self.execution))

    def _status(self) -> None:
        self.query_one(StatusBar).show(self.smtui.status_text())

    # -- the timeline (`t`): the Gantt view in the tree's place; its cursor moves the tree's -----

    @property
    def timeline_shown(self) -> bool:
        return self.query_one("#execution-body").has_class("-timeline")

    def _timeline(self) -> None:
        if not self.timeline_shown:
            return  # built only while shown
        monitor, execution = self.smtui.session.monitor, self.execution
        tree = monitor.tree(self.arn)
        if execution is not None and tree is not None:
            runs, history = monitor.runs(self.arn), monitor.step_durations(self.arn)
            self.query_one(TimelineView).show(build_timeline(execution, tree, runs, self._now(), history))

    def action_toggle_timeline(self) -> None:
        body, view = self.query_one("#execution-body"), self.query_one(TimelineView)
        body.toggle_class("-timeline")
        if self.timeline_shown:
            self._timeline()
            view.move_to(self.tree_view.cursor_index())
            view.focus()
        else:
            self.tree_view.select_index(view.cursor)  # and scrolled to it
            self._details()
            self.tree_view.focus()

    @on(TimelineView.StepHighlighted)
    def _timeline_moved(self, event: TimelineView.StepHighlighted) -> None:
        self.tree_view.select_index(event.index, scroll=False)  # `l`, `b`, `A`, `R` act on the tree's step

    @on(TimelineView.StepChosen)
    def _timeline_chosen(self, event: TimelineView.StepChosen) -> None:
        self.action_toggle_timeline()  # back to the tree, its details beside it

    def _summary(self) -> None:
        monitor = self.smtui.session.monitor
        text = summary(self.execution, monitor.progress(self.arn), self._now())
        if monitor.tree(self.arn) is None:
            text = Text.assemble(text, Text("\n loading the definition…", style="bright_black"))
        if text != self._summary_shown:
            # A layout pass only when the height changes: the ticking elapsed time keeps it.
            lines = text.plain.count("\n")
            layout = self._summary_shown is None or self._summary_shown.plain.count("\n") != lines
            self._summary_shown = text
            self.query_one("#summary", Static).update(text, layout=layout)

    def _job_answered(self, event: JobDescribed | MetricHistoryRead | RequestWaiting | RequestFailed) -> None:
        """The monitor's answer about a job (`want_job`, `want_metric_history`): the details show it, or why
        it is not there."""
        if isinstance(event, JobDescribed):
            self._job_notes.pop(event.job.arn, None)
        elif isinstance(event, MetricHistoryRead):
            pass
        elif event.request.kind not in (RequestKind.JOB, RequestKind.METRIC_HISTORY):
            return
        elif isinstance(event, RequestWaiting):
            self._job_notes[event.request.subject] = Text(event.reason, style=fmt.styled("yellow"))
        else:
            self._job_notes[event.request.subject] = Text(event.message, style=fmt.styled("red"))
        self._details()

    def _details(self) -> None:
        if self.timeline_shown:
            return  # hidden behind the timeline: shown again with the tree (a new panel lays the screen out)
        node = self.tree_view.selected_step()
        job_arn = node.run.job_arn if node is not None and node.run is not None else None
        rows: list[tuple[str, Text | str]] = []
        about_job: tuple[JobInfo, MetricHistory | None] | None = None
        if job_arn is not None and describable(job_arn):
            monitor = self.smtui.session.monitor
            # Asked at every repaint: the monitor describes it only when what it knows is stale (a
            # finished job never again), inside its budget; the answer comes as an event.
            monitor.want_job(job_arn)
            job = monitor.job(job_arn)
            note = self._job_notes.get(job_arn)
            if job is None:
                rows = [("Job status", note or Text("loading…", style="dim"))]
            else:
                if isinstance(job, ModelPackage):
                    rows = package_rows(job) + ([("Job details", note)] if note is not None else [])
                else:
                    rows = job_rows(job) + ([("Job details", note)] if note is not None else [])
                    monitor.want_metric_history(job_arn)  # read from the log: once when finished, else ≤ 30 s
                    about_job = (job, monitor.metric_history(job_arn))
        # The panel is rebuilt only when what it says changes, and laid out again only when the step or
        # its rows changed (a ticking duration keeps the height).
        shape = (node, tuple(rows), about_job)
        duration = fmt.duration(step_elapsed(node, self._now())) if node is not None else ""
        if (shape, duration) == self._details_shown:
            return
        layout = self._details_shown is None or self._details_shown[0] != shape
        self._details_shown = (shape, duration)
        panel = [job_panel(*about_job, self._now())] if about_job is not None else []
        self.query_one(StepDetails).update(Group(step_panel(node, self._now(), rows), *panel), layout=layout)

    def package_changed(self, package_arn: str) -> None:
        """Approved or rejected here: read it again at once."""
        self.smtui.session.monitor.want_job(package_arn, fresh=True)

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[StepNode]) -> None:
        self._details()
        node = self.tree_view.selected_step()
        has_job = node is not None and node.run is not None and node.run.job_arn is not None
        if has_job != self._had_job:  # refresh_bindings() rebuilds the footer: only on a change
            self._had_job = has_job
            self.refresh_bindings()

    # -- actions ------------------------------------------------------------------------------

    def target_executions(self) -> list[Execution]:
        execution = self.execution
        return [execution] if execution is not None else []

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy_job_arn":
            node = self.tree_view.selected_step() if self.is_mounted else None
            return True if node is not None and node.run is not None and node.run.job_arn else None
        return super().check_action(action, parameters)

    def action_open_logs(self) -> None:
        node = self.tree_view.selected_step()
        if node is not None:
            self.post_message(self.LogsOpened(self.arn, node.name))

    def action_copy_arn(self) -> None:
        self.app.copy_to_clipboard(self.arn)
        self.notify(self.arn, title="Copied")

    def action_copy_job_arn(self) -> None:
        node = self.tree_view.selected_step()
        if node is not None and node.run is not None and node.run.job_arn:
            self.app.copy_to_clipboard(node.run.job_arn)
            self.notify(node.run.job_arn, title="Copied")

    def action_open_console(self) -> None:
        execution = self.execution
        if execution is not None:
            url = fmt.console_url(execution.arn, execution.pipeline_name)
            self.app.open_url(url)
            self.notify(url, title="Opening the AWS console")

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield PaletteCommand("execution: stop", "Stop this execution", "stop_execution")
        yield PaletteCommand("execution: retry", "Retry this execution (same ARN)", "retry_execution")
        yield PaletteCommand(
            "execution: rerun", "Start a new run with the same parameters", "rerun_execution"
        )
        yield PaletteCommand("execution: copy ARN", "Copy the ARN to the clipboard (OSC 52)", "copy_arn")
        yield PaletteCommand("step: logs", "Open the selected step's logs", "open_logs")
        yield PaletteCommand(
            "execution: timeline", "Switch between the step tree and the Gantt view", "toggle_timeline"
        )
        yield from self.step_palette_commands()
        yield PaletteCommand("step: copy job ARN", "Copy the selected step's job ARN", "copy_job_arn")
        yield PaletteCommand("execution: open in console", "Open the AWS console page", "open_console")
        yield PaletteCommand("execution: back", "Back to the executions", "app.pop_screen")
