"""One look at an execution (status, definition, steps) for `show`, and the JSON shape of its tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from smtui.core.client import SageMakerClient
from smtui.core.definition import DefinitionError, StepGraph, parse_definition
from smtui.core.model import Execution, StepRun, StepTree
from smtui.core.timing import Remaining, step_elapsed
from smtui.core.tree import build_tree, latest_runs, tree_without_definition
from smtui.headless.common import execution_json, iso


def pipeline_hint(ref: str) -> str | None:
    """The pipeline name as the user typed it (ARNs carry it lower-cased)."""
    if ref.startswith("arn:"):
        return None
    return ref[: -len("@latest")] if ref.endswith("@latest") else ref.split("/", 1)[0]


@dataclass
class Watcher:
    """Reads one execution; the definition is fetched once and reused across looks."""

    client: SageMakerClient
    arn: str
    pipeline: str | None = None
    graph: StepGraph | None = None
    execution: Execution | None = None
    tree: StepTree | None = field(default=None)
    runs: tuple[StepRun, ...] = ()  # every attempt the last look listed (the tree keeps the latest only)

    async def look(self) -> tuple[Execution, StepTree]:
        """The steps, then the status: a status read first could be older than the steps (a step shown
        running under an execution that has ended, or a retry's steps under its old failure). When the
        execution has ended while the steps still show one running, they are read again (twice at most);
        the tree stops such a step's clock at the execution's end."""
        if self.graph is None:
            try:
                self.graph = parse_definition(await self.client.definition(self.arn))
            except DefinitionError:
                self.graph = StepGraph()
        runs = await self.client.list_steps(self.arn)
        self.execution = await self.client.describe_execution(self.arn, self.pipeline)
        for _ in range(2):
            if self.execution.is_active or not any(r.status.is_active for r in latest_runs(runs).values()):
                break
            runs = await self.client.list_steps(self.arn)
        self.runs = tuple(runs)
        read_at = self.client.now()
        if self.graph.steps:
            self.tree = build_tree(self.graph, self.execution, runs, now=read_at)
        else:
            self.tree = tree_without_definition(self.execution, runs, now=read_at)
        return self.execution, self.tree


def tree_json(tree: StepTree, now: datetime) -> list[dict[str, Any]]:
    """Every node, depth-first, with its depth and parent (the stable `steps` field of `show --json`)."""
    out: list[dict[str, Any]] = []
    parents: list[str] = []
    for depth, node in tree.walk():
        del parents[depth:]
        run = node.run
        duration = step_elapsed(node, now)
        out.append(
            {
                "name": node.name,
                "type": node.type,
                "status": node.status.value,
                "depth": depth,
                "parent": parents[-1] if parents else None,
                "branch": node.branch,
                "started": iso(run.started) if run else None,
                "ended": iso(run.ended) if run else None,
                "elapsed_s": round(duration.total_seconds(), 3) if duration is not None else None,
                "attempt": run.attempt if run else None,
                "cache_source_arn": run.cache_source_arn if run else None,
                "failure_reason": run.failure_reason if run else None,
                "skip_reason": node.skip_reason,
                "iteration_index": run.iteration_index if run else None,
                "iteration_item": run.iteration_item if run else None,
                "job_arn": run.job_arn if run else None,
            }
        )
        parents.append(node.name)
    return out


def snapshot_json(
    execution: Execution,
    tree: StepTree,
    now: datetime,
    left: Remaining | None = None,
    *,
    context: str | None = None,
) -> dict[str, Any]:
    done, total = tree.progress
    return {
        "execution": execution_json(execution, now, left, context=context),
        "progress": {"done": done, "total": total},
        "steps": tree_json(tree, now),
    }
