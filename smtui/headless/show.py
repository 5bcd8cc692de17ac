"""`smtui show EXECUTION`: the step tree as text (or JSON)."""

from __future__ import annotations

import shutil
from datetime import datetime

import click

from smtui.core.client import SageMakerClient
from smtui.core.format import EXECUTION_GLYPHS, format_duration, tree_lines
from smtui.core.model import Execution, StepRun, StepTree
from smtui.core.timeline import build_timeline, timeline_lines
from smtui.core.timing import execution_elapsed
from smtui.headless.common import aws_options, print_json, run, target_from
from smtui.headless.snapshot import Watcher, pipeline_hint, snapshot_json


async def fetch(
    client: SageMakerClient, ref: str
) -> tuple[Execution, StepTree, datetime, tuple[StepRun, ...]]:
    """The execution, its tree, the server's time (elapsed times are measured against it), every listed
    step entry (the timeline draws each attempt)."""
    arn = await client.resolve_execution(ref)
    watcher = Watcher(client, arn, pipeline_hint(ref))
    found, tree = await watcher.look()
    return found, tree, client.now(), watcher.runs


@click.command("show")
@click.argument("execution")
@click.option("--timeline", is_flag=True, help="Draw the steps as a Gantt chart on a time axis.")
@aws_options
def show_command(
    execution: str,
    timeline: bool,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    as_json: bool,
) -> None:
    """Print an execution's step tree.

    EXECUTION is a full ARN, PIPELINE/EXECUTION_ID or PIPELINE@latest.
    """
    target, _ = target_from(profile, region, endpoint_url)
    found, tree, now, runs = run(target, lambda client: fetch(client, execution))
    if as_json:
        print_json(snapshot_json(found, tree, now))
        return
    done, total = tree.progress
    title = f" ({found.display_name})" if found.display_name else ""
    click.echo(
        f"{EXECUTION_GLYPHS[found.status]} {found.pipeline_name}/{found.execution_id}{title}"
        f"  {found.status.value}"
        f"  {done}/{total} steps  {format_duration(execution_elapsed(found, now))}"
    )
    click.echo(f"  {found.arn}")
    if found.failure_reason:
        click.echo(f"  failure: {found.failure_reason}")
    if timeline:
        width = shutil.get_terminal_size((120, 24)).columns
        lines = timeline_lines(build_timeline(found, tree, runs, now), width)
    else:
        lines = tree_lines(tree, now)
    for line in lines:
        click.echo(line)
