"""What `smtui ls` prints: the aligned text table (with a context column when several contexts are merged),
`--json` or `--csv`."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime

import click

from smtui.core.format import EXECUTION_GLYPHS, format_duration
from smtui.core.model import Execution
from smtui.core.records import FIELDS, REMAINING_FIELDS, write_csv
from smtui.core.timing import execution_elapsed, remaining
from smtui.headless.common import execution_json, print_json

Listing = tuple[list[Execution], datetime, list[Execution]]  # rows, the server's now, the success history


def table(rows: Sequence[Execution], now: datetime, contexts: Sequence[str] = ()) -> list[str]:
    """The text output: a header row, then one aligned row per execution (after its context's name, with
    `contexts`: one per row)."""
    cells = [
        (
            EXECUTION_GLYPHS[e.status],
            e.pipeline_name,
            e.execution_id,
            e.status.value,
            e.started.strftime("%Y-%m-%d %H:%M:%S") if e.started else "-",
            format_duration(execution_elapsed(e, now)),
            e.display_name or "",
            e.failure_reason or "",
        )
        for e in rows
    ]
    header = (" ", "PIPELINE", "EXECUTION", "STATUS", "STARTED (UTC)", "ELAPSED", "DISPLAY NAME", "REASON")
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
    if not any(row[7] for row in cells):  # the last columns only when some row has them
        widths = widths[:7] if any(row[6] for row in cells) else widths[:6]

    names = ["CONTEXT", *contexts]
    name_width = max(len(name) for name in names)

    def line(row: Sequence[str], name: str) -> str:
        parts = [
            value.rjust(width) if i == 5 else value.ljust(width)
            for i, (value, width) in enumerate(zip(row, widths, strict=False))
        ]
        if contexts:
            parts.insert(1, name.ljust(name_width))
        return (parts[0] + " " + "  ".join(parts[1:])).rstrip()

    labels = names if contexts else [""] * (len(cells) + 1)
    return [line(row, name) for row, name in zip([header, *cells], labels, strict=True)]


def output(
    rows: Sequence[Execution], now: datetime, history: Sequence[Execution], as_json: bool, as_csv: bool
) -> None:
    if as_json:
        print_json([execution_json(e, now, remaining(e, history, now)) for e in rows])
        return
    if as_csv:
        # Even with no rows: a header alone is still a CSV file that a script can read.
        records = (execution_json(e, now, remaining(e, history, now)) for e in rows)
        write_csv(sys.stdout, (*FIELDS, *REMAINING_FIELDS), records)
        return
    if not rows:
        click.echo("no executions")
        return
    for text in table(rows, now):
        click.echo(text)
