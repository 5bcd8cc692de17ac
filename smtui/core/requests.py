"""What the screens ask the monitor for, and the user's actions: every call inside the monitor's budget.

STYLE.md rule 13, "screens ask; the monitor calls": a screen never holds a client. It asks the monitor
(`want_job`, `want_pipeline_parameters`, `want_pipeline_definition`) and the answer arrives as an event
(`JobDescribed`, `PipelineParametersRead`, `PipelineDefinitionRead`, or `RequestFailed`), so these calls
share the polls' budget, health and throttling:

- They are a user's requests, made on a key press: they go ahead of the polls (`CallBudget`'s urgent
  acquisition) but still take a token and count as in flight; botocore's own retries are charged as a poll's.
- Throttled, a request waits and tries again instead of failing (`RequestWaiting` says so, and so does a long
  wait for the budget); the throttle itself reaches the budget (AIMD) and the header through the monitor's
  attempt listener, as for any call of its client.
- A job known to be finished is never described again (`job()` keeps it). A running one is described at most
  once per `refresh` seconds (the monitor's active interval, the pace of a row in view) however often it is
  asked, and a failed description is not tried again sooner either: the screen asks at every repaint.
- A training job's metric history (`want_metric_history`) is read from its log lines (`job_metrics`), not
  from SageMaker: through a Logs client of its own budget (`METRICS_LOGS_RATE`), opened at the first such
  request, and no SageMaker token. A finished job's history is read once and kept; a running job's is read
  again at most every `METRICS_REFRESH` seconds, each read adding the lines since the last one.
- Actions (`act`) are awaited by their caller, which shows AWS's refusal where the user acted: they are not
  tried again here (botocore retries a throttled one; each carries its idempotency token).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import TypeVar

from smtui.core.budget import ATTEMPTS, CallBudget
from smtui.core.client import SageMakerClient
from smtui.core.clock import Activity, Clock
from smtui.core.definition import DefinitionError, parse_definition
from smtui.core.errors import AwsError
from smtui.core.events import (
    JobDescribed,
    MetricHistoryRead,
    MonitorEvent,
    PipelineDefinitionRead,
    PipelineParametersRead,
    Request,
    RequestFailed,
    RequestKind,
    RequestWaiting,
)
from smtui.core.job_metrics import METRICS_REFRESH, MetricReader, has_metric_history
from smtui.core.jobs import JobInfo, MetricHistory, StepResource, describable, describe_step_resource
from smtui.core.logs_client import LogsClient

log = logging.getLogger(__name__)

THROTTLED_RETRY = 2.0  # seconds before a throttled request tries again (the budget has slowed down meanwhile)
SLOW_BUDGET = 0.5  # a wait for the budget longer than this is told; a shorter one is not worth a flicker
METRICS_LOGS_RATE = 1.0  # Logs calls/s for metric histories: a few reads per job, beside the log views' own

T = TypeVar("T")
Answer = JobDescribed | PipelineParametersRead | PipelineDefinitionRead | MetricHistoryRead


class Requests:
    """The monitor's calls on demand (see the module docstring); `Monitor` delegates to it."""

    def __init__(
        self,
        client: SageMakerClient,
        budget: CallBudget,
        clock: Clock,
        *,
        emit: Callable[[MonitorEvent], None],
        wake: Callable[[], None],
        refresh: float,
    ) -> None:
        self.client = client
        self.budget = budget
        self.clock = clock  # the monitor's: the budget's waits and the throttled retries are on it
        self.refresh = refresh
        self._emit = emit
        self._wake = wake  # the scheduler: a call ended, a slot is free
        self._now = clock.monotonic
        self._calls = Activity()  # a manual clock waits for the calls under way
        self._unregister = clock.add_worker(self._calls)
        self._jobs: dict[str, StepResource] = {}
        self._answered: dict[Request, float] = {}  # when each paced request last got its answer
        self._pending: dict[Request, asyncio.Task[None]] = {}
        self._histories: dict[str, MetricHistory] = {}
        self._metric_readers: dict[str, MetricReader] = {}
        self._logs: LogsClient | None = None
        self._logs_stack = AsyncExitStack()

    def job(self, job_arn: str) -> StepResource | None:
        """The job (or model package) as last described, if it was."""
        return self._jobs.get(job_arn)

    def want_job(self, job_arn: str, *, fresh: bool = False) -> None:
        """Describe this job (or model package) unless it is a job known to be finished, or was described
        (or failed) less than `refresh` seconds ago, or is being described; `fresh`: whatever the pace (the
        user just changed it). A package is never settled: its approval may change from elsewhere. ARNs of
        other resources are ignored."""
        if not describable(job_arn):
            return
        known = self._jobs.get(job_arn)
        if isinstance(known, JobInfo) and known.is_done:
            return
        request = Request(RequestKind.JOB, job_arn)
        answered = self._answered.get(request)
        if not fresh and answered is not None and self._now() - answered < self.refresh:
            return
        self._ask(request, self._describe_job)

    def metric_history(self, job_arn: str) -> MetricHistory | None:
        """The job's metric history as last read, if it was."""
        return self._histories.get(job_arn)

    def want_metric_history(self, job_arn: str) -> None:
        """Read the metric lines of this training job (described first: its MetricDefinitions say which
        lines) unless its history is final, or was read less than `METRICS_REFRESH` seconds ago."""
        job = self._jobs.get(job_arn)
        if not isinstance(job, JobInfo) or not has_metric_history(job):
            return
        known = self._histories.get(job_arn)
        if known is not None and known.final:
            return
        request = Request(RequestKind.METRIC_HISTORY, job_arn)
        answered = self._answered.get(request)
        # Once the job has ended, its final read is not held back by the pace of a running one.
        if answered is not None and not job.is_done and self._now() - answered < METRICS_REFRESH:
            return
        self._ask(request, self._read_metrics, sagemaker=False)

    def want_pipeline_parameters(self, pipeline: str) -> None:
        """Read the parameters of the pipeline's current definition: asked once per start form, so always
        read (the definition may have changed since), unless a read is under way."""
        self._ask(Request(RequestKind.PIPELINE_PARAMETERS, pipeline), self._read_parameters)

    def want_pipeline_definition(self, pipeline: str) -> None:
        """Read the pipeline's current definition (DescribePipeline): asked once each time the definition
        view opens, so always read (the pipeline may have been updated since), unless a read is under way."""
        self._ask(Request(RequestKind.PIPELINE_DEFINITION, pipeline), self._read_definition)

    async def act(self, call: Callable[[], Awaitable[T]]) -> T:
        """Make a user's call (an action) ahead of the polls, inside the budget; errors go to the caller."""
        await self._acquire(None)
        return await self._attempt(call)

    async def close(self) -> None:
        self._unregister()
        tasks = list(self._pending.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._logs_stack.aclose()

    # -- serving ------------------------------------------------------------------------------------------

    def _ask(
        self, request: Request, read: Callable[[str], Awaitable[Answer]], *, sagemaker: bool = True
    ) -> None:
        """Serve the request in a task; `sagemaker` False: it makes no SageMaker call (no token of ours)."""
        if request in self._pending:
            return
        task = asyncio.get_running_loop().create_task(
            self._serve(request, read, sagemaker), name=f"smtui-{request.kind}"
        )
        self._pending[request] = task
        task.add_done_callback(lambda _: self._pending.pop(request, None))

    async def _serve(
        self, request: Request, read: Callable[[str], Awaitable[Answer]], sagemaker: bool
    ) -> None:
        answer: MonitorEvent
        while True:
            try:
                if sagemaker:
                    await self._acquire(request)
                    answer = await self._attempt(lambda: read(request.subject))
                else:
                    answer = await read(request.subject)
            except AwsError as error:
                if error.is_throttling:
                    self._emit(
                        RequestWaiting(request, f"waiting: throttled by AWS ({error.code}), trying again")
                    )
                    await self.clock.sleep(THROTTLED_RETRY)
                    continue
                answer = RequestFailed(request, str(error))
            except DefinitionError as error:
                answer = RequestFailed(request, f"the pipeline's definition cannot be read: {error}")
            except Exception as error:  # a bug: told where the user asked, and logged in full
                log.exception("smtui: %s request for %s failed", request.kind, request.subject)
                answer = RequestFailed(request, f"{type(error).__name__}: {error}")
            break
        self._answered[request] = self._now()
        self._emit(answer)

    async def _acquire(self, request: Request | None) -> None:
        """A token, ahead of the polls (they leave the next ones to us while we wait); a long wait is told."""
        budget = self.budget
        if budget.try_acquire(urgent=True):
            return
        budget.waiting += 1
        told = False
        try:
            while not budget.try_acquire(urgent=True):
                wait = budget.wait_time(urgent=True)
                if request is not None and not told and wait > SLOW_BUDGET:
                    self._emit(RequestWaiting(request, "waiting for the call budget"))
                    told = True
                await self.clock.sleep(max(wait, 0.01))
        finally:
            budget.waiting -= 1

    async def _attempt(self, call: Callable[[], Awaitable[T]]) -> T:
        """One call whose token is taken: botocore's retries of it are charged, its slot released after."""
        cell = ATTEMPTS.set([0])
        try:
            with self._calls.running():
                return await call()
        finally:
            ATTEMPTS.reset(cell)
            self.budget.release()
            self._wake()

    async def _describe_job(self, job_arn: str) -> JobDescribed:
        job = await describe_step_resource(self.client, job_arn)
        if job is None:  # `want_job` asks only for what `describe_step_resource` knows
            raise ValueError(f"not a job or a model package: {job_arn}")
        self._jobs[job_arn] = job
        return JobDescribed(job)

    async def _read_metrics(self, job_arn: str) -> MetricHistoryRead:
        job = self._jobs[job_arn]
        assert isinstance(job, JobInfo)  # `want_metric_history` asks only for described jobs
        if self._logs is None:
            self._logs = await self._logs_stack.enter_async_context(
                LogsClient(self.client, rate=METRICS_LOGS_RATE)
            )
        reader = self._metric_readers.get(job_arn)
        if reader is None:
            reader = self._metric_readers[job_arn] = MetricReader(self._logs, job)
        try:
            history = await reader.read(final=job.is_done)
        except AwsError as error:
            if not error.is_not_found or job.is_done:
                raise
            # No log group or stream yet: the job's container has not started. Nothing logged so far.
            history = MetricHistory(job_arn, (), final=False)
        self._histories[job_arn] = history
        if history.final:
            del self._metric_readers[job_arn]  # kept as its history; its reader (event ids) is not
        return MetricHistoryRead(history)

    async def _read_definition(self, pipeline: str) -> PipelineDefinitionRead:
        return PipelineDefinitionRead(
            pipeline, parse_definition(await self.client.pipeline_definition(pipeline))
        )

    async def _read_parameters(self, pipeline: str) -> PipelineParametersRead:
        return PipelineParametersRead(pipeline, tuple(await self.client.pipeline_parameters(pipeline)))
