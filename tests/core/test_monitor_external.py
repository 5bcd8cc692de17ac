"""Changes made outside smtui reach the monitor: a run retried, stopped or finished by another client (a
boto3 client of the same emulator). Each test leaves one way of learning it open and shuts the others
(their intervals an hour long), so it shows that this way alone brings the change. Time is the emulator's
simulated clock, which stands still unless a test advances it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from emulator_proc import EmulatorProcess
from test_monitor import definition, make_monitor, name, until

from smtui.core.client import SageMakerClient
from smtui.core.model import ExecutionStatus, StepNode, StepStatus
from smtui.core.monitor import Monitor

HOUR = 3600.0


def failed_run(emu: EmulatorProcess, pipeline: str | None = None) -> tuple[str, str]:
    """A `flaky-*` pipeline (its Train step fails once, then succeeds) and a run of it that Failed."""
    pipeline = pipeline or name("flaky")
    emu.create_pipeline(pipeline, definition("train-retry-cache.json"))
    arn = emu.start_execution(pipeline)
    assert emu.run_until_done(arn, step=30) == "Failed"
    return pipeline, arn


@asynccontextmanager
async def monitoring(client: SageMakerClient, **options: Any) -> AsyncIterator[Monitor]:
    settings: dict[str, Any] = {"discovery_interval": HOUR, "background_interval": HOUR}
    monitor = make_monitor(client, **{**settings, **options})
    await monitor.start()
    try:
        yield monitor
    finally:
        await monitor.stop()


def train(monitor: Monitor, arn: str) -> StepNode:
    tree = monitor.tree(arn)
    assert tree is not None
    return next(node for _, node in tree.walk() if node.name == "Train")


def status(monitor: Monitor, arn: str) -> Callable[[], ExecutionStatus | None]:
    return lambda: monitor.executions[arn].status if arn in monitor.executions else None


async def test_a_retry_reaches_a_row_in_view_whatever_its_pipelines_other_runs_do(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline, arn = failed_run(emu)
    other = emu.start_execution(pipeline)  # running, out of view: its own pace is an hour
    async with monitoring(client, reconcile_interval=HOUR) as monitor:
        await until(lambda: arn in monitor.executions)
        monitor.set_visible([arn])  # as the table does once it shows the row
        await until(lambda: monitor.progress(arn) is not None and monitor.executions[arn].ended is not None)
        assert monitor.executions[arn].failure_reason
        assert train(monitor, arn).status is StepStatus.FAILED

        emu.boto().retry_pipeline_execution(PipelineExecutionArn=arn)
        await until(lambda: status(monitor, arn)() is ExecutionStatus.EXECUTING)
        again = monitor.executions[arn]
        assert again.failure_reason is None and again.ended is None  # no longer the failed run's
        assert monitor.executions[other].is_active
        # Its steps start over: the failed Train is read again as a new attempt.
        await until(lambda: train(monitor, arn).run is not None and train(monitor, arn).run.attempt == 2)  # type: ignore[union-attr]
        assert train(monitor, arn).status is StepStatus.STARTING
        assert monitor.running_steps(arn) == ("Train",)

        assert emu.run_until_done(arn, step=30) == "Succeeded"
        await until(lambda: status(monitor, arn)() is ExecutionStatus.SUCCEEDED)
        await until(lambda: monitor.progress(arn) == (3, 3) and monitor.executions[arn].ended is not None)
        assert monitor.executions[arn].failure_reason is None  # the failure is gone with the retry
        assert monitor.running_steps(arn) == ()


async def test_a_retry_out_of_view_is_seen_by_the_reconciling_list(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    _, arn = failed_run(emu)
    done = name("cf-done")
    emu.create_pipeline(done, definition("condition-foreach.json"))
    assert emu.run_until_done(emu.start_execution(done), step=30) == "Succeeded"
    async with monitoring(client, visible_status_interval=HOUR, reconcile_interval=0.5) as monitor:
        monitor.set_visible([])
        await until(lambda: status(monitor, arn)() is ExecutionStatus.FAILED)
        await asyncio.sleep(1.0)
        before = emu.stats()
        await asyncio.sleep(2.0)
        spent = emu.stats()
        lists = spent["ListPipelineExecutions"] - before["ListPipelineExecutions"]
        assert 1 <= lists <= 6  # about one per 0.5 s, for the pipeline with a failed run only
        assert spent.get("ListPipelineExecutionSteps", 0) == before.get("ListPipelineExecutionSteps", 0)

        emu.boto().retry_pipeline_execution(PipelineExecutionArn=arn)
        await until(lambda: status(monitor, arn)() is ExecutionStatus.EXECUTING)
        assert monitor.executions[arn].failure_reason is None


async def test_the_open_execution_sees_a_retry_by_itself(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    _, arn = failed_run(emu)
    async with monitoring(client, visible_status_interval=HOUR, reconcile_interval=HOUR) as monitor:
        monitor.set_visible([])
        await until(lambda: status(monitor, arn)() is ExecutionStatus.FAILED)
        monitor.watch(arn)
        await until(lambda: monitor.progress(arn) is not None)
        described = emu.stats()["DescribePipelineExecution"]
        await asyncio.sleep(1.0)
        assert emu.stats()["DescribePipelineExecution"] > described  # it keeps asking while it may rerun

        emu.boto().retry_pipeline_execution(PipelineExecutionArn=arn)
        await until(lambda: status(monitor, arn)() is ExecutionStatus.EXECUTING)
        await until(lambda: monitor.running_steps(arn) == ("Train",))
        assert emu.run_until_done(arn, step=30) == "Succeeded"
        await until(lambda: monitor.progress(arn) == (3, 3))
        assert monitor.executions[arn].failure_reason is None
        # Succeeded: nothing can run it again, so nothing more is asked.
        await monitor.settle()
        await asyncio.sleep(0.3)
        calls = emu.stats()
        await asyncio.sleep(1.0)
        assert emu.stats()["DescribePipelineExecution"] == calls["DescribePipelineExecution"]


async def test_refresh_now_brings_what_is_on_screen_up_to_date(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    _, failed = failed_run(emu)
    slow = {"visible_status_interval": HOUR, "reconcile_interval": HOUR, "watched_status_interval": HOUR}
    async with monitoring(client, active_interval=HOUR, watched_interval=HOUR, **slow) as monitor:
        await until(lambda: status(monitor, failed)() is ExecutionStatus.FAILED)
        monitor.set_visible([failed])
        monitor.watch(failed)
        await monitor.settle()
        emu.boto().retry_pipeline_execution(PipelineExecutionArn=failed)
        await asyncio.sleep(0.5)
        assert status(monitor, failed)() is ExecutionStatus.FAILED  # every way of seeing it is an hour away
        await monitor.refresh_now()
        assert status(monitor, failed)() is ExecutionStatus.EXECUTING
        assert monitor.executions[failed].failure_reason is None
        assert train(monitor, failed).status is StepStatus.STARTING  # its steps were read again too


async def test_a_stop_made_elsewhere_reaches_a_row_in_view_and_the_open_execution_by_the_list_alone(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = name("stopped")
    emu.create_pipeline(pipeline, definition("train-retry-cache.json"))
    shown, opened = emu.start_execution(pipeline), emu.start_execution(pipeline)
    # Step polls an hour apart: nothing but the pipeline's list at the status paces can tell.
    paces = {"active_interval": HOUR, "watched_interval": HOUR, "reconcile_interval": HOUR}
    async with monitoring(
        client, visible_status_interval=0.3, watched_status_interval=0.15, **paces
    ) as monitor:
        await until(lambda: monitor.progress(shown) is not None and monitor.progress(opened) is not None)
        monitor.set_visible([shown])
        for arn in (shown, opened):
            if arn == opened:
                monitor.set_visible([])
                monitor.watch(opened)
            await monitor.settle()
            steps = monitor.steps_refreshed(arn)
            emu.boto().stop_pipeline_execution(PipelineExecutionArn=arn)
            await until(lambda arn=arn: status(monitor, arn)() is ExecutionStatus.STOPPING)  # type: ignore[misc]
            assert monitor.steps_refreshed(arn) == steps  # the steps were not what told
            emu.advance(10)  # stopping takes 2-6 s; the other run is still in its first step
            await until(lambda arn=arn: status(monitor, arn)() is ExecutionStatus.STOPPED)  # type: ignore[misc]
