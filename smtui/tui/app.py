"""The Textual app: holds the session, routes monitor events to screens, owns global keys, and navigates:
screens post what happened (`ExecutionOpened`, `ExecutionStarted`, ...) and the app decides what to show."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from time import monotonic
from typing import Any, ClassVar, Protocol, runtime_checkable

from rich.text import Text
from rich.traceback import Traceback
from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.notifications import Notification, SeverityLevel
from textual.screen import Screen

from smtui.core.model import Execution, ExecutionStatus
from smtui.tui import format as fmt
from smtui.tui.host import ReportsWorkerFailures
from smtui.tui.palette import Commanding
from smtui.tui.screens.acting import ActingScreen
from smtui.tui.screens.compare import CompareScreen
from smtui.tui.screens.definition import DefinitionScreen
from smtui.tui.screens.execution import ExecutionScreen
from smtui.tui.screens.executions import ExecutionsScreen
from smtui.tui.screens.keys import KeysScreen
from smtui.tui.screens.logs import LogsScreen
from smtui.tui.screens.pipelines import PipelinesScreen
from smtui.tui.screens.start import StartScreen
from smtui.tui.session import Session, SessionFailed
from smtui.tui.toasts import Toasts

BUG_TOAST = 10.0  # seconds the toast of a failed worker shows


@runtime_checkable
class MonitorAware(Protocol):
    """A screen that wants the monitor's events (the executions and execution screens, the start form)."""

    def monitor_event(self, event: Any) -> None: ...
    def tick(self) -> None: ...
    def session_changed(self) -> None: ...


