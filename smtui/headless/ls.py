"""`smtui ls`: executions across pipelines, newest first."""

from __future__ import annotations

import asyncio
from datetime import datetime

import click

from smtui.core.client import SageMakerClient
from smtui.core.format import EXECUTION_GLYPHS, format_duration
from smtui.core.model import Execution, ExecutionStatus
from smtui.core.timing import execution_elapsed
from smtui.headless.common import aws_options, execution_json, parse_duration, print_json, run, target_from

_STATUSES = [s.value for s in ExecutionStatus]


async def list_all(
    client: SageMakerClient, pipeline: str | None, since: str | None, concurrency: int = 8
) -> list[Execution]:
    """Executions of one or every pipeline, created after `since` ago, newest first."""
    names = [pipeline] if pipeline else [p.name for p in await client.list_pipelines()]
    created_after = client.now() - parse_duration(since) if since else None
    gate = asyncio.Semaphore(concurrency)

    async def one(name: str) -> list[Execution]:
        async with gate:
            return await client.list_executions(name, created_after=created_after)

    found = await asyncio.gather(*(one(n) for n in names))
    executions = [e for batch in found for e in batch]
    executions.sort(key=lambda e: e.started.timestamp() if e.started else 0.0, reverse=True)
    return executions


@click.command("ls")
@click.option("--pipeline", "-P", help="Only this pipeline (name or ARN).")
@click.option(
    "--status",
    "-s",
    type=click.Choice(_STATUSES, case_sensitive=False),
    multiple=True,
    help="Only these statuses.",
)
@click.option("--since", help="Only executions started within this long ago (e.g. 24h, 7d, 30m).")
@click.option("--limit", type=int, default=None, help="At most this many rows.")
@aws_options
def ls_command(
    pipeline: str | None,
    status: tuple[str, ...],
    since: str | None,
    limit: int | None,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    as_json: bool,
) -> None:
    """List executions across all pipelines, newest first."""
    if since:
        try:
            parse_duration(since)
        except click.BadParameter as exc:
            raise click.UsageError(f"--since: {exc.message}") from exc
    target, _ = target_from(profile, region, endpoint_url)

    async def listed(client: SageMakerClient) -> tuple[list[Execution], datetime]:
        return await list_all(client, pipeline, since), client.now()

    executions, now = run(target, listed)
    wanted = {s.lower() for s in status}
    rows = [e for e in executions if not wanted or e.status.value.lower() in wanted][:limit]
    if as_json:
        print_json([execution_json(e, now) for e in rows])
        return
    if not rows:
        click.echo("no executions")
        return
    width = max(len(e.pipeline_name) for e in rows)
    for e in rows:
        started = e.started.strftime("%Y-%m-%d %H:%M:%S") if e.started else "-"
        elapsed = format_duration(execution_elapsed(e, now)) if e.is_active else ""
        name = f"  {e.display_name}" if e.display_name else ""
        reason = f"  {e.failure_reason}" if e.failure_reason else ""
        click.echo(
            f"{EXECUTION_GLYPHS[e.status]} {e.pipeline_name:<{width}}  {e.execution_id}  {e.status.value:<21}"
            f"  {started}  {elapsed:>6}{name}{reason}".rstrip()
        )
