"""The polls the monitor runs: one method per kind of target, each returning when to run it again.

Split from `monitor.py` (which holds the public API and the scheduler) to keep files short; `Polls` is a
mixin that only `Monitor` uses, and it reads the attributes `Monitor.__init__` sets (declared below).
"""

from __future__ import annotations

import time
from datetime import datetime

from smtui.core.client import SageMakerClient
from smtui.core.definition import DefinitionError, StepGraph, parse_definition
from smtui.core.events import ExecutionsChanged, MonitorEvent, PipelinesChanged, StepsChanged
from smtui.core.model import StepRun, StepStatus
from smtui.core.statuses import WATCHED, Key, StatusPolls
from smtui.core.store import Store
from smtui.core.timing import HISTORY_RUNS
from smtui.core.tree import latest_runs

QUIET_CAP = 12.0  # a row whose running steps cannot have ended yet waits at most this many intervals
RATE_WARMUP = 5.0  # seconds of the scheduler's clock before the rate of the store's clock is trusted
FINAL_READS = 3  # step polls of an ended execution while the API still shows one of its steps running


class Polls(StatusPolls):
    """The poll of each target kind; the scheduler in `Monitor` decides when they run."""

    client: SageMakerClient
    store: Store
    history_pages: int
    scope: frozenset[str] | None
    follow: frozenset[str] | None
    estimates: bool
    discovery_interval: float
    active_interval: float
    background_interval: float
    _due: dict[Key, float]
    _watched: set[str]
    _visible: set[str] | None
    _quiet: dict[str, int]  # execution ARN -> step polls in a row that found nothing new
    _rate_origin: tuple[float, datetime] | None  # scheduler time and store clock at the first `_clock_rate`

    def _now(self) -> float:
        """The scheduler's clock (asyncio's loop time is `time.monotonic`). "Due now" is stamped with it,
        not with 0, so that under a short budget one-off fetches do not rank as hours overdue and starve
        the execution on screen."""
        return time.monotonic()

    def _emit(self, event: MonitorEvent) -> None:
        raise NotImplementedError

    def _kick(self) -> None:
        raise NotImplementedError

    def _exec_priority(self, arn: str) -> int:
        raise NotImplementedError

    def _interval(self, priority: int) -> float:
        raise NotImplementedError

    def nudge_pipeline(self, pipeline_name: str) -> None:
        raise NotImplementedError

    async def _dispatch(self, key: Key) -> float | None:
        kind, subject = key
        if kind == "discover":
            return await self._discover()
        if kind == "pipeline":
            return await self._poll_pipeline(subject)
        if kind == "steps":
            return await self._poll_steps(subject)
        if kind == "definition":
            text = await self.client.definition(subject)
            try:
                graph = parse_definition(text)
            except DefinitionError:
                graph = StepGraph()  # unreadable: the tree falls back to the listed steps
            self.store.set_graph(subject, graph)
            self._emit(StepsChanged(subject))
            return None
        if kind == "params":
            params = await self.client.parameters(subject)
            if self.store.update_execution(subject, parameters=params):
                self._emit(ExecutionsChanged(frozenset({subject})))
            return None
        if kind == "describe":
            return await self._describe(subject)
        raise ValueError(f"unknown poll {key}")

    async def _discover(self) -> float:
        pipelines = await self.client.list_pipelines()
        if self.scope is not None:
            pipelines = [p for p in pipelines if p.name.lower() in self.scope]
        changed, moved = self.store.set_pipelines(pipelines)
        for name in moved:
            self._due[("pipeline", name)] = self._now()
        for name in changed - set(self.store.pipelines):
            self._due.pop(("pipeline", name), None)
        if changed:
            self._emit(PipelinesChanged(frozenset(changed)))
        return self.discovery_interval

    async def _poll_steps(self, arn: str) -> float | None:
        previous = self.store.runs.get(arn)
        unfinished = {r.name for r in (previous or {}).values() if not r.status.is_done}

        known = set(previous or ())

        def stop(page: list[StepRun]) -> bool:
            # Done once every step we knew as unfinished was seen again, and the page reached steps we
            # already knew (so no new step can hide on a further page).
            unfinished.difference_update(r.name for r in page)
            return not unfinished and any((r.name, r.attempt) in known for r in page)

        # Newest first: a follow-up poll needs only the new steps and the unfinished ones, so it asks for a
        # small page (parsing is most of a call's CPU); a long list of new steps just takes more pages.
        size = 100 if previous is None else min(100, 2 * len(unfinished) + 8)
        runs = await self.client.list_steps(arn, stop=None if previous is None else stop, page_size=size)
        changed = self.store.merge_runs(arn, runs, full=previous is None)
        self._quiet[arn] = 0 if changed else self._quiet.get(arn, 0) + 1
        if changed:
            self._emit(StepsChanged(arn))
        execution = self.store.executions.get(arn)
        if execution is None or execution.status.is_terminal:
            # The final look, repeated a few times if the API still shows a step running (it may lag
            # behind the execution's status); the tree stops such a step's clock at the execution's end.
            if (
                execution is None
                or self._quiet.get(arn, 0) >= FINAL_READS
                or not any(
                    r.status.is_active
                    for r in latest_runs(list(self.store.runs.get(arn, {}).values())).values()
                )
            ):
                self._quiet.pop(arn, None)
                return None
            return self._interval(self._exec_priority(arn))
        if _turning(previous or {}, runs):
            self.nudge_pipeline(execution.pipeline_name)  # a step stops or fails: so does the execution
        tree = self.store.tree(arn)
        if tree is not None and all(n.status.is_done for _, n in tree.walk()):
            self.nudge_pipeline(execution.pipeline_name)  # every step is done: the end is near
        interval, self._quiet[arn] = self._steps_interval(arn)
        return interval

    def _steps_interval(self, arn: str) -> tuple[float, int]:
        """The pace of an execution's step polls: its priority's interval, stretched by half again after
        each poll that found nothing new (up to a cap), and back to the start at the next change.

        A step of a real pipeline runs for minutes, so most polls of a busy execution find nothing; the
        execution on screen keeps its pace, visible rows stretch to 3x, the rest to 4x. The status of an
        execution does not wait for this: its pipeline's list carries it, and a poll that sees a step
        stopping or failing lists the pipeline at once.

        Except on screen, a row also waits while none of its running steps can have ended yet, judging
        by the shortest successful run of each in the pipeline's earlier executions (`_quiet_for`), up to
        `QUIET_CAP` times its interval. Then it goes on at the pace it would have reached by polling all
        along: history only skips the polls that could not have seen anything.

        Returns the interval, and the count of quiet polls to carry on from (the skipped ones included).
        """
        priority = self._exec_priority(arn)
        base = self._interval(priority)
        cap = base * (1.0, 3.0, 4.0)[priority]
        quiet_polls = self._quiet.get(arn, 0)
        pace = min(cap, base * 1.5**quiet_polls)
        if priority == WATCHED:
            return pace, quiet_polls
        quiet = self._quiet_for(arn)
        if quiet is None or quiet <= pace:
            return pace, quiet_polls
        wait = min(quiet, base * QUIET_CAP)
        waited = 0.0
        while pace < cap and waited + pace <= wait:  # the polls this wait stands for (a few at most)
            waited += pace
            quiet_polls += 1
            pace = min(cap, base * 1.5**quiet_polls)
        return wait, quiet_polls

    def _quiet_for(self, arn: str) -> float | None:
        """Scheduler seconds before any running step of this execution can end, as far as history tells:
        for each, its start plus the shortest successful run of that step seen in the same pipeline. None
        when a running step has no such history, or when there is no running step to judge by."""
        execution = self.store.executions.get(arn)
        runs = self.store.runs.get(arn)
        rate = self._clock_rate()
        if execution is None or not runs or rate is None:
            return None
        now = self.store.clock()
        soonest: float | None = None
        for run in runs.values():
            if run.status.is_done:
                continue
            shortest = self.store.shortest_step(execution.pipeline_name, run.name)
            if shortest is None or run.started is None or run.status is not StepStatus.EXECUTING:
                return None
            left = shortest - (now - run.started).total_seconds()
            soonest = left if soonest is None else min(soonest, left)
        return None if soonest is None else soonest / rate

    def _clock_rate(self) -> float | None:
        """Seconds of the store's clock per second of the scheduler's, measured since the first call: 1
        against AWS, the time scale on a simulated emulator. None for the first `RATE_WARMUP` seconds, or
        while the clock stands still (an emulator stepped by hand)."""
        now, clock = self._now(), self.store.clock()
        if self._rate_origin is None:
            self._rate_origin = (now, clock)
            return None
        start, clock_start = self._rate_origin
        if now - start < RATE_WARMUP:
            return None
        rate = (clock - clock_start).total_seconds() / (now - start)
        return rate if rate > 0.1 else None

    def _want_details(self, arn: str, *, urgent: bool) -> None:
        """Schedule what showing this execution needs and we do not have yet (each fetched once)."""
        execution = self.store.executions.get(arn)
        if execution is None or (self.follow is not None and arn not in self.follow):
            return
        at = self._now()
        if arn not in self.store.graphs:
            self._due.setdefault(("definition", arn), at)
        # Parameters only for the execution on screen (its screen shows them); the `/` filter asks for the
        # others when it needs them (`want_parameters`).
        shown = arn in self._watched or (self._visible is not None and arn in self._visible)
        if arn in self._watched and execution.parameters is None:
            self._due.setdefault(("params", arn), at)
        if execution.is_active or arn not in self.store.runs:
            # Now if urgent or never polled; else within this row's new pace (it may have come into view
            # from the background, where step polls are minutes apart).
            key = ("steps", arn)
            soon = at if urgent or arn not in self.store.runs else at + self._steps_interval(arn)[0]
            self._due[key] = min(self._due.get(key, soon), soon)
        if arn in self._watched and execution.status.is_retryable:
            self._due[("describe", arn)] = at  # still ended? (then again every `watched_status_interval`)
        elif execution.status.is_terminal and execution.ended is None:
            self._due.setdefault(("describe", arn), at)
        if shown and arn not in self._watched and execution.status.is_retryable:
            self._schedule_list(execution.pipeline_name, at + self.visible_status_interval)
        if execution.is_active and (shown or urgent):
            self._want_history(execution.pipeline_name)
        self._kick()

    def _want_history(self, pipeline_name: str) -> None:
        """End times of the last few successful runs, for the estimate of the time left (once each).

        Only for pipelines with an execution on screen, and ranked after every other poll (see
        `Monitor._rank`): an estimate is a nicety; it must not delay a status.
        """
        if not self.estimates:
            return
        for execution in self.store.recent_successes(pipeline_name, HISTORY_RUNS):
            if execution.ended is None:
                self._due.setdefault(("describe", execution.arn), self._now())


_TURNING = (StepStatus.STOPPING, StepStatus.STOPPED, StepStatus.FAILED)


def _turning(previous: dict[tuple[str, int], StepRun], runs: list[StepRun]) -> bool:
    """Whether this poll shows a step newly stopping, stopped or failed: the execution's status follows."""
    for run in runs:
        if run.status in _TURNING:
            old = previous.get((run.name, run.attempt))
            if old is None or old.status is not run.status:
                return True
    return False
