"""Stop, retry and rerun, shared by the executions screen and the execution screen.

Each action asks for confirmation, then runs the calls in a worker and reports in a toast on the
screen where the user pressed the key; AWS's own message is shown verbatim when it refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from textual.message import Message
from textual.screen import Screen

from smtui.core.errors import AwsError
from smtui.core.model import Execution, ExecutionStatus
from smtui.tui import format as fmt
from smtui.tui.format import aws_message
from smtui.tui.host import Host, ReportsWorkerFailures
from smtui.tui.screens.confirm import ConfirmScreen

MUTATING = frozenset({"start_execution", "stop_execution", "retry_execution", "rerun_execution"})
TARGETED = frozenset({"stop_execution", "retry_execution", "rerun_execution", "copy_arn", "open_console"})


class ActingScreen(ReportsWorkerFailures, Screen[Any]):
    """A screen whose actions apply to `target_executions()`."""

    @dataclass
    class ExecutionStarted(Message):
        """A run was started from this screen (a rerun): the app shows it in the table."""

        arn: str

    @dataclass
    class LogsOpened(Message):
        """`l`: the app opens the logs of `step` (None: the failed step, else the running one)."""

        arn: str
        step: str | None = None

    def __init__(self, host: Host) -> None:
        super().__init__()
        self.smtui = host

    def target_executions(self) -> list[Execution]:
        raise NotImplementedError

    def targets_marked(self) -> bool:
        """Whether the targets are marked executions (rather than the one on screen)."""
        return False

    def hidden_by_filter(self, execution: Execution) -> bool:
        """Whether a target is out of sight (marked, then filtered out): the confirmation says so."""
        return False

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
        chosen = self.target_executions()
        targets = [e for e in chosen if e.status is ExecutionStatus.EXECUTING]
        if not targets:
            self.notify("Nothing running to stop here.", severity="warning")
            return
        left = _left_alone(len(chosen) - len(targets), "not running")
        self._confirm("Stop", targets, lambda: self._run(self._stop(targets)), left=left)

    async def _stop(self, targets: Sequence[Execution]) -> None:
        actions = self.smtui.session.actions
        assert actions is not None
        done: list[str] = []
        refused: dict[str, list[Execution]] = {}
        for execution in targets:
            self.smtui.watch_execution(execution.arn)
            try:
                await actions.stop(execution.arn)
            except AwsError as error:
                refused.setdefault(aws_message(error), []).append(execution)
            else:
                done.append(_label(execution))
        self._report("Stop requested", "Stopping", done, "Stop", refused)

    # -- retry --------------------------------------------------------------------------------

    def action_retry_execution(self) -> None:
        chosen = self.target_executions()
        targets = [e for e in chosen if e.status.is_terminal]
        if not targets:
            self.notify("Only finished executions can be retried.", severity="warning")
            return
        left = _left_alone(len(chosen) - len(targets), "still running")
        self._confirm("Retry", targets, lambda: self._run(self._retry(targets)), left=left)

    async def _retry(self, targets: Sequence[Execution]) -> None:
        actions = self.smtui.session.actions
        assert actions is not None
        done: list[str] = []
        refused: dict[str, list[Execution]] = {}
        for execution in targets:
            self.smtui.watch_execution(execution.arn)
            try:
                await actions.retry(execution.arn)
            except AwsError as error:
                refused.setdefault(aws_message(error), []).append(execution)
            else:
                done.append(_label(execution))
        self._report("Retry started", "Retrying (same ARN)", done, "Retry", refused)

    # -- rerun --------------------------------------------------------------------------------

    def action_rerun_execution(self) -> None:
        targets = self.target_executions()
        if not targets:
            return
        how = "as new runs" if len(targets) > 1 else "as a new run"
        self._confirm(
            "Rerun", targets, lambda: self._run(self._rerun(targets)), f"{how} with the same parameters"
        )

    async def _rerun(self, targets: Sequence[Execution]) -> None:
        actions = self.smtui.session.actions
        assert actions is not None
        done: list[str] = []
        refused: dict[str, list[Execution]] = {}
        for execution in targets:
            try:
                arn = await actions.rerun(execution.arn)
            except AwsError as error:
                refused.setdefault(aws_message(error), []).append(execution)
            else:
                self.smtui.watch_execution(arn)
                done.append(f"{execution.pipeline_name} {fmt.execution_id(arn)}")
                self.post_message(self.ExecutionStarted(arn))
        self._report("Rerun started", "", done, "Rerun", refused)

    # -- plumbing -----------------------------------------------------------------------------

    def _confirm(
        self, verb: str, targets: Sequence[Execution], then: Any, how: str = "", left: str = ""
    ) -> None:
        """Ask `verb` of `targets`, saying what it applies to: how many, and how many of them the filter
        hides (a hidden mark is acted on, never silently dropped), and which marked ones it leaves alone."""
        marked = self.targets_marked()
        hidden = [e for e in targets if self.hidden_by_filter(e)]
        if marked:
            what = f"{len(targets)} marked"
        else:
            what = f"{len(targets)} executions" if len(targets) > 1 else _label(targets[0])
        if hidden:
            if len(hidden) == len(targets):
                what += ", hidden by the filter" if len(targets) == 1 else ", all hidden by the filter"
            else:
                what += f", {len(hidden)} of them hidden by the filter"
        lines = [_label(e) + ("  (hidden by the filter)" if e in hidden else "") for e in targets[:8]]
        if len(targets) > 8:
            lines.append(f"… and {len(targets) - 8} more")
        detail = "\n".join(lines) if marked or len(targets) > 1 else ""
        if left:
            detail = f"{detail}\n{left}" if detail else left

        def answered(yes: bool | None) -> None:
            if yes:
                then()

        question = f"{verb} {what}{' ' + how if how else ''}?"
        self.app.push_screen(ConfirmScreen(question, detail), answered)

    def _run(self, work: Any) -> None:
        self.run_worker(work, group="actions", exit_on_error=False)

    def _report(
        self, title: str, doing: str, done: Sequence[str], verb: str, refused: dict[str, list[Execution]]
    ) -> None:
        """One toast for what was done and one per refusal message, not one per execution: a batch refused
        for one reason (expired credentials, a limit) would stack a toast per execution over the screen."""
        if done:
            shown = "\n".join(done[:5]) + (f"\n… and {len(done) - 5} more" if len(done) > 5 else "")
            self.notify(f"{doing}\n{shown}" if doing else shown, title=title, markup=False)
        for message, executions in refused.items():
            who = _label(executions[0]) if len(executions) == 1 else f"{len(executions)} executions"
            self.notify(message, title=f"{verb} refused: {who}", severity="error", timeout=10, markup=False)


def _left_alone(count: int, why: str) -> str:
    if count <= 0:
        return ""
    return f"{count} other marked {'is' if count == 1 else 'are'} {why}: left alone"


def _label(execution: Execution) -> str:
    return f"{execution.pipeline_name} {fmt.execution_name(execution)}"
