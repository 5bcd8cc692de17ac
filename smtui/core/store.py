"""What the monitor knows: pipelines, executions, step runs, graphs, trees and when each was refreshed.

Plain state with merge functions that report what changed; no I/O. Trees are rebuilt lazily (on read
after a change), so a burst of polls costs one build.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from smtui.core.definition import StepGraph
from smtui.core.model import Execution, ExecutionStatus, Pipeline, StepRun, StepStatus, StepTree
from smtui.core.tree import build_tree, tree_without_definition


class Store:
    """The monitor's state, keyed by ARN (executions) and name (pipelines)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.pipelines: dict[str, Pipeline] = {}
        self.executions: dict[str, Execution] = {}
        self.runs: dict[str, dict[tuple[str, int], StepRun]] = {}
        self.graphs: dict[str, StepGraph] = {}
        self.refreshed: dict[str, datetime] = {}
        self.steps_refreshed: dict[str, datetime] = {}
        self._by_pipeline: dict[str, dict[str, Execution]] = {}
        # pipeline → its unfinished executions: the scheduler asks for this on every wake-up.
        self._active: dict[str, set[str]] = {}
        self._loaded: set[str] = set()
        self.list_depth: dict[str, int] = {}  # pipeline → position of its oldest unfinished run, last listing
        self._trees: dict[str, tuple[int, StepTree]] = {}
        self._versions: dict[str, int] = {}
        # (pipeline, step name) → the shortest successful run of that step seen, in seconds (not cache hits).
        self._shortest: dict[tuple[str, str], float] = {}

    # -- pipelines -----------------------------------------------------------------------

    def set_pipelines(self, pipelines: Iterable[Pipeline]) -> tuple[set[str], set[str]]:
        """Replace the pipeline list. Returns (changed names, names whose executions need listing)."""
        now = self.clock()
        fresh = {p.name: p for p in pipelines}
        changed = set(fresh) ^ set(self.pipelines)
        moved: set[str] = set()
        for name, pipeline in fresh.items():
            old = self.pipelines.get(name)
            if old != pipeline:
                changed.add(name)
            if name not in self._loaded or (
                old is not None and old.last_execution != pipeline.last_execution
            ):
                moved.add(name)
            self.refreshed[pipeline.arn] = now
        self.pipelines = fresh
        return changed, moved

    def loaded(self, name: str) -> bool:
        return name in self._loaded

    def known_of(self, name: str) -> set[str]:
        return set(self._by_pipeline.get(name, {}))

    def by_pipeline(self, name: str) -> Iterable[Execution]:
        return self._by_pipeline.get(name, {}).values()

    def active_of(self, name: str) -> list[str]:
        return list(self._active.get(name, ()))

    def _put(self, execution: Execution) -> None:
        self.executions[execution.arn] = execution
        self._by_pipeline.setdefault(execution.pipeline_name, {})[execution.arn] = execution
        active = self._active.setdefault(execution.pipeline_name, set())
        if execution.is_active:
            active.add(execution.arn)
        else:
            active.discard(execution.arn)

    def recent_successes(self, name: str, n: int) -> list[Execution]:
        done = [e for e in self.by_pipeline(name) if e.status is ExecutionStatus.SUCCEEDED and e.started]
        done.sort(key=lambda e: e.started or self.clock(), reverse=True)
        return done[:n]

    # -- executions ----------------------------------------------------------------------

    def merge_executions(
        self, pipeline_name: str, listed: list[Execution], *, initial: bool
    ) -> tuple[set[str], set[str], set[str]]:
        """Merge a ListPipelineExecutions result. Returns (changed, just ended, active and new or resumed)."""
        now = self.clock()
        self._by_pipeline.setdefault(pipeline_name, {})
        changed: set[str] = set()
        ended: set[str] = set()
        started: set[str] = set()
        for fresh in listed:
            old = self.executions.get(fresh.arn)
            self.refreshed[fresh.arn] = now
            if old is None:
                merged = fresh
                if fresh.is_active:
                    started.add(fresh.arn)
                elif not initial:
                    ended.add(fresh.arn)  # it started and ended between two looks
            else:
                merged = dataclasses.replace(
                    fresh,
                    ended=old.ended if not fresh.is_active and old.status == fresh.status else None,
                    parameters=old.parameters,
                    failure_reason=fresh.failure_reason
                    or (old.failure_reason if not fresh.is_active else None),
                )
                if old.is_active and not fresh.is_active:
                    ended.add(fresh.arn)
                elif not old.is_active and fresh.is_active:
                    started.add(fresh.arn)  # retried: the same ARN runs again
                if merged == old:
                    continue
            self._put(merged)
            changed.add(fresh.arn)
            self._touch(fresh.arn)
        self._loaded.add(pipeline_name)
        return changed, ended, started

    def add_execution(self, execution: Execution) -> None:
        """Know an execution that no listing brought (e.g. one older than its pipeline's first page)."""
        if execution.arn not in self.executions:
            self._put(execution)
            self.refreshed[execution.arn] = self.clock()
            self._touch(execution.arn)

    def update_execution(self, arn: str, **changes: Any) -> bool:
        old = self.executions.get(arn)
        if old is None:
            return False
        new = dataclasses.replace(old, **{k: v for k, v in changes.items() if v is not None or k == "ended"})
        if new == old:
            return False
        self._put(new)
        self._touch(arn)
        return True

    # -- steps ---------------------------------------------------------------------------

    def merge_runs(self, arn: str, runs: list[StepRun], *, full: bool) -> bool:
        """Merge a (possibly partial, newest-first) step list. Returns whether anything changed."""
        self.steps_refreshed[arn] = self.clock()
        old = self.runs.get(arn)
        merged: dict[tuple[str, int], StepRun] = {} if full or old is None else dict(old)
        for run in runs:
            merged[(run.name, run.attempt)] = run
        if merged == old:
            return False
        self.runs[arn] = merged
        self._touch(arn)
        execution = self.executions.get(arn)
        if execution is not None:
            for run in runs:
                if (
                    run.status is StepStatus.SUCCEEDED
                    and run.started is not None
                    and run.ended is not None
                    and run.cache_source_arn is None
                ):
                    key = (execution.pipeline_name, run.name)
                    took = (run.ended - run.started).total_seconds()
                    self._shortest[key] = min(took, self._shortest.get(key, took))
        return True

    def shortest_step(self, pipeline_name: str, step_name: str) -> float | None:
        """The shortest successful run of this step in the pipeline's executions read so far (seconds)."""
        return self._shortest.get((pipeline_name, step_name))

    def set_graph(self, arn: str, graph: StepGraph) -> None:
        self.graphs[arn] = graph
        self._touch(arn)

    def tree(self, arn: str) -> StepTree | None:
        execution = self.executions.get(arn)
        graph = self.graphs.get(arn)
        if execution is None or graph is None:
            return None
        version = self._versions.get(arn, 0)
        cached = self._trees.get(arn)
        if cached is not None and cached[0] == version:
            return cached[1]
        runs = list(self.runs.get(arn, {}).values())
        tree = (
            build_tree(graph, execution, runs, now=self.clock())
            if graph.steps
            else tree_without_definition(execution, runs)
        )
        self._trees[arn] = (version, tree)
        return tree

    def _touch(self, arn: str) -> None:
        self._versions[arn] = self._versions.get(arn, 0) + 1
        self._trees.pop(arn, None)
