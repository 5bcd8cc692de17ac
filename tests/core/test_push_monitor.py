"""Push updates in the monitor, against the emulator's SQS: events applied at once (duplicated, reordered,
late ones included), the mode the monitor says it is in, and the fallback to polling when the queue is
deleted or goes silent. Events are sent to the queue by the test (the shapes AWS documents, with the
times the emulator's engine gives), so that each test says exactly what arrived; the polls that would
otherwise bring the same change are an hour apart. Time is virtual (`virtual_time.VirtualTime`), and the
monitor reads the queue with WaitTimeSeconds 0 (a short poll each simulated second)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import boto3
from emulator_proc import EmulatorProcess
from test_monitor import definition, make_monitor, name, spent_since
from virtual_time import VirtualTime

from smtui.core.client import SageMakerClient
from smtui.core.model import ExecutionStatus, StepStatus
from smtui.core.monitor import Monitor
from smtui.core.push import EXECUTION_CHANGE, STEP_CHANGE

HOUR = 3600.0
SQS_OPS = {"ReceiveMessage", "DeleteMessage", "DeleteMessageBatch", "GetQueueAttributes"}


def sqs(emu: EmulatorProcess) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=emu.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def event(arn: str, at: datetime, detail: dict[str, Any], *, step: bool, id: str | None = None) -> str:
    pipeline_arn = arn.split("/execution/", 1)[0]
    return json.dumps(
        {
            "version": "0",
            "id": id or str(uuid.uuid4()),
            "detail-type": STEP_CHANGE if step else EXECUTION_CHANGE,
            "source": "aws.sagemaker",
            "account": "123456789012",
            "time": iso(at),
            "region": "us-east-1",
            "resources": [pipeline_arn, arn],
            "detail": {"pipelineArn": pipeline_arn, "pipelineExecutionArn": arn, **detail},
        }
    )


PREVIOUS = {"Executing": "Starting", "Succeeded": "Executing", "Failed": "Executing"}


def step_detail(step: dict[str, Any], status: str) -> dict[str, Any]:
    """A step event's detail, with the status it replaces as SageMaker says it (the one before it in the
    step's life: an event whose previous status the monitor does not hold shows one lost)."""
    detail = {
        "stepName": step["StepName"],
        "currentStepStatus": status,
        "previousStepStatus": PREVIOUS.get(status),
        "stepStartTime": iso(step["StartTime"]),
    }
    if status == "Succeeded":
        detail["stepEndTime"] = iso(step["EndTime"])
    return detail


def run_and_queue(emu: EmulatorProcess, prefix: str) -> tuple[str, str, Any, str]:
    """A condition-foreach pipeline named from `prefix` with one execution started, and a new queue:
    (pipeline, execution ARN, the SQS client, the queue's URL)."""
    pipeline = name(prefix)
    emu.create_pipeline(pipeline, definition("condition-foreach.json"))
    arn = emu.start_execution(pipeline)
    queue = sqs(emu)
    return pipeline, arn, queue, queue.create_queue(QueueName=name("q"))["QueueUrl"]


@asynccontextmanager
async def pushed(
    client: SageMakerClient, vt: VirtualTime, url: str, *pipelines: str, **options: Any
) -> AsyncIterator[Monitor]:
    """A monitor reading `url`, its polls an hour apart unless `options` say otherwise."""
    settings: dict[str, Any] = {
        "active_interval": HOUR,
        "background_interval": HOUR,
        "discovery_interval": HOUR,
        "reconcile_interval": HOUR,
        "events_queue": url,
        "events_wait": 0,
    }
    monitor = make_monitor(client, vt, *pipelines, **{**settings, **options})
    await monitor.start()
    try:
        yield monitor
    finally:
        await monitor.stop()


def mode(monitor: Monitor) -> str | None:
    return monitor.health.updates


def step_status(monitor: Monitor, arn: str, step: str) -> StepStatus | None:
    tree = monitor.tree(arn)
    if tree is None:
        return None
    return next((node.status for _, node in tree.walk() if node.name == step), None)


