"""One execution on the simulated clock: an event loop over its step entries, replayed lazily.

All bookkeeping lives in `execution.engine_state` (JSON), so an execution loaded from `--state` carries
on. `process(now)` fires every event due up to `now` in time order, so step times are exact however
rarely anyone looks. Entries: one per top-level/branch step, one per ForEach child `<Body>-<i>`.
"""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Any

from smtui.emulator.definition.expressions import evaluate_condition, resolve
from smtui.emulator.definition.graph import Definition, StepDef
from smtui.emulator.engine.scenario import StepPlan
from smtui.emulator.engine.scope import RUNNING_PHASES, StepScope
from smtui.emulator.engine.steps import advance_entry, begin, foreach_summary
from smtui.emulator.store.records import ExecutionRecord, StepRecord

if TYPE_CHECKING:
    from smtui.emulator.engine.engine import Engine

STEP_FAILURE = "Step failure: One or multiple steps failed."


class Run:
    """An execution being advanced; built per call, all durable state in `engine_state`."""

    def __init__(self, engine: Engine, execution: ExecutionRecord, definition: Definition) -> None:
        self.engine = engine
        self.execution = execution
        self.definition = definition
        self.state = execution.engine_state
        self.entries: dict[str, dict[str, Any]] = self.state.setdefault("entries", {})
        self.records = {record.name: record for record in execution.steps}
        self.parameter_values = {p["Name"]: p["Value"] for p in execution.parameters}
        self.seed_key = f"{self.state['seed']}/{execution.pipeline_name}/{self.state['ordinal']}"

    # ---- helpers ---------------------------------------------------------------------------------

    def rng(self, *parts: Any) -> random.Random:
        """A generator keyed by (seed, pipeline, execution ordinal, *parts): same seed, same run."""
        return random.Random("/".join([self.seed_key, *map(str, parts)]))

    def plan_for(self, step: str) -> StepPlan:
        step_type = self.definition.steps[step].type if step in self.definition.steps else "Processing"
        return self.engine.scenario.plan(self.execution.pipeline_name, step, step_type)

    def touch(self, t: float) -> None:
        self.execution.modified = max(self.execution.modified, t)
        self.engine.store.touch(self.execution)

    def running(self) -> list[str]:
        return [name for name, e in self.entries.items() if e["phase"] in RUNNING_PHASES]

    def due(self) -> float | None:
        times = [
            e["until"]
            for e in self.entries.values()
            if e["phase"] in RUNNING_PHASES and e["until"] is not None
        ]
        if self.state.get("stop_until") is not None and self.execution.status == "Stopping":
            times.append(self.state["stop_until"])
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
                if entry["phase"] in RUNNING_PHASES and entry["until"] is not None and entry["until"] <= t:
                    self.fire(name, entry, t)
            self.settle(t)
            if (self.state.get("stop_until") or now + 1) <= t:
                self.state["stop_until"] = None  # reached: only running steps can hold Stopping now
        self.state["next"] = self.due()

    def settle(self, t: float) -> None:
        """Start what is ready at `t`, then end the execution if nothing runs or can start."""
        self.schedule(t)
        self.maybe_finish(t)
        self.state["next"] = self.due()
        self.touch(t)

    def _order(self, name: str) -> tuple[int, int]:
        entry = self.entries[name]
        return (self.definition.steps[entry["step"]].order, entry.get("index") or 0)

    # ---- scheduling ------------------------------------------------------------------------------

    def _capacity(self) -> int:
        limit = self.execution.parallelism
        if not limit:
            return 1 << 30
        busy = sum(
            1 for e in self.entries.values() if e["phase"] in RUNNING_PHASES and e["phase"] != "foreach"
        )
        return limit - busy

    def schedule(self, t: float) -> None:
        if self.execution.status != "Executing":
            return
        skipped: list[str] = self.state.setdefault("skipped", [])
        changed = True
        while changed and not self.state.get("halted"):
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
            if self.entries[name]["phase"] == "foreach":
                self._schedule_children(name, t)

    def _readiness(self, step: StepDef) -> str:
        skipped = self.state["skipped"]
        if step.gate is not None:
            gate, branch = step.gate
            if gate in skipped:
                return "skip"
            gate_entry = self.entries.get(gate)
            if gate_entry is None or gate_entry.get("result") != "Succeeded":
                return "wait"
            if gate_entry["props"]["Outcome"] != branch:
                return "skip"
        for dep in step.deps:
            if dep in skipped:
                return "skip"
            entry = self.entries.get(dep)
            if entry is None or entry.get("result") != "Succeeded":
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
            if e["phase"] in RUNNING_PHASES
            and e.get("index") is not None
            and any(name.startswith(p) for p in prefix)
        )
        for index in range(len(entry["items"])):
            for step_name in body:
                child = f"{step_name}-{index}"
                if child in self.entries:
                    continue
                if busy >= entry["max"] or self._capacity() <= 0 or self.execution.status != "Executing":
                    self._maybe_finish_foreach(parent, t)
                    return
                inner = [d for d in self.definition.steps[step_name].deps if d in body]
                if all(self.entries.get(f"{d}-{index}", {}).get("result") == "Succeeded" for d in inner):
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
                item = self.entries[step.foreach or ""]["items"][index]
                record.iteration = {"ParentStepName": step.foreach, "Index": index, "Item": _item_text(item)}
            self.execution.steps.append(record)
            self.records[name] = record
        else:
            record.attempt += 1
            record.status, record.start, record.end, record.failure_reason = "Starting", t, None, None
            record.metadata = {}
            record.cache_source_arn = None
        return record

    def start_entry(self, name: str, step: StepDef, t: float, index: int | None) -> None:
        record = self.record(name, step, t, index)
        self.entries[name] = {
            "step": step.name,
            "index": index,
            "phase": "starting",
            "until": t,
            "attempt": record.attempt,
            "first_start": t,
            "result": None,
            "props": None,
        }
        begin(self, name, step, self.entries[name], record, t)

    def scope(self, name: str, entry: dict[str, Any], t: float) -> StepScope:
        return StepScope(self, name, entry["step"], entry.get("index"), t, entry.get("job_name"))

    def fire(self, name: str, entry: dict[str, Any], t: float) -> None:
        advance_entry(self, name, entry, self.records[name], t)

    def finish_entry(self, name: str, t: float, result: str, reason: str | None = None) -> None:
        """An entry reaches Succeeded, Failed or Stopped."""
        entry, record = self.entries[name], self.records[name]
        entry.update(phase="done", until=None, result=result)
        # The resolved arguments live on in the job record and in `props`; keeping a third copy per step
        # would weigh on 10,000 stored executions.
        entry.pop("args", None)
        record.status, record.end = result, t
        if reason is not None:
            record.failure_reason = reason[:1024]
        token = entry.pop("token", None)
        if token is not None:
            self.engine.store.forget_callback(token)
        self.engine.finish_job(entry, result, reason, t)
        step = self.definition.steps[entry["step"]]
        if result == "Failed" and step.foreach is None:
            self.state["halted"] = True
        if step.foreach is not None:
            self._maybe_finish_foreach(step.foreach, t)

    def evaluate(self, name: str, entry: dict[str, Any], value: Any, t: float) -> Any:
        return resolve(value, self.scope(name, entry, t))

    def condition_outcome(self, name: str, entry: dict[str, Any], t: float) -> bool:
        scope = self.scope(name, entry, t)
        conditions = self.definition.steps[entry["step"]].arguments.get("Conditions", [])
        return all(evaluate_condition(c, scope) for c in conditions)

    # ---- ForEach ---------------------------------------------------------------------------------

    def _maybe_finish_foreach(self, parent: str, t: float) -> None:
        entry = self.entries[parent]
        if entry["phase"] not in ("foreach", "stopping"):
            return
        summary, finished = foreach_summary(self, parent)
        self.records[parent].metadata = {"ForEach": summary}
        if not finished:
            return
        if summary["StoppedStepCount"] or self.execution.status == "Stopping":
            result = "Stopped"
        elif summary["FailedStepCount"]:
            result = "Failed"
        else:
            result = "Succeeded"
        summary["Status"] = result
        reason = STEP_FAILURE if result == "Failed" else None
        self.finish_entry(parent, t, result, reason)

    # ---- the end ---------------------------------------------------------------------------------

    def maybe_finish(self, t: float) -> None:
        ex = self.execution
        if ex.status not in ("Executing", "Stopping") or self.running():
            return
        if ex.status == "Stopping":
            if t < (self.state.get("stop_until") or t):
                return
            ex.status = "Stopped"
        elif self.state.get("halted"):
            ex.status = "Failed"
            fail_step = self.state.get("fail_step")
            ex.failure_reason = self.state.get("fail_message") if fail_step else STEP_FAILURE
        else:
            ex.status = "Succeeded"
        ex.modified = t
        self.state["ended"] = t


def _item_text(item: Any) -> str:
    text = item if isinstance(item, str) else json.dumps(item)
    return text[:12800]  # IterationContext.Item is String12800
