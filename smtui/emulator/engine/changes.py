"""Status changes of an execution and its steps, as the engine passes them: what SageMaker publishes to
EventBridge. A `Tracker` remembers the statuses a run started from and reports each change once, at the
simulated time it happened, to the engine's observer (the event bus)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smtui.emulator.store.records import ExecutionRecord, StepRecord

ACTIVE = ("Executing", "Stopping")


@dataclass(frozen=True)
class StatusChange:
    """One status change: of the execution (`step` None) or of one of its steps."""

    execution: ExecutionRecord
    step: StepRecord | None
    step_type: str | None
    previous: str | None  # None: the first status it ever had
    current: str
    at: float  # simulated epoch seconds


Observer = Callable[[StatusChange], None]


class Tracker:
    """The last reported statuses of one execution; `note` reports what changed since."""

    def __init__(self, execution: ExecutionRecord, observer: Observer | None, *, fresh: bool) -> None:
        self._execution = execution
        self._observer = observer
        self._status: str | None = None if fresh else execution.status
        # Nobody listening (the engine alone, as in unit tests): remember nothing.
        self._steps = {r.name: r.status for r in execution.steps} if observer is not None else {}

    def note(self, t: float, step_type: Callable[[StepRecord], str]) -> None:
        """Report every change since the last note, at `t`; the execution's own change comes first while it
        runs (so a consumer knows the execution before its steps) and last once it ended."""
        if self._observer is None:
            return
        execution = self._execution
        leading = execution.status in ACTIVE
        if leading:
            self._note_execution(t)
        for record in execution.steps:
            before = self._steps.get(record.name)
            if record.status == before:
                continue
            self._steps[record.name] = record.status
            if record.selective_source_arn:
                continue  # copied from the source execution, never run here: nothing happened
            self._observer(StatusChange(execution, record, step_type(record), before, record.status, t))
        if not leading:
            self._note_execution(t)

    def _note_execution(self, t: float) -> None:
        execution = self._execution
        if execution.status != self._status:
            before, self._status = self._status, execution.status
            assert self._observer is not None
            self._observer(StatusChange(execution, None, None, before, execution.status, t))
