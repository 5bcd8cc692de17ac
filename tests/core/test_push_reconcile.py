"""Push mode's reconciliation, against the emulator's SQS and events: a lost event found by the previous
status the next one carries and fixed by one read; executions whose events are consistent cost no step
read beyond the reconciliation pace; and a queue that loses events, or goes away, brings the polling paces
back at once. Time is virtual; the monitor reads the queue with WaitTimeSeconds 0."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from emulator_proc import EmulatorProcess
from test_monitor import definition, name
from test_push_monitor import HOUR, event, mode, pushed, sqs, step_detail, step_status
from virtual_time import VirtualTime

from smtui.core.client import SageMakerClient
from smtui.core.model import ExecutionStatus, StepStatus
from smtui.core.monitor import Monitor
from smtui.core.push_setup import EventsSetup
from smtui.emulator.bus.events import camel_keys

pytestmark = pytest.mark.shared_emulator

STEPS = "ListPipelineExecutionSteps"


@contextmanager
def counted(client: SageMakerClient) -> Iterator[Counter[str]]:
    """The SageMaker calls the monitor's client makes meanwhile, by operation (the test's own calls, through
    another client, are not counted)."""
    calls: Counter[str] = Counter()
    stop = client.add_listener(lambda operation, code: calls.update([operation]))
    try:
        yield calls
    finally:
        stop()


@asynccontextmanager
async def engine_pushed(
    emu: EmulatorProcess, client: SageMakerClient, vt: VirtualTime, pipeline: str
) -> AsyncIterator[Monitor]:
    """A monitor of a new pipeline at the default paces (without events, each running execution's steps
    read every 5-20 s), nothing in view, in push mode on the events the emulator's engine sends to a queue
    `events setup` made."""
    emu.create_pipeline(pipeline, definition("condition-foreach.json"))
    async with EventsSetup(client, name("smtui-events")) as setup:
        plan = await setup.setup()
    assert plan.queue_url is not None
    defaults = {"background_interval": None, "discovery_interval": 30.0, "reconcile_interval": None}
    async with pushed(client, vt, plan.queue_url, pipeline, active_interval=5.0, **defaults) as monitor:
        monitor.set_visible([])  # every execution is reconciled off screen
        await vt.until(lambda: mode(monitor) == "push")
        yield monitor


@asynccontextmanager
async def one_run_pushed(
    emu: EmulatorProcess, client: SageMakerClient, vt: VirtualTime, pipeline: str, **paces: float
) -> AsyncIterator[tuple[Monitor, str, Any, str]]:
    """A monitor of one running execution, its steps read once, in push mode on a queue the test sends
    events to; its polls an hour apart unless `paces` say otherwise. Yields (monitor, execution ARN, SQS
    client, queue URL)."""
    emu.create_pipeline(pipeline, definition("condition-foreach.json"))
    arn = emu.start_execution(pipeline)
    queue = sqs(emu)
    url = queue.create_queue(QueueName=name("q"))["QueueUrl"]
    async with pushed(client, vt, url, pipeline, **paces) as monitor:
        await vt.until(lambda: monitor.progress(arn) is not None and mode(monitor) == "push")
        yield monitor, arn, queue, url


def truth(emu: EmulatorProcess, arn: str) -> dict[str, StepStatus]:
    listed = emu.boto().list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    return {s["StepName"]: StepStatus(s["StepStatus"]) for s in listed}


async def test_a_lost_step_event_is_found_by_the_next_ones_previous_status_and_read_once(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    vt = VirtualTime(emu)
    async with one_run_pushed(emu, client, vt, name("cf-gap")) as (monitor, arn, queue, url):
        # Preprocess and Evaluate end, the steps after them start (the monitor's polls are an hour apart).
        await vt.until(lambda: len(truth(emu, arn)) > 2 and truth(emu, arn)["Evaluate"].is_done, 300.0)
        listed = emu.boto().list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
        steps = {s["StepName"]: s for s in listed}
        pre, evaluate = steps["Preprocess"], steps["Evaluate"]
        assert pre["StepStatus"] == evaluate["StepStatus"] == "Succeeded"
        others = set(steps) - {"Preprocess", "Evaluate"}
        assert others  # steps no event will tell of
        assert all(step_status(monitor, arn, s) is not StepStatus(steps[s]["StepStatus"]) for s in others)

        # Preprocess's end follows what the monitor holds; Evaluate's end says it was Executing, which the
        # monitor never heard (its Starting and Executing events were lost).
        queue.send_message(
            QueueUrl=url, MessageBody=event(arn, pre["EndTime"], step_detail(pre, "Succeeded"), step=True)
        )
        queue.send_message(
            QueueUrl=url,
            MessageBody=event(arn, evaluate["EndTime"], step_detail(evaluate, "Succeeded"), step=True),
        )
        with counted(client) as calls:
            took = await vt.until(
                lambda: {r.name: r.status for r in monitor.runs(arn)} == truth(emu, arn), 30.0
            )
            assert took <= 5.0  # read a moment after the gap was seen, not at the next reconciliation
            assert calls[STEPS] == 1
            await vt.advance(20.0)  # and nothing more
            assert calls[STEPS] == 1


async def test_executions_whose_events_are_consistent_cost_no_step_read_beyond_the_reconciliation_pace(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = name("cf-calm")
    vt = VirtualTime(emu)
    async with engine_pushed(emu, client, vt, pipeline) as monitor:
        with counted(client) as calls:
            arns = [emu.start_execution(pipeline) for _ in range(3)]
            took = await vt.until(
                lambda: all(
                    a in monitor.executions and monitor.executions[a].status is ExecutionStatus.SUCCEEDED
                    for a in arns
                ),
                900.0,
            )
            await vt.advance(5.0)  # the last deliveries
        for arn in arns:
            assert emu.status(arn) == "Succeeded"
            assert {r.name: r.status for r in monitor.runs(arn)} == truth(emu, arn)
        reads = calls[STEPS]
        floor = monitor.planner.paces.background  # push mode's least interval between reconciling reads
        assert floor >= 600.0
        # Each execution's first read (its steps' events apply to the list it gave), then one per floor at
        # most; no final read at the end.
        assert reads <= len(arns) * (1 + math.floor(took / floor))
        assert mode(monitor) == "push"


async def test_a_queue_that_loses_events_brings_the_polling_paces_back(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = name("cf-lossy")
    vt = VirtualTime(emu)
    async with engine_pushed(emu, client, vt, pipeline) as monitor:
        emu.faults(events={"drop": 0.5})
        arns = [emu.start_execution(pipeline) for _ in range(4)]
        await vt.until(lambda: mode(monitor) == "push (events lost)", 600.0)
        running = [a for a in arns if emu.status(a) == "Executing"]
        with counted(client) as calls:
            await vt.advance(60.0)
        # Polling again: every running execution's steps read within a minute (in push mode, 20 min apart).
        assert running and calls[STEPS] >= len(running)


async def test_the_fallback_to_polling_reads_at_once_what_push_mode_had_put_off(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    vt = VirtualTime(emu)
    paces = {"active_interval": 5.0, "background_interval": HOUR}
    async with one_run_pushed(emu, client, vt, name("cf-back"), **paces) as (monitor, _, queue, url):
        await vt.advance(10.0)
        with counted(client) as calls:
            queue.delete_queue(QueueUrl=url)
            took = await vt.until(lambda: calls[STEPS] > 0, 30.0)
        assert (mode(monitor) or "").startswith("polling")
        assert took <= 3.0  # its read was 10 min away in push mode (rows in view); due at once now


async def test_an_executions_lost_end_event_is_read_once_every_step_is_done(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    vt = VirtualTime(emu)
    async with one_run_pushed(emu, client, vt, name("cf-end")) as (monitor, arn, queue, url):
        assert emu.run_until_done(arn, step=30) == "Succeeded"
        listed = emu.boto().list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
        held = {r.name: r.status.value for r in monitor.runs(arn)}
        # Every step's events, following what the monitor holds; the execution's own end event is lost.
        for step in sorted(listed, key=lambda s: s["StartTime"]):
            metadata = {"metadata": camel_keys(step.get("Metadata") or {})}
            if step["StepName"] not in held:
                executing = {**step_detail(step, "Executing"), **metadata}
                queue.send_message(
                    QueueUrl=url, MessageBody=event(arn, step["StartTime"], executing, step=True)
                )
            if held.get(step["StepName"]) != step["StepStatus"]:
                done = {
                    **step_detail(step, step["StepStatus"]),
                    **metadata,
                    "previousStepStatus": held.get(step["StepName"], "Executing"),
                }
                queue.send_message(QueueUrl=url, MessageBody=event(arn, step["EndTime"], done, step=True))
        with counted(client) as calls:
            took = await vt.until(lambda: monitor.executions[arn].status is ExecutionStatus.SUCCEEDED, 60.0)
            assert took <= 15.0  # its end was due with its last step's: read within seconds, not in minutes
            assert calls == {"DescribePipelineExecution": 1}
