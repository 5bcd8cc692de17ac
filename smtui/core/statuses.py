"""How the monitor keeps every execution's status true, changes made outside smtui included.

Statuses come from ListPipelineExecutions, one call per pipeline for all its runs, and, for the execution
open on screen once it has finished, from DescribePipelineExecution. A status changes in two ways:
- an unfinished run goes on (it ends, or someone stops it): its pipeline is listed while it has such runs;
- a finished run runs again: RetryPipelineExecution turns Failed back into Executing under the same ARN.
  Nothing else says so: ListPipelines' LastExecutionTime and DescribePipeline's LastRunTime are not
  documented to move on a retry (the emulator leaves them alone), and a monitor that stopped listing a
  pipeline once its runs had ended never saw it. So a pipeline that holds finished runs a retry may run
  again (`ExecutionStatus.is_retryable`) is listed too, only as deep as the deepest of them.

Each pipeline's list runs at the pace of the most urgent of its runs (the bounds at the default intervals,
at 1x time, whatever the pipeline's other runs are doing):
- the execution on screen: its status every `watched_status_interval` (1.5 s: seen within 2 s); its
  pipeline's list while it runs, DescribePipelineExecution (one execution, a small answer) once it ended;
- a row in view, running or retryable: its pipeline's list every `visible_status_interval` (8 s: 10 s);
- any other running row: every `background_interval` (15 s), and at once when a step poll sees a step
  stopping or failing, or every step done;
- any other retryable row: a reconciling list every `reconcile_interval` (45 s: p95 under 60 s) down to
  the deepest retryable run of the pipeline. Other lists in between go only as deep as they need.
The cost of the retry signal is then one call per `reconcile_interval` per pipeline holding a retryable
run (README, "Benchmarks": measured with and without retryable runs in the account).
"""

from __future__ import annotations

from smtui.core.client import SageMakerClient
from smtui.core.events import ExecutionsChanged, MonitorEvent
from smtui.core.model import Execution
from smtui.core.store import Store

Key = tuple[str, str]  # (kind, subject): ("discover", ""), ("pipeline", name), ("steps", arn), ...

WATCHED, VISIBLE, REST = 0, 1, 2  # priorities: the execution on screen, rows in view, the rest
# A reconciling list is due once this share of `reconcile_interval` has passed since the last one: the
# list may run a little early for another reason (a running row's turn), and then goes deep at once.
RECONCILE_SLACK = 0.9


