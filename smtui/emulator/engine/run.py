"""One execution on the simulated clock: an event loop over its step entries, replayed lazily.

All bookkeeping lives in the execution's `RunState` (persisted as JSON with it), so an execution loaded
from `--state` carries on. `process(now)` fires every event due up to `now` in time order, so step times
are exact however rarely anyone looks. Entries: one per top-level/branch step, one per ForEach child
`<Body>-<i>`. `Run` implements `RunView`, the interface the step behaviour (`steps`) is written against.
"""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Any

from smtui.emulator.definition.expressions import evaluate_condition, resolve
from smtui.emulator.definition.graph import Definition, StepDef
from smtui.emulator.engine.book import JobBook
from smtui.emulator.engine.changes import Observer, Tracker
from smtui.emulator.engine.entries import Entry, Phase, Result, run_state
from smtui.emulator.engine.foreach import children_succeeded, foreach_summary
from smtui.emulator.engine.scenario import Scenario, StepPlan
from smtui.emulator.engine.scope import StepScope
from smtui.emulator.engine.steps import advance_entry, begin
from smtui.emulator.store.records import ExecutionRecord, StepRecord
from smtui.emulator.store.store import Store

if TYPE_CHECKING:
    from smtui.emulator.engine.view import RunView

STEP_FAILURE = "Step failure: One or multiple steps failed."


