"""`smtui diff EXECUTION EXECUTION...`: 2–8 executions side by side (`smtui.core.compare`), as a table that
fits the terminal (columns that do not fit go to a further block, the row labels repeated), or as JSON."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import click

from smtui.core.client import SageMakerClient
from smtui.core.compare import (
    BEST,
    DIFFERS,
    MAX_EXECUTIONS,
    MIN_EXECUTIONS,
    Comparison,
    ExecutionData,
    StepCell,
    build_comparison,
)
from smtui.core.errors import AwsError
from smtui.core.format import EXECUTION_GLYPHS, STEP_GLYPHS, format_duration
from smtui.core.jobs import JobInfo, describe_job, job_kind
from smtui.core.model import Execution
from smtui.headless.common import (
    EXIT_USAGE,
    CommandError,
    aws_options,
    execution_json,
    fail,
    place_from,
    print_json,
    resolve_all,
    run,
)
from smtui.headless.snapshot import Watcher, pipeline_hint

MAX_LABEL = 34
MIN_COLUMN = 14
MAX_COLUMN = 26


async def fetch(client: SageMakerClient, refs: Sequence[str]) -> list[ExecutionData]:
    """Each execution, its steps, its parameters and the jobs behind its steps (each job read once)."""
    resolved = await resolve_all(client, refs)
    if len(resolved) < MIN_EXECUTIONS:
        raise CommandError("these name one execution: give 2 to 8 different ones", EXIT_USAGE)
    gate = asyncio.Semaphore(8)

    async def one(ref: str, arn: str) -> ExecutionData:
        async with gate:
            watcher = Watcher(client, arn, pipeline_hint(ref))
            execution, tree = await watcher.look()
            parameters = await client.parameters(arn)
        arns = sorted({r.job_arn for r in watcher.runs if r.job_arn and job_kind(r.job_arn)})
        jobs = await asyncio.gather(*(job(arn) for arn in arns))
        return ExecutionData(
            execution=_with_parameters(execution, parameters),
            tree=tree,
            runs=watcher.runs,
            jobs={info.arn: info for info in jobs if info is not None},
            now=client.now(),
        )

    async def job(arn: str) -> JobInfo | None:
        async with gate:
            try:
                return await describe_job(client, arn)
            except AwsError as exc:
                if exc.is_usage:  # gone (deleted, or another account's cache source): its cost is unknown
                    return None
                raise

    return list(await asyncio.gather(*(one(r.ref, r.execution.arn) for r in resolved)))


def _with_parameters(execution: Execution, parameters: tuple[tuple[str, str], ...]) -> Execution:
    return dataclasses.replace(execution, parameters=parameters)


@click.command("diff")
@click.argument("executions", nargs=-1, required=True)
@aws_options
def diff_command(
    executions: tuple[str, ...],
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    as_json: bool,
) -> None:
    """Compare 2 to 8 executions: parameters, steps, metrics, billable time.

    Each EXECUTION is a full ARN, PIPELINE/EXECUTION_ID or PIPELINE@latest.
    """
    if not MIN_EXECUTIONS <= len(executions) <= MAX_EXECUTIONS:
        fail(f"diff compares {MIN_EXECUTIONS} to {MAX_EXECUTIONS} executions, got {len(executions)}")
    place, _ = place_from(profile, region, endpoint_url, executions)
    data = run(place.target, lambda client: fetch(client, executions))
    comparison = build_comparison(data)
    if as_json:
        print_json(comparison_json(comparison, data, context=place.name))
        return
    width = shutil.get_terminal_size((120, 24)).columns
    for line in comparison_lines(comparison, width):
        click.echo(line.rstrip())


def comparison_json(
    comparison: Comparison, data: Sequence[ExecutionData], *, context: str | None = None
) -> dict[str, Any]:
    """The stable `diff --json` shape (documented in docs/commands.md); `context`: the one the executions
    are in, with `--context`/`--all-contexts`."""
    return {
        "executions": [
            {
                **execution_json(column.execution, d.now, context=context),
                "parameters": dict(column.execution.parameters or ()),
                "billable_instance_s": column.billable_s,
            }
            for column, d in zip(comparison.columns, data, strict=True)
        ],
        "parameters": [
            {"name": p.name, "values": list(p.values), "differs": p.differs} for p in comparison.parameters
        ],
        "equal_parameters": comparison.equal_parameters,
        "steps": [
            {
                "name": s.name,
                "type": s.type,
                "depth": s.depth,
                "differs": s.differs,
                "cells": [_cell_json(c) for c in s.cells],
            }
            for s in comparison.steps
        ],
        "metrics": [
            {
                "step": m.step,
                "metric": m.metric,
                "values": list(m.values),
                "lower_is_better": m.lower_is_better,
                "best": list(m.best),
            }
            for m in comparison.metrics
        ],
    }


def _cell_json(cell: StepCell | None) -> dict[str, Any] | None:
    if cell is None:
        return None
    return {
        "status": cell.status.value,
        "elapsed_s": cell.duration_s,
        "attempts": cell.attempts,
        "cache_hit": cell.cache_hit,
        "billable_instance_s": cell.billable_s,
    }


def comparison_lines(comparison: Comparison, width: int) -> list[str]:
    """The table: a block of as many execution columns as fit `width` (at least one), then the next."""
    count = len(comparison.columns)
    labels = [s.name for s in comparison.steps] + [f"{m.step}.{m.metric}" for m in comparison.metrics]
    label = min(MAX_LABEL, max([16, *(len(text) + 4 for text in labels)]))
    room = max(MIN_COLUMN, width - label - 1)
    per_block = max(1, min(count, room // (MIN_COLUMN + 1)))
    column = max(MIN_COLUMN, min(MAX_COLUMN, room // per_block - 1))
    out: list[str] = []
    for first in range(0, count, per_block):
        picked = range(first, min(count, first + per_block))
        if out:
            out.append("")
        out.extend(_block(comparison, picked, label, column))
    out.append("")
    out.append(f"{DIFFERS} differs between executions  {BEST} best value")
    out.append("×N attempts  ⚡ cache hit  billable: instance-seconds")
    return [line if len(line) <= width else line[: width - 1] + "…" for line in out]


def _block(comparison: Comparison, picked: range, label_width: int, column: int) -> list[str]:
    def row(label: str, cells: Sequence[str], mark: bool = False) -> str:
        head = f"{DIFFERS if mark else ' '} {label}"
        return _fit(head, label_width) + " " + " ".join(_fit(cell, column) for cell in cells)

    cols = [comparison.columns[i] for i in picked]
    out = [
        row("pipeline", [c.execution.pipeline_name for c in cols]),
        row("execution", [c.execution.execution_id for c in cols]),
        row("name", [c.execution.display_name or "-" for c in cols]),
        row("status", [f"{EXECUTION_GLYPHS[c.execution.status]} {c.execution.status.value}" for c in cols]),
        row(
            "started",
            [c.execution.started.strftime("%m-%d %H:%M:%S") if c.execution.started else "-" for c in cols],
        ),
        row("elapsed", [_duration(c.elapsed_s) for c in cols]),
        row("billable total", [_seconds(c.billable_s) for c in cols]),
    ]
    differing = [p for p in comparison.parameters if p.differs]
    out.append(f"parameters: {len(differing)} differ, {comparison.equal_parameters} equal (not shown)")
    out.extend(row(p.name, [p.values[i] or "-" for i in picked], True) for p in differing)
    out.append("steps")
    for step in comparison.steps:
        label = "  " * step.depth + step.name
        out.append(row(label, [_step(step.cells[i]) for i in picked], step.differs))
    billed = [s for s in comparison.steps if any(c and c.billable_s for c in s.cells)]
    if billed:
        out.append("billable instance-seconds")
        for step in billed:
            label = "  " * step.depth + step.name
            out.append(
                row(label, [_seconds(c.billable_s) if c else "" for c in (step.cells[i] for i in picked)])
            )
    if comparison.metrics:
        out.append("final metrics (lower is better for loss, error, rmse)")
        for metric in comparison.metrics:
            cells = [
                "-"
                if metric.values[i] is None
                else f"{metric.values[i]:g}{' ' + BEST if i in metric.best else ''}"
                for i in picked
            ]
            out.append(row(f"{metric.step}.{metric.metric}", cells, len(set(metric.values)) > 1))
    return out


def _step(cell: StepCell | None) -> str:
    if cell is None:
        return "(none)"
    text = f"{STEP_GLYPHS[cell.status]} {_duration(cell.duration_s)}"
    if cell.attempts > 1:
        text += f" ×{cell.attempts}"
    if cell.cache_hit:
        text += " ⚡"
    return text


def _duration(seconds: float | None) -> str:
    return format_duration(timedelta(seconds=seconds) if seconds is not None else None)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"
