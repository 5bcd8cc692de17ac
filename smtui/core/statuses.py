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
run (docs/benchmarks.md: measured with and without retryable runs in the account).

The two handlers are here; the paces (`Planner.list_interval` and its helpers) and what follows a change
(`Planner.merged`) are in `smtui.core.planner`.
"""

from __future__ import annotations

from smtui.core.client import SageMakerClient
from smtui.core.model import Execution
from smtui.core.planner import REST, Planner


class PipelinePoll:
    """ListPipelineExecutions: the statuses of a pipeline's runs, newest first, as deep as they must go."""

    def __init__(self, client: SageMakerClient, planner: Planner, *, history_pages: int) -> None:
        self.client = client
        self.planner = planner
        self.history_pages = history_pages  # pages of a pipeline's first list (its history)

    async def __call__(self, name: str) -> float | None:
        planner, store = self.planner, self.planner.store
        first = not store.loaded(name)
        now = planner.now()
        reconciling = planner.reconcile_due(name, now)
        wanted = planner.list_wants(name, reconciling) | planner.deep.pop(name, set())
        pending = set(wanted)
        known = store.known_of(name)

        def stop(page: list[Execution]) -> bool:
            pending.difference_update(e.arn for e in page)
            return not pending and any(e.arn in known for e in page)

        pages = self.history_pages if first else None
        # Follow-ups need only the newest few (new runs, then down to the deepest run this list must
        # confirm, as deep as it was last time): a small page parses fast, and more pages follow only when
        # many runs were added.
        depth = 1 + max((store.position.get(arn, 0) for arn in wanted), default=-1)
        size = 100 if first else min(100, max(depth, len(wanted)) + 5)
        listed = await self.client.list_executions(
            name, stop=None if first else stop, max_pages=pages, page_size=size
        )
        if first or reconciling:
            planner.reconciled[name] = now
        merged = store.merge_executions(name, listed, initial=first)
        planner.merged(*merged)
        # The newest runs are in: the oldest beyond `history` go, but not a known one that just ended (the
        # screens see its end before it goes); one that started and ended since the last list never showed.
        planner.evict(name, spare=merged[1] & known)
        if any(planner.priority(arn) != REST for arn in store.active_of(name)):
            planner.want_history(name)  # the estimate of the time left is shown for this pipeline
        return planner.list_interval(name)


class DescribePoll:
    """DescribePipelineExecution: an execution's end time and failure reason, once it has ended (the list
    has neither); and the status of the execution on screen while it has ended and a retry may run it
    again."""

    def __init__(self, client: SageMakerClient, planner: Planner) -> None:
        self.client = client
        self.planner = planner

    async def __call__(self, arn: str) -> float | None:
        planner = self.planner
        known = planner.store.executions.get(arn)
        if known is None:
            return None
        described = await self.client.describe_execution(arn, known.pipeline_name)
        planner.reconciler.described(arn)
        if described.is_active and known.is_active:
            return None  # its pipeline's list follows it
        planner.merged(*planner.store.merge_described(described))
        if arn in planner.watched and described.status.is_retryable:
            return planner.paces.watched_status
        return None
