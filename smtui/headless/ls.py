"""`smtui ls`: executions across pipelines, newest first.

What it costs: ListPipelines (without `--pipeline`), then ListPipelineExecutions per pipeline, newest first.
With `--limit N` a pipeline's paging stops once it has N rows that pass the filters, and a pipeline whose last
run (ListPipelines' LastExecutionTime) is older than N rows already found is not listed at all. The list
gives no end time: each finished execution printed costs one DescribePipelineExecution (its LastModifiedTime
is the end, as the monitor reads it), at the configured call rate: for every row printed with `--limit N`
(up to `MAX_ENDED_ROWS`), else for the newest `ENDED_ROWS` (a screenful; further rows print `-`, JSON null).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import click

from smtui.core.budget import CallBudget
from smtui.core.client import PAGE, SageMakerClient
from smtui.core.errors import THROTTLING_CODES, AwsError
from smtui.core.model import Execution, ExecutionStatus
from smtui.headless.common import (
    aws_options,
    parse_duration,
    places_from,
    run,
    success_history,
)
from smtui.headless.contexts import merged_ls
from smtui.headless.ls_output import Listing, output

_STATUSES = [s.value for s in ExecutionStatus]
ENDED_ROWS = 20  # rows whose end time is read without --limit: ~2 s at the default 10 calls/s
MAX_ENDED_ROWS = 100  # and with --limit N: N, up to this
_EPOCH = datetime.fromtimestamp(0, UTC)


async def list_all(
    client: SageMakerClient,
    pipeline: str | None,
    since: str | None,
    *,
    limit: int | None = None,
    statuses: Iterable[str] = (),
    concurrency: int = 8,
) -> list[Execution]:
    """The newest `limit` executions (all without one) of one or every pipeline that have one of
    `statuses` (any when empty) and were created within `since`, newest first."""
    wanted = {s.lower() for s in statuses}
    if pipeline:
        targets: list[tuple[str, datetime | None]] = [(pipeline, None)]
    else:
        pipelines = await client.list_pipelines()
        # The most recently run first: they are the likeliest to hold the newest rows, so that the
        # others can be skipped once `limit` rows newer than their last run are in.
        pipelines.sort(key=lambda p: p.last_execution or _EPOCH, reverse=True)
        targets = [(p.name, p.last_execution) for p in pipelines]
    created_after = client.now() - parse_duration(since) if since else None
    gate = asyncio.Semaphore(concurrency)
    found: list[Execution] = []

    def matches(execution: Execution) -> bool:
        return not wanted or execution.status.value.lower() in wanted

    def cannot_show(last_run: datetime | None) -> bool:
        if last_run is None:
            return False
        if created_after is not None and last_run < created_after:
            return True
        newer = sum(1 for e in found if e.started is not None and e.started > last_run)
        return limit is not None and newer >= limit

    async def one(name: str, last_run: datetime | None) -> None:
        async with gate:
            if cannot_show(last_run):
                return
            kept = 0

            def enough(page: list[Execution]) -> bool:
                nonlocal kept
                kept += sum(1 for e in page if matches(e))
                return limit is not None and kept >= limit

            # Without a status filter every row counts: a page of `limit` rows is all it takes.
            size = PAGE if limit is None or wanted else min(PAGE, limit)
            batch = await client.list_executions(
                name, created_after=created_after, stop=enough, page_size=size
            )
            found.extend(e for e in batch if matches(e))

    await asyncio.gather(*(one(name, last_run) for name, last_run in targets))
    found.sort(key=lambda e: e.started or _EPOCH, reverse=True)
    return found[:limit]


async def with_end_times(
    client: SageMakerClient, rows: Sequence[Execution], rate: float, *, first: int, concurrency: int = 8
) -> list[Execution]:
    """`rows` with the end time of the finished ones among the `first` rows, described concurrently
    within the call budget (`rate` calls/s, halved on throttling). A row whose describe fails keeps an
    unknown end: the listing is still worth printing."""
    budget = CallBudget(rate, max_in_flight=concurrency)

    def on_call(operation: str, code: str | None) -> None:
        if code in THROTTLING_CODES:
            budget.on_throttle()

    async def described(execution: Execution) -> Execution:
        try:
            return await client.describe_execution(execution.arn, execution.pipeline_name)
        except AwsError:
            return execution

    out = list(rows)
    waiting = [i for i, e in enumerate(rows[:first]) if e.status.is_terminal and e.ended is None]
    running: dict[asyncio.Task[Execution], int] = {}
    unsubscribe = client.add_listener(on_call)
    try:
        while waiting or running:
            while waiting and budget.try_acquire():
                i = waiting.pop(0)
                running[asyncio.create_task(described(rows[i]))] = i
            # Wake for the next token, or when a call ends (the cap on calls in flight, or the last ones).
            full = budget.in_flight >= budget.max_in_flight
            timeout = max(budget.wait_time(), 0.005) if waiting and not full else None
            if not running:
                await asyncio.sleep(timeout or 0.005)
                continue
            done, _ = await asyncio.wait(running, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                budget.release()
                out[running.pop(task)] = task.result()
    finally:
        unsubscribe()
        for task in running:
            task.cancel()
    return out


def _positive(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is not None and value < 1:
        raise click.BadParameter(f"{value} is not a positive number of rows")
    return value


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
@click.option(
    "--limit",
    type=int,
    default=None,
    callback=_positive,
    help="At most this many rows (listing stops there).",
)
@click.option(
    "--csv",
    "as_csv",
    is_flag=True,
    help="CSV with a header row: the fields of --json (RFC 4180; null is an empty field).",
)
@aws_options
def ls_command(
    pipeline: str | None,
    status: tuple[str, ...],
    since: str | None,
    limit: int | None,
    as_csv: bool,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    as_json: bool,
) -> None:
    """List executions across all pipelines, newest first.

    Finished executions show their elapsed time: one DescribePipelineExecution each, for the newest 20
    rows, or every row with --limit N (N up to 100).
    """
    if as_csv and as_json:
        raise click.UsageError("--csv and --json: choose one")
    if since:
        try:
            parse_duration(since)
        except click.BadParameter as exc:
            raise click.UsageError(f"--since: {exc.message}") from exc
    places, _ = places_from(profile, region, endpoint_url)
    from smtui.config import load_settings

    rate = load_settings().rate  # already read (and checked) by `places_from`

    async def listed(client: SageMakerClient) -> Listing:
        rows = await list_all(client, pipeline, since, limit=limit, statuses=status)
        first = min(limit, MAX_ENDED_ROWS) if limit else ENDED_ROWS
        rows = await with_end_times(client, rows, rate, first=first)
        # The time-left estimate, for `--json`/`--csv` only: the history of each pipeline with a run going.
        active = {e.pipeline_name for e in rows if e.is_active} if as_json or as_csv else set()
        # Unfiltered, the rows are each pipeline's newest runs already: no further listing needed.
        complete = not status and since is None and limit is None
        return rows, client.now(), await success_history(client, active, rows, complete=complete)

    if places[0].name is None:
        rows, now, history = run(places[0].target, listed)
        output(rows, now, history, as_json, as_csv)
        return
    merged_ls(places, listed, limit, as_json, as_csv)