async def test_events_are_applied_at_once_duplicates_and_late_ones_dropped(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline, arn, queue, url = run_and_queue(emu, "cf-push")
    vt = VirtualTime(emu)
    async with pushed(client, vt, url, pipeline) as monitor:
        await vt.until(lambda: monitor.progress(arn) is not None and mode(monitor) == "push")
        assert step_status(monitor, arn, "Preprocess") in (StepStatus.STARTING, StepStatus.EXECUTING)

        await vt.advance(70.0)  # Preprocess ends in the emulator; the monitor's polls are an hour apart
        assert step_status(monitor, arn, "Preprocess") in (StepStatus.STARTING, StepStatus.EXECUTING)
        listed = emu.boto().list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
        pre = next(s for s in listed if s["StepName"] == "Preprocess")
        assert pre["StepStatus"] == "Succeeded"

        before = emu.stats()
        started, ended = pre["StartTime"], pre["EndTime"]
        done = step_detail(pre, "Succeeded")
        for body in (
            event(arn, ended, done, step=True, id="done"),
            event(arn, ended, done, step=True, id="done"),  # the same event twice
            event(arn, ended, done, step=True),  # SageMaker's own duplicate: a new id
            event(arn, started, step_detail(pre, "Executing"), step=True),  # out of order
        ):
            queue.send_message(QueueUrl=url, MessageBody=body)
        await vt.until(lambda: step_status(monitor, arn, "Preprocess") is StepStatus.SUCCEEDED, 3.0)
        # Late: the step's Executing again (another event of that change), after its Succeeded was applied.
        late = {**step_detail(pre, "Executing"), "stepType": "Processing"}
        queue.send_message(QueueUrl=url, MessageBody=event(arn, started, late, step=True))
        await vt.advance(3.0)
        assert step_status(monitor, arn, "Preprocess") is StepStatus.SUCCEEDED
        spent = spent_since(emu, before)
        assert spent.get("ListPipelineExecutionSteps", 0) == 0  # the change came from the events
        assert spent["DeleteMessageBatch"] >= 2
        feed = monitor.push
        assert feed is not None and feed.ledger.duplicates == 2 and feed.ledger.stale == 1
        # Every message was deleted once read.
        attributes = queue.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        assert attributes == {
            "ApproximateNumberOfMessages": "0",
            "ApproximateNumberOfMessagesNotVisible": "0",
        }

        # The execution's end, and a late Executing from before it: it stays Succeeded.
        assert emu.run_until_done(arn, step=30) == "Succeeded"
        end = emu.boto().describe_pipeline_execution(PipelineExecutionArn=arn)["LastModifiedTime"]
        before = emu.stats()
        execution_end = {
            "currentPipelineExecutionStatus": "Succeeded",
            "previousPipelineExecutionStatus": "Executing",
            "executionEndTime": iso(end),
        }
        queue.send_message(QueueUrl=url, MessageBody=event(arn, end, execution_end, step=False))
        queue.send_message(
            QueueUrl=url,
            MessageBody=event(
                arn,
                end - timedelta(seconds=30),
                {"currentPipelineExecutionStatus": "Executing"},
                step=False,
            ),
        )
        await vt.until(lambda: monitor.executions[arn].status is ExecutionStatus.SUCCEEDED, 3.0)
        await vt.advance(2.0)
        assert monitor.executions[arn].status is ExecutionStatus.SUCCEEDED
        assert monitor.executions[arn].ended == end.replace(microsecond=0)
        spent = spent_since(emu, before)
        assert spent.get("ListPipelineExecutions", 0) == 0 and spent.get("DescribePipelineExecution", 0) == 0


async def test_the_queue_deleted_falls_back_to_polling_and_back_to_push_when_it_returns(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = name("cf-gone")
    emu.create_pipeline(pipeline, definition("condition-foreach.json"))
    arn = emu.start_execution(pipeline)
    queue, queue_name = sqs(emu), name("q")
    url = queue.create_queue(QueueName=queue_name)["QueueUrl"]
    vt = VirtualTime(emu)
    # Polls at the usual pace (5 s for rows in view): only reconciling, far slower, while events flow.
    async with pushed(client, vt, url, pipeline, active_interval=5.0, background_interval=5.0) as monitor:
        await vt.until(lambda: monitor.progress(arn) is not None and mode(monitor) == "push")
        before = emu.stats()
        await vt.advance(50.0)
        pushed_steps = spent_since(emu, before).get("ListPipelineExecutionSteps", 0)

        queue.delete_queue(QueueUrl=url)
        await vt.until(lambda: (mode(monitor) or "").startswith("polling"), 3.0)
        assert mode(monitor) == "polling (events: the queue does not exist)"
        before = emu.stats()
        await vt.advance(50.0)
        polled_steps = spent_since(emu, before).get("ListPipelineExecutionSteps", 0)
        assert polled_steps >= 2 * max(1, pushed_steps)  # full polling again

        queue.create_queue(QueueName=queue_name)  # the same name: the same URL
        await vt.until(lambda: mode(monitor) == "push", 40.0)  # tried again every 30 s


async def test_a_silent_queue_while_polls_see_changes_falls_back_until_a_message_comes(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline, arn, queue, url = run_and_queue(emu, "cf-quiet")  # the queue: no rule sends to it
    vt = VirtualTime(emu)
    async with pushed(client, vt, url, pipeline, active_interval=5.0, background_interval=5.0) as monitor:
        await vt.until(lambda: monitor.progress(arn) is not None and mode(monitor) == "push")
        took = await vt.until(lambda: (mode(monitor) or "").startswith("polling"), 180.0)
        assert took >= 59.0  # counted from the first read that worked
        label = mode(monitor) or ""
        assert label.startswith("polling (events: no message for ")
        assert step_status(monitor, arn, "Preprocess") is not StepStatus.STARTING  # the polls saw it move

        queue.send_message(
            QueueUrl=url,
            MessageBody=event(arn, emu.now(), {"currentPipelineExecutionStatus": "Executing"}, step=False),
        )
        await vt.until(lambda: mode(monitor) == "push", 3.0)


async def test_a_silent_queue_is_no_reason_to_poll_while_nothing_runs(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = name("cf-idle")
    emu.create_pipeline(pipeline, definition("condition-foreach.json"))
    arn = emu.start_execution(pipeline)
    assert emu.run_until_done(arn, step=60) == "Succeeded"
    url = sqs(emu).create_queue(QueueName=name("q"))["QueueUrl"]
    vt = VirtualTime(emu)
    async with pushed(client, vt, url, pipeline, active_interval=5.0, background_interval=5.0) as monitor:
        await vt.until(lambda: arn in monitor.executions and mode(monitor) == "push")
        await vt.advance(150.0)
        assert mode(monitor) == "push"


async def test_sqs_calls_are_not_charged_to_the_sagemaker_budget(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = name("cf-budget")
    emu.create_pipeline(pipeline, definition("condition-foreach.json"))
    emu.start_execution(pipeline)
    url = sqs(emu).create_queue(QueueName=name("q"))["QueueUrl"]
    vt = VirtualTime(emu)
    calls_before, before = client.calls, emu.stats()
    async with pushed(client, vt, url, pipeline) as monitor:
        await vt.advance(30.0)
        feed = monitor.push
        assert feed is not None
    spent = spent_since(emu, before)
    sqs_calls = sum(n for op, n in spent.items() if op in SQS_OPS)
    assert sqs_calls == feed.calls >= 20  # a read each simulated second, on the feed's own budget
    # What the SageMaker client counted (and charged to the monitor's budget) is SageMaker's calls only.
    assert client.calls - calls_before == sum(spent.values()) - sqs_calls


async def test_the_engines_events_bring_every_change_with_polls_an_hour_apart_through_faults(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    from smtui.core.push_setup import EventsSetup

    pipeline = name("cf-e2e")
    emu.create_pipeline(pipeline, definition("condition-foreach.json"))
    async with EventsSetup(client, name("smtui-events")) as setup:
        plan = await setup.setup()
    assert plan.queue_url is not None
    # SageMaker's duplicates, late and reordered deliveries (never a dropped one: nothing else would bring
    # the change within the test, the polls being an hour apart).
    emu.faults(events={"duplicate": 0.3, "reorder": 0.3, "delay": 0.3, "delay_seconds": [1, 5]})
    vt = VirtualTime(emu)
    async with pushed(client, vt, plan.queue_url, pipeline) as monitor:
        await vt.until(lambda: mode(monitor) == "push")
        arn = emu.start_execution(pipeline)
        await vt.until(lambda: arn in monitor.executions and monitor.progress(arn) is not None, 10.0)
        before = emu.stats()
        await vt.until(lambda: monitor.executions[arn].status is ExecutionStatus.SUCCEEDED, 900.0)
        truth = emu.boto().list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
        assert emu.status(arn) == "Succeeded"
        await vt.advance(10.0)  # the last deliveries
        runs = {r.name: r.status for r in monitor.runs(arn)}
        assert runs == {s["StepName"]: StepStatus(s["StepStatus"]) for s in truth}
        spent = spent_since(emu, before)
        # Polls did not bring them: the pipeline was not listed, its steps read once at the end (the final
        # look the end of an execution asks for) at most.
        assert spent.get("ListPipelineExecutions", 0) == 0
        assert spent.get("ListPipelineExecutionSteps", 0) <= 3
        feed = monitor.push
        assert feed is not None and feed.ledger.duplicates > 0


async def test_a_busy_queue_is_read_back_to_back(emu: EmulatorProcess, client: SageMakerClient) -> None:
    # 1,000 active executions publish ~50 events a second; at 2 SQS calls/s (a read and a deletion per
    # second: 10 events) the consumer fell minutes behind (`benchmarks/push_bench.py`).
    pipeline = name("cf-busy")
    emu.create_pipeline(pipeline, definition("condition-foreach.json"))
    url = sqs(emu).create_queue(QueueName=name("q"))["QueueUrl"]
    queue = sqs(emu)
    # Events of an execution this monitor does not list: read, counted and deleted, nothing else.
    foreign = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/elsewhere/execution/x"
    at = datetime(2026, 1, 1, 12, 0, 0)
    for i in range(200):
        executing = {"currentPipelineExecutionStatus": "Executing"}
        queue.send_message(
            QueueUrl=url, MessageBody=event(foreign, at + timedelta(seconds=i), executing, step=False)
        )
    vt = VirtualTime(emu)
    async with pushed(client, vt, url, pipeline) as monitor:
        feed = monitor.push
        assert feed is not None
        await vt.advance(5.0)
        assert feed.received == 200  # 20 reads and 20 deletions in 5 simulated seconds
    attributes = queue.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attributes == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


async def test_events_a_few_seconds_late_are_applied_one_after_the_other(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    # Applying an event stamped the execution's steps as just polled, so the next event of that execution,
    # if more than 2 s older than that moment (a consumer a few seconds behind), looked older than a poll
    # and was dropped: 1,000 active executions saw step changes 40 s late (`benchmarks/push_bench.py`).
    pipeline, arn, queue, url = run_and_queue(emu, "cf-late")
    vt = VirtualTime(emu)
    async with pushed(client, vt, url, pipeline) as monitor:
        await vt.until(lambda: monitor.progress(arn) is not None and mode(monitor) == "push")
        await vt.advance(70.0)  # Preprocess ends, the next steps start; the monitor's polls are an hour apart
        listed = emu.boto().list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
        pre = next(s for s in listed if s["StepName"] == "Preprocess")
        following = [s for s in listed if s["StepName"] != "Preprocess"]
        assert pre["StepStatus"] == "Succeeded" and following
        assert step_status(monitor, arn, following[0]["StepName"]) not in (
            StepStatus.STARTING,
            StepStatus.EXECUTING,
        )
        # Both 10 s late: the first applied must not make the second look stale.
        queue.send_message(
            QueueUrl=url, MessageBody=event(arn, pre["EndTime"], step_detail(pre, "Succeeded"), step=True)
        )
        for step in following:
            detail = step_detail(step, "Executing")
            queue.send_message(QueueUrl=url, MessageBody=event(arn, step["StartTime"], detail, step=True))
        await vt.advance(3.0)
        assert step_status(monitor, arn, "Preprocess") is StepStatus.SUCCEEDED
        for step in following:
            assert step_status(monitor, arn, step["StepName"]) is StepStatus.EXECUTING, step["StepName"]
