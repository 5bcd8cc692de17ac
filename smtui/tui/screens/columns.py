"""The `columns` dialog: which of a pipeline's parameters the executions table shows as columns.

The names come from the pipeline's definition, asked of the monitor (`want_pipeline_parameters`, inside
its budget, answered by `PipelineParametersRead`), plus the columns already shown (they may be another
pipeline's). Space or Enter ticks a name; Escape closes and the table shows the ticked ones.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static

from smtui.core.events import PipelineParametersRead, Request, RequestFailed, RequestKind, RequestWaiting
from smtui.tui.host import Host


class ColumnsScreen(ModalScreen[tuple[str, ...]]):
    """Dismissed with the parameter names ticked, in the list's order (the definition's)."""

    DEFAULT_CSS = """
    ColumnsScreen {
        align: center middle;
    }
    /* The look of the app's `.dialog`, at a width of its own (the app's CSS would win over this one's). */
    #columns-box {
        width: 60;
        max-width: 90%;
        height: auto;
        max-height: 90%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    #columns-box SelectionList {
        height: auto;
        max-height: 16;
    }
    #columns-title {
        text-style: bold;
    }
    #columns-note, #columns-keys {
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "close", "Done", id="columns.done"),
    ]

    def __init__(self, host: Host, pipeline: str, name: str, shown: tuple[str, ...]) -> None:
        """`pipeline`: its key in the monitor's `pipelines` (what the requests name); `name`: as shown."""
        super().__init__()
        self.smtui = host
        self.pipeline = pipeline
        self.pipeline_name = name
        self.shown = shown
        self._loaded = False

    def compose(self) -> ComposeResult:
        with Vertical(id="columns-box"):
            yield Static(f"Columns: parameters of {self.pipeline_name}", id="columns-title", markup=False)
            yield Static("reading the pipeline's parameters…", id="columns-note")
            yield SelectionList[str](*((name, name, True) for name in self.shown), id="columns-list")
            yield Static("space/enter tick · esc done", id="columns-keys")

    def on_mount(self) -> None:
        self.smtui.session.monitor.want_pipeline_parameters(self.pipeline)  # answered in `monitor_event`
        self.query_one(SelectionList).focus()

    def action_close(self) -> None:
        picked = self.query_one("#columns-list", SelectionList)
        ticked = set(picked.selected)
        options = (picked.get_option_at_index(index) for index in range(picked.option_count))
        self.dismiss(tuple(str(o.value) for o in options if o.value in ticked))

    # The app's monitor hooks (this is a screen the app hands events to).

    def monitor_event(self, event: Any) -> None:
        asked = Request(RequestKind.PIPELINE_PARAMETERS, self.pipeline)
        note = self.query_one("#columns-note", Static)
        if isinstance(event, PipelineParametersRead) and event.pipeline == self.pipeline and not self._loaded:
            self._loaded = True
            self._show([p.name for p in event.parameters])
            note.update("" if event.parameters else f"{self.pipeline_name} has no parameters")
            note.display = not event.parameters
        elif isinstance(event, RequestWaiting) and event.request == asked:
            note.update(event.reason)
        elif isinstance(event, RequestFailed) and event.request == asked:
            note.update(f"cannot read the parameters: {event.message}")

    def tick(self) -> None:
        return None

    def session_changed(self) -> None:
        if not self._loaded:
            self.smtui.session.monitor.want_pipeline_parameters(self.pipeline)

    def _show(self, names: list[str]) -> None:
        """The definition's parameters, in its order, then the columns shown that it does not have."""
        picked = self.query_one("#columns-list", SelectionList)
        ticked = set(picked.selected)
        everything = [*names, *(name for name in self.shown if name not in names)]
        picked.clear_options()
        picked.add_options([(name, name, name in ticked) for name in everything])
        if everything:
            picked.highlighted = 0
