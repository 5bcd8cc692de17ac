"""Acting on a step of the execution on screen: answer a Callback step, approve or reject the model package
a RegisterModel step registered, rerun from the marked steps.

Each uses the core's two halves: the check (`find_callback`, `find_registered_package`, `plan_selection`:
reads, sends nothing) runs when the key is pressed; a dialog or a question comes next; only then the act.
What the check refuses, and what the service refuses, is told on this screen (or in the dialog open).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import ClassVar

from textual.binding import Binding

from smtui.core.actions import RegisteredPackage, SelectionPlan, SeveralSteps, WaitingCallback
from smtui.core.errors import AwsError
from smtui.core.model import Execution, StepNode
from smtui.tui import format as fmt
from smtui.tui.format import aws_message
from smtui.tui.palette import PaletteCommand
from smtui.tui.screens.acting import ActingScreen
from smtui.tui.screens.approval import ApprovalScreen
from smtui.tui.screens.callback import CallbackScreen
from smtui.tui.screens.confirm import ConfirmScreen
from smtui.tui.widgets.step_tree import StepTreeView

STEP_ACTIONS = frozenset({"answer_callback", "approve_model", "rerun_from_steps"})


def _walk(nodes: Iterable[StepNode]) -> Iterator[StepNode]:
    for node in nodes:
        yield node
        yield from _walk(node.children)


class StepActingScreen(ActingScreen):
    """The step actions of the execution screen; absent (keys, footer, `?`, palette) under `--read-only`."""

    # Out of the footer (it is full at 80 columns); `?` and the palette list them.
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding(
            "b",
            "answer_callback",
            "Answer callback",
            id="step.callback",
            show=False,
            tooltip="Answer a waiting Callback step",
        ),
        Binding(
            "A",
            "approve_model",
            "Approve / reject model",
            id="step.approve",
            show=False,
            tooltip="Approve or reject the model",
        ),
        Binding(
            "R",
            "rerun_from_steps",
            "Rerun from marked steps",
            id="step.rerun_from",
            show=False,
            tooltip="Rerun from marked steps",
        ),
    ]

    arn: str

    @property
    def tree_view(self) -> StepTreeView:
        return self.query_one(StepTreeView)

    @property
    def execution(self) -> Execution | None:
        return self.smtui.session.monitor.executions.get(self.arn)

    def package_changed(self, package_arn: str) -> None:
        """The package's approval was changed here: the details read it again."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in STEP_ACTIONS and not self.smtui.session.can_mutate:
            return False  # read-only: hidden from the footer, the help and the palette
        return super().check_action(action, parameters)

    def step_palette_commands(self) -> Iterable[PaletteCommand]:
        yield PaletteCommand(
            "step: answer callback", "Send success or failure to a waiting Callback step", "answer_callback"
        )
        yield PaletteCommand(
            "step: approve / reject model", "The package a RegisterModel step registered", "approve_model"
        )
        yield PaletteCommand(
            "step: rerun from marked", "New run of the marked steps, reusing the rest", "rerun_from_steps"
        )

    def _label(self) -> str:
        execution = self.execution
        return fmt.execution_name(execution) if execution is not None else fmt.execution_id(self.arn)

    def _refused(self, what: str, error: AwsError | ValueError) -> None:
        # The check's refusal (a ValueError: nothing was sent) is a warning; the service's, an error.
        if isinstance(error, ValueError):
            self.notify(aws_message(error), title=what, severity="warning", timeout=10, markup=False)
        else:
            self.notify(aws_message(error), title=what, severity="error", timeout=10, markup=False)

    # -- callback -----------------------------------------------------------------------------

    def _callback_step(self) -> str | None:
        """The selected step if it is a Callback step, else the only one waiting in the execution."""
        node = self.tree_view.selected_step()
        if node is not None and node.type == "Callback":
            return node.name
        tree = self.smtui.session.monitor.tree(self.arn)
        waiting = {
            n.name
            for n in _walk(tree.roots if tree is not None else ())
            if n.type == "Callback" and n.status.is_active and n.run is not None and n.run.callback_token
        }
        return waiting.pop() if len(waiting) == 1 else None

    def action_answer_callback(self) -> None:
        step = self._callback_step()
        if step is None:
            self.notify("Select the Callback step to answer.", severity="warning")
            return
        self.run_worker(self._open_callback(step), group="step-actions", exclusive=True, exit_on_error=False)

    async def _open_callback(self, step: str) -> None:
        actions = self.smtui.session.actions
        assert actions is not None
        try:
            waiting: WaitingCallback = await actions.find_callback(self.arn, step)
        except (AwsError, ValueError) as error:
            self._refused(f"Cannot answer {step}", error)
            return
        self.app.push_screen(CallbackScreen(self.smtui, waiting, self._label()))

    # -- approval -----------------------------------------------------------------------------

    def action_approve_model(self) -> None:
        node = self.tree_view.selected_step()
        step = node.name if node is not None and node.type == "RegisterModel" else None
        self.run_worker(self._open_approval(step), group="step-actions", exclusive=True, exit_on_error=False)

    async def _open_approval(self, step: str | None) -> None:
        actions = self.smtui.session.actions
        assert actions is not None
        try:
            found: RegisteredPackage = await actions.find_registered_package(self.arn, step)
        except SeveralSteps as error:
            self.notify(f"{error}: select one", title="Which model?", severity="warning", markup=False)
            return
        except (AwsError, ValueError) as error:
            self._refused("No model package to approve", error)
            return

        def done(status: str | None) -> None:
            if status:
                self.package_changed(found.package.arn)

        self.app.push_screen(ApprovalScreen(self.smtui, found), done)

    # -- rerun from steps ---------------------------------------------------------------------

    def action_rerun_from_steps(self) -> None:
        execution = self.execution
        node = self.tree_view.selected_step()
        steps = list(self.tree_view.marked) or ([node.name] if node is not None else [])
        if execution is None or not steps:
            self.notify("Mark the steps to rerun (Space).", severity="warning")
            return
        self.run_worker(
            self._plan(execution.pipeline_name, steps),
            group="step-actions",
            exclusive=True,
            exit_on_error=False,
        )

    async def _plan(self, pipeline: str, steps: list[str]) -> None:
        actions = self.smtui.session.actions
        assert actions is not None
        try:
            plan = await actions.plan_selection(pipeline, self.arn, steps)
        except (AwsError, ValueError) as error:
            self._refused("Cannot rerun from these steps", error)
            return
        reused = ", ".join(plan.reused) or "none"
        detail = (
            f"Only these steps run. Reused from {self._label()}: {reused}.\n"
            "Parameters: the same as this execution's."
        )
        question = f"Rerun {pipeline} from {', '.join(plan.steps)} as a new execution?"

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(self._start(plan), group="step-actions", exit_on_error=False)

        self.app.push_screen(ConfirmScreen(question, detail), answered)

    async def _start(self, plan: SelectionPlan) -> None:
        actions = self.smtui.session.actions
        assert actions is not None
        try:
            arn = await actions.start_selection(plan)
        except (AwsError, ValueError) as error:
            self._refused(f"Rerun from {', '.join(plan.steps)} refused", error)
            return
        self.tree_view.marked.clear()
        self.notify(
            f"{plan.pipeline} {fmt.execution_id(arn)}", title="Rerun from steps started", markup=False
        )
        self.post_message(self.ExecutionStarted(arn))
