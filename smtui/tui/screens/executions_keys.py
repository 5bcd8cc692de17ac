"""What the executions screen offers: its keys (declared once, shown in the footer and in `?` help,
remappable by their ids) and its palette commands, named `execution: stop` style.

Kept apart from the screen, which only points at them, so that the screen's file reads as what it does.
"""

from __future__ import annotations

from collections.abc import Iterator

from textual.binding import Binding

from smtui.tui.palette import PaletteCommand
from smtui.tui.screens.contexts import context_commands
from smtui.tui.session import Session
from smtui.tui.widgets.execution_rows import SORTABLE

BINDINGS: list[Binding | tuple[str, str] | tuple[str, str, str]] = [
    Binding("enter", "open_execution", "Open", id="execution.open", tooltip="Open the step tree"),
    # A priority binding: run when the app reads `/`, before it hands the keys typed after it to the
    # focused widget. A plain one runs only once `/` has gone through the table, and by then the
    # keys behind it are the table's: `/churn` typed fast copied (c), retried (r), started (n).
    Binding(
        "slash",
        "filter",
        "Filter",
        id="executions.filter",
        tooltip="Filter by pipeline, name, status…",
        priority=True,
    ),
    Binding("l", "open_logs", "Logs", id="execution.logs", tooltip="Logs of the failed (or running) step"),
    Binding(
        "a",
        "toggle_active",
        "Active",
        id="executions.active_only",
        tooltip="Only running ones",
        show=False,
    ),
    Binding("space", "mark", "Mark", show=False, id="executions.mark", tooltip="Mark for a batch action"),
    # Not in the footer (at 80 columns it would cut `?`): the info line shows it once a row is marked.
    Binding(
        "d",
        "compare",
        "Compare marked",
        show=False,
        id="executions.compare",
        tooltip="Compare 2 to 8 marked executions side by side",
    ),
    Binding("n", "start_execution", "Start", id="execution.start", tooltip="Start a pipeline"),
    Binding(
        "p",
        "open_pipelines",
        "Pipelines",
        show=False,  # the footer is full at 80 columns: `?` and the palette list it
        id="executions.pipelines",
        tooltip="Pipelines at a glance",
    ),
    Binding("x", "stop_execution", "Stop", id="execution.stop"),
    Binding("r", "retry_execution", "Retry", id="execution.retry", tooltip="Retry failed (same ARN)"),
    Binding(
        "e",
        "rerun_execution",
        "Rerun",
        show=False,
        id="execution.rerun",
        tooltip="New run, same parameters",
    ),
    Binding("c", "copy_arn", "Copy ARN", show=False, id="execution.copy_arn"),
    Binding(
        "ctrl+s",
        "export('csv')",
        "Export",
        show=False,
        id="executions.export",
        tooltip="The rows shown, to a CSV file (JSON: the palette)",
    ),
    Binding(
        "o",
        "open_console",
        "Console",
        show=False,
        id="execution.console",
        tooltip="Open in the AWS console",
    ),
    Binding("escape", "clear", "Clear", show=False, id="executions.clear"),
]


def palette_commands(session: Session, only_context: str) -> Iterator[PaletteCommand]:
    """Every action of the executions screen, for the command palette (with several contexts, the
    switches between them: `only_context` is the one shown now, "" for every one)."""
    yield PaletteCommand("execution: open", "Open the step tree of the selected execution", "open_execution")
    yield PaletteCommand(
        "execution: logs",
        "Logs of the failed step of the selected execution, else its running one",
        "open_logs",
    )
    yield PaletteCommand("execution: start", "Start a pipeline with parameters", "start_execution")
    yield PaletteCommand("execution: stop", "Stop the selected/marked executions", "stop_execution")
    yield PaletteCommand("execution: retry", "Retry failed executions (same ARN)", "retry_execution")
    yield PaletteCommand("execution: rerun", "Start new runs with the same parameters", "rerun_execution")
    yield PaletteCommand("execution: copy ARN", "Copy the ARN to the clipboard (OSC 52)", "copy_arn")
    yield PaletteCommand("execution: open in console", "Open the AWS console page", "open_console")
    yield PaletteCommand("executions: filter", "Filter the table", "filter")
    yield PaletteCommand(
        "pipelines", "Every pipeline at a glance: runs, success rate, durations", "open_pipelines"
    )
    yield PaletteCommand("executions: toggle active only", "Show only running executions", "toggle_active")
    yield PaletteCommand("executions: mark", "Mark the selected execution", "mark")
    yield PaletteCommand("executions: export CSV", "The rows shown, to a CSV file", "export('csv')")
    yield PaletteCommand("executions: export JSON", "The rows shown, to a JSON file", "export('json')")
    yield PaletteCommand(
        "executions: columns", "Show parameters of the selected pipeline as columns", "choose_columns"
    )
    yield PaletteCommand(
        "executions: compare", "Compare the marked executions (2 to 8) side by side", "compare"
    )
    yield from context_commands(session, only_context or None)
    for column in SORTABLE:
        yield PaletteCommand(
            f"executions: sort by {column}", f"Sort the table by {column}", f"sort('{column}')"
        )
