"""The panel beside the step tree: the selected step, then the execution's parameters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from smtui.core.jobs import JobInfo
from smtui.core.model import Execution, ModelPackage, StepNode
from smtui.core.timing import step_elapsed
from smtui.tui import format as fmt


def _table() -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    return table


def job_rows(job: JobInfo) -> list[tuple[str, Text | str]]:
    """The job's status, times and failure (DescribeXJob), among the step's rows."""
    status = Text(job.status, style=fmt.styled("bold red") if job.status == "Failed" else "bold")
    if job.secondary_status and job.secondary_status != job.status:
        status.append(f" ({job.secondary_status})", style="dim")
    rows: list[tuple[str, Text | str]] = [("Job status", status)]
    if job.started:
        span = fmt.timestamp(job.started) + (f" → {fmt.timestamp(job.ended)}" if job.ended else "")
        rows.append(("Job times", span))
    # Instance, image, inputs, outputs and metrics: the sections below (`job_panel`).
    if job.failure_reason:
        rows.append(("Job failure", Text(job.failure_reason, style=fmt.styled("red"))))
    return rows


APPROVAL_STYLES = {"Approved": "bold green", "Rejected": "bold red", "PendingManualApproval": "bold yellow"}


def package_rows(package: ModelPackage) -> list[tuple[str, Text | str]]:
    """The model package a RegisterModel step registered, as DescribeModelPackage says now."""
    rows: list[tuple[str, Text | str]] = []
    if package.group:
        version = f", version {package.version}" if package.version is not None else ""
        rows.append(("Group", f"{package.group}{version}"))
    status = package.approval_status or "?"
    rows.append(("Approval", Text(status, style=fmt.styled(APPROVAL_STYLES.get(status, "bold")))))
    if package.approval_description:
        rows.append(("Note", package.approval_description))
    return rows


def step_panel(
    node: StepNode | None, now: datetime, job: Sequence[tuple[str, Text | str]] = ()
) -> RenderableType:
    """Everything known about one step; `job` adds what DescribeXJob said (status, instance, metrics), or
    DescribeModelPackage (approval status and note). A Lambda or Callback step's output parameters are
    listed as `→ name`."""
    if node is None:
        return Text("No step selected.", style="bright_black")
    table = _table()
    table.add_row("Step", Text(node.display_name or node.name, style="bold"))
    table.add_row("Type", node.type)
    table.add_row("Status", fmt.step_status_text(node.status))
    if node.branch:
        table.add_row("Branch", node.branch)
    if node.skip_reason:
        table.add_row("Skipped", node.skip_reason)
    if node.depends_on:
        table.add_row("After", ", ".join(node.depends_on))
    run = node.run
    if run is not None:
        table.add_row("Started", fmt.timestamp(run.started))
        if run.ended:
            table.add_row("Ended", fmt.timestamp(run.ended))
        table.add_row("Duration", fmt.duration(step_elapsed(node, now)))
        table.add_row("Attempt", str(run.attempt))
        if run.cache_source_arn:
            table.add_row("Cache hit", run.cache_source_arn)
        if run.job_arn:
            table.add_row("Model package" if run.metadata_kind == "RegisterModel" else "Job", run.job_arn)
        if run.condition_outcome is not None:
            table.add_row("Outcome", str(run.condition_outcome).lower())
        if run.iteration_index is not None:
            table.add_row("Iteration", f"{run.iteration_index} of {run.parent_step}")
        if run.iteration_item is not None:
            table.add_row("Item", run.iteration_item)
        if run.foreach is not None:
            info = run.foreach
            table.add_row(
                "Iterations",
                f"{info.succeeded or 0} ok, {info.failed or 0} failed, {info.stopped or 0} stopped"
                f" of {info.total if info.total is not None else '?'}",
            )
        if run.callback_token:
            table.add_row("Callback", run.callback_token)
        for name, value in run.outputs:
            table.add_row(f"→ {name}", value)
        reason = run.failure_reason or run.fail_message
        if reason:
            table.add_row("Failure", Text(reason, style=fmt.styled("red")))
    for label, cell in job:
        table.add_row(label, cell)
    return table


def parameters_panel(execution: Execution | None) -> RenderableType:
    title = Text("Parameters", style="bold underline")
    if execution is None or execution.parameters is None:
        return Group(title, Text("loading…", style="bright_black"))
    if not execution.parameters:
        return Group(title, Text("none", style="bright_black"))
    table = _table()
    for name, value in execution.parameters:
        table.add_row(name, value)
    return Group(title, table)


class StepDetails(Static):
    """Static text; the execution screen re-renders it when the selection or the data changes."""
