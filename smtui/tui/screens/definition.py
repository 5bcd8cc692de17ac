"""`s` on the pipelines view: a pipeline's current definition as a step graph, with its parameters.

The definition is read by the monitor (`want_pipeline_definition`: one DescribePipeline, inside its budget)
each time the screen opens: a pipeline's definition changes with UpdatePipeline, so it is not kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer
from textual.screen import Screen
from textual.widgets import Static

from smtui.core.events import PipelineDefinitionRead, RequestFailed, RequestKind, RequestWaiting
from smtui.tui import format as fmt
from smtui.tui.host import Host, ReportsWorkerFailures
from smtui.tui.palette import PaletteCommand
from smtui.tui.widgets.footer import Footer
from smtui.tui.widgets.status_bar import StatusBar
from smtui.tui.widgets.step_graph import graph_text


class DefinitionScreen(ReportsWorkerFailures, Screen[None]):
    """The step graph of one pipeline's current definition; Escape goes back."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "app.pop_screen", "Back", id="definition.back"),
    ]
    AUTO_FOCUS = "#graph-box"

    def __init__(self, pipeline: str, host: Host, *, title: str | None = None) -> None:
        """`pipeline`: its key in the monitor's `pipelines` (what the monitor is asked); `title`: as shown
        (its name, and its context with several)."""
        super().__init__()
        self.pipeline = pipeline
        self.title_text = title or pipeline
        self.smtui = host
        self._ready = False

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Static(self._title("reading the definition…"), id="summary")
        with ScrollableContainer(id="graph-box"):
            yield Static(id="graph")
        yield Footer()

    def on_mount(self) -> None:
        self._ready = True
        self.query_one(StatusBar).show(self.smtui.status_text())
        self.smtui.session.monitor.want_pipeline_definition(self.pipeline)

    def on_unmount(self) -> None:
        self._ready = False

    def _title(self, note: str, style: str = "bright_black") -> Text:
        line = Text(" ")
        line.append(self.title_text, style="bold")
        line.append(" · current definition", style=fmt.styled("bright_black"))
        if note:
            line.append(f" · {note}", style=fmt.styled(style))
        return line

    # -- the monitor's answer -----------------------------------------------------------------

    def monitor_event(self, event: Any) -> None:
        if not self._ready:
            return
        if isinstance(event, PipelineDefinitionRead) and event.pipeline == self.pipeline:
            self.query_one("#summary", Static).update(self._title(""))
            self.query_one("#graph", Static).update(graph_text(event.graph))
        elif isinstance(event, RequestWaiting | RequestFailed) and event.request.subject == self.pipeline:
            if event.request.kind is not RequestKind.PIPELINE_DEFINITION:
                return
            if isinstance(event, RequestWaiting):
                self.query_one("#summary", Static).update(self._title(event.reason, "yellow"))
            else:
                self.query_one("#summary", Static).update(self._title(event.message, "red"))
        elif hasattr(event, "health"):
            self.query_one(StatusBar).show(self.smtui.status_text())

    def tick(self) -> None:
        pass

    def session_changed(self) -> None:
        if self._ready:
            self.smtui.session.monitor.want_pipeline_definition(self.pipeline)

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield PaletteCommand("definition: back", "Back to the pipelines", "app.pop_screen")
