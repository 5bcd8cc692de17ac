"""The job behind a step, in the step details: what Studio's Info / Input / Output tabs show, as sections.

Sections rather than tabs: the side pane is 30–70 columns wide and scrolls, so one column read top to
bottom shows everything without a key to learn, and the sections stay in view together at 160 columns.
Info (image, instances, billable time, hyperparameters, environment, secondary status transitions with their
durations), Input (channels, processing inputs, a transform's input: their S3 URIs), Output (S3 locations,
model artifacts), Metrics (the final value of each, and its history from the log lines as a sparkline).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from smtui.core.jobs import JobInfo, MetricHistory
from smtui.tui import format as fmt

BLOCKS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 24  # cells: the side pane's value column holds it beside the value at 80 columns


def sparkline(values: tuple[float, ...] | list[float], width: int = SPARK_WIDTH) -> str:
    """One line of block characters, the whole history squeezed into `width` cells (the mean of each)."""
    if not values:
        return ""
    if len(values) > width:
        step = len(values) / width
        buckets = [values[int(i * step) : max(int((i + 1) * step), int(i * step) + 1)] for i in range(width)]
        values = [sum(b) / len(b) for b in buckets]
    low, high = min(values), max(values)
    if high == low:
        return BLOCKS[3] * len(values)
    top = len(BLOCKS) - 1
    return "".join(BLOCKS[round((v - low) / (high - low) * top)] for v in values)


def _table() -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    return table


def _heading(title: str) -> Rule:
    return Rule(Text(title, style="bold"), align="left", style=fmt.styled("bright_black"))


def _pairs(pairs: tuple[tuple[str, str], ...]) -> Text:
    return Text("\n".join(f"{key}={value}" for key, value in pairs))


def _info(job: JobInfo, now: datetime) -> Table:
    table = _table()
    if job.image:
        table.add_row("Image", job.image)
    if job.instance_type:
        count = f"{job.instance_count} × " if job.instance_count else ""
        table.add_row("Instance", f"{count}{job.instance_type}")
    if job.billable_seconds is not None:
        billable = fmt.duration(timedelta(seconds=job.billable_seconds))
        table.add_row("Billable", f"{billable} ({job.billable_seconds} s)")
    if job.hyperparameters:
        table.add_row("Hyperparams", _pairs(job.hyperparameters))
    if job.environment:
        table.add_row("Environment", _pairs(job.environment))
    if job.transitions:
        # Status and duration only: the messages ("Preparing the instances for training") say the status
        # again in words and would wrap each row in a 40-column pane.
        steps = Table.grid(padding=(0, 1))
        steps.add_column(no_wrap=True)
        steps.add_column(justify="right", no_wrap=True)
        last = len(job.transitions) - 1
        for index, transition in enumerate(job.transitions):
            end = transition.ended or (None if job.is_done else now)
            # The last status of an ended job (Completed, Failed, Stopped) is an outcome, not a phase.
            ended_job = index == last and job.is_done
            took = fmt.duration(end - transition.started) if end is not None and not ended_job else ""
            steps.add_row(transition.status, took)
        table.add_row("Statuses", steps)
    return table


def _io(job: JobInfo) -> tuple[Table, Table]:
    inputs, outputs = _table(), _table()
    for channel in job.inputs:
        cell = Text(channel.uri or "?")
        if channel.detail:
            cell.append(f"  {channel.detail}", style="dim")
        inputs.add_row(channel.name, cell)
    for output in job.outputs:
        outputs.add_row(output.name, output.uri)
    return inputs, outputs


def _metrics(job: JobInfo, history: MetricHistory | None) -> Table | Text | None:
    finals = dict(job.metrics)
    series = {s.name: s.values for s in history.series} if history is not None else {}
    names = list(dict.fromkeys([*(d.name for d in job.metric_definitions), *finals]))
    if not names:
        return None
    table = _table()
    for name in names:
        values = series.get(name, ())
        final = finals.get(name, values[-1] if values else None)
        cell = Text(f"{final:.4g}" if final is not None else "–")
        if len(values) >= 2:
            cell.append(f"  {sparkline(values)}", style=fmt.styled("cyan"))
            cell.append(f" {len(values)}", style="dim")
        table.add_row(name, cell)
    if job.metric_definitions and history is None:
        table.add_row("", Text("reading the metric lines of the log…", style="dim"))
    return table


def job_panel(job: JobInfo, history: MetricHistory | None, now: datetime) -> RenderableType:
    """Info, Input, Output and Metrics sections of a described job (sections without content are left out)."""
    parts: list[RenderableType] = [_heading("Info"), _info(job, now)]
    inputs, outputs = _io(job)
    if job.inputs:
        parts += [_heading("Input"), inputs]
    if job.outputs:
        parts += [_heading("Output"), outputs]
    metrics = _metrics(job, history)
    if metrics is not None:
        parts += [_heading("Metrics"), metrics]
    return Group(*parts)
