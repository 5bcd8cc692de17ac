"""Stop, retry and rerun, shared by the executions screen and the execution screen.

Each action asks for confirmation, then runs the calls in a worker and reports in a toast on the
screen where the user pressed the key; AWS's own message is shown verbatim when it refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from smtui.core.model import Execution, ExecutionStatus
from smtui.tui import format as fmt
from smtui.tui.screens.confirm import ConfirmScreen

if TYPE_CHECKING:
    from smtui.tui.app import SmtuiApp

MUTATING = frozenset({"start_execution", "stop_execution", "retry_execution", "rerun_execution"})
TARGETED = frozenset({"stop_execution", "retry_execution", "rerun_execution", "copy_arn", "open_console"})


def aws_message(error: BaseException) -> str:
    """What AWS said, verbatim when the core kept it (`AwsError.message`), else the error text."""
    message = getattr(error, "message", None)
    code = getattr(error, "code", None)
    if isinstance(message, str) and message:
        return f"{code}: {message}" if code else message
    return str(error) or type(error).__name__


class ActingScreen(Screen[Any]):
    """A screen whose actions apply to `target_executions()`."""

    @property
    def smtui(self) -> SmtuiApp:
        from smtui.tui.app import SmtuiApp

        assert isinstance(self.app, SmtuiApp)
        return self.app

    def target_executions(self) -> list[Execution]:
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Deliberately coarse: the footer is rebuilt whenever this answer changes, and that costs a
        # repaint on every cursor move if it depended on the selected row. The palette is precise.
        if action in MUTATING and not self.smtui.session.can_mutate:
            return False  # read-only: hidden from the footer, the help and the palette
        if action in TARGETED and not self.target_executions():
            return None
        return True

    def action_available(self, action: str) -> bool:
        """Whether the action would do something now (the command palette lists only those)."""
        if self.check_action(action, ()) is not True:
            return False
        targets = self.target_executions()
        if action == "stop_execution":
            return any(e.status is ExecutionStatus.EXECUTING for e in targets)
        if action == "retry_execution":
            return any(e.status.is_terminal for e in targets)
        return True

    # -- stop ---------------------------------------------------------------------------------

    def action_stop_execution(self) -> None:
        targets = [e for e in self.target_executions() if e.status is ExecutionStatus.EXECUTING]
        if not targets:
            self.notify("Nothing running to stop here.", severity="warning")
            return
        self._confirm("Stop", targets, lambda: self._run(self._stop(targets)))

    async def _stop(self, targets: Sequence[Execution]) -> None:
        actions = self.smtui.session.actions
        assert actions is not None
        for execution in targets:
            self.smtui.watch_execution(execution.arn)
            try:
                await actions.stop(execution.arn)
            except Exception as error:
                self._refused("Stop", execution, error)
            else:
                self.notify(f"Stopping {_label(execution)}", title="Stop requested")

    # -- retry --------------------------------------------------------------------------------

    def action_retry_execution(self) -> None:
        targets = [e for e in self.target_executions() if e.status.is_terminal]
        if not targets:
            self.notify("Only finished executions can be retried.", severity="warning")
            return
        self._confirm("Retry", targets, lambda: self._run(self._retry(targets)))

    async def _retry(self, targets: Sequence[Execution]) -> None:
        actions = self.smtui.session.actions
        assert actions is not None
        for execution in targets:
            self.smtui.watch_execution(execution.arn)
            try:
                await actions.retry(execution.arn)
            except Exception as error:
                self._refused("Retry", execution, error)
            else:
                self.notify(f"Retrying {_label(execution)} (same ARN)", title="Retry started")

    # -- rerun --------------------------------------------------------------------------------

    def action_rerun_execution(self) -> None:
        targets = self.target_executions()
        if not targets:
            return
        self._confirm(
            "Rerun", targets, lambda: self._run(self._rerun(targets)), "as new runs with the same parameters"
        )

    async def _rerun(self, targets: Sequence[Execution]) -> None:
        actions = self.smtui.session.actions
        assert actions is not None
        for execution in targets:
            try:
                arn = await actions.rerun(execution.arn)
            except Exception as error:
                self._refused("Rerun", execution, error)
            else:
                self.smtui.watch_execution(arn)
                self.notify(f"{execution.pipeline_name} {fmt.execution_id(arn)}", title="Rerun started")
                self.execution_started(arn)

    def execution_started(self, arn: str) -> None:
        """A new execution was started from this screen (the table selects it when it appears)."""

    # -- plumbing -----------------------------------------------------------------------------

    def _confirm(self, verb: str, targets: Sequence[Execution], then: Any, how: str = "") -> None:
        count = f"{len(targets)} executions" if len(targets) > 1 else _label(targets[0])
        detail = "\n".join(_label(e) for e in targets[:8]) + ("\n…" if len(targets) > 8 else "")

        def answered(yes: bool | None) -> None:
            if yes:
                then()

        question = f"{verb} {count}{' ' + how if how else ''}?"
        self.app.push_screen(ConfirmScreen(question, detail if len(targets) > 1 else ""), answered)

    def _run(self, work: Any) -> None:
        self.run_worker(work, group="actions", exit_on_error=False)

    def _refused(self, verb: str, execution: Execution, error: BaseException) -> None:
        self.notify(
            aws_message(error), title=f"{verb} refused: {_label(execution)}", severity="error", timeout=10
        )


def _label(execution: Execution) -> str:
    return f"{execution.pipeline_name} {fmt.execution_name(execution)}"
