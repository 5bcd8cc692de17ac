"""Start a run: pick a pipeline, then a form built from its parameters (types, defaults, enums).

The parameters are asked of the monitor (`want_pipeline_parameters`), which reads them inside its budget
and answers with an event; the form says so while it waits (budget spent, or throttled) and shows AWS's
message if the read fails. Values are checked with the core's `validate_parameters` before anything is
sent; when AWS refuses, its message is shown in the form, where the user can fix the value and try again.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from smtui.core.actions import validate_parameters
from smtui.core.errors import AwsError
from smtui.core.events import PipelineParametersRead, Request, RequestFailed, RequestKind, RequestWaiting
from smtui.core.model import Parameter
from smtui.tui.format import aws_message
from smtui.tui.host import Host, ReportsWorkerFailures


def _default_text(parameter: Parameter) -> str:
    default = parameter.default
    if default is None:
        return ""
    if isinstance(default, bool):
        return "true" if default else "false"
    return str(default)


def _hint(parameter: Parameter) -> str:
    parts = [parameter.type]
    if parameter.enum_values:
        parts.append("one of " + ", ".join(parameter.enum_values))
    if parameter.default is not None:
        parts.append(f"default {_default_text(parameter)}")
    return " · ".join(parts)


class StartScreen(ReportsWorkerFailures, ModalScreen[str | None]):
    """Dismissed with the new execution's ARN, or None when cancelled."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "cancel", "Cancel", id="start.cancel"),
        Binding("ctrl+s", "submit", "Start", id="start.submit", priority=True),
    ]

    def __init__(self, host: Host) -> None:
        super().__init__()
        self.smtui = host
        self._names: list[str] = []  # the keys listed (with several contexts: context and name)
        self.pipeline: str | None = None  # its key in the monitor's `pipelines`: what is asked and started
        self.label = ""  # as shown: its name, and its context with several
        self.parameters: list[Parameter] = []
        self._form_shown = False
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="start-box", classes="dialog"):
            yield Static("[b]Start a pipeline[/b]", id="start-title")
            yield OptionList(id="pipelines")
            yield VerticalScroll(id="form")
            yield Static(id="start-error")
            with Horizontal(id="start-buttons"):
                yield Button("Start  ctrl+s", id="start", variant="primary")
                yield Button("Cancel  esc", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#form").display = False
        self.query_one("#start-buttons").display = False
        self._list_pipelines()
        self.query_one("#pipelines", OptionList).focus()

    def _list_pipelines(self) -> None:
        """The pipelines the monitor knows, the first highlighted (Enter picks it); with several contexts,
        each context's under its own line (`name  context`). Pipelines discovered while the list is open
        join it; the highlight stays on the one it was on."""
        pipelines = self.smtui.session.monitor.pipelines
        names = sorted(pipelines, key=lambda key: (pipelines[key].name, key))
        if names == self._names:
            return
        options = self.query_one("#pipelines", OptionList)
        highlighted = options.highlighted
        keep = self._names[highlighted] if highlighted is not None and self._names else None
        self._names = names
        options.clear_options()
        options.add_options([Option(self._prompt(key, pipelines[key].name), id=key) for key in names])
        if names:
            options.highlighted = names.index(keep) if keep in names else 0

    def _prompt(self, key: str, name: str) -> Text:
        contexts = self.smtui.session.contexts
        line = Text(name)
        if contexts is not None:
            line.append(f"  {contexts.pipeline_context(key)}", style="dim")
        return line

    def _label(self, key: str) -> str:
        """A pipeline as the title and the messages name it: `name`, or `name · context` with several."""
        pipeline = self.smtui.session.monitor.pipelines.get(key)
        name = key if pipeline is None else pipeline.name
        contexts = self.smtui.session.contexts
        return name if contexts is None else f"{name} · {contexts.pipeline_context(key)}"

    # The app's monitor hooks: the list fills in as pipelines are discovered (the first seconds of a session).

    def monitor_event(self, event: object) -> None:
        if self.pipeline is None or self._form_shown:
            return
        asked = Request(RequestKind.PIPELINE_PARAMETERS, self.pipeline)
        if isinstance(event, PipelineParametersRead) and event.pipeline == self.pipeline:
            self._show_form(list(event.parameters))
        elif isinstance(event, RequestWaiting) and event.request == asked:
            self._error(event.reason, style="yellow")
        elif isinstance(event, RequestFailed) and event.request == asked:
            self._error(event.message)

    def tick(self) -> None:
        if self.pipeline is None and self.is_mounted:
            self._list_pipelines()

    def session_changed(self) -> None:
        self.tick()

    # -- step 1: the pipeline -----------------------------------------------------------------

    @on(OptionList.OptionSelected, "#pipelines")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.pipeline = str(event.option.id)
        self.label = self._label(self.pipeline)
        title = Text.assemble(("Start", "bold"), " ", self.label)
        self.query_one("#start-title", Static).update(title)
        self.query_one("#pipelines").display = False
        self._error("loading parameters…", style="dim")
        self.smtui.session.monitor.want_pipeline_parameters(self.pipeline)  # answered in `monitor_event`

    def _show_form(self, parameters: list[Parameter]) -> None:
        self.parameters = parameters
        self._form_shown = True
        form = self.query_one("#form", VerticalScroll)
        widgets: list[Label | Input] = []
        for parameter in parameters:
            widgets.append(Label(f"[b]{parameter.name}[/b]  [dim]{_hint(parameter)}[/dim]"))
            widgets.append(
                Input(value=_default_text(parameter), id=f"param-{parameter.name}", name=parameter.name)
            )
        widgets.append(Label("[b]display name[/b]  [dim]optional[/dim]"))
        widgets.append(Input(placeholder="(none)", id="display-name"))
        form.mount_all(widgets)
        form.display = True
        self.query_one("#start-buttons").display = True
        self._error("")
        self.call_after_refresh(self._focus_first)

    def _focus_first(self) -> None:
        inputs = self.query(Input)
        if inputs:
            inputs.first().focus()

    # -- step 2: the values -------------------------------------------------------------------

    def values(self) -> dict[str, str]:
        return {p.name: self.query_one(f"#param-{p.name}", Input).value for p in self.parameters}

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        self.action_submit()

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        if self.pipeline is None or self._busy:
            return
        try:
            values = validate_parameters(self.parameters, self.values())
        except ValueError as error:
            self._error(str(error))
            return
        display = self.query_one("#display-name", Input).value.strip() or None
        self._busy = True
        self._error(f"starting {self.label}…", style="dim")
        self._send(self.pipeline, values, display)

    @work(group="start-form", exclusive=True, exit_on_error=False)
    async def _send(self, pipeline: str, values: dict[str, str], display: str | None) -> None:
        actions = self.smtui.session.actions
        if actions is None:
            self._busy = False
            self._error("read-only: starting is disabled")
            return
        try:
            arn = await actions.start(pipeline, values, display_name=display)
        except (AwsError, ValueError) as error:  # ValueError: the definition changed since the form
            self._busy = False
            self._error(aws_message(error))
            return
        self.notify(arn, title=f"Started {self.label}")
        self.dismiss(arn)

    def _error(self, text: str, style: str = "bold red") -> None:
        widget = self.query_one("#start-error", Static)
        widget.update(Text(text, style=style))
        widget.display = bool(text)
