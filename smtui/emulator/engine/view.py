"""What step behaviour may use of the run it belongs to: the `RunView` protocol.

`steps` (what each step type does), `scope` (what expressions see) and `select` (selective execution) work
through this interface; `run.Run` implements it and drives them. So they depend on a small typed surface,
not on the run loop or on the engine: the job book is all they get of the world outside the execution.
"""

from __future__ import annotations

import random
from typing import Any, Protocol

from smtui.emulator.definition.graph import Definition
from smtui.emulator.engine.book import JobBook
from smtui.emulator.engine.entries import Entry, Result, RunState
from smtui.emulator.engine.scenario import StepPlan
from smtui.emulator.store.records import ExecutionRecord, StepRecord


class RunView(Protocol):
    """One execution being advanced, as its steps see it."""

    execution: ExecutionRecord
    definition: Definition
    state: RunState
    entries: dict[str, Entry]  # the state's entries, by entry name
    records: dict[str, StepRecord]  # the execution's step records, by entry name
    parameter_values: dict[str, str]
    seed_key: str  # "<seed>/<pipeline>/<ordinal>": the prefix of every RNG key of this run
    book: JobBook

    def rng(self, *parts: object) -> random.Random:
        """A generator keyed by the run and `parts`: the same seed gives the same draws."""
        ...

    def plan_for(self, step: str) -> StepPlan:
        """The scenario's knobs for a step of this run's pipeline."""
        ...

    def evaluate(self, name: str, entry: Entry, value: Any, t: float) -> Any:
        """`value` with its expressions resolved as the entry sees them at `t`."""
        ...

    def condition_outcome(self, name: str, entry: Entry, t: float) -> bool:
        """The Condition step's conditions, ANDed."""
        ...

    def finish_entry(self, name: str, t: float, result: Result, reason: str | None = None) -> None:
        """The entry ends: its record, its job and its ForEach parent follow."""
        ...
