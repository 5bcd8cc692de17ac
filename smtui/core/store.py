"""What the monitor knows: pipelines, executions, step runs, graphs, trees and when each was refreshed.

Plain state with merge functions that report what changed; no I/O. Trees are rebuilt lazily (on read
after a change), so a burst of polls costs one build.

A session may stay open for weeks, so finished executions are forgotten beyond a per-pipeline history
(`evict`): what the store holds is what the TUI's table shows, and it stays bounded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from smtui.core.clock import Clock
from smtui.core.definition import StepGraph
from smtui.core.model import Execution, ExecutionStatus, Pipeline, StepRun, StepStatus, StepTree
from smtui.core.timing import HISTORY_RUNS, add_step_durations
from smtui.core.tree import build_tree, tree_without_definition


class Store:
    """The monitor's state, keyed by ARN (executions) and name (pipelines)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock  # its server time (`now()`) stamps what was refreshed when
        self.pipelines: dict[str, Pipeline] = {}
        self.executions: dict[str, Execution] = {}
        self.runs: dict[str, dict[tuple[str, int], StepRun]] = {}
        self.graphs: dict[str, StepGraph] = {}
        self.refreshed: dict[str, datetime] = {}
        self.steps_refreshed: dict[str, datetime] = {}
        # When a poll (not an event) last read an execution's status and its steps: an event older than
        # that is no news (`smtui.core.push.apply`). An event must not stamp these: events of one execution
        # arrive a few seconds apart and out of order, and the next one would look older than the last.
        self.polled: dict[str, datetime] = {}
        self.steps_polled: dict[str, datetime] = {}
        self._by_pipeline: dict[str, dict[str, Execution]] = {}
        # pipeline → its unfinished executions: the scheduler asks for this on every wake-up.
        self._active: dict[str, set[str]] = {}
        # pipeline → its finished executions that a retry may run again (see `ExecutionStatus.is_retryable`).
        self._retryable: dict[str, set[str]] = {}
        self._loaded: set[str] = set()
        # execution → its place in its pipeline's list (newest first) when last listed: how deep to page.
        self.position: dict[str, int] = {}
        self._trees: dict[str, tuple[int, StepTree]] = {}
        self._versions: dict[str, int] = {}
        # (pipeline, step name) → the shortest successful run of that step seen, in seconds (not cache hits).
        self._shortest: dict[tuple[str, str], float] = {}
        # (pipeline, execution left out) → (what it was computed from, step name → durations): see
        # `step_durations`.
        self._step_history: dict[
            tuple[str, str], tuple[tuple[tuple[str, int], ...], dict[str, list[float]]]
        ] = {}
        # pipeline → the latest start among its executions `evict` forgot: a list that reaches deeper does
        # not bring those back (each would be a row that comes and goes).
        self._horizon: dict[str, datetime] = {}

    # -- pipelines -----------------------------------------------------------------------

    def set_pipelines(self, pipelines: Iterable[Pipeline]) -> tuple[set[str], set[str]]:
        """Replace the pipeline list. Returns (changed names, names whose executions need listing)."""
        now = self.clock.now()
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

    def retryable_of(self, name: str) -> set[str]:
        return set(self._retryable.get(name, ()))

    def _put(self, execution: Execution) -> None:
        self.executions[execution.arn] = execution
        self._by_pipeline.setdefault(execution.pipeline_name, {})[execution.arn] = execution
        for index, belongs in (
            (self._active, execution.is_active),
            (self._retryable, execution.status.is_retryable),
        ):
            arns = index.setdefault(execution.pipeline_name, set())
            if belongs:
                arns.add(execution.arn)
            else:
                arns.discard(execution.arn)

    def recent_successes(self, name: str, n: int) -> list[Execution]:
        done = [e for e in self.by_pipeline(name) if e.status is ExecutionStatus.SUCCEEDED and e.started]
        done.sort(key=lambda e: e.started or self.clock.now(), reverse=True)
        return done[:n]

    # -- executions ----------------------------------------------------------------------

    def merge_executions(
        self, pipeline_name: str, listed: list[Execution], *, initial: bool
    ) -> tuple[set[str], set[str], set[str]]:
        """Merge a ListPipelineExecutions result (newest first). Returns (changed, just ended, active and
        new or resumed)."""
        self._by_pipeline.setdefault(pipeline_name, {})
        changed: set[str] = set()
        ended: set[str] = set()
        started: set[str] = set()
        horizon = self._horizon.get(pipeline_name)
        for index, fresh in enumerate(listed):
            if horizon is not None and self._forgotten(fresh, horizon):
                continue
            self.position[fresh.arn] = index
            self._merge(fresh, changed, ended, started, initial=initial, described=False)
        self._loaded.add(pipeline_name)
        return changed, ended, started

    def merge_described(
        self, fresh: Execution, *, polled: bool = True
    ) -> tuple[set[str], set[str], set[str]]:
        """Merge a DescribePipelineExecution answer for a known execution (or an event: `polled` False);
        returns as `merge_executions`. Its end time and failure reason are the service's word, even when
        absent."""
        changed: set[str] = set()
        ended: set[str] = set()
        started: set[str] = set()
        if fresh.arn in self.executions:
            polled_at = self.polled.get(fresh.arn)
            self._merge(fresh, changed, ended, started, initial=False, described=True)
            if not polled:
                _restore(self.polled, fresh.arn, polled_at)
        return changed, ended, started

    def _merge(
        self,
        fresh: Execution,
        changed: set[str],
        ended: set[str],
        started: set[str],
        *,
        initial: bool,
        described: bool,
    ) -> None:
        """One execution as the service says it now. A list carries no end time (DescribePipelineExecution
        does): a finished execution keeps the one it had only while its status stays the same; the same goes
        for a failure reason the list left out. A retried execution (Failed, then Executing under the same
        ARN) loses both, and a step poll soon resets its steps."""
        old = self.executions.get(fresh.arn)
        self.refreshed[fresh.arn] = self.polled[fresh.arn] = self.clock.now()
        if old is None:
            merged = fresh
            if fresh.is_active:
                started.add(fresh.arn)
            elif not initial:
                ended.add(fresh.arn)  # it started and ended between two looks
        else:
            same = old.status is fresh.status and not fresh.is_active
            merged = dataclasses.replace(
                fresh,
                pipeline_name=old.pipeline_name,
                ended=fresh.ended if described else (old.ended if same else None),
                parameters=old.parameters,
                failure_reason=None
                if fresh.is_active
                else fresh.failure_reason or (old.failure_reason if same and not described else None),
            )
            if old.is_active and not fresh.is_active:
                ended.add(fresh.arn)
            elif not old.is_active and fresh.is_active:
                started.add(fresh.arn)  # retried: the same ARN runs again
            elif not fresh.is_active and old.status is not fresh.status:
                ended.add(fresh.arn)  # it ran again and ended between two looks (e.g. Failed → Succeeded)
            if merged == old:
                return
        self._put(merged)
        changed.add(fresh.arn)
        self._touch(fresh.arn)

    def add_execution(self, execution: Execution) -> None:
        """Know an execution that no listing brought (e.g. one older than its pipeline's first page)."""
        if execution.arn not in self.executions:
            self._put(execution)
            self.refreshed[execution.arn] = self.clock.now()
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

    def merge_runs(self, arn: str, runs: list[StepRun], *, full: bool, polled: bool = True) -> bool:
        """Merge a (possibly partial, newest-first) step list, or an event's step (`polled` False). Returns
        whether anything changed. The steps of an execution the store does not hold (forgotten while the
        poll ran) are dropped."""
        if arn not in self.executions:
            return False
        self.steps_refreshed[arn] = self.clock.now()
        if polled:
            self.steps_polled[arn] = self.steps_refreshed[arn]
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

    def step_durations(self, pipeline_name: str, exclude: str) -> dict[str, list[float]]:
        """Step name → how long it ran (seconds) in each of the pipeline's last `HISTORY_RUNS` successful
        executions other than `exclude` whose steps were read, newest first: the history the time left of a
        running step is estimated from. Only runs that succeeded and were not cache hits count. The runs
        it reads are the ones `evict` keeps for the execution-level estimate, so it costs no call; computed
        again only when one of them changed."""
        recent = [e for e in self.recent_successes(pipeline_name, HISTORY_RUNS + 1) if e.arn != exclude]
        read = tuple(
            (e.arn, self._versions.get(e.arn, 0)) for e in recent[:HISTORY_RUNS] if e.arn in self.runs
        )
        cached = self._step_history.get((pipeline_name, exclude))
        if cached is not None and cached[0] == read:
            return cached[1]
        out: dict[str, list[float]] = {}
        for arn, _ in read:
            add_step_durations(out, self.runs[arn].values())
        if len(self._step_history) > 64:  # one entry per execution shown: keep it small
            self._step_history.clear()
        self._step_history[(pipeline_name, exclude)] = (read, out)
        return out

    def set_graph(self, arn: str, graph: StepGraph) -> None:
        if arn not in self.executions:
            return  # forgotten while its definition was read
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
        read_at = self.steps_refreshed.get(arn)
        tree = (
            build_tree(graph, execution, runs, now=read_at or self.clock.now())
            if graph.steps
            else tree_without_definition(execution, runs, now=read_at)
        )
        self._trees[arn] = (version, tree)
        return tree

    def _touch(self, arn: str) -> None:
        self._versions[arn] = self._versions.get(arn, 0) + 1
        self._trees.pop(arn, None)

    # -- forgetting ----------------------------------------------------------------------

    def evict(self, pipeline_name: str, history: int, keep: Collection[str]) -> set[str]:
        """Forget this pipeline's finished executions beyond the newest `history`, with all that is known
        of them (steps, definition, stamps); returns their ARNs.

        Kept whatever their age: every unfinished execution, the ones in `keep` (on screen, marked, open,
        followed), and the last `HISTORY_RUNS` successes, which the estimate of the time left reads.
        Newest means latest started, as the pipeline's list orders them: what stays is what a session
        opened now would load (the first page), plus what the user holds on to.
        """
        known = self._by_pipeline.get(pipeline_name)
        if not known or len(known) <= history:
            return set()
        finished = [e for e in known.values() if not e.is_active]
        if len(finished) <= history:
            return set()
        finished.sort(key=self._start_of, reverse=True)
        needed = {e.arn for e in self.recent_successes(pipeline_name, HISTORY_RUNS)}
        gone = [e for e in finished[history:] if e.arn not in keep and e.arn not in needed]
        for execution in gone:
            self._forget(execution)
        if gone:
            latest = max(self._start_of(e) for e in gone)
            self._horizon[pipeline_name] = max(latest, self._horizon.get(pipeline_name, latest))
        return {e.arn for e in gone}

    def _start_of(self, execution: Execution) -> datetime:
        # No start time (never seen from the API, but the field is optional): counts as the newest.
        return execution.started or self.clock.now()

    def _forgotten(self, listed: Execution, horizon: datetime) -> bool:
        """Whether a listed execution is one `evict` forgot (or older still): finished, unknown, and
        started no later than the latest forgotten one. A forgotten run that runs again (a retry) comes
        back: it is unfinished."""
        return (
            not listed.is_active
            and listed.arn not in self.executions
            and listed.started is not None
            and listed.started <= horizon
        )

    def _forget(self, execution: Execution) -> None:
        arn = execution.arn
        del self.executions[arn]
        self._by_pipeline[execution.pipeline_name].pop(arn, None)
        for index in (self._active, self._retryable):
            index.get(execution.pipeline_name, set()).discard(arn)
        self.runs.pop(arn, None)
        self.graphs.pop(arn, None)
        for stamps in (self.refreshed, self.steps_refreshed, self.polled, self.steps_polled):
            stamps.pop(arn, None)
        self.position.pop(arn, None)
        self._trees.pop(arn, None)
        self._versions.pop(arn, None)


def _restore(stamps: dict[str, datetime], key: str, value: datetime | None) -> None:
    if value is None:
        stamps.pop(key, None)
    else:
        stamps[key] = value
