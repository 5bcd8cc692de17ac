"""The compare screen's rows: a `Comparison` (`smtui.core.compare`) as labelled lines of cells, one cell per
execution, in the same sections and with the same marks as `smtui diff` prints.

Every mark is a character first (`≠` differs, `★` best, `↓`/`↑` the direction, `⚡` cache hit, `×N`
attempts), so the screen reads the same without colour; colour only reinforces it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from rich.text import Text

from smtui.core.compare import BEST, DIFFERS, Comparison, MetricRow, StepCell
from smtui.tui import format as fmt

SECTION = "section:"
METRIC = "metric:"


@dataclass(frozen=True, slots=True)
class CompareRow:
    """One line of the comparison: `key` is stable across refreshes (the table updates by it)."""

    key: str
    label: Text
    cells: tuple[Text, ...]


def metric_key(step: str, metric: str) -> str:
    return f"{METRIC}{step}\x00{metric}"


def metric_of(key: str) -> tuple[str, str] | None:
    """The (step, metric) a row key names, if it is a metric's row."""
    if not key.startswith(METRIC):
        return None
    step, _, metric = key[len(METRIC) :].partition("\x00")
    return step, metric


def compare_rows(
    comparison: Comparison, *, show_equal: bool, lower: Mapping[tuple[str, str], bool]
) -> list[CompareRow]:
    """The rows, section by section. `show_equal`: list the parameters equal everywhere instead of their
    count; `lower`: the direction chosen for a metric (step, metric), over the one its name gives."""
    columns = comparison.columns
    width = len(columns)

    def row(key: str, label: str | Text, cells: Sequence[Text], mark: bool = False) -> CompareRow:
        head = Text(f"{DIFFERS if mark else ' '} ", style=fmt.styled("bold yellow") if mark else "")
        head.append_text(label if isinstance(label, Text) else Text(label))
        return CompareRow(key, head, tuple(cells))

    def section(name: str, title: str) -> CompareRow:
        return CompareRow(SECTION + name, Text(title, style="bold underline"), (Text(),) * width)

    out = [
        row("pipeline", "pipeline", [Text(c.execution.pipeline_name) for c in columns]),
        row("execution", "execution", [Text(fmt.execution_id(c.execution.arn)) for c in columns]),
        row("status", "status", [fmt.execution_status_text(c.execution.status) for c in columns]),
        row("started", "started", [Text(fmt.timestamp(c.execution.started)) for c in columns]),
        row("elapsed", "elapsed", [Text(_duration(c.elapsed_s)) for c in columns]),
        row("billable", "billable instance-s", [Text(_seconds(c.billable_s)) for c in columns]),
    ]

    differing = [p for p in comparison.parameters if p.differs]
    equal = comparison.equal_parameters
    out.append(section("parameters", f"Parameters: {len(differing)} differ"))
    highlight = fmt.styled("bold yellow")
    for p in differing:
        cells = [Text(v, style=highlight) if v is not None else Text("(none)", style="dim") for v in p.values]
        out.append(row(f"param:{p.name}", p.name, cells, mark=True))
    if show_equal:
        for p in comparison.parameters:
            if not p.differs:
                out.append(row(f"param:{p.name}", p.name, [Text(v or "") for v in p.values]))
    elif equal:
        noun = "parameter" if equal == 1 else "parameters"
        out.append(row("equal", Text(f"{equal} equal {noun}", style="dim"), [Text()] * width))

    out.append(section("steps", "Steps"))
    for step in comparison.steps:
        label = "  " * step.depth + step.name
        out.append(row(f"step:{step.name}", label, [_step(c) for c in step.cells], mark=step.differs))

    if comparison.metrics:
        out.append(section("metrics", f"Final metrics {BEST} best"))
        for metric in comparison.metrics:
            out.append(_metric_row(metric, lower.get((metric.step, metric.metric), metric.lower_is_better)))

    billed = [s for s in comparison.steps if any(c is not None and c.billable_s for c in s.cells)]
    out.append(section("billable", "Billable instance-s"))
    for step in billed:
        cells = [Text(_seconds(c.billable_s) if c is not None else "") for c in step.cells]
        out.append(row(f"billed:{step.name}", "  " * step.depth + step.name, cells))
    out.append(
        row("billed-total", Text("total", style="bold"), [Text(_seconds(c.billable_s)) for c in columns])
    )
    return out


def _metric_row(metric: MetricRow, lower: bool) -> CompareRow:
    best = metric.best_for(lower)
    cells = []
    for i, value in enumerate(metric.values):
        if value is None:
            cells.append(Text("-", style="dim"))
        elif i in best:
            cells.append(Text(f"{value:g} {BEST}", style=fmt.styled("bold green")))
        else:
            cells.append(Text(f"{value:g}"))
    # The direction where the other rows have their `≠`: a narrow label column cuts the end of a long name.
    arrow = "↓" if lower else "↑"
    label = Text(f"{arrow} {metric.step} {metric.metric}")
    return CompareRow(metric_key(metric.step, metric.metric), label, tuple(cells))


def _step(cell: StepCell | None) -> Text:
    if cell is None:
        return Text("(none)", style="dim")
    text = fmt.step_glyph(cell.status)
    text.append(f" {_duration(cell.duration_s)}")
    if cell.attempts > 1:
        text.append(f" ×{cell.attempts}", style=fmt.styled("bold yellow"))
    if cell.cache_hit:
        text.append(" ⚡", style=fmt.styled("cyan"))
    return text


def _duration(seconds: float | None) -> str:
    return fmt.duration(timedelta(seconds=seconds)) if seconds is not None else "-"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"
