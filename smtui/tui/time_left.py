"""The time left of the executions table's running rows (`smtui.core.timing`'s estimate, as `smtui ls
--json` gives it), with each pipeline's history read once per batch of rows rather than once per row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from smtui.core.model import Execution
from smtui.core.timing import Remaining, remaining_from
from smtui.tui import format as fmt
from smtui.tui.session import MonitorView


class TimeLeft:
    """Estimates for a batch of rows (a reload, a tick); `new_batch()` before each, as history may move."""

    def __init__(self, monitor: Callable[[], MonitorView]) -> None:
        self._monitor = monitor  # the session's: it changes when the real session replaces the placeholder
        self._durations: dict[str, list[float] | None] = {}

    def new_batch(self) -> None:
        self._durations.clear()

    def estimate(self, execution: Execution, now: datetime) -> Remaining:
        """The estimate; `fmt.READING_HISTORY` for a running one while its pipeline's history is not read."""
        monitor = self._monitor()
        pipeline = monitor.pipeline_key(execution)  # with several contexts, the history of its own context
        if pipeline not in self._durations:
            self._durations[pipeline] = monitor.success_durations(pipeline)
        durations = self._durations[pipeline]
        if durations is None and execution.is_active:
            return fmt.READING_HISTORY
        return remaining_from(execution, durations or [], now)

    def shown(self, execution: Execution, now: datetime) -> Remaining | None:
        """What a row's Left cell shows, cut to its text (None for a finished row: an empty cell)."""
        if not execution.is_active:
            return None
        return fmt.left_shown(self.estimate(execution, now))
