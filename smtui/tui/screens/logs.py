"""One step's logs, followed while the step runs: `l` on a step (or on an execution: its failed step, else
its running one). Esc goes back; the follow stops when the screen closes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, Static

from smtui.core.errors import AwsError
from smtui.core.events import StepsChanged
from smtui.core.log_buffer import LogBuffer
from smtui.core.log_sources import step_type, steps_to_show
from smtui.core.logs import LogFollowChanged, LogLinesRead, LogState, epoch_ms
from smtui.core.model import StepNode, StepStatus, StepTree
from smtui.tui import format as fmt
from smtui.tui.format import aws_message
from smtui.tui.host import Host, ReportsWorkerFailures
from smtui.tui.palette import PaletteCommand
from smtui.tui.widgets.footer import Footer
from smtui.tui.widgets.log_view import LogView
from smtui.tui.widgets.status_bar import StatusBar

# Keys 2…5: only the lines of the last minute, 5 minutes, 15 minutes, hour (as k9s's since-presets).
SINCE = {"2": ("1m", 60), "3": ("5m", 300), "4": ("15m", 900), "5": ("1h", 3600)}


def step_to_show(tree: StepTree) -> StepNode | None:
    """The step whose logs an execution's `l` opens: the first failed one, else the first running one."""
    chosen = steps_to_show(tree)
    return chosen[0] if chosen else None