class Run:
    """An execution being advanced; built per call, all durable state in its `RunState`."""

    def __init__(
        self,
        store: Store,
        book: JobBook,
        scenario: Scenario,
        execution: ExecutionRecord,
        definition: Definition,
        observer: Observer | None = None,
        *,
        fresh: bool = False,
    ) -> None:
        self._store = store
        self._scenario = scenario
        self.book = book
        self.execution = execution
        self.definition = definition
        self.state = run_state(execution)
        self.entries = self.state.entries
        self.records = {record.name: record for record in execution.steps}
        self.parameter_values = {p["Name"]: p["Value"] for p in execution.parameters}
        self.seed_key = f"{self.state.seed}/{execution.pipeline_name}/{self.state.ordinal}"
        self._tracker = Tracker(execution, observer, fresh=fresh)

    # ---- helpers ---------------------------------------------------------------------------------

    def rng(self, *parts: object) -> random.Random:
        """A generator keyed by (seed, pipeline, execution ordinal, *parts): same seed, same run."""
        return random.Random("/".join([self.seed_key, *map(str, parts)]))

    def plan_for(self, step: str) -> StepPlan:
        step_type = self.definition.steps[step].type if step in self.definition.steps else "Processing"
        return self._scenario.plan(self.execution.pipeline_name, step, step_type)

    def touch(self, t: float) -> None:
        self.execution.modified = max(self.execution.modified, t)
        self._store.touch(self.execution)

    def note(self, t: float) -> None:
        """Report the status changes since the last note, as of `t` (the bus makes events of them)."""
        self._tracker.note(t, self._step_type)

    def _step_type(self, record: StepRecord) -> str:
        entry = self.entries.get(record.name)
        step = self.definition.steps.get(entry.step if entry is not None else record.name)
        return step.type if step is not None else ""

    def running(self) -> list[str]:
        return [name for name, e in self.entries.items() if e.running]

    def due(self) -> float | None:
        times = [e.until for e in self.entries.values() if e.running and e.until is not None]
        if self.state.stop_until is not None and self.execution.status == "Stopping":
            times.append(self.state.stop_until)
        return min(times) if times else None

    # ---- the loop --------------------------------------------------------------------------------

    def process(self, now: float) -> None:
        """Fire every event due up to `now`, in time order, starting what becomes ready."""
        # Bounded: every event moves an entry forward, but a runaway definition must not hang a request.
        for _ in range(1_000_000):
            if self.execution.status not in ("Executing", "Stopping"):
                break
            t = self.due()
            if t is None or t > now:
                break
            for name in sorted(self.entries, key=self._order):
                entry = self.entries[name]
                if entry.running and entry.until is not None and entry.until <= t:
                    self.fire(name, entry, t)
            self.settle(t)
            if (self.state.stop_until or now + 1) <= t:
                self.state.stop_until = None  # reached: only running steps can hold Stopping now
        self.state.next_due = self.due()

    def settle(self, t: float) -> None:
        """Start what is ready at `t`, then end the execution if nothing runs or can start."""
        self.schedule(t)
        self.maybe_finish(t)
        self.state.next_due = self.due()
        self.touch(t)
        self.note(t)

    def _order(self, name: str) -> tuple[int, int]:
        entry = self.entries[name]
        return (self.definition.steps[entry.step].order, entry.index or 0)

    # ---- scheduling ------------------------------------------------------------------------------

    def _capacity(self) -> int:
        limit = self.execution.parallelism
        if not limit:
            return 1 << 30
        busy = sum(1 for e in self.entries.values() if e.running and e.phase != Phase.FOREACH)
        return limit - busy

    def schedule(self, t: float) -> None:
        if self.execution.status != "Executing":
            return
        skipped = self.state.skipped
        changed = True
        while changed and not self.state.halted:
            changed = False
            for name in self.definition.top:
                if name in self.entries or name in skipped:
                    continue
                verdict = self._readiness(self.definition.steps[name])
                if verdict == "skip":
                    skipped.append(name)
                    changed = True
                elif verdict == "ready" and self._capacity() > 0:
                    self.start_entry(name, self.definition.steps[name], t, None)
                    changed = True
        for name in list(self.entries):
            if self.entries[name].phase == Phase.FOREACH:
                self._schedule_children(name, t)

    def _readiness(self, step: StepDef) -> str:
        skipped = self.state.skipped
        if step.gate is not None:
            gate, branch = step.gate
            if gate in skipped:
                return "skip"
            gate_entry = self.entries.get(gate)
            if gate_entry is None or not gate_entry.succeeded or gate_entry.props is None:
                return "wait"
            if gate_entry.props["Outcome"] != branch:
                return "skip"
        for dep in step.deps:
            if dep in skipped:
                return "skip"
            entry = self.entries.get(dep)
            if entry is None or not entry.succeeded:
                return "wait"
        return "ready"

    def _schedule_children(self, parent: str, t: float) -> None:
        """Start ready ForEach children, iterations in order, at most MaxConcurrency children at once."""
        entry = self.entries[parent]
        body = self.definition.bodies[parent]
        prefix = [f"{b}-" for b in body]
        busy = sum(
            1
            for name, e in self.entries.items()
            if e.running and e.index is not None and any(name.startswith(p) for p in prefix)
        )
        for index in range(len(entry.items)):
            for step_name in body:
                child = f"{step_name}-{index}"
                if child in self.entries:
                    continue
                if (
                    busy >= entry.max_concurrency
                    or self._capacity() <= 0
                    or self.execution.status != "Executing"
                ):
                    self._maybe_finish_foreach(parent, t)
                    return
                if children_succeeded(self, step_name, index):
                    self.start_entry(child, self.definition.steps[step_name], t, index)
                    busy += 1
        self._maybe_finish_foreach(parent, t)

    # ---- entries ---------------------------------------------------------------------------------

    def record(self, name: str, step: StepDef, t: float, index: int | None) -> StepRecord:
        """The entry's StepRecord; a retried step reuses its own, so AttemptCount rises in place."""
        record = self.records.get(name)
        if record is None:
            record = StepRecord(name=name, status="Starting", start=t)
            record.display_name = step.raw.get("DisplayName")
            record.description = step.raw.get("Description")
            if index is not None:
                item = self.entries[step.foreach or ""].items[index]
                record.iteration = {"ParentStepName": step.foreach, "Index": index, "Item": _item_text(item)}
            self.execution.steps.append(record)
            self.records[name] = record
        else:
            record.attempt += 1
            record.status, record.start, record.end, record.failure_reason = "Starting", t, None, None
            record.metadata = {}
            record.cache_source_arn = None
        self.note(t)
        return record

    def start_entry(self, name: str, step: StepDef, t: float, index: int | None) -> None:
        record = self.record(name, step, t, index)
        entry = Entry(
            step=step.name, phase=Phase.STARTING, until=t, attempt=record.attempt, first_start=t, index=index
        )
        self.entries[name] = entry
        begin(self, name, step, entry, record, t)

    def scope(self, name: str, entry: Entry, t: float) -> StepScope:
        return StepScope(self, name, entry.step, entry.index, t, entry.job_name)

    def fire(self, name: str, entry: Entry, t: float) -> None:
        advance_entry(self, name, entry, self.records[name], t)

    def finish_entry(self, name: str, t: float, result: Result, reason: str | None = None) -> None:
        """An entry reaches Succeeded, Failed or Stopped."""
        self.note(t)  # whatever it passed through on the way (a cache hit goes Starting → Executing at once)
        entry, record = self.entries[name], self.records[name]
        entry.phase, entry.until, entry.result = Phase.DONE, None, result
        # The resolved arguments live on in the job record and in `props`; keeping a third copy per step
        # would weigh on 10,000 stored executions.
        entry.args = None
        record.status, record.end = result.value, t
        if reason is not None:
            record.failure_reason = reason[:1024]
        if entry.token is not None:
            self.book.forget_callback(entry.token)
            entry.token = None
        self.book.finish_job(entry, result, reason, t)
        step = self.definition.steps[entry.step]
        if result == Result.FAILED and step.foreach is None:
            self.state.halted = True
        self.note(t)
        if step.foreach is not None:
            self._maybe_finish_foreach(step.foreach, t)

    def evaluate(self, name: str, entry: Entry, value: Any, t: float) -> Any:
        return resolve(value, self.scope(name, entry, t))

    def condition_outcome(self, name: str, entry: Entry, t: float) -> bool:
        scope = self.scope(name, entry, t)
        conditions = self.definition.steps[entry.step].arguments.get("Conditions", [])
        return all(evaluate_condition(c, scope) for c in conditions)

    # ---- ForEach ---------------------------------------------------------------------------------

    def _maybe_finish_foreach(self, parent: str, t: float) -> None:
        entry = self.entries[parent]
        if entry.phase not in (Phase.FOREACH, Phase.STOPPING):
            return
        summary, finished = foreach_summary(self, parent)
        self.records[parent].metadata = {"ForEach": summary}
        if not finished:
            return
        if summary["StoppedStepCount"] or self.execution.status == "Stopping":
            result = Result.STOPPED
        elif summary["FailedStepCount"]:
            result = Result.FAILED
        else:
            result = Result.SUCCEEDED
        summary["Status"] = result.value
        reason = STEP_FAILURE if result == Result.FAILED else None
        self.finish_entry(parent, t, result, reason)

    # ---- the end ---------------------------------------------------------------------------------

    def maybe_finish(self, t: float) -> None:
        ex = self.execution
        if ex.status not in ("Executing", "Stopping") or self.running():
            return
        if ex.status == "Stopping":
            if t < (self.state.stop_until or t):
                return
            ex.status = "Stopped"
        elif self.state.halted:
            ex.status = "Failed"
            ex.failure_reason = self.state.fail_message if self.state.fail_step else STEP_FAILURE
        else:
            ex.status = "Succeeded"
        ex.modified = t
        self.state.ended = t


def _item_text(item: Any) -> str:
    text = item if isinstance(item, str) else json.dumps(item)
    return text[:12800]  # IterationContext.Item is String12800


if TYPE_CHECKING:

    def _implements_run_view(run: Run) -> RunView:
        return run  # mypy checks here that Run provides everything RunView promises
