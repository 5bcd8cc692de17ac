"""The engine's own state of an execution, typed: one `Entry` per step entry, in a `RunState`.

The execution record carries its `RunState` (`ExecutionRecord.engine_state`); the store persists it as JSON
without knowing its type and hands back the JSON after a restart, which `run_state` reads again. Reading
accepts the older layout too (entries as dicts with `max`, `next`, `failure` and `job` as lists), so a
`--state` file written before these types existed still loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from smtui.emulator.engine.scenario import Failure
from smtui.emulator.store.records import ExecutionRecord


class Phase(StrEnum):
    """Where an entry is: each running phase ends at the entry's `until` (or when answered)."""

    STARTING = "starting"  # StepStatus Starting, for the scenario's start delay
    EXECUTING = "executing"  # an attempt runs for its drawn duration
    RETRY_WAIT = "retry_wait"  # an attempt failed; a RetryPolicy waits before the next one
    STOPPING = "stopping"  # StopPipelineExecution: Stopped after the scenario's stop delay
    CALLBACK = "callback"  # waits for SendPipelineExecutionStepSuccess/Failure (or the scenario's reply)
    FOREACH = "foreach"  # runs its children; ends when they have
    DONE = "done"  # `result` says how it ended


RUNNING_PHASES = frozenset(Phase) - {Phase.DONE}


class Result(StrEnum):
    """How an entry ended: its final StepStatus."""

    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    STOPPED = "Stopped"


@dataclass
class Entry:
    """One step entry of a run: a top-level or branch step, or a ForEach child `<Body>-<index>`."""

    step: str  # the StepDef it runs
    phase: Phase
    until: float | None  # when the current phase ends; None while it waits for something else
    attempt: int
    first_start: float  # RetryPolicy ExpireAfterMin counts from here
    index: int | None = None  # the iteration of a ForEach child
    result: Result | None = None
    props: dict[str, Any] | None = None  # what `Steps.<name>...` reads once it has succeeded
    job_name: str | None = None  # the current attempt's job, for job steps
    job: tuple[str, str] | None = None  # (JobRecord kind, name) of that job once created
    resource_arn: str | None = None  # the model, model package, ... an ARN-only step made
    args: Any = None  # the resolved Arguments, kept while the step may start another attempt
    cache_key: str | None = None
    cache_source: str | None = None  # the execution whose run a cache hit reused
    duration: float = 0.0  # of the current attempt
    failure: Failure | None = None  # how the current attempt fails, drawn when it starts
    metrics: dict[str, float] = field(default_factory=dict)
    retries: int = 0  # attempts started by a RetryPolicy
    message: str = ""  # a Fail step's ErrorMessage, resolved
    items: list[Any] = field(default_factory=list)  # a ForEach step's IterableItems, resolved
    max_concurrency: int = 1  # a ForEach step's MaxConcurrency
    token: str | None = None  # a Callback step's token while it waits

    @property
    def running(self) -> bool:
        return self.phase in RUNNING_PHASES

    @property
    def succeeded(self) -> bool:
        return self.result == Result.SUCCEEDED

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        failure = data.get("failure")
        if isinstance(failure, list):  # the older layout: [reason, exception]
            failure = Failure(str(failure[0]), str(failure[1]))
        elif isinstance(failure, dict):
            failure = Failure(str(failure.get("reason", "")), str(failure.get("exception", "")))
        job = data.get("job")
        result = data.get("result")
        return cls(
            step=str(data["step"]),
            phase=Phase(data["phase"]),
            until=data.get("until"),
            attempt=int(data.get("attempt", 1)),
            first_start=float(data.get("first_start", 0.0)),
            index=data.get("index"),
            result=None if result is None else Result(result),
            props=data.get("props"),
            job_name=data.get("job_name"),
            job=None if not job else (str(job[0]), str(job[1])),
            resource_arn=data.get("resource_arn"),
            args=data.get("args"),
            cache_key=data.get("cache_key"),
            cache_source=data.get("cache_source"),
            duration=float(data.get("duration") or 0.0),
            failure=failure,
            metrics=dict(data.get("metrics") or {}),
            retries=int(data.get("retries", 0)),
            message=str(data.get("message", "")),
            items=list(data.get("items") or []),
            max_concurrency=int(data.get("max_concurrency", data.get("max", 1)) or 1),
            token=data.get("token"),
        )


@dataclass
class RunState:
    """Everything the engine keeps about one execution between calls (persisted with it)."""

    seed: int  # the scenario seed it started with: the same seed replays the same run
    ordinal: int  # its place among its pipeline's executions, in the RNG keys
    entries: dict[str, Entry] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # steps that will never run (branch not taken, ...)
    next_due: float | None = None  # the earliest `until` of a running entry: `advance` is free before it
    stop_until: float | None = None  # Stopping lasts at least until then
    halted: bool = False  # a step failed: nothing new starts
    ended: float | None = None
    fail_step: str | None = None  # the Fail step that ended it (no retry then)
    fail_message: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunState:
        entries = data.get("entries") or {}
        return cls(
            seed=int(data.get("seed", 0)),
            ordinal=int(data.get("ordinal", 0)),
            entries={name: Entry.from_json(entry) for name, entry in entries.items()},
            skipped=list(data.get("skipped") or []),
            next_due=data.get("next_due", data.get("next")),
            stop_until=data.get("stop_until"),
            halted=bool(data.get("halted", False)),
            ended=data.get("ended"),
            fail_step=data.get("fail_step"),
            fail_message=data.get("fail_message"),
        )


def run_state(execution: ExecutionRecord) -> RunState:
    """The execution's RunState; read from its JSON the first time after a restart."""
    state = execution.engine_state
    if not isinstance(state, RunState):
        state = RunState.from_json(state if isinstance(state, dict) else {})
        execution.engine_state = state
    return state
