"""The executions screen's export (`Ctrl+S`, the palette's `export CSV/JSON`): the rows shown, filtered
and in the table's order, with the time left and the parameter columns shown, to a new file in the
current directory (`smtui.tui.export` writes it)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from smtui.tui.export import ExportFormat, export_executions
from smtui.tui.session import Session
from smtui.tui.time_left import TimeLeft
from smtui.tui.widgets.execution_table import ExecutionTable


def export_shown(session: Session, table: ExecutionTable, time_left: TimeLeft, form: str) -> tuple[str, str]:
    """Write the file; the toast that names it: (text, title). An `OSError` says why nothing was written."""
    executions = session.monitor.executions
    rows = [executions[arn] for arn in table.ordered_arns() if arn in executions]
    now = session.now()
    time_left.new_batch()
    parameters = table.parameter_columns
    contexts = session.contexts
    path = export_executions(
        rows,
        now=now,
        left=lambda e: time_left.estimate(e, now),
        parameters=parameters,
        form=ExportFormat(form),
        directory=Path.cwd(),  # which fails too once the directory is deleted
        named_at=datetime.now().astimezone(),
        context=None if contexts is None else (lambda e: contexts.context_of(e.arn)),
    )
    unread = sum(1 for e in rows if e.parameters is None) if parameters else 0
    note = f" ({unread} without their parameters: not read yet)" if unread else ""
    return f"{path}{note}", f"Exported {len(rows):,} rows"
