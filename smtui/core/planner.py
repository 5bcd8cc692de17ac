"""What the monitor polls, and when: the cost model (`smtui.core.monitor`'s docstring) as decisions.

The scheduler (`smtui.core.scheduler`) runs polls keyed by `PollKey`; the handlers (`smtui.core.polls`,
`smtui.core.statuses`) make the calls and merge what they read. Both ask the `Planner` what follows: the
priority of a target (the execution on screen, rows in view, the rest), the pace of each poll, and what
showing, starting or ending an execution asks for (its definition, parameters, steps, end time).
The intervals it starts from are `Paces` (`smtui.core.paces`); how long a row's running steps cannot have
ended yet, `QuietTime` (`smtui.core.quiet_time`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from smtui.core.clock import Clock
from smtui.core.definitions import Definitions, Plan
from smtui.core.events import ExecutionEnded, ExecutionsChanged, MonitorEvent, StepsChanged
from smtui.core.model import Execution
from smtui.core.paces import Paces
from smtui.core.poll_keys import EXECUTION_KINDS, PollKey, PollKind
from smtui.core.quiet_time import QuietTime
from smtui.core.reconcile import PushPlan, Reconciler
from smtui.core.scheduler import Scheduler
from smtui.core.store import Store
from smtui.core.timing import HISTORY_RUNS

WATCHED, VISIBLE, REST = 0, 1, 2  # priorities: the execution on screen, rows in view, the rest
QUIET_CAP = 12.0  # a row whose running steps cannot have ended yet waits at most this many intervals
# A reconciling list is due once this share of `reconcile` has passed since the last one: the list may run a
# little early for another reason (a running row's turn), and then goes deep at once.
RECONCILE_SLACK = 0.9


class Planner:
    """The monitor's decisions about polls, and the state they need (see the module's docstring)."""

    def __init__(
        self,
        store: Store,
        scheduler: Scheduler[PollKey],
        clock: Clock,
        paces: Paces,
        emit: Callable[[MonitorEvent], None],
        *,
        scope: frozenset[str] | None,
        follow: frozenset[str] | None,
        estimates: bool,
        history: int = 100,
    ) -> None:
        self.store = store
        self.scheduler = scheduler
        self.clock = clock
        self.paces = paces
        self.emit = emit
        self.scope = scope  # pipeline names (lower case) the monitor lists; None: all
        self.follow = follow  # the executions whose steps are read; None: any shown
        self.estimates = estimates
        self.history = history  # finished executions kept per pipeline (`evict`)
        self.watched: set[str] = set()
        self.visible: set[str] | None = None  # None until the screen says: everything counts as visible
        self.kept: set[str] = set()  # what a screen holds on to (marked rows): never forgotten
        # Finished runs whose end time the pipelines view shows (`Monitor.want_end_times`): not held back
        # as an estimate's end times are.
        self.summarised: set[str] = set()
        self.compared: set[str] = set()  # the columns of the compare screen: shown, and never forgotten
        self.quiet: dict[str, int] = {}  # execution → step polls in a row that found nothing new
        self.reconciled: dict[str, float] = {}  # pipeline → time of its last list down to every retryable run
        self.deep: dict[str, set[str]] = {}  # pipeline → executions its next list must reach (Ctrl+R)
        self.quiet_time = QuietTime(store, clock)  # how long running steps cannot have ended yet
        # Executions whose end `ExecutionEnded` tells, and those that ended and are not told yet (→ their
        # step reads when the end was seen: the step poll after it counts one more).
        self.followed: set[str] = set(follow or ())
        self.step_reads: dict[str, int] = {}
        self._ending: dict[str, int] = {}
        self._told: set[str] = set()
        self.gone: set[str] = set()  # followed executions the service no longer knows
        self.discovered = False  # the first ListPipelines has answered
        # Push mode (`smtui.core.reconcile`): the reconciliation calendars; None while polling.
        self.push: PushPlan | None = None
        self.reconciler = Reconciler(store, scheduler, self.now)  # lost events (in either mode)
        self._unknown_pipelines: set[str] = set()  # pipeline ARNs of events that sent discovery early
        self._tracks: list[Execution] = []  # tracked before it did
        self.definitions = Definitions(
            store,
            self.priority,
            busy=lambda arn: PollKey(PollKind.DEFINITION, arn) in scheduler.in_flight,
            now=self.now,
        )

    def now(self) -> float:
        return self.clock.monotonic()

    # -- priorities ------------------------------------------------------------------------------

    def priority(self, arn: str) -> int:
        if arn in self.watched:
            return WATCHED
        if self.visible is None or arn in self.visible or arn in self.compared:
            return VISIBLE
        return REST

    def key_priority(self, key: PollKey) -> int:
        if key.kind is PollKind.PIPELINE:
            # A pipeline's list carries the status of every one of its executions: never background.
            return min([VISIBLE, *(self.priority(a) for a in self.store.active_of(key.subject))])
        if key.kind is PollKind.DISCOVER:
            return VISIBLE
        if key.kind is PollKind.VERSIONS:
            return self.definitions.priority(key.subject)
        return self.priority(key.subject)

    def rank(self, key: PollKey, due: float) -> tuple[bool, bool, float]:
        """The order of due polls when the budget cannot run them all: the watched execution first, always
        (it costs at most 1/watched calls/s); then what a row in view needs before it shows anything (its
        pipeline's first list, its definition, its versions list, its first steps read); then earliest
        deadline first with a head start of one active interval for visible rows: everything stretches,
        what is on screen less, nothing starves. (Definitions no longer go ahead of everything: 1,000 of
        them off screen held every row in view at `…` for a minute and a half, issue 15.)"""
        priority = self.key_priority(key)
        deadline = due - (REST - priority) * self.paces.active
        if (
            priority == REST
            and key.subject not in self.followed
            and key.subject not in self.summarised
            and self._for_estimate(key)
        ):
            # The end time or the steps of an earlier run, for an estimate: it waits until the rest is a
            # minute late. (End times the pipelines view shows, `summarised`, do not wait.)
            deadline += 4 * self.paces.background
        first = (
            key.kind in (PollKind.DEFINITION, PollKind.VERSIONS)
            or (key.kind is PollKind.STEPS and key.subject not in self.store.runs)
            or (key.kind is PollKind.PIPELINE and not self.store.loaded(key.subject))  # which rows there are
        )
        return (priority != WATCHED, not (first and priority == VISIBLE), deadline)

    def _for_estimate(self, key: PollKey) -> bool:
        if key.kind is PollKind.DESCRIBE:
            return True
        # The steps of a finished run never read: only `want_history` asks for those of a run off screen.
        execution = self.store.executions.get(key.subject)
        return (
            key.kind is PollKind.STEPS
            and execution is not None
            and execution.status.is_terminal
            and key.subject not in self.store.runs
        )

    # -- scheduling shorthands -------------------------------------------------------------------

    def schedule_list(self, name: str, at: float) -> None:
        self.scheduler.schedule(PollKey(PollKind.PIPELINE, name), at)

    def nudge_pipeline(self, name: str) -> None:
        """Something happened to this pipeline: list it now."""
        self.scheduler.reschedule(PollKey(PollKind.PIPELINE, name), self.now())

    # -- push mode (`smtui.core.reconcile`) ------------------------------------------------------

    def push_mode(self, on: bool, paces: Paces) -> None:
        """Events are the source of truth (`on`) and polls reconcile at push paces on calendars, or polls
        run at `paces` (the polling intervals)."""
        self.push = PushPlan(self.now()) if on else None
        self.paces = paces.pushed() if on else paces

    def unknown_pipeline(self, pipeline_arn: str) -> None:
        """An event of a pipeline discovery has not listed yet: discovery now (once per pipeline)."""
        if pipeline_arn in self._unknown_pipelines or not self.discovered:
            return
        name = pipeline_arn.rsplit(":pipeline/", 1)[-1].split("/", 1)[0].lower()
        if self.scope is not None and name not in self.scope:
            return
        self._unknown_pipelines.add(pipeline_arn)
        self.scheduler.schedule(PollKey(PollKind.DISCOVER), self.now())

    # -- the pace of step polls ------------------------------------------------------------------

    def steps_interval(self, arn: str) -> tuple[float, int]:
        """The pace of an execution's step polls: its priority's interval, stretched by half again after
        each poll that found nothing new (up to a cap), and back to the start at the next change.

        A step of a real pipeline runs for minutes, so most polls of a busy execution find nothing; the
        execution on screen keeps its pace, visible rows stretch to 3x, the rest to 4x. The status of an
        execution does not wait for this: its pipeline's list carries it, and a poll that sees a step
        stopping or failing lists the pipeline at once.

        Except on screen, a row also waits while none of its running steps can have ended yet, judging
        by the shortest successful run of each in the pipeline's earlier executions (`QuietTime`), up to
        `QUIET_CAP` times its interval. Then it goes on at the pace it would have reached by polling all
        along: history only skips the polls that could not have seen anything.

        Returns the interval, and the count of quiet polls to carry on from (the skipped ones included).
        """
        priority = self.priority(arn)
        base = self.paces.steps(priority)
        if self.push is not None:  # the events bring every change: reconcile on the calendar off screen
            pace = self.push.steps.take(self.now(), base) if priority == REST else base
            return pace, self.quiet.get(arn, 0)
        cap = base * (1.0, 3.0, 4.0)[priority]
        quiet_polls = self.quiet.get(arn, 0)
        pace = min(cap, base * 1.5**quiet_polls)
        if priority == WATCHED:
            return pace, quiet_polls
        quiet = self.quiet_time.quiet_for(arn)
        if quiet is None or quiet <= pace:
            return pace, quiet_polls
        wait = min(quiet, base * QUIET_CAP)
        waited = 0.0
        while pace < cap and waited + pace <= wait:  # the polls this wait stands for (a few at most)
            waited += pace
            quiet_polls += 1
            pace = min(cap, base * 1.5**quiet_polls)
        return wait, quiet_polls

    # -- the pace of status lists (`smtui.core.statuses` explains it) -----------------------------

    def retryable(self, name: str) -> set[str]:
        arns = self.store.retryable_of(name)
        return arns if self.follow is None else arns & self.follow

    def reconcile_due(self, name: str, now: float) -> bool:
        if self.push is not None:
            return True  # every list of push mode reconciles
        last = self.reconciled.get(name)
        return last is None or now - last >= RECONCILE_SLACK * self.paces.reconcile

    def list_wants(self, name: str, reconciling: bool) -> set[str]:
        """The executions whose status this list of the pipeline must confirm (it pages down to them)."""
        wanted = set(self.store.active_of(name))
        retryable = self.retryable(name)
        if reconciling:
            return wanted | retryable
        return wanted | {arn for arn in retryable if self.priority(arn) != REST}

    def list_interval(self, name: str) -> float | None:
        """When to list this pipeline again: at the pace of its most urgent run; None when none can change."""
        if self.push is not None:
            arns = [*self.store.active_of(name), *self.retryable(name)]
            if not arns:
                return None
            priority = min(self.priority(arn) for arn in arns)
            if priority == REST:
                return self.push.lists.take(self.now(), self.paces.reconcile)
            return self.paces.status(priority)
        paces = [self.paces.status(self.priority(arn)) for arn in self.store.active_of(name)]
        retryable = self.retryable(name)
        if retryable:
            if any(self.priority(arn) == VISIBLE for arn in retryable):
                paces.append(self.paces.visible_status)
            last = self.reconciled.get(name, self.now())
            paces.append(max(0.0, last + self.paces.reconcile - self.now()))
        return min(paces, default=None)

    # -- what showing, starting and ending an execution asks for -----------------------------------

    def want_details(self, arn: str, *, urgent: bool) -> None:
        """Schedule what showing this execution needs and we do not have yet (each fetched once)."""
        execution = self.store.executions.get(arn)
        if execution is None or (self.follow is not None and arn not in self.follow):
            return
        at = self.now()
        scheduler = self.scheduler
        if arn not in self.store.graphs:
            self.carry_out(self.definitions.want(arn))
        # Parameters only for the executions on screen (their screens show them); the `/` filter asks for the
        # others when it needs them (`Monitor.want_parameters`).
        shown = (
            arn in self.watched or arn in self.compared or (self.visible is not None and arn in self.visible)
        )
        if (arn in self.watched or arn in self.compared) and execution.parameters is None:
            scheduler.setdefault(PollKey(PollKind.PARAMS, arn), at)
        if execution.is_active or arn not in self.store.runs:
            # Now if urgent or never polled; else within this row's new pace (it may have come into view
            # from the background, where step polls are minutes apart).
            soon = at if urgent or arn not in self.store.runs else at + self.steps_interval(arn)[0]
            scheduler.schedule(PollKey(PollKind.STEPS, arn), soon)
        if arn in self.watched and execution.status.is_retryable:
            scheduler.reschedule(
                PollKey(PollKind.DESCRIBE, arn), at
            )  # still ended? (again every watched_status)
        elif execution.status.is_terminal and execution.ended is None:
            scheduler.setdefault(PollKey(PollKind.DESCRIBE, arn), at)
        if shown and arn not in self.watched and execution.status.is_retryable:
            self.schedule_list(execution.pipeline_name, at + self.paces.visible_status)
        if execution.is_active and (shown or urgent):
            self.want_history(execution.pipeline_name)
        scheduler.kick()

    def carry_out(self, plan: Plan) -> None:
        """What `Definitions` decided: reads scheduled or cancelled, versions listed, graphs handed out."""
        scheduler, at = self.scheduler, self.now()
        for arn in plan.cancel:
            scheduler.cancel(PollKey(PollKind.DEFINITION, arn))
        for arn in plan.read:
            scheduler.setdefault(PollKey(PollKind.DEFINITION, arn), at)
        for name, when in plan.versions:  # (a list asked for while one is in flight runs after it)
            scheduler.schedule(PollKey(PollKind.VERSIONS, name), when)
        for arn, graph in plan.give:
            if arn in self.store.executions:
                self.store.set_graph(arn, graph)
                self.emit(StepsChanged(arn))
                self.check_end(arn)

    def want_history(self, pipeline_name: str) -> None:
        """End times of the last few successful runs, for the estimate of the time left (once each); and
        while one of the pipeline's unfinished runs is open, their steps (once each: they have ended), for
        the time left of each running step (`Store.step_durations`).

        Only for pipelines with an execution on screen, and ranked after every other poll (see `rank`): an
        estimate is a nicety; it must not delay a status.
        """
        if not self.estimates:
            return
        opened = any(arn in self.watched for arn in self.store.active_of(pipeline_name))
        for execution in self.store.recent_successes(pipeline_name, HISTORY_RUNS):
            if execution.ended is None:
                self.scheduler.setdefault(PollKey(PollKind.DESCRIBE, execution.arn), self.now())
            if opened and execution.arn not in self.store.runs:
                self.scheduler.setdefault(PollKey(PollKind.STEPS, execution.arn), self.now())

    def merged(self, changed: set[str], ended: set[str], started: set[str]) -> None:
        """What follows a merge of statuses: the details of a new run, the steps of a resumed or ended one."""
        now = self.now()
        for arn in started:
            resumed = arn in self.store.runs  # retried: its steps start over
            self.quiet.pop(arn, None)
            self.want_details(arn, urgent=resumed and self.priority(arn) != REST)
            execution = self.store.executions.get(arn)
            if resumed and execution is not None:
                # Seen by a Describe (the execution open): its pipeline is listed again from now on, at
                # its pace, however idle it was.
                pace = self.list_interval(execution.pipeline_name) or 0.0
                self.schedule_list(execution.pipeline_name, now + pace)
        for arn in ended:
            self.reconciler.end_seen(arn)
            # The final look at its steps once (in push mode, only when its events were not consistent).
            # The end time (DescribePipelineExecution) only for a row on screen, or one followed: the others
            # get it when they scroll into view (the list already gave the failure reason).
            final = arn in self.store.runs or arn in self.watched
            if (
                final
                and self.push is not None
                and arn not in self.followed
                and self.reconciler.consistent(arn)
            ):
                final = False
            if final:
                self.scheduler.reschedule(PollKey(PollKind.STEPS, arn), now)
                self.quiet[arn] = 0  # counts the final reads from here (`polls.FINAL_READS`)
            execution = self.store.executions.get(arn)
            shown = self.priority(arn) != REST or arn in self.followed
            if shown and execution is not None and execution.ended is None:
                self.scheduler.setdefault(PollKey(PollKind.DESCRIBE, arn), now)
        if changed:
            self.emit(ExecutionsChanged(frozenset(changed)))
        for arn in (changed | ended | started) & self.followed:
            self.check_end(arn)

    def read_shown_now(self, shown: set[str], now: float) -> None:
        """Ctrl+R: the pipelines of these executions listed down to them, finished ones included; the
        execution open has its steps read, and its status (Describe) when it has ended."""
        for arn in shown:
            execution = self.store.executions.get(arn)
            if execution is None:
                continue
            self.deep.setdefault(execution.pipeline_name, set()).add(arn)
            self.scheduler.reschedule(PollKey(PollKind.PIPELINE, execution.pipeline_name), now)
            if arn in self.watched:
                self.scheduler.reschedule(PollKey(PollKind.STEPS, arn), now)
                if execution.status.is_terminal:
                    self.scheduler.reschedule(PollKey(PollKind.DESCRIBE, arn), now)

    # -- forgetting --------------------------------------------------------------------------------

    def evict(self, pipeline_name: str, *, spare: set[str]) -> None:
        """Forget this pipeline's finished executions beyond `history` (`Store.evict`) and every poll and
        count about them. Screens drop their rows: an ExecutionsChanged names ARNs the store no longer has.
        Kept: what is open, in view (as of the last `set_visible`; none before it), marked, compared,
        followed, or polled right now, and `spare`: known ones that just ended, so that screens see the end
        (a toast for one the user follows) before the row goes, at the next list."""
        busy = {key.subject for key in self.scheduler.in_flight if key.kind in EXECUTION_KINDS}
        keep = (
            self.watched | (self.visible or set()) | self.kept | self.compared | self.followed | busy | spare
        )
        gone = self.store.evict(pipeline_name, self.history, keep)
        if not gone:
            return
        self.scheduler.cancel_where(lambda key: key.kind in EXECUTION_KINDS and key.subject in gone)
        self.definitions.forget(gone)
        for table in (self.quiet, self.step_reads, self._ending):
            for arn in gone:
                table.pop(arn, None)
        self._told.difference_update(gone)
        self.gone.difference_update(gone)
        self.reconciler.forget(gone)
        for wanted in self.deep.values():
            wanted.difference_update(gone)
        self.emit(ExecutionsChanged(frozenset(gone)))

    # -- the end of a followed execution ---------------------------------------------------------

    def track(self, execution: Execution) -> None:
        """Follow this execution (`Monitor.track`), under its pipeline's name as ListPipelines spells it:
        before the first discovery, it waits for it."""
        self.followed.add(execution.arn)
        if not self.discovered:
            self._tracks.append(execution)
            return
        names = {name.lower(): name for name in self.store.pipelines}
        name = names.get(execution.pipeline_name.lower(), execution.pipeline_name)
        self.store.add_execution(dataclasses.replace(execution, pipeline_name=name))
        self.want_details(execution.arn, urgent=True)
        self.nudge_pipeline(name)
        self.check_end(execution.arn)

    def discovery_done(self) -> None:
        """The pipelines' names are known: the executions tracked so far are followed now."""
        self.discovered = True
        tracks, self._tracks = self._tracks, []
        for execution in tracks:
            self.track(execution)

    def forget(self, key: PollKey) -> None:
        """The service no longer knows this target: its poll stops; a followed execution ends as it is."""
        if key.kind is PollKind.VERSIONS:
            self.carry_out(self.definitions.versions_refused(key.subject))
            return
        execution = self.store.executions.get(key.subject)
        if key.kind is PollKind.DEFINITION and execution is not None:
            self.carry_out(self.definitions.dropped(key.subject, execution.pipeline_name))
        if key.kind is not PollKind.PIPELINE and key.subject in self.followed:
            self.gone.add(key.subject)
            self.check_end(key.subject)

    def check_end(self, arn: str) -> None:
        """`ExecutionEnded` once a followed execution has ended and its end is read: its end time (one
        Describe) and its steps after the end (the next step poll). Told again if a retry runs it again."""
        execution = self.store.executions.get(arn)
        if execution is None or arn not in self.followed:
            return
        if not execution.status.is_terminal:
            self._ending.pop(arn, None)
            self._told.discard(arn)
            return
        if arn in self._told:
            return
        reads = self.step_reads.get(arn, 0)
        ending = self._ending.setdefault(arn, reads)
        if execution.ended is None and arn not in self.gone:
            self.scheduler.setdefault(PollKey(PollKind.DESCRIBE, arn), self.now())
            return
        if arn not in self.gone and (arn not in self.store.graphs or reads == ending):
            return  # its definition, or the step poll after its end, is on its way
        del self._ending[arn]
        self._told.add(arn)
        self.emit(ExecutionEnded(arn, execution))
