"""Executions as flat records: the JSON object of `smtui ls --json`, and the same fields as CSV rows.

One shape for the headless commands and the TUI's export, so a file exported from the table reads like
`smtui ls --json` / `--csv` (the fields are a contract, listed in docs/commands.md).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TextIO

from smtui.core.model import Execution
from smtui.core.timing import Remaining, execution_elapsed

FIELDS = (
    "arn",
    "pipeline",
    "execution_id",
    "display_name",
    "status",
    "started",
    "ended",
    "elapsed_s",
    "failure_reason",
)
REMAINING_FIELDS = ("remaining_s", "remaining")  # where the time left was estimated (`ls`, `show`)


CONTEXT_FIELDS = ("context", "account", "region")  # with contexts, after the others


def context_fields(context: str | None, arn: str | None) -> dict[str, Any]:
    """What a record of an execution gains with contexts (`--context`/`--all-contexts`, or several in the
    TUI): the context's name, and the account and region its ARN names; nothing when `context` is None."""
    if context is None:
        return {}
    parts = (arn or "").split(":")
    return {
        "context": context,
        "account": parts[4] if len(parts) > 4 else None,
        "region": parts[3] if len(parts) > 3 else None,
    }


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def execution_record(execution: Execution, now: datetime, left: Remaining | None = None) -> dict[str, Any]:
    """The stable JSON shape of an execution. `left`: the time-left estimate, where the caller read the
    history for it."""
    duration = execution_elapsed(execution, now)
    extra: dict[str, Any] = {}
    if left is not None:
        extra = {"remaining_s": left.seconds, "remaining": left.note}
    return {
        "arn": execution.arn,
        "pipeline": execution.pipeline_name,
        "execution_id": execution.execution_id,
        "display_name": execution.display_name,
        "status": execution.status.value,
        "started": iso(execution.started),
        "ended": iso(execution.ended),
        "elapsed_s": round(duration.total_seconds(), 3) if duration is not None else None,
        "failure_reason": execution.failure_reason,
        **extra,
    }


def write_csv(out: TextIO, fields: Sequence[str], records: Iterable[Mapping[str, Any]]) -> None:
    """A header row of `fields`, then a row per record (RFC 4180: quoted where needed, CRLF line ends;
    null is an empty field). `out` is opened with `newline=""`, as the csv module asks."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(fields)
    for record in records:
        writer.writerow(["" if (value := record.get(field)) is None else value for field in fields])
