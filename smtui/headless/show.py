"""`smtui show EXECUTION`: the step tree as text (or JSON)."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta

import click

from smtui.core.client import SageMakerClient
from smtui.core.format import EXECUTION_GLYPHS, format_duration, tree_lines
from smtui.core.model import Execution, StepRun, StepTree
from smtui.core.timeline import build_timeline, timeline_lines
from smtui.core.timing import HISTORY_RUNS, Remaining, add_step_durations, execution_elapsed, remaining
from smtui.headless.common import aws_options, place_from, print_json, run, success_history
from smtui.headless.snapshot import Watcher, pipeline_hint, snapshot_json


@dataclass(frozen=True)
class Fetched:
    """What `show` prints from: the execution, its tree, the server's time (elapsed times are measured
    against it), every listed step entry (the timeline draws each attempt), the time left, and for
    `--timeline` each step's durations in the earlier successful runs (the time left of a running step)."""

    execution: Execution
    tree: StepTree
    now: datetime
    runs: tuple[StepRun, ...]
    left: Remaining
    step_history: dict[str, list[float]] | None = None


async def fetch(client: SageMakerClient, ref: str, *, steps_of_history: bool = False) -> Fetched:
    """The execution and what goes with it. With `steps_of_history`, an active execution's earlier
    successful runs (the last five, already read for the time left) have their steps listed too."""
    arn = await client.resolve_execution(ref)
    watcher = Watcher(client, arn, pipeline_hint(ref))
    found, tree = await watcher.look()
    history = await success_history(client, [found.pipeline_name]) if found.is_active else []
    now = client.now()
    durations: dict[str, list[float]] | None = None
    if steps_of_history and found.is_active:
        earlier = [e for e in history if e.arn != found.arn][:HISTORY_RUNS]
        durations = {}
        for steps in await asyncio.gather(*(client.list_steps(e.arn) for e in earlier)):
            add_step_durations(durations, steps)
    return Fetched(found, tree, now, watcher.runs, remaining(found, history, now), durations)


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
    place, _ = place_from(profile, region, endpoint_url, [execution])
    fetched = run(place.target, lambda client: fetch(client, execution, steps_of_history=timeline))
    found, tree, now, runs, left = fetched.execution, fetched.tree, fetched.now, fetched.runs, fetched.left
    if as_json:
        print_json(snapshot_json(found, tree, now, left, context=place.name))
        return
    done, total = tree.progress
    title = f" ({found.display_name})" if found.display_name else ""
    click.echo(
        f"{EXECUTION_GLYPHS[found.status]} {found.pipeline_name}/{found.execution_id}{title}"
        f"  {found.status.value}"
        f"  {done}/{total} steps  {format_duration(execution_elapsed(found, now))}"
    )
    click.echo(f"  {found.arn}")
    if found.is_active:
        click.echo(f"  time left: {_left_text(left)}")
    if found.failure_reason:
        click.echo(f"  failure: {found.failure_reason}")
    if timeline:
        width = shutil.get_terminal_size((120, 24)).columns
        lines = timeline_lines(build_timeline(found, tree, runs, now, fetched.step_history), width)
    else:
        lines = tree_lines(tree, now)
    for line in lines:
        click.echo(line)


def _left_text(left: Remaining) -> str:
    if left.seconds is not None:
        return f"~{format_duration(timedelta(seconds=left.seconds))} (median of the last successful runs)"
    if left.note == "longer-than-history":
        return "unknown: already longer than every earlier successful run"
    return "unknown: no earlier successful run to estimate from"
