"""Approve or reject the model package a RegisterModel step registered, with a note.

The dialog shows the package first (group, version, approval status now, its note), asks before sending
UpdateModelPackage, and shows the service's refusal in the dialog, where the user acted.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from smtui.core.actions import RegisteredPackage, check_approval_note
from smtui.core.errors import AwsError
from smtui.tui.format import aws_message
from smtui.tui.host import Host, ReportsWorkerFailures
from smtui.tui.screens.confirm import ConfirmScreen
from smtui.tui.widgets.step_details import package_rows


class ApprovalScreen(ReportsWorkerFailures, ModalScreen[str | None]):
    """Dismissed with the status set ("Approved" / "Rejected"), None when cancelled."""

    # Not priority bindings: those run before the focused Input has taken the keys typed just before
    # (seen in tmux: "looks good" then ctrl+s at once sent no note).
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "cancel", "Cancel", id="approval.cancel"),
        Binding("ctrl+s", "decide(True)", "Approve", id="approval.approve"),
        Binding("ctrl+f", "decide(False)", "Reject", id="approval.reject"),
    ]

    def __init__(self, host: Host, found: RegisteredPackage) -> None:
        super().__init__()
        self.smtui = host
        self.found = found
        self._busy = False

    def compose(self) -> ComposeResult:
        package = self.found.package
        about = Text.assemble(("Model package ", "bold"), package.arn, "\n")
        about.append(f"registered by step {self.found.step}", style="dim")
        for label, value in package_rows(package):
            about.append("\n")
            about.append(f"{label}: ", style="bold")
            about.append_text(value if isinstance(value, Text) else Text(value))
        with Vertical(id="approval-box", classes="dialog"):
            yield Static(about, id="approval-about")
            yield Label(
                "[b]Note[/b]  [dim]the approval description, ≤ 1024 characters; empty: unchanged[/dim]"
            )
            yield Input(placeholder="why", id="approval-note")
            yield Static(id="approval-error")
            with Horizontal(id="approval-buttons"):
                yield Button("Approve  ctrl+s", id="approve", variant="success")
                yield Button("Reject  ctrl+f", id="reject", variant="error")
                yield Button("Cancel  esc", id="cancel")

    def on_mount(self) -> None:
        self._error("")
        self.query_one("#approval-note", Input).focus()

    @on(Button.Pressed, "#approve")
    def _approve_pressed(self) -> None:
        self.action_decide(True)

    @on(Button.Pressed, "#reject")
    def _reject_pressed(self) -> None:
        self.action_decide(False)

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_decide(self, approved: bool) -> None:
        if self._busy:
            return
        note = self.query_one("#approval-note", Input).value.strip() or None
        try:
            check_approval_note(note)
        except ValueError as error:
            self._error(str(error))
            return
        package = self.found.package
        verb = "Approve" if approved else "Reject"
        question = f"{verb} model package {package.group or ''} version {package.version}?"
        detail = f"now {package.approval_status}" + (f"\nnote: {note}" if note else "")

        def answered(yes: bool | None) -> None:
            if yes and not self._busy:
                self._busy = True
                self._error("sending…", style="dim")
                self._send(approved, note)

        self.app.push_screen(ConfirmScreen(question, detail), answered)

    @work(group="approval", exclusive=True, exit_on_error=False)
    async def _send(self, approved: bool, note: str | None) -> None:
        actions = self.smtui.session.actions
        if actions is None:
            self._busy = False
            self._error("read-only: approving is disabled")
            return
        try:
            status = await actions.set_approval(self.found.package.arn, approved=approved, note=note)
        except (AwsError, ValueError) as error:
            self._busy = False
            self._error(aws_message(error))
            return
        self.notify(self.found.package.arn, title=f"Model package {status.lower()}", markup=False)
        self.dismiss(status)

    def _error(self, text: str, style: str = "bold red") -> None:
        widget = self.query_one("#approval-error", Static)
        widget.update(Text(text, style=style))
        widget.display = bool(text)
