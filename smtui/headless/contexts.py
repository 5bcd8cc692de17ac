"""Headless commands over several contexts (`--context A --context B`, `--all-contexts`): `ls` lists each
context with its own client, concurrently, and merges the rows, newest first, each tagged with its context.

A context that fails (expired credentials, an endpoint down) costs only its own rows: the others are printed,
and each failure is one line on stderr, `smtui: context NAME: ...`; the exit code is then 1 (2 when every
context failed for a reason only the user can fix, as a single-context command would exit).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import click

from smtui.core.client import SageMakerClient
from smtui.core.errors import AwsError
from smtui.core.model import Execution
from smtui.core.records import FIELDS, REMAINING_FIELDS, write_csv
from smtui.core.timing import remaining
from smtui.headless.common import (
    CONTEXT_FIELDS,
    EXIT_FAILED,
    EXIT_USAGE,
    Place,
    execution_json,
    fail,
    print_json,
)
from smtui.headless.ls_output import Listing, table

_EPOCH = datetime.fromtimestamp(0, UTC)


def merged_ls(
    places: Sequence[Place],
    listed: Callable[[SageMakerClient], Awaitable[Listing]],
    limit: int | None,
    as_json: bool,
    as_csv: bool = False,
) -> None:
    """Run `listed` in every context at once, then print the merged rows (see the module's docstring)."""

    async def one(place: Place) -> Listing:
        async with SageMakerClient.create(place.target, max_attempts=5) as client:
            return await listed(client)

    async def every() -> list[Listing | BaseException]:
        return list(await asyncio.gather(*(one(p) for p in places), return_exceptions=True))

    try:
        results = asyncio.run(every())
    except KeyboardInterrupt:
        fail("interrupted", 130)
    rows: list[tuple[str, Execution, datetime, list[Execution]]] = []
    failures: list[tuple[str, AwsError]] = []
    for place, result in zip(places, results, strict=True):
        name = str(place.name)
        if isinstance(result, AwsError):
            failures.append((name, result))
        elif isinstance(result, BaseException):
            raise result
        else:
            found, now, history = result
            rows.extend((name, e, now, history) for e in found)
    rows.sort(key=lambda row: row[1].started or _EPOCH, reverse=True)
    rows = rows[:limit]
    records = (
        execution_json(e, now, remaining(e, history, now), context=name) for name, e, now, history in rows
    )
    if as_json:
        print_json(list(records))
    elif as_csv:
        # The fields of --json, the context's last, as in --json: a header even with no rows.
        write_csv(sys.stdout, (*FIELDS, *REMAINING_FIELDS, *CONTEXT_FIELDS), records)
    elif rows:
        # One clock for the elapsed column: each context's own server time, the latest of them.
        latest = max(now for _, _, now, _ in rows)
        for text in table([e for _, e, _, _ in rows], latest, [name for name, _, _, _ in rows]):
            click.echo(text)
    elif not failures:
        click.echo("no executions")
    for name, error in failures:
        click.echo(f"smtui: context {name}: {error}", err=True)
    if failures:
        every_usage = len(failures) == len(places) and all(error.is_usage for _, error in failures)
        raise SystemExit(EXIT_USAGE if every_usage else EXIT_FAILED)
