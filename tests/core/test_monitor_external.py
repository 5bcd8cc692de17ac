"""Changes made outside smtui reach the monitor: a run retried, stopped or finished by another client (a
boto3 client of the same emulator). Each test leaves one way of learning it open and shuts the others
(their intervals an hour long), so it shows that this way alone brings the change. Time is virtual
(`virtual_time.VirtualTime`): the emulator's clock moves only with the monitor's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from emulator_proc import EmulatorProcess
from test_monitor import definition, make_monitor, name
from virtual_time import VirtualTime

from smtui.core.client import SageMakerClient
from smtui.core.events import ExecutionEnded, MonitorEvent
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
async def monitoring(
    client: SageMakerClient, vt: VirtualTime, *pipelines: str, **options: Any
) -> AsyncIterator[Monitor]:
    settings: dict[str, Any] = {"discovery_interval": HOUR, "background_interval": HOUR}
    monitor = make_monitor(client, vt, *pipelines, **{**settings, **options})
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
    vt = VirtualTime(emu)
    async with monitoring(client, vt, pipeline, reconcile_interval=HOUR) as monitor:
        await vt.until(lambda: arn in monitor.executions)
        monitor.set_visible([arn])  # as the table does once it shows the row
        await vt.until(
            lambda: monitor.progress(arn) is not None and monitor.executions[arn].ended is not None
        )
        assert monitor.executions[arn].failure_reason
        assert train(monitor, arn).status is StepStatus.FAILED

        emu.boto().retry_pipeline_execution(PipelineExecutionArn=arn)
        took = await vt.until(lambda: status(monitor, arn)() is ExecutionStatus.EXECUTING)
        assert took <= 8.0  # its pipeline's list at the pace of a row in view
        again = monitor.executions[arn]
        assert again.failure_reason is None and again.ended is None  # no longer the failed run's
        assert monitor.executions[other].is_active
        # Its steps start over: the failed Train is read again as a new attempt.
        await vt.until(lambda: train(monitor, arn).run is not None and train(monitor, arn).run.attempt == 2)  # type: ignore[union-attr]
        assert train(monitor, arn).status in (StepStatus.STARTING, StepStatus.EXECUTING)
        assert monitor.running_steps(arn) == ("Train",)

        await vt.until(lambda: status(monitor, arn)() is ExecutionStatus.SUCCEEDED)
        await vt.until(lambda: monitor.progress(arn) == (3, 3) and monitor.executions[arn].ended is not None)
        assert monitor.executions[arn].failure_reason is None  # the failure is gone with the retry
        assert monitor.running_steps(arn) == ()


async def test_a_retry_out_of_view_is_seen_by_the_reconciling_list(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    flaky, arn = failed_run(emu)
    done = name("cf-done")
    emu.create_pipeline(done, definition("condition-foreach.json"))
    assert emu.run_until_done(emu.start_execution(done), step=30) == "Succeeded"
    vt = VirtualTime(emu)
    async with monitoring(
        client, vt, flaky, done, visible_status_interval=HOUR, reconcile_interval=5.0
    ) as monitor:
        monitor.set_visible([])
        await vt.until(lambda: status(monitor, arn)() is ExecutionStatus.FAILED)
        await vt.advance(10.0)
        before = emu.stats()
        await vt.advance(20.0)
        spent = emu.stats()
        lists = spent["ListPipelineExecutions"] - before["ListPipelineExecutions"]
        assert 3 <= lists <= 5  # one per 5 s, for the pipeline with a failed run only
        assert spent.get("ListPipelineExecutionSteps", 0) == before.get("ListPipelineExecutionSteps", 0)

        emu.boto().retry_pipeline_execution(PipelineExecutionArn=arn)
        took = await vt.until(lambda: status(monitor, arn)() is ExecutionStatus.EXECUTING)
        assert took <= 5.0
        assert monitor.executions[arn].failure_reason is None


async def test_the_open_execution_sees_a_retry_by_itself(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    flaky, arn = failed_run(emu)
    vt = VirtualTime(emu)
    slow = {"visible_status_interval": HOUR, "reconcile_interval": HOUR}
    async with monitoring(client, vt, flaky, **slow) as monitor:
        monitor.set_visible([])
        await vt.until(lambda: status(monitor, arn)() is ExecutionStatus.FAILED)
        monitor.watch(arn)
        await vt.until(lambda: monitor.progress(arn) is not None)
        described = emu.stats()["DescribePipelineExecution"]
        await vt.advance(10.0)
        asked = emu.stats()["DescribePipelineExecution"] - described
        assert 5 <= asked <= 8  # every 1.5 s while it may run again

        emu.boto().retry_pipeline_execution(PipelineExecutionArn=arn)
        took = await vt.until(lambda: status(monitor, arn)() is ExecutionStatus.EXECUTING)
        assert took <= 1.5
        await vt.until(lambda: monitor.running_steps(arn) == ("Train",))
        await vt.until(lambda: monitor.progress(arn) == (3, 3))
        assert emu.status(arn) == "Succeeded"
        assert monitor.executions[arn].failure_reason is None
        # Succeeded: nothing can run it again, so nothing more is asked.
        await vt.advance(5.0)
        calls = emu.stats()
        await vt.advance(60.0)
        assert emu.stats()["DescribePipelineExecution"] == calls["DescribePipelineExecution"]


async def test_refresh_now_brings_what_is_on_screen_up_to_date(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    flaky, failed = failed_run(emu)
    vt = VirtualTime(emu)
    slow = {"visible_status_interval": HOUR, "reconcile_interval": HOUR, "watched_status_interval": HOUR}
    async with monitoring(client, vt, flaky, active_interval=HOUR, watched_interval=HOUR, **slow) as monitor:
        await vt.until(lambda: status(monitor, failed)() is ExecutionStatus.FAILED)
        monitor.set_visible([failed])
        monitor.watch(failed)
        await vt.settle(monitor)
        emu.boto().retry_pipeline_execution(PipelineExecutionArn=failed)
        await vt.advance(30.0)  # Train runs again (its second attempt takes 60 s)
        assert status(monitor, failed)() is ExecutionStatus.FAILED  # every way of seeing it is an hour away
        assert train(monitor, failed).status is StepStatus.FAILED
        await vt.run(monitor.refresh_now(), limit=1.0)
        assert status(monitor, failed)() is ExecutionStatus.EXECUTING
        assert monitor.executions[failed].failure_reason is None
        assert train(monitor, failed).status is StepStatus.EXECUTING  # its steps were read again too


async def test_a_stop_made_elsewhere_reaches_a_row_in_view_and_the_open_execution_by_the_list_alone(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = name("stopped")
    emu.create_pipeline(pipeline, definition("train-retry-cache.json"))
    shown, opened = emu.start_execution(pipeline), emu.start_execution(pipeline)
    vt = VirtualTime(emu)
    # Step polls an hour apart: nothing but the pipeline's list at the status paces can tell.
    paces = {"active_interval": HOUR, "watched_interval": HOUR, "reconcile_interval": HOUR}
    async with monitoring(
        client, vt, pipeline, visible_status_interval=8.0, watched_status_interval=1.5, **paces
    ) as monitor:
        await vt.until(lambda: monitor.progress(shown) is not None and monitor.progress(opened) is not None)
        monitor.set_visible([shown])
        told: dict[str, Any] = {}  # execution → its steps' last read when its status first turned

        def on_event(event: MonitorEvent) -> None:
            for arn in getattr(event, "arns", ()):
                if arn not in told and status(monitor, arn)() is not ExecutionStatus.EXECUTING:
                    told[arn] = monitor.steps_refreshed(arn)

        monitor.subscribe(on_event)
        for arn, pace in ((shown, 8.0), (opened, 1.5)):
            if arn == opened:
                monitor.set_visible([])
                monitor.watch(opened)
            await vt.settle(monitor)
            steps = monitor.steps_refreshed(arn)
            emu.boto().stop_pipeline_execution(PipelineExecutionArn=arn)
            took = await vt.until(lambda arn=arn: arn in told)  # type: ignore[misc]
            assert took <= pace
            assert status(monitor, arn)() in (ExecutionStatus.STOPPING, ExecutionStatus.STOPPED)
            assert told[arn] == steps  # the steps were not what told
            # Stopping takes 2-6 s; the other run is still in its first step.
            await vt.until(lambda arn=arn: status(monitor, arn)() is ExecutionStatus.STOPPED)  # type: ignore[misc]


async def test_the_end_of_a_followed_execution_is_told_once_its_end_time_and_last_steps_are_read(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = name("flaky")
    emu.create_pipeline(pipeline, definition("train-retry-cache.json"))
    arn, other = emu.start_execution(pipeline), emu.start_execution(pipeline)
    vt = VirtualTime(emu)
    # As `smtui wait` runs it: out of view, one execution followed, a retry looked for at the steps' pace.
    options = {"executions": [arn], "estimates": False, "reconcile_interval": 5.0}
    async with monitoring(client, vt, pipeline, background_interval=5.0, **options) as monitor:
        monitor.set_visible([])
        ends: list[tuple[ExecutionEnded, StepStatus]] = []

        def on_event(event: MonitorEvent) -> None:
            if isinstance(event, ExecutionEnded):
                ends.append((event, train(monitor, event.arn).status))

        monitor.subscribe(on_event)
        await vt.until(lambda: arn in monitor.executions)
        described = emu.stats().get("DescribePipelineExecution", 0)
        await vt.until(lambda: bool(ends))
        (event, train_status), *_ = ends
        assert event.arn == arn and event.execution.status is ExecutionStatus.FAILED
        truth = emu.boto().describe_pipeline_execution(PipelineExecutionArn=arn)
        assert event.execution.failure_reason == truth["FailureReason"]
        assert event.execution.ended == truth["LastModifiedTime"]  # read once, at its end
        assert emu.stats()["DescribePipelineExecution"] == described + 2  # ours, and the one just now
        assert train_status is StepStatus.FAILED  # its steps were read after the end

        emu.boto().retry_pipeline_execution(PipelineExecutionArn=arn)  # by someone else
        await vt.until(lambda: len(ends) == 2)
        again = ends[1][0].execution
        assert again.status is ExecutionStatus.SUCCEEDED and again.failure_reason is None
        assert again.ended is not None and event.execution.ended is not None
        assert again.ended > event.execution.ended
        await vt.until(lambda: status(monitor, other)() is not ExecutionStatus.EXECUTING)
        await vt.advance(60)
        assert [e.arn for e, _ in ends] == [arn, arn]  # none for the run not followed
