"""`smtui launch FILE`: many runs from a CSV or JSONL file, resumable with no duplicates.

Each row is one execution: CSV columns (or JSONL keys) are parameter names; the optional `_pipeline` and
`_display_name` columns set the pipeline (else `--pipeline`) and the display name.

Safety: every row's token is derived from (launch id, row number), and the journal (`FILE.journal.jsonl`
unless `--journal`) gets a line before ("sending") and after ("started"/"failed") each call. Run the same
command again after a kill: rows journaled "started" are skipped, the others are sent again with the *same*
token, so a call that reached the service before the kill returns its execution instead of a second one.
The launch id defaults to a hash of the file's content, so the same file resumes the same launch.
Every row is validated against its pipeline's definition before anything starts: one bad row → exit 2.

Queueing: a row refused because the account's limit on running executions is reached (`ResourceLimitExceeded`)
or throttled waits in a `Backlog` and is sent again, with its same token, as running executions end; it is
journaled "waiting", never "failed". `--no-queue` fails such rows at once instead.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import hashlib
import io
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from smtui.core.actions import validate_parameters
from smtui.core.client import SageMakerClient
from smtui.core.errors import AwsError
from smtui.core.format import format_duration
from smtui.headless.common import (
    EXIT_FAILED,
    CommandError,
    aws_options,
    context_fields,
    fail,
    place_from,
    print_json,
    require_writable,
    run,
)


@dataclass(frozen=True)
class Row:
    """One run to start."""

    number: int  # 1-based, in file order
    pipeline: str
    parameters: dict[str, str]
    display_name: str | None


def read_text(path: Path) -> str:
    """The file's text as spreadsheets save it: UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8"
    has one), or UTF-16 with one (Excel's "Unicode Text"). Anything else is a CommandError."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"{path}: cannot read it: {exc.strerror or exc}") from exc
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not data.startswith(
        codecs.BOM_UTF32_LE
    ):
        encoding = "utf-16"  # the BOM says which byte order, and is dropped
    else:
        encoding = "utf-8-sig"  # drops a UTF-8 BOM if there is one
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CommandError(
            f"{path}: not UTF-8 or UTF-16 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r}); "
            "save it as CSV UTF-8"
        ) from exc


def read_rows(path: Path, default_pipeline: str | None) -> list[Row]:
    """The file's rows, or a CommandError (exit 2, nothing started) for a file that holds none."""
    text = read_text(path)
    records: list[dict[str, Any]] = []
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CommandError(f"{path}:{n}: not JSON: {exc}") from exc
            if not isinstance(obj, dict):
                raise CommandError(f"{path}:{n}: each line must be a JSON object")
            records.append(obj)
    else:
        lines = text.splitlines()
        # Excel's "Unicode Text" separates with tabs: a header with tabs and no comma says so.
        delimiter = "\t" if lines and "\t" in lines[0] and "," not in lines[0] else ","
        try:
            # strict: an unterminated quote is an error, not a value running to the end of the file
            records = list(csv.DictReader(io.StringIO(text), delimiter=delimiter, strict=True))
        except csv.Error as exc:
            raise CommandError(f"{path}: not a CSV file: {exc}") from exc
        for n, rec in enumerate(records, 1):
            if None in rec:  # DictReader files the values beyond the header under None
                raise CommandError(f"{path}: not a CSV file: row {n} has more values than the header")
    if not records:
        raise CommandError(f"{path}: no rows to launch (a CSV header and one row per run, or JSON lines)")
    rows = []
    for n, rec in enumerate(records, 1):
        pipeline = str(rec.pop("_pipeline", "") or default_pipeline or "")
        if not pipeline:
            raise CommandError(
                f"{path}: row {n} names no pipeline: pass --pipeline or add a _pipeline column"
            )
        display = rec.pop("_display_name", None)
        params = {str(k): _text(v) for k, v in rec.items() if k is not None and v not in (None, "")}
        rows.append(Row(n, pipeline, params, str(display) if display else None))
    return rows


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def token_for(launch_id: str, row: int) -> str:
    """The row's ClientRequestToken: stable across runs of the same launch (32–128 chars)."""
    return hashlib.sha256(f"smtui-launch:{launch_id}:{row}".encode()).hexdigest()[:48]


def read_journal(path: Path, launch_id: str) -> dict[int, dict[str, Any]]:
    """The last journal entry per row of this launch (a torn last line from a kill is ignored)."""
    state: dict[int, dict[str, Any]] = {}
    if not path.exists():
        return state
    try:
        text = path.read_text(encoding="utf-8", errors="replace")  # a torn multi-byte character, too
    except OSError as exc:
        raise CommandError(f"{path}: cannot read the journal: {exc.strerror or exc}") from exc
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if (
            isinstance(entry, dict)
            and entry.get("launch_id") == launch_id
            and isinstance(entry.get("row"), int)
        ):
            state[entry["row"]] = entry
    return state


class Journal:
    """Append-only JSON lines, flushed and fsynced per line so a kill loses nothing written."""

    def __init__(self, path: Path, launch_id: str) -> None:
        self.path = path
        self.launch_id = launch_id
        self._file = path.open("a", encoding="utf-8")

    def write(self, row: int, state: str, **extra: Any) -> None:
        import os

        entry = {"launch_id": self.launch_id, "row": row, "state": state, **extra}
        self._file.write(json.dumps(entry) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


LIMIT_REASON = "the account's limit on running pipeline executions is reached; they start as running ones end"
THROTTLED_REASON = "SageMaker is throttling StartPipelineExecution; they are sent again, backing off"
BACKOFF = (5.0, 60.0)  # seconds before the first probe, doubling up to the second while the limit holds


def wait_reason(error: AwsError) -> str | None:
    """Why a refused row should wait and be sent again rather than fail, or None."""
    if error.code == "ResourceLimitExceeded":  # StartPipelineExecution's modeled error for the limit
        return LIMIT_REASON
    if error.is_throttling:  # botocore already retried; the launch outlasts it
        return THROTTLED_REASON
    return None


class Backlog:
    """Where rows the service refused for a reason that passes (`wait_reason`) wait to be sent again.

    While the limit holds, one row at a time probes: it sleeps the backoff (`first` seconds, doubling up to
    `cap`) and sends again; the others queue behind it (FIFO), so a 300-row sweep costs one call a minute,
    not 300. A row that gets through lets the next one try at once (several runs may have ended), and
    `lift_after` rows through in a row mean the limit is gone: rows are then sent concurrently again.
    """

    def __init__(self, first: float, cap: float, lift_after: int) -> None:
        self.limited = False
        self._turn = asyncio.Lock()
        self._first = first
        self._cap = cap
        self._lift_after = lift_after
        self._delay = 0.0
        self._streak = 0

    async def send(self, call: Callable[[], Awaitable[str]], refused: Callable[[AwsError, str], None]) -> str:
        """`call()` until it gets through; `refused(error, reason)` on each refusal worth waiting for.
        Any other AwsError is raised."""
        while True:
            if not self.limited:
                try:
                    return await call()
                except AwsError as exc:
                    reason = wait_reason(exc)
                    if reason is None:
                        raise
                    refused(exc, reason)
                    if not self.limited:
                        self.limited, self._delay, self._streak = True, self._first, 0
                    continue
            async with self._turn:
                if not self.limited:
                    continue
                await asyncio.sleep(self._delay)
                try:
                    arn = await call()
                except AwsError as exc:
                    reason = wait_reason(exc)
                    if reason is None:
                        raise
                    refused(exc, reason)
                    self._delay = min(self._delay * 2, self._cap) if self._delay else self._first
                    self._streak = 0
                    continue
                self._delay = 0.0
                self._streak += 1
                if self._streak >= self._lift_after:
                    self.limited = False
                return arn


async def launch(
    client: SageMakerClient,
    rows: list[Row],
    launch_id: str,
    journal_path: Path,
    concurrency: int,
    *,
    queue: bool = True,
    backoff: tuple[float, float] = BACKOFF,
    say: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Start every row not yet started; one result per row, in row order.

    With `queue`, rows refused for the account's limit or throttled wait in a `Backlog` (`backoff` is its
    first delay and cap, in seconds) and `say` tells the user on stderr; without, they fail like any error.
    """
    tell = say or (lambda line: click.echo(line, err=True))
    # Validate every row before starting any: parameters are checked against each pipeline's definition.
    declared = {}
    for name in sorted({r.pipeline for r in rows}):
        declared[name] = await client.pipeline_parameters(name)
    checked: dict[int, dict[str, str]] = {}
    for row in rows:
        try:
            checked[row.number] = validate_parameters(declared[row.pipeline], row.parameters)
        except ValueError as exc:
            raise CommandError(f"row {row.number}: {exc}; nothing started") from exc

    done = read_journal(journal_path, launch_id)
    try:
        journal = Journal(journal_path, launch_id)
    except OSError as exc:
        raise CommandError(
            f"{journal_path}: cannot write the journal: {exc.strerror or exc}; nothing started"
        ) from exc
    gate = asyncio.Semaphore(concurrency)
    backlog = Backlog(*backoff, lift_after=concurrency)
    results: list[dict[str, Any]] = []
    to_go = {r.number for r in rows if (done.get(r.number) or {}).get("state") != "started"}
    waiting_since: dict[int, float] = {}
    told: set[str] = set()

    def refused(row: Row, token: str, error: AwsError, reason: str) -> None:
        if row.number not in waiting_since:
            waiting_since[row.number] = time.monotonic()
            journal.write(row.number, "waiting", token=token, error=str(error))
        if reason not in told:
            told.add(reason)
            tell(f"smtui: {_rows(len(to_go))} waiting: {reason}")

    async def one(row: Row) -> None:
        previous = done.get(row.number)
        if previous is not None and previous.get("state") == "started":
            results.append({"row": row.number, "arn": previous.get("arn"), "result": "already-started"})
            return
        token = token_for(launch_id, row.number)

        async def call() -> str:
            # The same token on every attempt: a call that did reach the service returns its execution.
            return await client.start_execution(
                row.pipeline, checked[row.number], token=token, display_name=row.display_name
            )

        async with gate:
            journal.write(row.number, "sending", token=token)
            try:
                if queue:
                    arn = await backlog.send(call, lambda exc, why: refused(row, token, exc, why))
                else:
                    arn = await call()
            except AwsError as exc:
                to_go.discard(row.number)
                journal.write(row.number, "failed", token=token, error=str(exc))
                results.append({"row": row.number, "arn": None, "result": "error", "error": str(exc)})
                return
            to_go.discard(row.number)
            journal.write(row.number, "started", token=token, arn=arn)
            results.append({"row": row.number, "arn": arn, "result": "started"})
            since = waiting_since.pop(row.number, None)
            if since is not None:
                waited = format_duration(timedelta(seconds=time.monotonic() - since))
                tell(f"smtui: row {row.number} started after waiting {waited}; {_rows(len(to_go))} to go")

    try:
        await asyncio.gather(*(one(r) for r in rows))
    except asyncio.CancelledError:
        if to_go:
            tell(f"smtui: {_rows(len(to_go))} not started: run the same command again to start them")
        raise
    finally:
        journal.close()
    results.sort(key=lambda r: int(r["row"]))
    return results


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


@click.command("launch")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--pipeline", "-P", help="Pipeline for rows without a _pipeline column.")
@click.option("--launch-id", help="Name of this launch (default: a hash of the file's content).")
@click.option(
    "--journal", "journal_path", type=click.Path(dir_okay=False, path_type=Path), help="Journal file."
)
@click.option("--concurrency", type=click.IntRange(1, 32), default=4, show_default=True)
@click.option(
    "--no-queue",
    is_flag=True,
    help="Fail rows refused for the account's limit on running executions instead of waiting to start them.",
)
@aws_options
def launch_command(
    file: Path,
    pipeline: str | None,
    launch_id: str | None,
    journal_path: Path | None,
    concurrency: int,
    no_queue: bool,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    as_json: bool,
) -> None:
    """Start many runs from a CSV/JSONL file; run it again to finish an interrupted launch."""
    place, read_only = place_from(profile, region, endpoint_url)
    require_writable(read_only, "launch executions")
    try:
        rows = read_rows(file, pipeline)
    except CommandError as exc:
        fail(str(exc), exc.code)
    launch_id = launch_id or hashlib.sha256(file.read_bytes()).hexdigest()[:16]
    journal_path = journal_path or file.with_name(file.name + ".journal.jsonl")
    results = run(
        place.target,
        lambda client: launch(client, rows, launch_id, journal_path, concurrency, queue=not no_queue),
    )
    results = [{**r, **context_fields(place.name, r.get("arn"))} for r in results]
    failed = [r for r in results if r["result"] == "error"]
    if as_json:
        print_json({"launch_id": launch_id, "journal": str(journal_path), "rows": results})
    else:
        for r in results:
            detail = r.get("error") if r["result"] == "error" else r["arn"]
            click.echo(f"row {r['row']}: {r['result']}  {detail}")
        earlier = sum(r["result"] == "already-started" for r in results)
        before = f", {earlier} already started" if earlier else ""
        started = len(results) - len(failed) - earlier
        click.echo(f"launch {launch_id}: {started} started{before}, {len(failed)} failed")
    raise SystemExit(EXIT_FAILED if failed else 0)