class SmtuiApp(App[None]):
    """smtui: every execution live, step trees, start/stop/retry from the keyboard."""

    CSS_PATH = "smtui.tcss"
    TITLE = "smtui"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave smtui"),
        Binding("question_mark", "keys", "Keys", id="app.keys", tooltip="Every key of this screen"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="app.refresh", tooltip="Poll now"),
    ]

    class MonitorUpdated(Message):
        """The monitor published an event (posted from its subscription callback)."""

        def __init__(self, event: Any) -> None:
            super().__init__()
            self.event = event

    def __init__(
        self,
        session: Session,
        *,
        keymap: Mapping[str, str] | None = None,
        bell: bool = False,
        tick_interval: float = 1.0,
        connect: Callable[[], AbstractAsyncContextManager[Session]] | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        # With `connect`, `session` is a placeholder shown at once while the real one opens (the demo's
        # emulator takes seconds to start): the screen appears first, the data when it is there.
        self._connect = connect
        self.bell_on_finish = bell
        self.watched: set[str] = set()
        self._last_status: dict[str, ExecutionStatus] = {}
        self._tick_interval = tick_interval
        self._keymap = dict(keymap or {})
        self._unsubscribe: Any = None
        self._unsubscribe_logs: Any = None
        self._toasts = Toasts(self)
        self._counts: Counter[ExecutionStatus] | None = None
        self._counts_at = 0.0

    def on_mount(self) -> None:
        if self._keymap:
            self.set_keymap(self._keymap)
        self._attach_session(self.session)
        self.push_screen(ExecutionsScreen(self))
        if self._tick_interval > 0:
            self.set_interval(self._tick_interval, self.tick)
        if self._connect is not None:
            # After the first frame: opening can block the loop for a moment (the demo seeds its emulator).
            connect = self._connect
            self.set_timer(0.05, lambda: self.run_worker(self._open(connect), group="session"))

    def _attach_session(self, session: Session) -> None:
        self.on_unmount()
        self.session = session
        self._last_status = {arn: ex.status for arn, ex in session.monitor.executions.items()}
        self._unsubscribe = session.monitor.subscribe(self._forward)
        # Log lines and states reach the screens the way the monitor's events do.
        self._unsubscribe_logs = session.logs.subscribe(self._forward) if session.logs is not None else None

    async def _open(self, connect: Callable[[], AbstractAsyncContextManager[Session]]) -> None:
        """Open the real session, show it, and keep it open until the app exits (the worker is cancelled).
        One that cannot open ends the app with its reason (exit 1), not a traceback."""
        try:
            async with connect() as session:
                self._attach_session(session)
                for screen in self._live_screens():
                    screen.session_changed()
                await asyncio.Event().wait()
        except SessionFailed as failed:
            self.exit(return_code=1, message=Text(f"smtui: {failed}"))  # Text: no markup in the reason

    def _forward(self, event: Any) -> None:
        # Called by the monitor inside the event loop; handling happens in the message handler.
        self.post_message(self.MonitorUpdated(event))

    def on_unmount(self) -> None:
        for unsubscribe in (self._unsubscribe, self._unsubscribe_logs):
            if unsubscribe is not None:
                unsubscribe()

    # -- monitor events -----------------------------------------------------------------------

    def on_smtui_app_monitor_updated(self, message: MonitorUpdated) -> None:
        event = message.event
        arns = getattr(event, "arns", None)
        if arns is not None:
            self._notify_finished(arns)
        health = getattr(event, "health", None)
        if health is not None:
            self._notify_trouble(health.error)
        with self.batch_update():
            for screen in self._live_screens():
                screen.monitor_event(event)

    def tick(self) -> None:
        """What each `tick_interval` does: the screens take in the monitor's changes and move elapsed
        times (tests on a manual clock pass `tick_interval=0` and tick on it)."""
        with self.batch_update():
            for screen in self._live_screens():
                screen.tick()

    def _live_screens(self) -> list[MonitorAware]:
        # Events can arrive while a screen is still composing or already closing: skip those.
        if not self.is_running:
            return []
        return [
            s for s in self.screen_stack if isinstance(s, MonitorAware) and s.is_mounted and s.is_attached
        ]

    def status_counts(self) -> Mapping[ExecutionStatus, int]:
        """Executions by status for the header; recounted at most twice a second (there may be thousands)."""
        now = monotonic()
        if self._counts is None or now - self._counts_at > 0.5:
            self._counts = Counter(e.status for e in self.session.monitor.executions.values())
            self._counts_at = now
        return self._counts

    def status_text(self) -> Text:
        """The header line every screen shows: endpoint, counts by status, last refresh, health."""
        from smtui.tui.widgets.status_bar import status_line

        health = self.session.monitor.health
        return status_line(
            endpoint=self.session.endpoint_label,
            counts=self.status_counts(),
            last_refresh=health.last_refresh,
            connected=health.connected,
            throttled=health.throttled,
            error=health.error,
            read_only=self.session.read_only,
            updates=health.updates,
            contexts=self._context_states(),
        )

    def _context_states(self) -> list[tuple[str, str]]:
        """Each context's state for the header, with several contexts."""
        contexts = self.session.contexts
        if contexts is None:
            return []
        return [
            (name, "error" if h.error or not h.connected else "throttled" if h.throttled else "ok")
            for name, h in contexts.healths.items()
        ]

    def watch_execution(self, arn: str) -> None:
        """Ask to be told when this execution ends (toast, and the bell if configured)."""
        self.watched.add(arn)

    def _notify_finished(self, arns: Iterable[str]) -> None:
        executions = self.session.monitor.executions
        for arn in arns:
            execution = executions.get(arn)
            if execution is None:
                self._last_status.pop(arn, None)  # forgotten (`history`): nothing more to tell
                continue
            before = self._last_status.get(arn)
            self._last_status[arn] = execution.status
            if (
                arn in self.watched
                and before is not None
                and before.is_active
                and execution.status.is_terminal
            ):
                self._announce(execution)

    def _notify_trouble(self, error: str | None) -> None:
        """A toast when AWS refuses or cannot be reached: the header says it too, but a narrow terminal
        cuts the header. One such toast, showing the newest error (see `Toasts`)."""
        if error:
            self._toasts.trouble(error)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """As `App.notify`; the toast is kept while it shows, so that the error toast can be replaced."""
        duration = self.NOTIFICATION_TIMEOUT if timeout is None else timeout
        self._toasts.show(Notification(message, title, severity, duration, markup=markup))

    def _announce(self, execution: Execution) -> None:
        glyph, _ = fmt.EXECUTION_GLYPHS[execution.status]
        word = fmt.execution_status_word(execution.status)
        failed = execution.status in (ExecutionStatus.FAILED, ExecutionStatus.COMPLETED_WITH_FAILURES)
        message = f"{glyph} {execution.pipeline_name} {fmt.execution_id(execution.arn)}: {word}"
        if failed and execution.failure_reason:
            message += f"\n{fmt.shorten(execution.failure_reason, 200)}"
        self.notify(
            message, title="Execution finished", severity="error" if failed else "information", markup=False
        )
        if self.bell_on_finish:
            self.bell()

    # -- navigation: what screens ask for ---------------------------------------------------------

    @on(ExecutionsScreen.ExecutionOpened)
    @on(CompareScreen.ExecutionOpened)
    def _open_execution(
        self, message: ExecutionsScreen.ExecutionOpened | CompareScreen.ExecutionOpened
    ) -> None:
        self.push_screen(ExecutionScreen(message.arn, self))

    @on(ExecutionsScreen.PipelinesOpened)
    def _open_pipelines(self) -> None:
        self.push_screen(PipelinesScreen(self))

    @on(PipelinesScreen.PipelineChosen)
    def _show_pipeline(self, message: PipelinesScreen.PipelineChosen) -> None:
        """Back to the executions table, filtered to the pipeline chosen."""
        while isinstance(self.screen, PipelinesScreen):
            self.pop_screen()
        if isinstance(self.screen, ExecutionsScreen):
            self.screen.show_pipeline(message.name, message.context)

    @on(PipelinesScreen.DefinitionOpened)
    def _open_definition(self, message: PipelinesScreen.DefinitionOpened) -> None:
        self.push_screen(DefinitionScreen(message.key, self, title=message.title))

    @on(ExecutionsScreen.CompareRequested)
    def _open_compare(self, message: ExecutionsScreen.CompareRequested) -> None:
        self.push_screen(CompareScreen(message.arns, self))

    @on(ActingScreen.LogsOpened)
    def _open_logs(self, message: ActingScreen.LogsOpened) -> None:
        self.push_screen(LogsScreen(message.arn, message.step, self))

    @on(ExecutionsScreen.StartRequested)
    def _open_start_form(self) -> None:
        """The start form; dismissed with the new execution's ARN, which is then shown as started."""

        def started(arn: str | None) -> None:
            if arn:
                self._show_started(arn)

        self.push_screen(StartScreen(self), started)

    @on(ActingScreen.ExecutionStarted)
    def _execution_started(self, message: ActingScreen.ExecutionStarted) -> None:
        self._show_started(message.arn)

    def _show_started(self, arn: str) -> None:
        """A run started here: watched (a toast when it ends), and selected in the table when it appears,
        the table brought back if it was started from an execution's screen (a rerun)."""
        self.watch_execution(arn)
        if isinstance(self.screen, ExecutionScreen):
            self.pop_screen()
        for screen in self.screen_stack:
            if isinstance(screen, ExecutionsScreen):
                screen.execution_started(arn)

    @on(ReportsWorkerFailures.WorkerFailed)
    def _worker_failed(self, message: ReportsWorkerFailures.WorkerFailed) -> None:
        """Every screen's worker that failed, in one place: what it raised in a toast, the traceback in
        Textual's log (`textual console`), not over the screen."""
        error = message.error
        self.log.error(
            f"worker {message.worker} failed",
            Traceback.from_exception(type(error), error, error.__traceback__),
        )
        self.notify(
            f"{type(error).__name__}: {error}",
            title=f"smtui bug ({message.worker})",
            severity="error",
            timeout=BUG_TOAST,
            markup=False,
        )

    # -- global actions -----------------------------------------------------------------------

    def action_keys(self) -> None:
        if not isinstance(self.screen, KeysScreen):
            self.push_screen(KeysScreen(self.screen))

    async def action_refresh(self) -> None:
        self.notify("refreshing…", timeout=1)
        self.run_worker(self.session.monitor.refresh_now(), group="refresh", exclusive=True)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        if isinstance(screen, Commanding):
            for command in screen.palette_commands():
                # Actions that would do nothing now, or are forbidden (read-only), are left out.
                available = getattr(screen, "action_available", None)
                allowed = available(command.action) if available else screen.check_action(command.action, ())
                if allowed is not True:
                    continue
                yield SystemCommand(command.title, command.help, _runner(screen, command.action))
        yield SystemCommand("app: refresh", "Poll AWS now", self.action_refresh)
        yield SystemCommand("app: keys", "Every key of this screen", self.action_keys)
        yield from super().get_system_commands(screen)


def _runner(screen: Screen[Any], action: str) -> Any:
    async def run() -> None:
        await screen.run_action(action)

    return run
