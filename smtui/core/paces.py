"""The monitor's poll intervals (`Paces`): its keyword arguments with their defaults applied, by priority (the
execution on screen, rows in view, the rest), and the slower ones of push mode, where events bring every
change and polls only reconcile (`smtui.core.reconcile`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Paces:
    """Poll intervals in seconds (the monitor's keyword arguments, with their defaults applied)."""

    watched: float  # steps of the execution on screen
    active: float  # steps of rows in view
    background: float  # steps of the rest, and the statuses of their pipelines
    discovery: float  # ListPipelines
    watched_status: float  # the status of the execution on screen
    visible_status: float  # the statuses of rows in view
    reconcile: float  # pipelines holding a finished run a retry may run again, out of view

    def steps(self, priority: int) -> float:
        return (self.watched, self.active, self.background)[priority]

    def pushed(self) -> Paces:
        """Push mode's paces (`smtui.core.reconcile`): the events bring every change, polls reconcile. At the
        default intervals: the open execution's steps every 10 s and its pipeline's list every 60 s; rows in
        view, steps and list every 10 min; off screen, step lists at least 20 min apart and pipeline lists 3
        min apart (the calendars space them further at scale); discovery every 5 min."""
        return Paces(
            watched=self.watched * 10,
            active=self.active * 120,
            background=self.background * 80,
            discovery=self.discovery * 10,
            watched_status=self.watched_status * 40,
            visible_status=self.visible_status * 75,
            reconcile=self.reconcile * 4,
        )

    def status(self, priority: int) -> float:
        return (self.watched_status, self.visible_status, self.background)[priority]
