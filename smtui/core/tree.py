"""Merge an execution's step graph with the steps the API lists into the tree users see.

The API lists only steps that started (newest first, no type). Everything else is decided here:
- a step not listed yet is PENDING while it still can run;
- a step in the Condition branch not taken is SKIPPED "branch not taken (<Condition> was True)";
- a step downstream of a failed/stopped/skipped one, or left when the execution ended, is SKIPPED with why;
- a step the run will never run (the branch not taken, what needs it, what a successful run left out) is
  `not_taken`: the progress total leaves it out, and counts the steps a failed or stopped run never reached;
- ForEach iterations (`<Body>-<i>`, IterationContext) become the ForEach node's children;
- a step listed several times (retry of the execution) shows its latest attempt;
- a step last read running under an execution that has ended since keeps the status it was read with
  (its final state is being read: the monitor reads the steps of an execution once more when it ends),
  but its clock stops at the execution's end (or, while that is unknown, at the moment its steps were
  read): a finished execution never shows a step ticking.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from smtui.core.definition import StepDef, StepGraph
from smtui.core.model import Execution, ExecutionStatus, StepNode, StepRun, StepStatus, StepTree

_BAD = (StepStatus.FAILED, StepStatus.STOPPED)


def latest_runs(runs: Sequence[StepRun]) -> dict[str, StepRun]:
    """The latest entry per step name: highest attempt, then latest start."""
    out: dict[str, StepRun] = {}
    for run in runs:
        seen = out.get(run.name)
        if seen is None or _run_key(run) > _run_key(seen):
            out[run.name] = run
    return out


def _run_key(run: StepRun) -> tuple[int, float]:
    return (run.attempt, run.started.timestamp() if run.started else 0.0)


class _Builder:
    def __init__(self, graph: StepGraph, execution: Execution, runs: Sequence[StepRun]) -> None:
        self.graph = graph
        self.execution = execution
        self.runs = latest_runs(runs)
        self.memo: dict[str, tuple[StepStatus, str | None]] = {}
        self.used: set[str] = set()
        self.not_taken: set[str] = set()  # steps this run will never run (see `StepNode.not_taken`)

    def status(self, name: str) -> tuple[StepStatus, str | None]:
        """Status and skip reason of a definition step (not of a ForEach iteration)."""
        cached = self.memo.get(name)
        if cached is not None:
            return cached
        # Guard against cycles in a malformed definition: a step on a cycle reads as pending.
        self.memo[name] = (StepStatus.PENDING, None)
        run = self.runs.get(name)
        result = (run.status, None) if run is not None else self._unrun(self.graph[name])
        self.memo[name] = result
        return result

    def _unrun(self, step: StepDef) -> tuple[StepStatus, str | None]:
        ended = self.execution.status.is_terminal and self.execution.status is not ExecutionStatus.STOPPING
        if step.parent is not None:
            parent_status, parent_reason = self.status(step.parent)
            parent = self.graph[step.parent]
            if parent_status is StepStatus.SKIPPED:
                if step.parent in self.not_taken:
                    self.not_taken.add(step.name)
                return StepStatus.SKIPPED, parent_reason
            parent_run = self.runs.get(step.parent)
            if parent.type == "Condition" and parent_run and parent_run.condition_outcome is not None:
                taken = "if" if parent_run.condition_outcome else "else"
                if step.branch != taken:
                    self.not_taken.add(step.name)
                    outcome = "True" if parent_run.condition_outcome else "False"
                    return StepStatus.SKIPPED, f"branch not taken ({parent.name} was {outcome})"
            if parent_status in _BAD:
                return StepStatus.SKIPPED, f"{parent.name} {parent_status.value.lower()} before it ran"
        blocker = None
        for dep in step.depends_on:
            dep_status, _ = self.status(dep)
            if dep_status in _BAD or dep_status is StepStatus.SKIPPED:
                blocker = (dep, dep_status)
                break
        # A step that needs one the run will not run will not run either (as SageMaker skips it); nor will
        # what a successful run did not reach (a selective execution's unselected steps).
        if any(dep in self.not_taken for dep in step.depends_on) or (
            ended and self.execution.status is ExecutionStatus.SUCCEEDED
        ):
            self.not_taken.add(step.name)
        if ended:
            word = _ended_word(self.execution.status)
            if blocker is not None:
                return (
                    StepStatus.SKIPPED,
                    f"execution {word} before it ran ({blocker[0]} {_verb(blocker[1])})",
                )
            return StepStatus.SKIPPED, f"execution {word} before it ran"
        if blocker is not None:
            return StepStatus.SKIPPED, f"{blocker[0]} {_verb(blocker[1])}"
        return StepStatus.PENDING, None

    def node(self, name: str) -> StepNode:
        step = self.graph[name]
        status, reason = self.status(name)
        run = self.runs.get(name)
        if run is not None:
            self.used.add(name)
        not_taken = name in self.not_taken
        if step.type == "ForEach":
            children = self._iterations(step, status, reason, not_taken)
        else:
            children = tuple(self.node(c) for c in self.graph.children(name))
        return StepNode(
            name=name,
            type=step.type,
            status=status,
            run=run,
            depends_on=step.depends_on,
            branch=step.branch if step.branch in ("if", "else") else None,
            skip_reason=reason,
            children=children,
            display_name=(run.display_name if run else None) or step.display_name,
            not_taken=not_taken,
        )

    def _iterations(
        self, step: StepDef, status: StepStatus, reason: str | None, not_taken: bool
    ) -> tuple[StepNode, ...]:
        runs = {r.name: r for r in self.runs.values() if r.parent_step == step.name}
        run = self.runs.get(step.name)
        count: int | None = len(step.foreach_items) if step.foreach_items is not None else None
        if run is not None and run.foreach is not None and run.foreach.item_count is not None:
            count = run.foreach.item_count
        indexes = {r.iteration_index for r in runs.values() if r.iteration_index is not None}
        if count is None and indexes:
            count = max(indexes) + 1
        out: list[StepNode] = []
        if count is None:  # nothing known yet: show the body as what will run
            for body in step.body:
                out.append(
                    StepNode(
                        name=body,
                        type=self.graph[body].type,
                        status=status,
                        skip_reason=reason,
                        not_taken=not_taken,
                    )
                )
            return tuple(out)
        for index in range(count):
            for body in step.body:
                name = f"{body}-{index}"
                child = runs.get(name)
                if child is not None:
                    self.used.add(name)
                    out.append(
                        StepNode(
                            name=name,
                            type=self.graph[body].type,
                            status=child.status,
                            run=child,
                            display_name=child.display_name,
                        )
                    )
                    continue
                if status.is_done or self.execution.status.is_terminal:
                    if status is StepStatus.SKIPPED:
                        why = reason
                    elif status.is_done:
                        why = f"{step.name} ended before it ran"
                    else:
                        why = f"execution {_ended_word(self.execution.status)} before it ran"
                    out.append(
                        StepNode(
                            name=name,
                            type=self.graph[body].type,
                            status=StepStatus.SKIPPED,
                            skip_reason=why,
                            not_taken=not_taken,
                        )
                    )
                else:
                    out.append(StepNode(name=name, type=self.graph[body].type, status=StepStatus.PENDING))
        # Iterations named differently than `<Body>-<i>` (should not happen) are kept, not dropped.
        for name, child in sorted(runs.items(), key=lambda kv: (kv[1].iteration_index or 0, kv[0])):
            if name not in self.used:
                self.used.add(name)
                out.append(_orphan(child))
        return tuple(out)


def _ended_word(status: ExecutionStatus) -> str:
    if status in (ExecutionStatus.STOPPED, ExecutionStatus.STOPPING):
        return "stopped"
    if status is ExecutionStatus.SUCCEEDED:
        return "succeeded"
    return "failed"


def _verb(status: StepStatus) -> str:
    return {StepStatus.FAILED: "failed", StepStatus.STOPPED: "stopped"}.get(status, "was skipped")


def _orphan(run: StepRun) -> StepNode:
    return StepNode(
        name=run.name,
        type=run.metadata_kind or "Unknown",
        status=run.status,
        run=run,
        display_name=run.display_name,
    )


def build_tree(graph: StepGraph, execution: Execution, runs: Sequence[StepRun], *, now: datetime) -> StepTree:
    """The full tree of an execution: every definition step merged with the listed runs.

    `now` is when the runs were read: a step read running under an execution that has ended since stops
    its clock at the execution's end, or there when that is unknown. Durations are computed later, by
    `smtui.core.timing`, against the time of display.
    """
    builder = _Builder(graph, execution, runs)
    roots = [builder.node(name) for name in graph.roots]
    for name, run in builder.runs.items():
        if name not in builder.used and name not in graph and run.parent_step is None:
            roots.append(_orphan(run))
    return StepTree(execution_arn=execution.arn, roots=_stop_clocks(tuple(roots), execution, now))


def _stop_clocks(
    nodes: tuple[StepNode, ...], execution: Execution, read_at: datetime | None
) -> tuple[StepNode, ...]:
    """Under an execution that has ended, no step ticks: those read running stop at its end."""
    if execution.is_active:
        return nodes
    end = execution.ended or read_at

    def settle(node: StepNode) -> StepNode:
        children = tuple(settle(c) for c in node.children)
        if node.run is not None and node.run.ended is None and node.status.is_active:
            return dataclasses.replace(node, children=children, clock_end=end)
        return node if children == node.children else dataclasses.replace(node, children=children)

    return tuple(settle(n) for n in nodes)


def tree_without_definition(
    execution: Execution, runs: Sequence[StepRun], *, now: datetime | None = None
) -> StepTree:
    """A tree from the listed runs alone (definition not fetched): oldest first, iterations nested.
    `now`: when the runs were read (see `build_tree`)."""
    latest = latest_runs(runs)
    ordered = sorted(latest.values(), key=lambda r: r.started.timestamp() if r.started else 0.0)
    kids: dict[str, list[StepNode]] = {}
    for run in ordered:
        if run.parent_step is not None:
            kids.setdefault(run.parent_step, []).append(_orphan(run))
    roots = []
    for run in ordered:
        if run.parent_step is None:
            node = _orphan(run)
            roots.append(
                StepNode(
                    name=node.name,
                    type=node.type,
                    status=node.status,
                    run=run,
                    children=tuple(kids.get(run.name, ())),
                    display_name=node.display_name,
                )
            )
    return StepTree(execution_arn=execution.arn, roots=_stop_clocks(tuple(roots), execution, now))
