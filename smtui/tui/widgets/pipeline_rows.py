"""The cells of the pipelines view: one row per pipeline (per pipeline and context, with several contexts),
drawn from its `PipelineSummary`.

Every cell reads without colour: statuses have their glyph, the sparkline's failed runs their status glyph
(`✘`, `■`, `◑`) rather than a red bar, and a run whose end time is not read yet a `·`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.text import Text

from smtui.core.model import ExecutionStatus
from smtui.core.pipeline_stats import PipelineSummary, RecentRun
from smtui.tui import format as fmt

BLOCKS = "▁▂▃▄▅▆▇█"
UNTIMED = "·"  # a successful run whose end time is not read yet
NARROW_BELOW = 110  # terminal columns under which the narrow layout is used


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int | None  # None: as wide as its content


def columns(width: int, runs: int, context_width: int = 0) -> list[Column]:
    """The columns for a terminal `width` columns wide: the narrow layout drops p95 and the count of timed
    runs, shortens the status and the success rate, and cuts long names. With several contexts
    (`context_width` > 0, the longest name) a Context column follows the name, taken from the name's width."""
    context = [Column("context", "Context", context_width)] if context_width else []
    room = context_width + 2 if context_width else 0  # its cells and their padding
    if width < NARROW_BELOW:
        return [
            Column("name", "Pipeline", max(12, width - 56 - room)),
            *context,
            Column("active", "Act", 3),
            Column("last", "Last run", 8),
            Column("rate", "OK%", 4),
            Column("p50", "p50", 6),
            Column("trend", f"Last {runs}", runs),
        ]
    return [
        Column("name", "Pipeline", min(48, max(20, width - 100 - room))),
        *context,
        Column("active", "Active", 6),
        Column("last", "Last run", 22),
        Column("rate", "Succeeded", 11),
        Column("p50", "p50", 7),
        Column("p95", "p95", 7),
        Column("timed", "Timed", 8),
        Column("trend", f"Durations, last {runs}", max(runs, 21)),
    ]


def cells(
    summary: PipelineSummary, keys: list[str], now: datetime, runs: int, context: str = ""
) -> list[Text]:
    """The row of `summary` (of the context `context`, with several) for the columns named by `keys`."""
    narrow = _narrow(keys)
    render = {
        "name": lambda: Text(summary.name, overflow="ellipsis", no_wrap=True),
        "context": lambda: Text(context, overflow="ellipsis", no_wrap=True),
        "active": lambda: _active(summary.active),
        "last": lambda: last_run_cell(summary, now, keys),
        "rate": lambda: _rate(summary, narrow=narrow),
        "p50": lambda: _duration(summary, summary.p50),
        "p95": lambda: _duration(summary, summary.p95),
        "timed": lambda: _timed(summary),
        "trend": lambda: sparkline(summary.recent, runs),
    }
    return [render[key]() for key in keys]


def sparkline(recent: tuple[RecentRun, ...], width: int) -> Text:
    """One cell per finished run, oldest left, newest at the right edge: a successful run's bar is as high
    as its duration against the slowest shown (from zero, so similar runs look similar), a run that did not
    succeed is its status glyph, one whose end is not read yet `·`."""
    shown = recent[-width:]
    longest = max((r.seconds for r in shown if r.seconds is not None and _ok(r)), default=0.0)
    line = Text(" " * (width - len(shown)))
    for run in shown:
        if run.status is not ExecutionStatus.SUCCEEDED:
            glyph, style = fmt.EXECUTION_GLYPHS[run.status]
            line.append(glyph, style=fmt.styled(style))
        elif run.seconds is None:
            line.append(UNTIMED, style=fmt.styled("bright_black"))
        else:
            level = 0 if longest <= 0 else round(run.seconds / longest * (len(BLOCKS) - 1))
            line.append(BLOCKS[level], style=fmt.styled("cyan"))
    return line


def _ok(run: RecentRun) -> bool:
    return run.status is ExecutionStatus.SUCCEEDED


def _active(count: int) -> Text:
    if not count:
        return Text("")
    glyph, style = fmt.EXECUTION_GLYPHS[ExecutionStatus.EXECUTING]
    return Text(f"{glyph} {count}", style=fmt.styled(style))


def _narrow(keys: list[str]) -> bool:
    return "p95" not in keys  # the narrow layout drops it


def last_run_cell(summary: PipelineSummary, now: datetime, keys: list[str]) -> Text:
    """The last run's status and age (the one cell that changes with time alone), for the columns `keys`."""
    narrow = _narrow(keys)
    last = summary.last
    if last is None:
        return Text("no runs", style=fmt.styled("bright_black"))
    glyph, style = fmt.EXECUTION_GLYPHS[last.status]
    text = Text(
        glyph if narrow else f"{glyph} {fmt.execution_status_word(last.status)}", style=fmt.styled(style)
    )
    if last.started is not None:
        age = fmt.age(max(timedelta(0), now - last.started))
        text.append(f" {age}" if narrow else f" {age} ago")
    return text


def _rate(summary: PipelineSummary, *, narrow: bool) -> Text:
    rate = summary.rate
    if rate is None:
        return Text("–", style=fmt.styled("bright_black"))
    percent = f"{round(100 * rate)}%"
    style = "" if rate >= 0.9 else "yellow" if rate >= 0.5 else "red"
    text = Text(percent, style=fmt.styled(style))
    if not narrow:
        text.append(f" {summary.succeeded}/{len(summary.recent)}", style=fmt.styled("bright_black"))
    return text


def _duration(summary: PipelineSummary, seconds: float | None) -> Text:
    if seconds is not None:
        return Text(fmt.duration(timedelta(seconds=seconds)))
    if summary.untimed:
        return Text("…", style=fmt.styled("bright_black"))  # its successful runs' end times are being read
    return Text("–", style=fmt.styled("bright_black"))  # no successful run in the window


def _timed(summary: PipelineSummary) -> Text:
    """Over how many successful runs p50 and p95 are: `12`, or `9 of 12` while end times are read."""
    if summary.untimed:
        return Text(f"{summary.timed} of {summary.timed + summary.untimed}", style=fmt.styled("yellow"))
    return Text(str(summary.timed) if summary.timed else "")
