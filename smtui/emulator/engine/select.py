"""Selective execution (`SelectiveExecutionConfig`): run only the selected steps.

Steps the selected ones need (their ancestors through dependencies and Condition gates) are not run
again: their results are taken from the source execution and listed as Succeeded with
`SelectiveExecutionResult`. Every other unselected step does not run.
"""

from __future__ import annotations

from typing import Any

from smtui.emulator.definition.graph import StepDef
from smtui.emulator.engine.entries import Entry, Phase, Result, run_state
from smtui.emulator.engine.view import RunView
from smtui.emulator.errors import validation
from smtui.emulator.store.records import StepRecord
from smtui.emulator.store.store import Store


def _parents(step: StepDef) -> set[str]:
    """What a step needs first: its dependencies and the Condition step that gates it."""
    return set(step.deps) | ({step.gate[0]} if step.gate else set())


def apply_selection(run: RunView, store: Store, config: dict[str, Any], now: float) -> None:
    """Skip the unselected steps, and copy the ones the selected steps need from the source execution."""
    steps = run.definition.steps
    selected = {s.get("StepName", "") for s in config.get("SelectedSteps") or []}
    for name in sorted(selected):
        if name not in steps or steps[name].foreach is not None:
            raise validation(f"Selected step '{name}' is not a step of the pipeline definition")
    needed: set[str] = set()
    frontier = list(selected)
    while frontier:
        step = steps[frontier.pop()]
        for parent in _parents(step) - needed - selected:
            needed.add(parent)
            frontier.append(parent)
    source_arn = config.get("SourcePipelineExecutionArn")
    source = store.get_execution(source_arn) if source_arn else None
    if needed and source is None:
        if source_arn:
            raise validation(f"Source pipeline execution {source_arn} does not exist")
        # The service's own wording (Java list style), as reported in aws/sagemaker-python-sdk#4444.
        direct = {parent for name in selected for parent in _parents(steps[name])} - selected
        raise validation(
            f"Invalid SourcePipelineExecutionArn: null. The selected steps [{', '.join(sorted(selected))}]"
            f" have dependencies on [{', '.join(sorted(direct))}]"
        )
    if source is not None and source.pipeline_arn != run.execution.pipeline_arn:
        raise validation("The source pipeline execution must belong to the same pipeline")
    skipped = run.state.skipped
    for name in run.definition.top:
        if name in selected:
            continue
        if name not in needed:
            skipped.append(name)
            continue
        assert source is not None
        entry = run_state(source).entries.get(name)
        if entry is None or not entry.succeeded:
            raise validation(
                f"Step '{name}' did not succeed in source pipeline execution {source.arn}, so its results"
                " cannot be reused"
            )
        old = next((s for s in source.steps if s.name == name), None)
        record = StepRecord(
            name=name, status="Succeeded", start=now, end=now, selective_source_arn=source.arn
        )
        if old is not None:
            record.display_name, record.description = old.display_name, old.description
            record.metadata = dict(old.metadata)
        run.execution.steps.append(record)
        run.records[name] = record
        run.entries[name] = Entry(
            step=name,
            phase=Phase.DONE,
            until=None,
            attempt=1,
            first_start=now,
            result=Result.SUCCEEDED,
            props=entry.props,
            cache_key=entry.cache_key,
        )
