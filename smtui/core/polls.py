"""The polls of pipelines, steps, definitions and parameters: one handler per kind (statuses are in
`smtui.core.statuses`). Each makes its call, merges what it read into the store, asks the `Planner` what
follows, and returns when it is due again (seconds), or None when it is not.
"""

from __future__ import annotations

from typing import Protocol

from smtui.core.client import SageMakerClient
from smtui.core.definition import DefinitionError, StepGraph, parse_definition
from smtui.core.events import ExecutionsChanged, PipelinesChanged, StepsChanged
from smtui.core.model import StepRun, StepStatus
from smtui.core.planner import Planner
from smtui.core.poll_keys import PollKey, PollKind
from smtui.core.tree import latest_runs

FINAL_READS = 3  # step polls of an ended execution while the API still shows one of its steps running


class Handler(Protocol):
    """The poll of one kind of target."""

    async def __call__(self, subject: str, /) -> float | None: ...


class DiscoverPoll:
    """ListPipelines: which pipelines exist, and which ran since (their list is then due)."""

    def __init__(self, client: SageMakerClient, planner: Planner) -> None:
        self.client = client
        self.planner = planner

    async def __call__(self, subject: str) -> float | None:
        planner = self.planner
        pipelines = await self.client.list_pipelines()
        if planner.scope is not None:
            pipelines = [p for p in pipelines if p.name.lower() in planner.scope]
        changed, moved = planner.store.set_pipelines(pipelines)
        for name in moved:
            planner.scheduler.reschedule(PollKey(PollKind.PIPELINE, name), planner.now())
        for name in changed - set(planner.store.pipelines):
            planner.scheduler.cancel(PollKey(PollKind.PIPELINE, name))
        if changed:
            planner.emit(PipelinesChanged(frozenset(changed)))
        if not planner.discovered:
            planner.discovery_done()
        return planner.paces.discovery


class StepsPoll:
    """ListPipelineExecutionSteps of an unfinished execution (and a final look once it ended)."""

    def __init__(self, client: SageMakerClient, planner: Planner) -> None:
        self.client = client
        self.planner = planner

    async def __call__(self, arn: str) -> float | None:
        planner, store = self.planner, self.planner.store
        previous = store.runs.get(arn)
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
        changed = store.merge_runs(arn, runs, full=previous is None)
        planner.reconciler.read(arn)
        if arn in planner.followed:  # `Planner.check_end` waits for the read after the end
            planner.step_reads[arn] = planner.step_reads.get(arn, 0) + 1
        planner.quiet[arn] = 0 if changed else planner.quiet.get(arn, 0) + 1
        if changed:
            planner.emit(StepsChanged(arn))
        execution = store.executions.get(arn)
        if execution is None or execution.status.is_terminal:
            # The final look, repeated a few times if the API still shows a step running (it may lag
            # behind the execution's status); the tree stops such a step's clock at the execution's end.
            if (
                execution is None
                or planner.quiet.get(arn, 0) >= FINAL_READS
                or not any(
                    r.status.is_active for r in latest_runs(list(store.runs.get(arn, {}).values())).values()
                )
            ):
                planner.quiet.pop(arn, None)
                return None
            return planner.paces.steps(planner.priority(arn))
        if _turning(previous or {}, runs):
            planner.nudge_pipeline(execution.pipeline_name)  # a step stops or fails: so does the execution
        tree = store.tree(arn)
        if tree is not None and all(n.status.is_done for _, n in tree.walk()):
            planner.nudge_pipeline(execution.pipeline_name)  # every step is done: the end is near
        interval, planner.quiet[arn] = planner.steps_interval(arn)
        return interval


class DefinitionPoll:
    """DescribePipelineDefinitionForExecution, once: the step graph the tree is built on, for this execution
    and the others that must have run the same version (`smtui.core.definitions`)."""

    def __init__(self, client: SageMakerClient, planner: Planner) -> None:
        self.client = client
        self.planner = planner

    async def __call__(self, arn: str) -> float | None:
        text = await self.client.definition(arn)
        try:
            graph = parse_definition(text)
        except DefinitionError:
            graph = StepGraph()  # unreadable: the tree falls back to the listed steps
        self.planner.carry_out(self.planner.definitions.read(arn, graph))
        return None


class VersionsPoll:
    """ListPipelineVersions, when several executions of a pipeline wait for their definitions: which of
    them must share one (`smtui.core.definitions`)."""

    def __init__(self, client: SageMakerClient, planner: Planner) -> None:
        self.client = client
        self.planner = planner

    async def __call__(self, name: str) -> float | None:
        as_of = self.planner.clock.now()  # the list covers executions that started before the call
        versions = await self.client.list_pipeline_versions(name)
        self.planner.carry_out(self.planner.definitions.versions_read(name, versions, as_of))
        return None


class ParamsPoll:
    """ListPipelineParametersForExecution, once: for the execution on screen, or a `/` filter."""

    def __init__(self, client: SageMakerClient, planner: Planner) -> None:
        self.client = client
        self.planner = planner

    async def __call__(self, arn: str) -> float | None:
        params = await self.client.parameters(arn)
        if self.planner.store.update_execution(arn, parameters=params):
            self.planner.emit(ExecutionsChanged(frozenset({arn})))
        return None


_TURNING = (StepStatus.STOPPING, StepStatus.STOPPED, StepStatus.FAILED)


def _turning(previous: dict[tuple[str, int], StepRun], runs: list[StepRun]) -> bool:
    """Whether this poll shows a step newly stopping, stopped or failed: the execution's status follows."""
    for run in runs:
        if run.status in _TURNING:
            old = previous.get((run.name, run.attempt))
            if old is None or old.status is not run.status:
                return True
    return False
