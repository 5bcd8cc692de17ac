"""`smtui show EXECUTION`: the step tree as text (or JSON)."""

from __future__ import annotations

from datetime import datetime

import click

from smtui.core.client import SageMakerClient
from smtui.core.format import EXECUTION_GLYPHS, format_duration, tree_lines
from smtui.core.model import Execution, StepTree
from smtui.core.timing import execution_elapsed
from smtui.headless.common import aws_options, print_json, run, target_from
from smtui.headless.snapshot import Watcher, pipeline_hint, snapshot_json


async def fetch(client: SageMakerClient, ref: str) -> tuple[Execution, StepTree, datetime]:
    """The execution, its tree, and the server's time (elapsed times are measured against it)."""
    arn = await client.resolve_execution(ref)
    found, tree = await Watcher(client, arn, pipeline_hint(ref)).look()
    return found, tree, client.now()


@click.command("show")
@click.argument("execution")
@aws_options
def show_command(
    execution: str, profile: str | None, region: str | None, endpoint_url: str | None, as_json: bool
) -> None:
    """Print an execution's step tree.

    EXECUTION is a full ARN, PIPELINE/EXECUTION_ID or PIPELINE@latest.
    """
    target, _ = target_from(profile, region, endpoint_url)
    found, tree, now = run(target, lambda client: fetch(client, execution))
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
    for line in tree_lines(tree, now):
        click.echo(line)
