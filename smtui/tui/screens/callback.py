"""Answer a waiting Callback step: a form typed by the outputs the step declares, to send success with
their values, or failure with a reason.

Values are checked with the core's `validate_outputs` before anything is sent; the user is asked first;
when the service refuses, its message is shown in the form, where the user acted.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from smtui.core.actions import WaitingCallback, check_failure_reason, validate_outputs
from smtui.core.errors import AwsError
from smtui.tui.format import aws_message
from smtui.tui.host import Host, ReportsWorkerFailures
from smtui.tui.screens.confirm import ConfirmScreen


class CallbackScreen(ReportsWorkerFailures, ModalScreen[str | None]):
    """Dismissed with "success" or "failure" once the answer is sent, None when cancelled."""

    # Not priority bindings: those run before the focused Input has taken the keys typed just before
    # (seen in tmux: "looks good" then ctrl+s at once sent no note).
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "cancel", "Cancel", id="callback.cancel"),
        Binding("ctrl+s", "succeed", "Send success", id="callback.success"),
        Binding("ctrl+f", "fail", "Send failure", id="callback.failure"),
    ]

    def __init__(self, host: Host, waiting: WaitingCallback, label: str) -> None:
        super().__init__()
        self.smtui = host
        self.waiting = waiting
        self.label = label  # the execution, as the user knows it
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="callback-box", classes="dialog"):
            yield Static(
                Text.assemble(("Answer Callback step ", "bold"), self.waiting.step, f"  of {self.label}"),
                id="callback-title",
            )
            with VerticalScroll(id="callback-form"):
                if self.waiting.outputs:
                    yield Label("[b]Success[/b] with the outputs the step declares (empty: not sent)")
                else:
                    yield Label("[b]Success[/b]: the step declares no outputs")
                for output in self.waiting.outputs:
                    yield Label(Text.assemble((output.name, "bold"), "  ", (output.type, "dim")))
                    yield Input(
                        placeholder=f"{output.type}, or empty", id=f"output-{output.name}", name=output.name
                    )
                yield Label("[b]Failure[/b] reason  [dim]≤ 256 characters[/dim]")
                yield Input(placeholder="why the step fails", id="failure-reason")
            yield Static(id="callback-error")
            with Horizontal(id="callback-buttons"):
                yield Button("Success  ctrl+s", id="succeed", variant="success")
                yield Button("Failure  ctrl+f", id="fail", variant="error")
                yield Button("Cancel  esc", id="cancel")

    def on_mount(self) -> None:
        self._error("")
        inputs = self.query(Input)
        if inputs:
            inputs.first().focus()

    def values(self) -> dict[str, str]:
        """The outputs filled in (an empty field is an output not given, as the API allows)."""
        out: dict[str, str] = {}
        for output in self.waiting.outputs:
            value = self.query_one(f"#output-{output.name}", Input).value.strip()
            if value:
                out[output.name] = value
        return out

    @on(Button.Pressed, "#succeed")
    def _succeed_pressed(self) -> None:
        self.action_succeed()

    @on(Button.Pressed, "#fail")
    def _fail_pressed(self) -> None:
        self.action_fail()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        if event.input.id == "failure-reason":
            self.action_fail()
        else:
            self.action_succeed()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_succeed(self) -> None:
        if self._busy:
            return
        try:
            values = validate_outputs(self.waiting.outputs, self.values())
        except ValueError as error:
            self._error(str(error))
            return
        given = ", ".join(f"{k}={v}" for k, v in values.items()) or "no outputs"
        missing = [d.name for d in self.waiting.outputs if d.name not in values]
        detail = f"not given: {', '.join(missing)}" if missing else ""
        self._ask(f"Send success ({given}) to {self.waiting.step}?", detail, values, None)

    def action_fail(self) -> None:
        if self._busy:
            return
        reason = self.query_one("#failure-reason", Input).value.strip()
        if not reason:
            self._error("give a failure reason to send a failure")
            self.query_one("#failure-reason", Input).focus()
            return
        try:
            check_failure_reason(reason)
        except ValueError as error:
            self._error(str(error))
            return
        self._ask(f"Send failure to {self.waiting.step}?", reason, {}, reason)

    def _ask(self, question: str, detail: str, outputs: dict[str, str], failure: str | None) -> None:
        def answered(yes: bool | None) -> None:
            if yes and not self._busy:
                self._busy = True
                self._error("sending…", style="dim")
                self._send(outputs, failure)

        self.app.push_screen(ConfirmScreen(question, detail), answered)

    @work(group="callback", exclusive=True, exit_on_error=False)
    async def _send(self, outputs: dict[str, str], failure: str | None) -> None:
        actions = self.smtui.session.actions
        if actions is None:
            self._busy = False
            self._error("read-only: answering is disabled")
            return
        try:
            await actions.answer_callback(self.waiting, outputs=outputs, failure=failure)
        except (AwsError, ValueError) as error:
            self._busy = False
            self._error(aws_message(error))
            return
        result = "failure" if failure is not None else "success"
        self.notify(f"{self.waiting.step} of {self.label}", title=f"Sent {result}", markup=False)
        self.dismiss(result)

    def _error(self, text: str, style: str = "bold red") -> None:
        widget = self.query_one("#callback-error", Static)
        widget.update(Text(text, style=style))
        widget.display = bool(text)
