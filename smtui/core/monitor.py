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
  estimate of the time left) are fetched only while one of its active executions is shown, after all else;
  their steps (for each running step's time left), once each, only while one of them is open.
- Three speeds: the watched execution (`watched_interval`), visible rows (`active_interval`), the rest
  (`background_interval`, default 3 × active). Until `set_visible` is first called, all count as visible.
  When the budget is short, the watched execution's polls go first; then what a row in view needs before
  it shows anything (its pipeline's first list, its definition, its first steps read); the rest run
  earliest-deadline-first with a head start of one active interval for visible rows: everything
  stretches, what is on screen least, nothing starves.
- Definitions: one read per distinct version, not per execution (`smtui.core.definitions`): when several
  executions of a pipeline wait for theirs, ListPipelineVersions tells which must share one.
- One global budget (`CallBudget`): a token bucket, a cap on calls in flight, AIMD on throttling; botocore's
  own retries are charged to it too. Each target is polled by at most one task at a time, and schedules its
  next poll only after it finished, so polls never overlap.
- One clock (`smtui.core.clock`) for the scheduler, the budget and the store: by default loop time and the
  server's time as the client knows it; tests hold a `ManualClock` and run hours of polling in seconds.
- `pipelines=`, `executions=` and `estimates=False` scope the monitor to what `smtui wait` follows, and
  `track()` follows an execution older than its pipeline's first page. `ExecutionEnded` tells when each of
  those has ended, its end time and its last steps read.
- Bounded for a session of weeks: after each list of a pipeline, its finished executions beyond the newest
  `history` are forgotten (`Store.evict`, `Planner.evict`), unless shown, open, marked (`keep`), followed,
  or among the successes the estimate reads; screens drop their rows.

The parts: `Scheduler` (`smtui.core.scheduler`: due times, the budget, the wake loop, error backoff; it
knows nothing of SageMaker) runs polls keyed by `PollKey`; one handler per kind makes the call and merges
it (`smtui.core.polls`, `smtui.core.statuses`); the `Planner` (`smtui.core.planner`) decides what follows;
`PollHealth` (`smtui.core.poll_health`) keeps the health and says when a failed poll runs again.

Deviations from the brief's API: extra keyword arguments `background_interval=None, history_pages=1,
history=100, max_in_flight=8, pipelines=None, executions=None, estimates=True, watched_status_interval=None,
visible_status_interval=None, reconcile_interval=None`; `clock=` takes a `Clock` (or, as before, a function
giving the server's time); extra methods `steps_refreshed`, `runs`, `graph`, `nudge_pipeline`,
`nudge_execution`, `track`, `backlog`, `settle`, `keep`; extra events `PipelinesChanged` and `ExecutionEnded`.
Events are in `smtui.core.events` (re-exported here).

Push updates (`events_queue=`): a `PushFeed` (`smtui.core.push_feed`) long-polls an SQS queue of SageMaker's
EventBridge events and applies each at once; while it works and events do not go missing, polls only
reconcile (`smtui.core.reconcile`: reads where an event shows one lost before it, the rest on a calendar of
a few calls a minute, what is on screen at slower paces); when it stops working, or loses events, the
polling paces are restored and what is due later is due now. `Health.updates` says which (`push` /
`push (events lost)` / `polling (events: reason)`).

What screens ask for on demand (`want_job`, `want_pipeline_parameters`, `want_pipeline_definition`) and the
user's actions (`act`) go through the same budget, ahead of the polls: `smtui.core.requests`. The pipelines
view's end times (`want_end_times`) are polls like the others: DescribePipelineExecution, once per run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TypeVar

from smtui.core.budget import ATTEMPTS as _ATTEMPTS
from smtui.core.budget import CallBudget
from smtui.core.client import SageMakerClient
from smtui.core.clock import Clock, RealClock
from smtui.core.definition import StepGraph
from smtui.core.events import (
    ExecutionEnded,
    ExecutionsChanged,
    Health,
    HealthChanged,
    JobDescribed,
    MonitorEvent,
    PipelineDefinitionRead,
    PipelineParametersRead,
    PipelinesChanged,
    RequestFailed,
    RequestWaiting,
    StepsChanged,
)
from smtui.core.jobs import MetricHistory, StepResource
from smtui.core.model import Execution, Pipeline, StepRun, StepTree
from smtui.core.paces import Paces
from smtui.core.pipeline_stats import RECENT_RUNS, untimed_runs
from smtui.core.planner import Planner
from smtui.core.poll_health import PollHealth
from smtui.core.poll_keys import PollKey, PollKind
from smtui.core.polls import DefinitionPoll, DiscoverPoll, Handler, ParamsPoll, StepsPoll, VersionsPoll
from smtui.core.push_feed import PushFeed, Updates
from smtui.core.requests import Requests
from smtui.core.scheduler import Scheduler
from smtui.core.statuses import DescribePoll, PipelinePoll
from smtui.core.store import Store
from smtui.core.timing import estimate_remaining, success_history

__all__ = [
    "ExecutionEnded",
    "ExecutionsChanged",
    "Health",
    "HealthChanged",
    "JobDescribed",
    "Monitor",
    "MonitorEvent",
    "PipelineDefinitionRead",
    "PipelineParametersRead",
    "PipelinesChanged",
    "RequestFailed",
    "RequestWaiting",
    "StepsChanged",
]

T = TypeVar("T")
DISCOVER = PollKey(PollKind.DISCOVER)
REFRESH_LIMIT = 10.0  # `refresh_now` returns after this many seconds at most


class Monitor:
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
        clock: Clock | Callable[[], datetime] | None = None,
        pipelines: Iterable[str] | None = None,
        executions: Iterable[str] | None = None,
        estimates: bool = True,
        watched_status_interval: float | None = None,
        visible_status_interval: float | None = None,
        reconcile_interval: float | None = None,
        events_queue: str | None = None,
        events_wait: int = 20,
    ) -> None:
        self.client = client
        # By default the server's time (local time corrected by the skew the client observes).
        self.clock: Clock = (
            RealClock(client.now) if clock is None else RealClock(clock) if callable(clock) else clock
        )
        # How fresh statuses are (`smtui.core.statuses`): at the default intervals, the execution on
        # screen every 1.5 s, rows in view every 8 s, retryable runs elsewhere every 45 s.
        self.paces = Paces(
            watched=watched_interval,
            active=active_interval,
            background=background_interval or 3 * active_interval,
            discovery=discovery_interval,
            watched_status=watched_status_interval or 1.5 * watched_interval,
            visible_status=visible_status_interval or 1.6 * active_interval,
            reconcile=reconcile_interval or 9 * active_interval,
        )
        self.budget = CallBudget(rate, max_in_flight=max_in_flight, clock=self.clock)
        self.store = Store(self.clock)
        self.scheduler: Scheduler[PollKey] = Scheduler(
            self.clock,
            self.budget,
            self._poll,
            rank=self._rank,
            on_error=self._on_error,
            name=lambda key: key.kind.value,
        )
        # `smtui wait` follows some executions: only their pipelines (names, any case) are listed, only their
        # steps are read, and no estimate (which needs earlier runs' end times) is made.
        self.planner = Planner(
            self.store,
            self.scheduler,
            self.clock,
            self.paces,
            self._emit,
            scope=None if pipelines is None else frozenset(p.lower() for p in pipelines),
            follow=None if executions is None else frozenset(executions),
            estimates=estimates,
            history=history,
        )
        self._handlers: dict[PollKind, Handler] = {
            PollKind.DISCOVER: DiscoverPoll(client, self.planner),
            PollKind.PIPELINE: PipelinePoll(client, self.planner, history_pages=history_pages),
            PollKind.STEPS: StepsPoll(client, self.planner),
            PollKind.DEFINITION: DefinitionPoll(client, self.planner),
            PollKind.PARAMS: ParamsPoll(client, self.planner),
            PollKind.DESCRIBE: DescribePoll(client, self.planner),
            PollKind.VERSIONS: VersionsPoll(client, self.planner),
        }
        self._subscribers: list[Callable[[MonitorEvent], None]] = []
        self._poll_health = PollHealth(self.budget, self.planner, self.paces, self._emit, Health())
        self._unlisten = client.add_listener(self._poll_health.on_attempt)
        self.requests = Requests(
            client,
            self.budget,
            self.clock,
            emit=self._emit,
            wake=self.scheduler.kick,
            refresh=active_interval,
        )
        # Push updates: `events_wait` is ReceiveMessage's WaitTimeSeconds (tests on a manual clock use 0).
        self.push: PushFeed | None = None
        if events_queue:
            self.push = PushFeed(
                client,
                events_queue,
                self.planner,
                self.clock,
                on_change=self._on_updates,
                wait_time=events_wait,
            )
            self._poll_health.health = Health(updates=self.push.updates.label)

    # -- public API ---------------------------------------------------------------------------------------

    async def start(self) -> None:
        if not self.scheduler.running:
            self.scheduler.reschedule(DISCOVER, self.clock.monotonic())
            self.scheduler.start()
            if self.push is not None:
                await self.push.start()

    async def stop(self) -> None:
        if self.push is not None:
            await self.push.stop()
        await self.scheduler.stop()
        await self.requests.close()
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
        scheduler, planner = self.scheduler, self.planner
        now = self.clock.monotonic()
        for key in [DISCOVER, *scheduler.due]:
            scheduler.reschedule(key, now)
        visible = planner.visible
        shown = planner.watched | (set(self.store.executions) if visible is None else visible)
        planner.read_shown_now(shown, now)
        await scheduler.ran(set(scheduler.due) | scheduler.in_flight, REFRESH_LIMIT)

    async def settle(self, limit: float = 30.0) -> None:
        """Wait until nothing is due now or in flight (used by tests and benchmarks)."""
        await self.scheduler.settle(limit)

    @property
    def executions(self) -> Mapping[str, Execution]:
        return self.store.executions

    @property
    def pipelines(self) -> Mapping[str, Pipeline]:
        return self.store.pipelines

    def pipeline_key(self, execution: Execution) -> str:
        """The key of an execution's pipeline in `pipelines` (and for the calls that take a pipeline): its
        name here; a pipeline of several contexts is keyed by its context too (`MultiMonitor`)."""
        return execution.pipeline_name

    @property
    def health(self) -> Health:
        return self._poll_health.health

    @property
    def updates(self) -> Updates | None:
        """Push or polling, and why (None without an events queue); `Health.updates` is its label."""
        return None if self.push is None else self.push.updates

    def tree(self, execution_arn: str) -> StepTree | None:
        return self.store.tree(execution_arn)

    def graph(self, execution_arn: str) -> StepGraph | None:
        return self.store.graphs.get(execution_arn)

    def runs(self, execution_arn: str) -> tuple[StepRun, ...]:
        return tuple(self.store.runs.get(execution_arn, {}).values())

    def step_durations(self, execution_arn: str) -> Mapping[str, list[float]]:
        """Step name → its durations in the pipeline's last successful runs other than this one (what the
        time left of a running step is estimated from): steps the monitor read anyway, no call of its own."""
        execution = self.store.executions.get(execution_arn)
        if execution is None:
            return {}
        return self.store.step_durations(execution.pipeline_name, execution_arn)

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
        self.planner.watched.add(execution_arn)
        self.planner.quiet.pop(execution_arn, None)
        execution = self.store.executions.get(execution_arn)
        if execution is not None and execution.is_active:
            self.planner.schedule_list(execution.pipeline_name, self.clock.monotonic())
        self.planner.want_details(execution_arn, urgent=True)

    def track(self, execution: Execution) -> None:
        """Follow this execution from now on, even if its pipeline's first page of executions (the newest
        100) does not hold it: its pipeline's list then pages down to it while it runs. `ExecutionEnded`
        tells when it has ended. Its pipeline's name is matched to ListPipelines' spelling (an ARN carries it
        lower-cased), so before the first discovery it waits for it."""
        self.planner.track(execution)

    def unwatch(self, execution_arn: str) -> None:
        self.planner.watched.discard(execution_arn)

    def compare(self, execution_arns: Iterable[str]) -> None:
        """The executions the compare screen shows (none: it closed). Each is read as a row in view is:
        its definition, parameters, steps and end time once, and its steps again while it runs, at the
        pace of rows in view; and it is not forgotten while compared. What is known is not read again."""
        planner = self.planner
        planner.compared = set(execution_arns)
        for arn in planner.compared:
            planner.want_details(arn, urgent=True)

    def job(self, job_arn: str) -> StepResource | None:
        """The job (or model package) of a step as last described by `want_job`."""
        return self.requests.job(job_arn)

    def want_job(self, job_arn: str, *, fresh: bool = False) -> None:
        """Describe a step's job (or the model package it registered), ahead of the polls; answered by
        `JobDescribed` (or `RequestWaiting`, `RequestFailed`). A finished job is described once: `job()`
        has it. `fresh`: now, whatever the pace (the user just changed it)."""
        self.requests.want_job(job_arn, fresh=fresh)

    def metric_history(self, job_arn: str) -> MetricHistory | None:
        """The training job's metric history (from its log lines) as last read by `want_metric_history`."""
        return self.requests.metric_history(job_arn)

    def want_metric_history(self, job_arn: str) -> None:
        """Read the job's metric lines (once when it has ended, at most every 30 s while it runs); the
        answer is a `MetricHistoryRead` event. Asked after `want_job`: the description says which lines."""
        self.requests.want_metric_history(job_arn)

    def want_pipeline_parameters(self, pipeline_name: str) -> None:
        """Read a pipeline's parameters (the start form), ahead of the polls; answered by
        `PipelineParametersRead` (or `RequestWaiting`, `RequestFailed`)."""
        self.requests.want_pipeline_parameters(pipeline_name)

    def want_pipeline_definition(self, pipeline_name: str) -> None:
        """Read a pipeline's current definition (the definition view), ahead of the polls; answered by
        `PipelineDefinitionRead` (or `RequestWaiting`, `RequestFailed`)."""
        self.requests.want_pipeline_definition(pipeline_name)

    async def act(self, call: Callable[[], Awaitable[T]]) -> T:
        """Make a user's call (start, stop, retry) inside the budget, ahead of the polls."""
        return await self.requests.act(call)

    def want_parameters(self, arns: Iterable[str]) -> None:
        """Read the parameters of these executions (once each), after what is due on screen: the `/` filter
        asked for a parameter, which only executions with their parameters read can match."""
        at = self.clock.monotonic()
        for arn in arns:
            execution = self.store.executions.get(arn)
            if execution is not None and execution.parameters is None:
                self.scheduler.setdefault(PollKey(PollKind.PARAMS, arn), at)

    def executions_of(self, pipeline_name: str) -> Iterable[Execution]:
        """The executions of one pipeline the monitor holds (its newest `history`, and what is kept)."""
        return self.store.by_pipeline(pipeline_name)

    def want_end_times(self, pipeline_names: Iterable[str], *, runs: int = RECENT_RUNS) -> None:
        """The pipelines view shows these pipelines: read the end time (DescribePipelineExecution, once
        each) of the successful runs among their last `runs` finished ones that lack it, after what is due
        on screen elsewhere. Replaces the previous call's wants: reads asked for pipelines no longer shown,
        and not made yet, are dropped (unless something else on screen needs them)."""
        wanted: set[str] = set()
        for name in pipeline_names:
            wanted.update(e.arn for e in untimed_runs(self.store.by_pipeline(name), runs=runs))
        planner, scheduler = self.planner, self.scheduler
        needed = planner.watched | (planner.visible or set()) | planner.followed
        for arn in planner.summarised - wanted - needed:
            scheduler.cancel(PollKey(PollKind.DESCRIBE, arn))
        planner.summarised = wanted
        at = self.clock.monotonic()
        for arn in wanted:
            scheduler.setdefault(PollKey(PollKind.DESCRIBE, arn), at)
        if wanted:
            scheduler.kick()

    def drop_parameter_wants(self) -> None:
        """Forget the parameter reads `want_parameters` asked for and not yet made (the filter changed)."""
        watched = self.planner.watched
        for key in [k for k in self.scheduler.due if k.kind is PollKind.PARAMS and k.subject not in watched]:
            self.scheduler.cancel(key)

    def set_visible(self, arns: Iterable[str]) -> None:
        visible = set(arns)
        new = visible - (self.planner.visible or set())
        self.planner.visible = visible
        for arn in new:
            self.planner.want_details(arn, urgent=False)

    def keep(self, arns: Iterable[str]) -> None:
        """Executions a screen holds on to besides the rows in view and the one open (the marked ones):
        never forgotten however old (see `history`)."""
        self.planner.kept = set(arns)

    def backlog(self) -> dict[str, int]:
        """Polls due now or in flight, by kind ("steps", "pipeline", "describe", ...): how far behind."""
        counts: dict[str, int] = {}
        for key in self.scheduler.due_now():
            counts[key.kind] = counts.get(key.kind, 0) + 1
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
        history = self.store.by_pipeline(execution.pipeline_name)
        return estimate_remaining(execution, history, self.clock.now())

    def success_durations(self, pipeline_name: str) -> list[float] | None:
        """Durations (s) of the pipeline's last successful runs whose end is known: what the time left of
        its running ones is estimated from (`smtui.core.timing.remaining_from`); None while it has some
        whose end is not read yet, none known (`success_history`)."""
        return success_history(self.store.by_pipeline(pipeline_name), pipeline_name)

    def nudge_pipeline(self, pipeline_name: str) -> None:
        """Something happened to this pipeline (we started a run): list it now."""
        self.planner.nudge_pipeline(pipeline_name)

    def nudge_execution(self, execution_arn: str) -> None:
        execution = self.store.executions.get(execution_arn)
        if execution is not None:
            self.nudge_pipeline(execution.pipeline_name)
        self.scheduler.reschedule(PollKey(PollKind.STEPS, execution_arn), self.clock.monotonic())

    # -- polls -------------------------------------------------------------------------------------

    def _rank(self, key: PollKey, due: float) -> tuple[bool, bool, float]:
        return self.planner.rank(key, due)

    async def _poll(self, key: PollKey) -> float | None:
        token = _ATTEMPTS.set([0])
        try:
            next_in = await self._handlers[key.kind](key.subject)
        finally:
            _ATTEMPTS.reset(token)
        self._poll_health.set_health(connected=True, error=None, last_refresh=self.clock.now())
        if key.kind not in (PollKind.DISCOVER, PollKind.PIPELINE, PollKind.VERSIONS):
            self.planner.check_end(key.subject)  # its definition or its last steps read: ended now?
        if self.push is not None and key.kind is PollKind.STEPS and self.planner.quiet.get(key.subject) == 0:
            self.push.note_poll_change()  # a change the events did not bring first
        return next_in

    def _on_updates(self, updates: Updates) -> None:
        """Push mode: polls only reconcile (`smtui.core.reconcile`). Polling (or events lost): the polling
        paces again, and whatever was due later (at push paces) due now."""
        self.planner.push_mode(updates.reconciling, self.paces)
        if not updates.reconciling:
            now = self.clock.monotonic()
            for key in [k for k in self.scheduler.due if k.kind in (PollKind.PIPELINE, PollKind.STEPS)]:
                self.scheduler.schedule(key, now)
        self._poll_health.set_health(updates=updates.label)

    def _on_error(self, key: PollKey, error: Exception, failures: int) -> float | None:
        """When a failed poll runs again (None: never)."""
        return self._poll_health.on_error(key, error, failures)

    def _emit(self, event: MonitorEvent) -> None:
        for callback in list(self._subscribers):
            callback(event)
