"""Export of the executions table's rows: the fields of `smtui ls --json` (`smtui.core.records`), the
time left included, plus the parameter columns shown, as CSV or JSON, into a new file.

The file is named after the time (`smtui-executions-20261202-073000.csv`) in the current directory, as
the log view's `Ctrl+S` saves there; an export in the same second gets `-2`, `-3`, ... and never
overwrites a file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from smtui.core.model import Execution
from smtui.core.records import (
    CONTEXT_FIELDS,
    FIELDS,
    REMAINING_FIELDS,
    context_fields,
    execution_record,
    write_csv,
)
from smtui.core.timing import Remaining

PARAM_PREFIX = "param:"  # a CSV column of a parameter: `param:InstanceCount`, as the filter names it


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


def export_executions(
    executions: Sequence[Execution],
    *,
    now: datetime,
    left: Callable[[Execution], Remaining],
    parameters: Sequence[str],
    form: ExportFormat,
    directory: Path,
    named_at: datetime,
    context: Callable[[Execution], str | None] | None = None,
) -> Path:
    """Write `executions` (in this order) to a new file in `directory`; its path. Raises OSError.

    JSON: a list of `smtui ls --json` objects, each with `parameters` ({name: value}, null while the
    execution's parameters are not read) when parameter columns are shown. CSV: a header row, the same
    fields, then a `param:NAME` column per parameter (empty when not read or not set). `now` is the
    session's clock (elapsed times); the file is named after `named_at`, the local wall clock. `context`
    (several contexts): each execution's, added as `smtui ls --all-contexts --json` adds it."""
    records: list[dict[str, Any]] = []
    for execution in executions:
        record = execution_record(execution, now, left(execution))
        if context is not None:
            record.update(context_fields(context(execution) or "", execution.arn))
        if parameters:
            known = dict(execution.parameters) if execution.parameters is not None else None
            record["parameters"] = {
                name: (known.get(name) if known is not None else None) for name in parameters
            }
        records.append(record)
    path = _new_file(directory, named_at, form)
    with path.open("x", encoding="utf-8", newline="") as out:
        if form is ExportFormat.JSON:
            json.dump(records, out, indent=1)
            out.write("\n")
        else:
            columns = [f"{PARAM_PREFIX}{name}" for name in parameters]
            flat = (
                {**r, **{f"{PARAM_PREFIX}{k}": v for k, v in (r.get("parameters") or {}).items()}}
                for r in records
            )
            where = CONTEXT_FIELDS if context is not None else ()
            write_csv(out, (*FIELDS, *REMAINING_FIELDS, *where, *columns), flat)
    return path


def _new_file(directory: Path, named_at: datetime, form: ExportFormat) -> Path:
    stem = f"smtui-executions-{named_at.astimezone().strftime('%Y%m%d-%H%M%S')}"
    path = directory / f"{stem}.{form}"
    count = 1
    while path.exists():
        count += 1
        path = directory / f"{stem}-{count}.{form}"
    return path
