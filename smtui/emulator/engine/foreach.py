"""A ForEach step's view of its children: the counts in its Metadata, its properties once they are done."""

from __future__ import annotations

from typing import Any

from smtui.emulator.definition.expressions import ExpressionError, drill, parse_path
from smtui.emulator.engine.entries import Result
from smtui.emulator.engine.view import RunView


def foreach_summary(run: RunView, parent: str) -> tuple[dict[str, Any], bool]:
    """The ForEach step's counts, and whether all its children are done."""
    entry = run.entries[parent]
    body = run.definition.bodies[parent]
    counts = dict.fromkeys(Result, 0)
    running = startable = False
    for index in range(len(entry.items)):
        for step_name in body:
            child = run.entries.get(f"{step_name}-{index}")
            if child is None:
                startable = startable or children_succeeded(run, step_name, index)
            elif child.running:
                running = True
            elif child.result is not None:
                counts[child.result] += 1
    summary: dict[str, Any] = {
        "InputItemCount": len(entry.items),
        "TotalStepCount": len(entry.items) * len(body),
        "SucceededStepCount": counts[Result.SUCCEEDED],
        "FailedStepCount": counts[Result.FAILED],
        "StoppedStepCount": counts[Result.STOPPED],
    }
    stopping = run.execution.status == "Stopping"
    finished = not running and (stopping or not startable)
    if finished:
        entry.props, selected = _foreach_props(run, parent, summary)
        if selected is not None:
            summary["Selector"] = selected
    return summary, finished


def children_succeeded(run: RunView, step_name: str, index: int) -> bool:
    """Whether the body steps that `step_name` depends on have succeeded in iteration `index`."""
    body = run.definition.bodies[run.definition.steps[step_name].foreach or ""]
    for dep in run.definition.steps[step_name].deps:
        if dep in body:
            child = run.entries.get(f"{dep}-{index}")
            if child is None or not child.succeeded:
                return False
    return True


def _foreach_props(
    run: RunView, parent: str, summary: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The ForEach step's properties, and which child the Selector picked (None without one)."""
    body = run.definition.bodies[parent]
    outputs = []
    for index in range(len(run.entries[parent].items)):
        iteration = {}
        for b in body:
            child = run.entries.get(f"{b}-{index}")
            iteration[b] = (child.props if child is not None else None) or {}
        outputs.append(iteration)
    props: dict[str, Any] = dict(summary, IterationOutputs=outputs)
    selector = run.definition.steps[parent].arguments.get("Selector")
    field = (selector or {}).get("Field", {}).get("Get", "") if isinstance(selector, dict) else ""
    if isinstance(selector, dict) and isinstance(field, str) and field.startswith("IterationOutput."):
        path = parse_path(field.removeprefix("IterationOutput."))
        scored = []
        for index, output in enumerate(outputs):
            try:
                scored.append((float(drill(output.get(str(path[0])), path[1:], field)), index))
            except (ExpressionError, TypeError, ValueError):
                continue
        if scored:
            pick = max(scored) if selector.get("Pick") == "MaxBy" else min(scored)
            props["Selected"] = outputs[pick[1]][str(path[0])]
            return props, {"StepName": str(path[0]), "Index": pick[1]}
    return props, None