class LogsScreen(ReportsWorkerFailures, Screen[None]):
    """Every stream of a step's job, interleaved by time; follows while the job runs."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "back", "Back", id="logs.back"),
        Binding("slash", "search", "Search", id="logs.search", priority=True),
        Binding("n", "next_match", "Next", show=False, id="logs.next_match", tooltip="Next match"),
        Binding(
            "N", "previous_match", "Prev", show=False, id="logs.previous_match", tooltip="Previous match"
        ),
        Binding("e", "first_error", "Error", id="logs.first_error", tooltip="First error line"),
        Binding("s", "toggle_autoscroll", "Autoscroll", id="logs.autoscroll"),
        Binding("w", "toggle_wrap", "Wrap", id="logs.wrap"),
        Binding("t", "toggle_timestamps", "Time", id="logs.timestamps", tooltip="Show timestamps"),
        Binding("0", "tail", "Tail", id="logs.tail", tooltip="Every line, at the end, autoscroll"),
        Binding("1", "head", "Head", id="logs.head", tooltip="Every line, from the first"),
        *(
            Binding(key, f"since({seconds})", f"{label}", show=False, id=f"logs.since_{label}")
            for key, (label, seconds) in SINCE.items()
        ),
        Binding("c", "copy_line", "Copy", id="logs.copy_line", tooltip="Copy the line (OSC 52)"),
        Binding("ctrl+s", "save", "Save", id="logs.save", tooltip="Save the lines to a file"),
    ]
    AUTO_FOCUS = "LogView"

    def __init__(self, arn: str, step: str | None, host: Host) -> None:
        super().__init__()
        self.smtui = host
        self.arn = arn
        self.step = step  # None: chosen when the tree is known (failed, else running)
        self.node: StepNode | None = None
        self.state = LogState.WAITING
        self.reason: str | None = "reading…"
        self.interval: float | None = None
        self.since_label: str | None = None
        self._following: tuple[str, str] | None = None
        self.view = LogView(LogBuffer(1), id="log")

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Static(id="log-title")
        yield self.view
        yield Input(placeholder="search: Enter keeps, Esc clears", id="log-search")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#log-search", Input).display = False
        self.smtui.session.monitor.watch(self.arn)
        self._find_step()
        self._title()

    def on_unmount(self) -> None:
        self.smtui.session.monitor.unwatch(self.arn)
        logs = self.smtui.session.logs
        if self._following is not None and logs is not None:
            self.app.run_worker(logs.stop(*self._following), group="logs-stop")

    # -- data ---------------------------------------------------------------------------------

    def _find_step(self) -> None:
        """Start following once the step is known (the tree may come a poll later)."""
        if self._following is not None:
            return
        tree = self.smtui.session.monitor.tree(self.arn)
        if tree is None:
            return
        if self.step is None:
            node = step_to_show(tree)
            if node is None:
                self._set_state(LogState.NO_LOGS, "no failed or running step here: open one with `l`")
                return
            self.step = node.name
        node = next((n for _, n in tree.walk() if n.name == self.step), None)
        if node is None:
            self._set_state(LogState.NO_LOGS, f"no step {self.step!r} in this execution")
            return
        self.node = node
        logs = self.smtui.session.logs
        if logs is None:
            self._set_state(LogState.WAITING, "not connected yet")
            return
        self._following = (self.arn, node.name)
        self._follow(node)
        self.refresh_bindings()

    @work(group="logs", exit_on_error=False)
    async def _follow(self, node: StepNode) -> None:
        logs = self.smtui.session.logs
        assert logs is not None
        try:
            follower = await logs.follow(self.arn, node)
        except AwsError as error:
            self._set_state(LogState.ERROR, aws_message(error))
            return
        self.view.buffer = follower.buffer
        self.view.source = follower.source
        self.view.reset()
        self._set_state(follower.state, follower.reason)

    def monitor_event(self, event: Any) -> None:
        if isinstance(event, LogLinesRead):
            if (event.execution_arn, event.step) == self._following:
                self.view.lines_added()
                self._title()
        elif isinstance(event, LogFollowChanged):
            if (event.execution_arn, event.step) == self._following:
                if event.source is not None and event.source != self.view.source:
                    self.view.source = event.source
                    self.view.reset()
                self.interval = event.interval
                self._set_state(event.state, event.reason)
        elif isinstance(event, StepsChanged) and event.execution_arn == self.arn:
            tree = self.smtui.session.monitor.tree(self.arn)
            if self.step is not None and tree is not None:
                self.node = next((n for _, n in tree.walk() if n.name == self.step), self.node)
            self._find_step()
            self._title()
        elif hasattr(event, "health"):
            self.query_one(StatusBar).show(self.smtui.status_text())

    def tick(self) -> None:
        return None

    def session_changed(self) -> None:
        self._find_step()

    def _set_state(self, state: LogState, reason: str | None) -> None:
        self.state, self.reason = state, reason
        self._title()

    def _title(self) -> None:
        self.query_one(StatusBar).show(self.smtui.status_text())
        execution = self.smtui.session.monitor.executions.get(self.arn)
        line = Text(" Logs ", style="bold reverse")
        line.append(f" {self.step or '…'}", style="bold")
        if self.node is not None:
            line.append(f" ({step_type(self.node)}) ")
            line.append_text(fmt.step_status_text(self.node.status))
        if execution is not None:
            line.append(
                f"  {execution.pipeline_name} / {fmt.execution_name(execution)}", style="bright_black"
            )
        line.append("\n ")
        line.append_text(self._state_text())
        self.query_one("#log-title", Static).update(line)

    def _state_text(self) -> Text:
        view = self.view
        text = Text()
        if self.state is LogState.FOLLOWING:
            text.append("following", style="green")
        elif self.state is LogState.ENDED:
            text.append("ended", style="bright_black")
        elif self.state is LogState.ERROR:
            text.append(f"error: {self.reason}", style="red")
        elif self.reason:
            text.append(self.reason, style="yellow" if self.state is LogState.WAITING else "")
        if self.state in (LogState.NO_LOGS, LogState.WAITING) and view.count == 0:
            return text
        text.append(f" · {view.count:,} lines")
        if view.buffer.first_seq:
            text.append(f" (the {view.buffer.first_seq:,} oldest dropped)", style="bright_black")
        text.append(" · autoscroll" if view.autoscroll else " · autoscroll off", style="bright_black")
        if view.wrap:
            text.append(" · wrap", style="bright_black")
        if self.since_label:
            text.append(f" · since {self.since_label}", style="bold")
        if view.search:
            found = len(view.matches)
            counted = "searching…" if view.searching else f"{found} match{'' if found == 1 else 'es'}"
            text.append(f" · /{view.search}: {counted}", style="yellow")
        return text

    # -- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "first_error":
            failed = self.node is not None and self.node.status is StepStatus.FAILED
            return True if failed else None
        return True

    def action_back(self) -> None:
        box = self.query_one("#log-search", Input)
        if box.has_focus:
            box.value = ""
            box.display = False
            self.view.set_search("")
            self.view.focus()
            self._title()
            return
        self.app.pop_screen()

    def action_search(self) -> None:
        box = self.query_one("#log-search", Input)
        if box.has_focus:
            raise SkipAction()
        box.display = True
        self.set_focus(box)

    @on(Input.Changed, "#log-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.view.set_search(event.value)
        self._title()

    @on(LogView.Searched)
    def _searched(self) -> None:
        self._title()

    @on(Input.Submitted, "#log-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self.query_one("#log-search", Input).display = bool(event.value)
        self.view.focus()
        self._jump(self.view.next_match(), "no line matches")

    def _jump(self, seq: int | None, missing: str) -> None:
        if seq is None:
            self.notify(missing, severity="warning", timeout=3)
            return
        self.view.autoscroll = False
        self.view.move_to(seq, center=True)
        self._title()

    def action_next_match(self) -> None:
        self._jump(self.view.next_match(), "no line matches" if self.view.search else "search first: /")

    def action_previous_match(self) -> None:
        self._jump(self.view.next_match(False), "no line matches" if self.view.search else "search first: /")

    def action_first_error(self) -> None:
        self._jump(self.view.first_error(), "no error line in what is shown")

    def action_toggle_autoscroll(self) -> None:
        self.view.autoscroll = not self.view.autoscroll
        if self.view.autoscroll:
            self.view.move_to(None)
        self._title()

    def action_toggle_wrap(self) -> None:
        self.view.set_display(wrap=not self.view.wrap)
        self._title()

    def action_toggle_timestamps(self) -> None:
        self.view.set_display(timestamps=not self.view.timestamps)
        self._title()

    def action_tail(self) -> None:
        self.since_label = None
        self.view.since_seq = 0
        self.view.autoscroll = True
        self.view.refit()
        self.view.move_to(None)
        self._title()

    def action_head(self) -> None:
        self.since_label = None
        self.view.since_seq = 0
        self.view.autoscroll = False
        self.view.refit()
        self.view.move_to(self.view.first)
        self._title()

    def action_since(self, seconds: int) -> None:
        label = next(label for label, s in SINCE.values() if s == seconds)
        cutoff = epoch_ms(self.smtui.session.now() - timedelta(seconds=seconds))
        self.since_label = label
        self.view.since_seq = self.view.first_since(cutoff)
        self.view.autoscroll = True
        self.view.refit()
        self.view.move_to(None)
        self._title()

    def action_copy_line(self) -> None:
        seq = self.view.cursor_seq()
        line = self.view.line(seq) if seq is not None else None
        if line is None:
            self.notify("no line to copy", severity="warning", timeout=3)
            return
        self.app.copy_to_clipboard(line.message)
        self.notify(fmt.shorten(line.message, 200), title="Copied", markup=False)

    def action_save(self) -> None:
        """The lines shown, as `smtui logs` prints them, to a file in the current directory."""
        view = self.view
        execution_id = fmt.execution_id(self.arn)
        path = Path.cwd() / f"smtui-{execution_id}-{self.step or 'logs'}.log"
        try:
            with path.open("w", encoding="utf-8") as out:
                for seq in range(view.first, view.buffer.total):
                    line = view.line(seq)
                    if line is not None:
                        stamp = datetime.fromtimestamp(line.timestamp / 1000, UTC)
                        stream = f" [{line.stream}]" if view.show_streams else ""
                        out.write(f"{stamp.isoformat(timespec='milliseconds')}{stream} {line.message}\n")
        except OSError as error:
            self.notify(f"{path}: {error.strerror or error}", title="Not saved", severity="error")
            return
        self.notify(str(path), title=f"Saved {view.count:,} lines", markup=False, timeout=8)

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield PaletteCommand("logs: search", "Search the lines (n/N: next/previous match)", "search")
        yield PaletteCommand("logs: next match", "The next line that matches", "next_match")
        yield PaletteCommand("logs: previous match", "The previous line that matches", "previous_match")
        yield PaletteCommand("logs: first error", "Jump to the first error line", "first_error")
        yield PaletteCommand("logs: toggle autoscroll", "Follow the end as lines come", "toggle_autoscroll")
        yield PaletteCommand("logs: toggle wrap", "Wrap long lines", "toggle_wrap")
        yield PaletteCommand("logs: toggle timestamps", "Show each line's time", "toggle_timestamps")
        yield PaletteCommand("logs: tail", "Every line, at the end", "tail")
        yield PaletteCommand("logs: head", "Every line, from the first", "head")
        for label, seconds in SINCE.values():
            yield PaletteCommand(
                f"logs: since {label}", f"Only the lines of the last {label}", f"since({seconds})"
            )
        yield PaletteCommand("logs: copy line", "Copy the cursor line (OSC 52)", "copy_line")
        yield PaletteCommand("logs: save", "Save the lines to a file", "save")
        yield PaletteCommand("logs: back", "Back", "back")
