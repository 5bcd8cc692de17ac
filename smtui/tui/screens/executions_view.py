"""What the executions screen shows of the monitor's executions: which ones pass the filter and the
context switched to, what each row says, the line of counts above the table, and which executions an
action is aimed at (the marked ones, else the one under the cursor).

Plain functions of what they read, so the screen keeps only its state, its handlers and its actions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from rich.text import Text

from smtui.core.model import Execution
from smtui.core.timing import execution_elapsed
from smtui.tui import format as fmt
from smtui.tui.filtering import ExecutionFilter
from smtui.tui.screens.contexts import context_label
from smtui.tui.session import Session
from smtui.tui.time_left import TimeLeft
from smtui.tui.widgets.execution_rows import ExecutionRow
from smtui.tui.widgets.execution_table import ExecutionTable


def row_for(
    session: Session, execution: Execution, *, marked: bool, time_left: TimeLeft, columns: tuple[str, ...]
) -> ExecutionRow:
    """The table's row of an execution; `columns` are the parameter columns shown."""
    monitor = session.monitor
    arn = execution.arn
    now = session.now()
    return ExecutionRow(
        arn=arn,
        status=execution.status,
        pipeline=execution.pipeline_name,
        name=fmt.execution_name(execution),
        started=execution.started,
        elapsed=fmt.elapsed_shown(execution_elapsed(execution, now)),
        progress=monitor.progress(arn),
        running=monitor.running_steps(arn),
        reason=execution.failure_reason,
        marked=marked,
        started_today=fmt.same_day(execution.started, now),
        left=time_left.shown(execution, now),
        params=_params(execution, columns),
        context=context_label(session, arn),
    )


def _params(execution: Execution, shown: tuple[str, ...]) -> tuple[tuple[str, str], ...] | None:
    """The values of the parameter columns (none shown: nothing to read); None until read."""
    if not shown:
        return ()
    if execution.parameters is None:
        return None
    return tuple((name, value) for name, value in execution.parameters if name in shown)


def shows(session: Session, filter: ExecutionFilter, only_context: str, execution: Execution) -> bool:
    """The filter, and the one context the palette switched to (with several)."""
    contexts = session.contexts
    if contexts is None:
        return filter.matches(execution)
    context = contexts.context_of(execution.arn)
    if only_context and context != only_context:
        return False
    return filter.matches(execution, context)


def unread(session: Session, filter: ExecutionFilter, executions: Iterable[Execution]) -> Iterator[Execution]:
    """The candidates of a filter naming a parameter whose parameters are not read yet."""
    contexts = session.contexts
    return (
        e
        for e in executions
        if e.parameters is None
        and filter.candidates(e, None if contexts is None else contexts.context_of(e.arn))
    )


def targets(marked: set[str], table: ExecutionTable, executions: Mapping[str, Execution]) -> list[Execution]:
    """The marked executions, the ones the filter hides included (a mark is a choice the filter does
    not undo; the confirmation counts them), else the one under the cursor."""
    if marked:
        shown = [arn for arn in table.ordered_arns() if arn in marked]
        hidden = sorted(
            (executions[arn] for arn in marked.difference(shown) if arn in executions),
            key=lambda e: e.started.timestamp() if e.started else 0.0,
            reverse=True,
        )
        return [executions[arn] for arn in shown if arn in executions] + hidden
    arn = table.cursor_arn
    return [executions[arn]] if arn is not None and arn in executions else []


def info_line(
    session: Session, table: ExecutionTable, filter: ExecutionFilter, marked: set[str], only_context: str
) -> Text:
    """The line above the table: how many rows of how many, the marks, the sort and the filter."""
    total = len(session.monitor.executions)
    shown = table.row_count
    info = Text()
    if filter.error:
        # First, where a narrow terminal does not cut it: the term it names is left out meanwhile.
        info.append(f" {filter.error} ·", style=fmt.styled("bold red"))
    info.append(f" {shown} of {total} executions" if shown != total else f" {total} executions")
    if marked:
        # Next to the count, so a narrow terminal cuts the sort and the filter before it.
        info.append(f" · {len(marked)} marked", style="bold")
        executions = session.monitor.executions
        hidden = sum(1 for arn in marked if arn in executions and table.shown_row(arn) is None)
        if hidden:
            info.append(f", {hidden} hidden by the filter", style="bold yellow")
        info.append(" (d compares)", style="bright_black")
    if only_context:
        info.append(f" · context {only_context}", style="bold")
    arrow = "↓" if table.sort_reverse else "↑"
    info.append(f" · sorted by {table.sort_column} {arrow}", style="bright_black")
    if filter.text:
        info.append(" · filter: ", style="bright_black")
        info.append(filter.text, style="bold")
    if filter.reads_parameters:
        count = sum(1 for _ in unread(session, filter, session.monitor.executions.values()))
        if count:
            info.append(f" · reading the parameters of {count} more", style="yellow")
    if filter.active_only:
        info.append(" · active only", style="bold")
    return info
