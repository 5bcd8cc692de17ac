"""What screens ask the monitor for (a step's job) and the user's actions: made by the monitor, inside its
budget, counted by the emulator (`/_emulator/stats`)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from emulator_proc import DEFINITIONS, EmulatorProcess

from smtui.core.actions import Actions
from smtui.core.client import SageMakerClient
from smtui.core.errors import AwsError
from smtui.core.events import HealthChanged, JobDescribed
from smtui.core.monitor import Monitor


async def until(
    predicate: Callable[[], bool], limit: float = 10.0, then: Callable[[], None] | None = None
) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        if then is not None:
            then()
        await asyncio.sleep(0.02)


def _pipeline(emu: EmulatorProcess) -> str:
    name = f"cf-{uuid.uuid4().hex[:8]}"
    emu.create_pipeline(name, (DEFINITIONS / "condition-foreach.json").read_text())
    return name


def _preprocess_job(emu: EmulatorProcess, execution_arn: str) -> str:
    steps = emu.boto().list_pipeline_execution_steps(PipelineExecutionArn=execution_arn)
    return next(
        str(s["Metadata"]["ProcessingJob"]["Arn"])
        for s in steps["PipelineExecutionSteps"]
        if s["StepName"] == "Preprocess"
    )


async def test_a_finished_job_is_described_once_however_often_it_is_asked(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = _pipeline(emu)
    first = emu.start_execution(pipeline)
    emu.advance(70)  # its Preprocess (60 s, after a 1-s start delay) has ended
    second = emu.start_execution(pipeline)
    emu.advance(5)  # the second's Preprocess is running
    finished, running = _preprocess_job(emu, first), _preprocess_job(emu, second)
    # Not started: no poll, so every call the emulator counts is one of these requests. A running job is
    # described again after an active interval.
    monitor = Monitor(client, rate=50.0, active_interval=0.1)
    events: list[Any] = []
    monitor.subscribe(events.append)

    def described(job_arn: str) -> int:
        return sum(1 for e in events if isinstance(e, JobDescribed) and e.job.arn == job_arn)

    def ask() -> None:  # as the execution screen does, at every repaint
        monitor.want_job(finished)
        monitor.want_job(running)

    try:
        # Asked over and over, until the running job has been described three times.
        await until(lambda: described(running) >= 3, then=ask)
        assert described(finished) == 1
        job = monitor.job(finished)
        assert job is not None and job.status == "Completed" and job.ended is not None
        running_job = monitor.job(running)
        assert running_job is not None and running_job.status == "InProgress"
        assert emu.stats()["DescribeProcessingJob"] == 1 + described(running)
    finally:
        await monitor.stop()


async def test_actions_are_counted_by_the_budget(emu: EmulatorProcess, client: SageMakerClient) -> None:
    arn = emu.start_execution(_pipeline(emu))
    monitor = Monitor(client, rate=1.0)  # one call a second: an action takes the bucket's only token
    actions = Actions(client, monitor)
    try:
        assert monitor.budget.room() == 1
        emu.faults(latency_ms=300)
        stopping = asyncio.create_task(actions.stop(arn))
        await until(lambda: monitor.budget.in_flight == 1)
        assert monitor.budget.room() == 0  # a poll would have to wait
        await stopping
        assert monitor.budget.in_flight == 0
        assert emu.stats()["StopPipelineExecution"] == 1
    finally:
        await monitor.stop()


async def test_a_throttled_action_reaches_the_health_state(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    arn = emu.start_execution(_pipeline(emu))
    monitor = Monitor(client, rate=50.0)
    events: list[Any] = []
    monitor.subscribe(events.append)
    actions = Actions(client, monitor)
    emu.faults(throttle={"StopPipelineExecution": 1.0})
    try:
        with pytest.raises(AwsError) as refused:
            await actions.stop(arn)
        assert refused.value.is_throttling  # told to the user where they acted...
        assert monitor.health.throttled  # ...and to the header, and the polls slow down
        assert monitor.budget.rate < 50.0
        assert any(isinstance(e, HealthChanged) and e.health.throttled for e in events)
    finally:
        await monitor.stop()