class StatusPolls:
    """Polls of statuses (pipeline lists, Describe) and what follows a change: a mixin of `Polls`."""

    client: SageMakerClient
    store: Store
    history_pages: int
    follow: frozenset[str] | None
    background_interval: float
    watched_status_interval: float
    visible_status_interval: float
    reconcile_interval: float
    _due: dict[Key, float]
    _watched: set[str]
    _quiet: dict[str, int]
    _reconciled: dict[str, float]  # pipeline → scheduler time of its last list down to every retryable run
    _deep: dict[str, set[str]]  # pipeline → executions its next list must reach (Ctrl+R: every row shown)

    def _now(self) -> float:
        raise NotImplementedError

    def _emit(self, event: MonitorEvent) -> None:
        raise NotImplementedError

    def _exec_priority(self, arn: str) -> int:
        raise NotImplementedError

    def _want_details(self, arn: str, *, urgent: bool) -> None:
        raise NotImplementedError

    def _want_history(self, pipeline_name: str) -> None:
        raise NotImplementedError

    def _evict(self, pipeline_name: str, *, spare: set[str]) -> None:
        raise NotImplementedError

    # -- the polls ---------------------------------------------------------------------------------

    async def _poll_pipeline(self, name: str) -> float | None:
        first = not self.store.loaded(name)
        now = self._now()
        reconciling = self._reconcile_due(name, now)
        wanted = self._list_wants(name, reconciling) | self._deep.pop(name, set())
        pending = set(wanted)
        known = self.store.known_of(name)

        def stop(page: list[Execution]) -> bool:
            pending.difference_update(e.arn for e in page)
            return not pending and any(e.arn in known for e in page)

        pages = self.history_pages if first else None
        # Follow-ups need only the newest few (new runs, then down to the deepest run this list must
        # confirm, as deep as it was last time): a small page parses fast, and more pages follow only when
        # many runs were added.
        depth = 1 + max((self.store.position.get(arn, 0) for arn in wanted), default=-1)
        size = 100 if first else min(100, max(depth, len(wanted)) + 5)
        listed = await self.client.list_executions(
            name, stop=None if first else stop, max_pages=pages, page_size=size
        )
        if first or reconciling:
            self._reconciled[name] = now
        merged = self.store.merge_executions(name, listed, initial=first)
        self._merged(*merged)
        # The newest runs are in: the oldest beyond `history` go, but not a known one that just ended (the
        # screens see its end before it goes); one that started and ended since the last list never showed.
        self._evict(name, spare=merged[1] & known)
        if any(self._exec_priority(arn) != REST for arn in self.store.active_of(name)):
            self._want_history(name)  # the estimate of the time left is shown for this pipeline
        return self._list_interval(name)

    async def _describe(self, arn: str) -> float | None:
        """An execution's end time and failure reason, once it has ended (the list has neither); and the
        status of the execution on screen while it has ended and a retry may run it again."""
        known = self.store.executions.get(arn)
        if known is None:
            return None
        described = await self.client.describe_execution(arn, known.pipeline_name)
        if described.is_active and known.is_active:
            return None  # its pipeline's list follows it
        self._merged(*self.store.merge_described(described))
        if arn in self._watched and described.status.is_retryable:
            return self.watched_status_interval
        return None

    def _merged(self, changed: set[str], ended: set[str], started: set[str]) -> None:
        """What follows a merge: the details of a new run, the steps of a resumed or just-ended one."""
        now = self._now()
        for arn in started:
            resumed = arn in self.store.runs  # retried: its steps start over
            self._quiet.pop(arn, None)
            self._want_details(arn, urgent=resumed and self._exec_priority(arn) != REST)
            execution = self.store.executions.get(arn)
            if resumed and execution is not None:
                # Seen by a Describe (the execution open): its pipeline is listed again from now on, at
                # its pace, however idle it was.
                pace = self._list_interval(execution.pipeline_name) or 0.0
                self._schedule_list(execution.pipeline_name, now + pace)
        for arn in ended:
            # The final look at its steps once. The end time (DescribePipelineExecution) only for a row on
            # screen: the others get it when they scroll into view (the list already gave the failure reason).
            if arn in self.store.runs or arn in self._watched:
                self._due[("steps", arn)] = now
                self._quiet[arn] = 0  # counts the final reads from here (`polls.FINAL_READS`)
            execution = self.store.executions.get(arn)
            if self._exec_priority(arn) != REST and execution is not None and execution.ended is None:
                self._due.setdefault(("describe", arn), now)
        if changed:
            self._emit(ExecutionsChanged(frozenset(changed)))

    def _read_shown_now(self, shown: set[str], now: float) -> None:
        """Ctrl+R: the pipelines of these executions listed down to them, finished ones included; the
        execution open has its steps read, and its status (Describe) when it has ended."""
        for arn in shown:
            execution = self.store.executions.get(arn)
            if execution is None:
                continue
            self._deep.setdefault(execution.pipeline_name, set()).add(arn)
            self._due[("pipeline", execution.pipeline_name)] = now
            if arn in self._watched:
                self._due[("steps", arn)] = now
                if execution.status.is_terminal:
                    self._due[("describe", arn)] = now

    # -- the pace ----------------------------------------------------------------------------------

    def _retryable(self, name: str) -> set[str]:
        arns = self.store.retryable_of(name)
        return arns if self.follow is None else arns & self.follow

    def _reconcile_due(self, name: str, now: float) -> bool:
        last = self._reconciled.get(name)
        return last is None or now - last >= RECONCILE_SLACK * self.reconcile_interval

    def _list_wants(self, name: str, reconciling: bool) -> set[str]:
        """The executions whose status this list of the pipeline must confirm (it pages down to them)."""
        wanted = set(self.store.active_of(name))
        retryable = self._retryable(name)
        if reconciling:
            return wanted | retryable
        return wanted | {arn for arn in retryable if self._exec_priority(arn) != REST}

    def _list_interval(self, name: str) -> float | None:
        """When to list this pipeline again: at the pace of its most urgent run; None when none can change."""
        paces = [
            (self.watched_status_interval, self.visible_status_interval, self.background_interval)[
                self._exec_priority(arn)
            ]
            for arn in self.store.active_of(name)
        ]
        retryable = self._retryable(name)
        if retryable:
            if any(self._exec_priority(arn) == VISIBLE for arn in retryable):
                paces.append(self.visible_status_interval)
            last = self._reconciled.get(name, self._now())
            paces.append(max(0.0, last + self.reconcile_interval - self._now()))
        return min(paces, default=None)

    def _schedule_list(self, name: str, at: float) -> None:
        key = ("pipeline", name)
        self._due[key] = min(self._due.get(key, at), at)
