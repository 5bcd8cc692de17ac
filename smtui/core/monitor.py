"""The monitor: owns all polling, keeps what is known, publishes change events.

The cost model (DESIGN.md "Polling: the cost model"), with these refinements:
- Statuses (`smtui.core.statuses`): one ListPipelineExecutions per pipeline covers all its runs, so
  DescribePipelineExecution is polled only for the execution on screen once it has ended (a retry may run
  it again). A pipeline is listed while it has unfinished runs, at the pace of the most urgent (on screen
  1.5 s, in view 8 s, the rest 15 s, and at once when a step poll sees a step stopping or failing, or
  every step done); while it holds finished runs a retry may run again (8 s in view, 45 s otherwise); and
  when ListPipelines shows its LastExecutionTime moved (a new run). Idle pipelines cost one shared
  ListPipelines every discovery interval.
- ListPipelineExecutionSteps runs only for unfinished executions (plus a final poll when they end, again
  while it still shows a step running, 3 times at most), and pages only until every step known to be
  unfinished has been seen again (newest first); follow-up polls ask for small pages (2 × unfinished + 8),
  since parsing a page is most of a call's CPU.
- Adaptive: each step poll that finds nothing new stretches that execution's next one by half, up to 3x
  its interval for visible rows and 4x for the rest; a change brings it back. The watched one keeps its pace.
  Real steps run for minutes, so most of an execution's polls would find nothing.
- Finished executions loaded as history cost nothing: their definition, steps and end time (Describe) are
  fetched once, and only when they are shown (watched or visible). An execution that ends off screen gets
  its end time when it comes into view. End times of a pipeline's earlier successful runs (for the
  estimate of the time left) are fetched only while one of its active executions is shown, after all else.
- Three speeds: the watched execution (`watched_interval`), visible rows (`active_interval`), the rest
  (`background_interval`, default 3 × active). Until `set_visible` is first called, all count as visible.
  When the budget is short, the watched execution's polls go first; the rest run earliest-deadline-first
  with a head start of one active interval for visible rows: everything stretches, what is on screen
  least, nothing starves.
- One global budget (`CallBudget`): a token bucket, a cap on calls in flight, AIMD on throttling; botocore's
  own retries are charged to it too. Each target is polled by at most one task at a time, and schedules its
  next poll only after it finished, so polls never overlap.
- `pipelines=`, `executions=` and `estimates=False` scope the monitor to what `smtui wait` follows, and
  `track()` follows an execution older than its pipeline's first page.
- Bounded for a session of weeks: after each list of a pipeline, its finished executions beyond the newest
  `history` are forgotten (`Store.evict`), unless shown, open, marked (`keep`), followed, or among the
  successes the estimate reads; screens drop their rows.

Deviations from the brief's API: extra keyword arguments `background_interval=None, history_pages=1,
history=100, max_in_flight=8, pipelines=None, executions=None, estimates=True, watched_status_interval=None,
visible_status_interval=None, reconcile_interval=None`; extra methods `steps_refreshed`, `runs`,
`graph`, `nudge_pipeline`, `nudge_execution`, `track`, `backlog`, `keep`; an extra event `PipelinesChanged`.
Events are in `smtui.core.events` (re-exported here).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import heapq
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from smtui.core.budget import CallBudget
from smtui.core.client import SageMakerClient
from smtui.core.definition import StepGraph
from smtui.core.errors import AwsError
from smtui.core.events import (
    ExecutionsChanged,
    Health,
    HealthChanged,
    MonitorEvent,
    PipelinesChanged,
    StepsChanged,
)
from smtui.core.model import Execution, Pipeline, StepRun, StepTree
from smtui.core.polls import Polls
from smtui.core.statuses import REST, VISIBLE, WATCHED, Key
from smtui.core.store import Store
from smtui.core.timing import estimate_remaining

__all__ = [
    "ExecutionsChanged",
    "Health",
    "HealthChanged",
    "Monitor",
    "MonitorEvent",
    "PipelinesChanged",
    "StepsChanged",
]

# One cell per in-flight call: lets the client's per-attempt listener tell first attempts from retries.
_ATTEMPTS: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("smtui_attempts", default=None)


class Monitor(Polls):
    """Polls a SageMaker account/region and publishes what changed. Runs in the caller's event loop."""

    def __init__(
        self,
        client: SageMakerClient,
        *,
        rate: float = 10.0,
        active_interval: float = 5.0,
        watched_interval: float = 1.0,
        discovery_interval: float = 30.0,
        background_interval: float | None = None,
        history_pages: int = 1,
        history: int = 100,
        max_in_flight: int = 8,
        clock: Callable[[], datetime] | None = None,
        pipelines: Iterable[str] | None = None,
        executions: Iterable[str] | None = None,
        estimates: bool = True,
        watched_status_interval: float | None = None,
        visible_status_interval: float | None = None,
        reconcile_interval: float | None = None,
    ) -> None:
        self.client = client
        # `smtui wait` follows some executions: only their pipelines (names, any case) are listed, only their
        # steps are read, and no estimate (which needs earlier runs' end times) is made.
        self.scope = None if pipelines is None else frozenset(p.lower() for p in pipelines)
        self.follow = None if executions is None else frozenset(executions)
        self.estimates = estimates
        self.active_interval = active_interval
        self.watched_interval = watched_interval
        self.discovery_interval = discovery_interval
        self.background_interval = background_interval or 3 * active_interval
        # How fresh statuses are (`smtui.core.statuses`): at the default intervals, the execution on
        # screen every 1.5 s, rows in view every 8 s, retryable runs elsewhere every 45 s.
        self.watched_status_interval = watched_status_interval or 1.5 * watched_interval
        self.visible_status_interval = visible_status_interval or 1.6 * active_interval
        self.reconcile_interval = reconcile_interval or 9 * active_interval
        self.history_pages = history_pages
        self.history = history  # finished executions kept per pipeline (`Store.evict`)
        # By default the server's time (local time corrected by the skew the client observes).
        self.clock = clock or client.now
        self.budget = CallBudget(rate, max_in_flight=max_in_flight)
        self.store = Store(self.clock)
        self._subscribers: list[Callable[[MonitorEvent], None]] = []
        self._due: dict[Key, float] = {}
        self._in_flight: set[Key] = set()
        self._failures: dict[Key, int] = {}
        self._watched: set[str] = set()
        self._visible: set[str] | None = None
        self._kept: set[str] = set()  # what a screen holds on to (marked rows): never forgotten
        self._quiet: dict[str, int] = {}
        self._reconciled: dict[str, float] = {}
        self._deep: dict[str, set[str]] = {}
        self._rate_origin: tuple[float, datetime] | None = None
        self._task: asyncio.Task[None] | None = None
        self._workers: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._health = Health()
        self._unlisten = client.add_listener(self._on_attempt)

    # -- public API ---------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._due[("discover", "")] = self._now()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="smtui-monitor")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for worker in list(self._workers):
            worker.cancel()
        if self._workers:
            await asyncio.gather(*self._workers, return_exceptions=True)
        self._unlisten()

    def subscribe(self, callback: Callable[[MonitorEvent], None]) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    async def refresh_now(self) -> None:
        """Everything on screen brought up to date, and every scheduled poll run now; returns once each
        of those ran (10 s at most).

        On screen: every pipeline with a row in view is listed down to its deepest row in view, finished
        ones included (a retry may have run them again); the execution open has its steps read, and its
        status too (Describe) when it has ended. Idle pipelines with nothing in view are not listed:
        discovery (ListPipelines) shows whether they ran since.
        """
        loop = asyncio.get_running_loop()
        now = self._now()
        self._due[("discover", "")] = now
        for key in list(self._due):
            self._due[key] = now
        shown = self._watched | (set(self.store.executions) if self._visible is None else self._visible)
        self._read_shown_now(shown, now)
        asked = set(self._due) | set(self._in_flight)
        self._kick()
        start, deadline = loop.time(), loop.time() + 10.0
        # Polled, not evented: the polls know nothing of who waits for them.
        while loop.time() < deadline and any(  # noqa: ASYNC110
            k in self._in_flight or self._due.get(k, start + 1) <= start for k in asked
        ):
            await asyncio.sleep(0.02)

    async def settle(self, limit: float = 30.0) -> None:
        """Wait until nothing is due now or in flight (used by tests, benchmarks and `refresh_now`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while loop.time() < deadline:
            now = loop.time()
            if not self._in_flight and not any(d <= now for d in self._due.values()):
                return
            await asyncio.sleep(0.01)

    @property
    def executions(self) -> Mapping[str, Execution]:
        return self.store.executions

    @property
    def pipelines(self) -> Mapping[str, Pipeline]:
        return self.store.pipelines

    @property
    def health(self) -> Health:
        return self._health

    def tree(self, execution_arn: str) -> StepTree | None:
        return self.store.tree(execution_arn)

    def graph(self, execution_arn: str) -> StepGraph | None:
        return self.store.graphs.get(execution_arn)

    def runs(self, execution_arn: str) -> tuple[StepRun, ...]:
        return tuple(self.store.runs.get(execution_arn, {}).values())

    def progress(self, execution_arn: str) -> tuple[int, int] | None:
        """(done, total) steps, or None until both the definition and the steps have been read (with the
        definition alone, a finished run's steps would all count as skipped: `0/0`)."""
        if execution_arn not in self.store.runs:
            return None
        tree = self.tree(execution_arn)
        return tree.progress if tree is not None else None

    def running_steps(self, execution_arn: str) -> tuple[str, ...]:
        """Steps running now; none once the execution has ended (whatever its steps were last read as)."""
        execution = self.store.executions.get(execution_arn)
        if execution is not None and execution.status.is_terminal:
            return ()
        tree = self.tree(execution_arn)
        if tree is None:
            return tuple(r.name for r in self.runs(execution_arn) if r.status.is_active)
        return tuple(n.name for _, n in tree.walk() if n.status.is_active and not n.children)

    def watch(self, execution_arn: str) -> None:
        """The execution open on screen: its steps and its status are read now, then at the watched pace."""
        self._watched.add(execution_arn)
        self._quiet.pop(execution_arn, None)
        execution = self.store.executions.get(execution_arn)
        if execution is not None and execution.is_active:
            self._schedule_list(execution.pipeline_name, self._now())
        self._want_details(execution_arn, urgent=True)

    def track(self, execution: Execution) -> None:
        """Follow this execution from now on, even if its pipeline's first page of executions (the newest
        100) does not hold it: its pipeline's list then pages down to it while it runs."""
        self.store.add_execution(execution)
        self._want_details(execution.arn, urgent=True)
        self.nudge_pipeline(execution.pipeline_name)

    def unwatch(self, execution_arn: str) -> None:
        self._watched.discard(execution_arn)

    def want_parameters(self, arns: Iterable[str]) -> None:
        """Read the parameters of these executions (once each), after what is due on screen: the `/` filter
        asked for a parameter, which only executions with their parameters read can match."""
        at = self._now()
        for arn in arns:
            execution = self.store.executions.get(arn)
            if execution is not None and execution.parameters is None:
                self._due.setdefault(("params", arn), at)
        self._kick()

    def drop_parameter_wants(self) -> None:
        """Forget the parameter reads `want_parameters` asked for and not yet made (the filter changed)."""
        for key in [k for k in self._due if k[0] == "params" and k[1] not in self._watched]:
            del self._due[key]

    def set_visible(self, arns: Iterable[str]) -> None:
        visible = set(arns)
        new = visible - (self._visible or set())
        self._visible = visible
        for arn in new:
            self._want_details(arn, urgent=False)

    def keep(self, arns: Iterable[str]) -> None:
        """Executions a screen holds on to besides the rows in view and the one open (the marked ones):
        never forgotten however old (see `history`)."""
        self._kept = set(arns)

    def backlog(self) -> dict[str, int]:
        """Polls due now or in flight, by kind ("steps", "pipeline", "describe", ...): how far behind."""
        now = self._now()
        counts: dict[str, int] = {}
        for key in {k for k, t in self._due.items() if t <= now} | self._in_flight:
            counts[key[0]] = counts.get(key[0], 0) + 1
        return counts

    def last_refreshed(self, arn: str) -> datetime | None:
        """When the status of this execution (or this pipeline's list) was last confirmed."""
        return self.store.refreshed.get(arn)

    def steps_refreshed(self, execution_arn: str) -> datetime | None:
        return self.store.steps_refreshed.get(execution_arn)

    def estimate_remaining(self, execution_arn: str) -> timedelta | None:
        execution = self.store.executions.get(execution_arn)
        if execution is None:
            return None
        return estimate_remaining(execution, self.store.by_pipeline(execution.pipeline_name), self.clock())

    def nudge_pipeline(self, pipeline_name: str) -> None:
        """Something happened to this pipeline (we started a run): list it now."""
        self._due[("pipeline", pipeline_name)] = self._now()
        self._kick()

    def nudge_execution(self, execution_arn: str) -> None:
        execution = self.store.executions.get(execution_arn)
        if execution is not None:
            self.nudge_pipeline(execution.pipeline_name)
        self._due[("steps", execution_arn)] = self._now()
        self._kick()

    def _evict(self, pipeline_name: str, *, spare: set[str]) -> None:
        """Forget this pipeline's finished executions beyond `history` (`Store.evict`) and every poll and
        count about them. Screens drop their rows: an ExecutionsChanged names ARNs the store no longer has.
        Kept: what is open, in view (as of the last `set_visible`; none before it), marked, followed, or
        polled right now, and `spare`: known ones that just ended, so that screens see the end (a toast
        for one the user follows) before the row goes, at the next list."""
        busy = {subject for kind, subject in self._in_flight if kind not in ("pipeline", "discover")}
        keep = self._watched | (self._visible or set()) | self._kept | busy | spare
        gone = self.store.evict(pipeline_name, self.history, keep | (self.follow or frozenset()))
        if not gone:
            return
        # Per-execution polls are keyed (kind, ARN); a pipeline's are (kind, name), and no name is an ARN.
        for table in (self._due, self._failures):
            for key in [k for k in table if k[1] in gone]:
                del table[key]
        for arn in gone:
            self._quiet.pop(arn, None)
        for wanted in self._deep.values():
            wanted.difference_update(gone)
        self._emit(ExecutionsChanged(frozenset(gone)))

    # -- scheduling ----------------------------------------------------------------------

    def _kick(self) -> None:
        self._wake.set()

    def _priority(self, key: Key) -> int:
        kind, subject = key
        if kind == "pipeline":
            # A pipeline's list carries the status of every one of its executions: never background.
            arns = self.store.active_of(subject)
            return min([VISIBLE, *(self._exec_priority(a) for a in arns)])
        if kind == "discover":
            return VISIBLE
        return self._exec_priority(subject)

    def _rank(self, key: Key) -> tuple[bool, bool, float]:
        priority = self._priority(key)
        deadline = self._due[key] - (REST - priority) * self.active_interval
        if key[0] == "describe" and priority == REST:
            # The end time of an earlier run, for an estimate: it waits until the rest is a minute late.
            deadline += 4 * self.background_interval
        # A definition is fetched once and every later step poll of that execution needs it to mean
        # anything (no progress bar, no tree without it): it goes ahead of recurring polls of its class.
        return (priority != WATCHED, key[0] != "definition", deadline)

    def _exec_priority(self, arn: str) -> int:
        if arn in self._watched:
            return WATCHED
        if self._visible is None or arn in self._visible:
            return VISIBLE
        return REST

    def _interval(self, priority: int) -> float:
        return (self.watched_interval, self.active_interval, self.background_interval)[priority]

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            # One pass over every scheduled poll (hundreds with a long history): what is due, and when
            # the next of the others is.
            due: list[Key] = []
            upcoming = now + 1.0
            in_flight = self._in_flight
            for key, at in self._due.items():
                if key in in_flight:
                    continue  # due again while in flight: waits for its poll to finish (it kicks)
                if at <= now:
                    due.append(key)
                elif at < upcoming:
                    upcoming = at
            blocked = False
            if due:
                # The watched execution first, always (it costs at most 1/watched_interval calls/s). Then
                # earliest deadline first with a head start of one active interval for visible rows: when
                # the budget is short everything else stretches, what is on screen less, nothing starves.
                # Only as many as the budget grants now are ranked (most wake-ups grant one or two).
                room = self.budget.room()
                blocked = room < len(due)
                for key in heapq.nsmallest(room, due, key=self._rank):
                    if not self.budget.try_acquire():
                        blocked = True
                        break
                    self._in_flight.add(key)
                    del self._due[key]
                    worker = loop.create_task(self._poll(key), name=f"smtui-poll-{key[0]}")
                    self._workers.add(worker)
                    worker.add_done_callback(self._workers.discard)
            if blocked and self.budget.in_flight >= self.budget.max_in_flight:
                delay = 1.0  # a finishing poll kicks us awake
            elif blocked:
                delay = self.budget.wait_time()  # the next token
            else:
                delay = upcoming - loop.time()  # everything due was started
            self._wake.clear()
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that races with
            # the event being set, and `stop()` would then wait forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(max(delay, 0.01), 1.0)):
                    await self._wake.wait()

    async def _poll(self, key: Key) -> None:
        loop = asyncio.get_running_loop()
        cell: list[int] = [0]
        token = _ATTEMPTS.set(cell)
        next_in: float | None
        try:
            next_in = await self._dispatch(key)
            self._failures.pop(key, None)
            self._set_health(connected=True, error=None, last_refresh=self.clock())
        except AwsError as exc:
            next_in = self._on_error(key, exc)
        except Exception as exc:  # a bug in one poll must not stop the monitor
            next_in = self._on_error(key, AwsError(type(exc).__name__, str(exc)))
        finally:
            _ATTEMPTS.reset(token)
            self.budget.release()
            self._in_flight.discard(key)
        if next_in is not None:
            previous = self._due.get(key)
            target = loop.time() + next_in
            self._due[key] = target if previous is None else min(previous, target)
        self._kick()

    def _on_error(self, key: Key, exc: AwsError) -> float | None:
        if exc.is_not_found and key[0] != "discover":
            return None  # deleted: stop polling it
        failures = self._failures.get(key, 0) + 1
        self._failures[key] = failures
        if exc.is_throttling:
            self._set_health()
            return min(self._interval(self._priority(key)), 2.0)
        self._set_health(connected=not exc.is_connection, error=str(exc))
        cap = 30.0 if exc.is_credentials else 5.0
        return min(cap, 0.25 * 2.0 ** min(failures, 8))

    def _on_attempt(self, operation: str, code: str | None) -> None:
        cell = _ATTEMPTS.get()
        if cell is not None:
            cell[0] += 1
            if cell[0] > 1:
                self.budget.charge()
        self.budget.note_attempt()
        if code is not None and code.startswith("Throttl"):
            self.budget.on_throttle()
            self._set_health()

    def _set_health(self, **changes: Any) -> None:
        base = self._health
        health = Health(
            connected=changes.get("connected", base.connected),
            throttled=self.budget.throttled,
            last_refresh=changes.get("last_refresh", base.last_refresh),
            error=changes.get("error", base.error),
            calls_per_s=round(self.budget.calls_per_s, 1),
        )
        if (health.connected, health.throttled, health.error) != (base.connected, base.throttled, base.error):
            self._health = health
            self._emit(HealthChanged(health))
        else:
            self._health = health

    def _emit(self, event: MonitorEvent) -> None:
        for callback in list(self._subscribers):
            callback(event)
