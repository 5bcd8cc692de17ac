"""`smtui wait` runs on the monitor: what it costs (read from `/_emulator/stats`), executions older than
their pipeline's newest 100, and throttling or a lost connection that must not end the wait. `wait_for`
(what the command runs) runs in-process on virtual time (`virtual_time.VirtualTime`): the emulator's clock
moves with the monitor's, so a run of several simulated minutes takes the time of its calls. The command
line itself is tested in test_commands.py."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from emulator_proc import DEFINITIONS, EmulatorProcess
from virtual_time import VirtualTime

from smtui.core.client import AwsTarget, SageMakerClient
from smtui.core.format import EXECUTION_GLYPHS
from smtui.core.model import ExecutionStatus
from smtui.headless.wait import wait_for

CF = (DEFINITIONS / "condition-foreach.json").read_text()
RUNNING, FAILED, SUCCEEDED = (
    EXECUTION_GLYPHS[s]
    for s in (ExecutionStatus.EXECUTING, ExecutionStatus.FAILED, ExecutionStatus.SUCCEEDED)
)


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}


def events(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines if line.startswith("{")]


@asynccontextmanager
async def client_of(emu: EmulatorProcess, *, retries: bool = False) -> AsyncIterator[SageMakerClient]:
    """A client as the command makes one (botocore's retries on), or without retries."""
    target = AwsTarget(region="us-east-1", endpoint_url=emu.url)
    async with SageMakerClient.create(target, **({} if retries else {"max_attempts": 1})) as client:
        yield client


async def test_waiting_on_twenty_executions_costs_per_pipeline_not_per_execution(
    emu: EmulatorProcess,
) -> None:
    pipelines = [name("cf-many"), name("cf-many")]
    arns: list[str] = []
    for pipeline in pipelines:
        emu.create_pipeline(pipeline, CF)
        arns += [emu.start_execution(pipeline) for _ in range(10)]
    before = emu.stats()
    interval = 5.0
    vt = VirtualTime(emu)
    lines: list[str] = []
    async with client_of(emu) as client:
        # A budget well above what the pace asks for, so that the counts below measure the pace.
        waiting = asyncio.ensure_future(
            wait_for(
                client,
                arns,
                limit=None,
                interval=interval,
                as_json=True,
                echo=lines.append,
                rate=200.0,
                clock=vt.clock,
            )
        )
        # Every execution's steps read once (and the definitions), then 20 s for the step polls to stretch.
        await vt.until(lambda: delta(emu.stats(), before).get("ListPipelineExecutionSteps", 0) >= 20)
        await vt.advance(20.0)
        steady = emu.stats()
        window = (
            40.0  # eight of the old looks, which cost DescribePipelineExecution + steps per execution each
        )
        await vt.advance(window)  # the first step (60 s) runs on: nothing changes
        calls = delta(emu.stats(), steady)
        looks = window / interval
        assert calls.get("DescribePipelineExecution", 0) == 0  # the status comes from the pipelines' lists
        assert calls.get("ListPipelineExecutions", 0) <= len(pipelines) * (looks + 1)  # per pipeline
        assert calls.get("ListPipelineExecutionSteps", 0) <= 20 * looks / 2  # backs off while nothing changes
        assert sum(calls.values()) <= 2 * 20 * looks / 3  # the old way: 2 per execution per look
        assert await vt.run(waiting) == 0

    done = events(lines)[-1]
    assert done["event"] == "done" and done["succeeded"] is True
    assert [e["arn"] for e in done["executions"]] == arns
    assert all(e["status"] == "Succeeded" and e["elapsed_s"] > 0 for e in done["executions"])
    assert {e["pipeline"] for e in done["executions"]} == set(pipelines)
    progress = [e for e in events(lines) if e["event"] == "progress"]
    assert all(sum(1 for p in progress if p["arn"] == arn) >= 2 for arn in arns)
    assert progress[-1]["status"] == "Succeeded" and progress[-1]["done"] == progress[-1]["total"] == 5

    total = delta(emu.stats(), before)
    # Never polled: once per execution at the start, once more at its end (for the end time).
    assert total["DescribePipelineExecution"] == 2 * len(arns)
    # One definition per pipeline version, not per execution: the runs started just before the wait, so
    # the versions list is read twice (`definitions.MARGIN`); the first run of each reads its own meanwhile.
    assert total["DescribePipelineDefinitionForExecution"] == len(pipelines)
    assert total["ListPipelineVersions"] == 2 * len(pipelines)
    assert total["ListPipelines"] <= 2


async def test_an_execution_older_than_the_newest_hundred_is_followed_to_its_end(
    emu: EmulatorProcess,
) -> None:
    pipeline = name("cf-Old")  # mixed case: the ARN carries it lower-cased
    emu.create_pipeline(pipeline, CF)
    old = emu.start_execution(pipeline)
    boto = emu.boto()
    for _ in range(101):
        newer = emu.start_execution(pipeline)
        boto.stop_pipeline_execution(PipelineExecutionArn=newer)
    emu.advance(5)
    first_page = boto.list_pipeline_executions(PipelineName=pipeline, MaxResults=100)
    assert old not in {e["PipelineExecutionArn"] for e in first_page["PipelineExecutionSummaries"]}

    before = emu.stats()
    vt = VirtualTime(emu)
    lines: list[str] = []
    async with client_of(emu) as client:
        # Each list of its pipeline pages through the 101 newer runs down to it: a slower pace keeps it short.
        code = await vt.run(
            wait_for(
                client, [old], limit=None, interval=15.0, as_json=True, echo=lines.append, clock=vt.clock
            )
        )
    assert code == 0, lines
    progress = [e for e in events(lines) if e["event"] == "progress"]
    assert progress[0]["status"] == "Executing" and progress[-1]["status"] == "Succeeded"
    (execution,) = events(lines)[-1]["executions"]
    assert execution["arn"] == old and execution["status"] == "Succeeded"
    assert execution["pipeline"] == pipeline  # ListPipelines' spelling, not the ARN's
    calls = delta(emu.stats(), before)
    assert calls["DescribePipelineExecution"] <= 2
    assert calls["ListPipelineExecutionSteps"] >= 2  # its steps were followed (and not the others')
    assert calls["DescribePipelineDefinitionForExecution"] == 1


async def test_throttling_does_not_end_the_wait(emu: EmulatorProcess) -> None:
    """With botocore's own retries off: every refused call reaches the monitor."""
    ok_pipeline, bad_pipeline = name("cf-throttled"), name("broken-throttled")
    emu.create_pipeline(ok_pipeline, CF)
    emu.create_pipeline(bad_pipeline, (DEFINITIONS / "train-retry-cache.json").read_text())
    ok, bad = emu.start_execution(ok_pipeline), emu.start_execution(bad_pipeline)
    vt = VirtualTime(emu)
    lines: list[str] = []
    try:
        async with client_of(emu) as client:
            waiting = asyncio.ensure_future(
                wait_for(
                    client,
                    [ok, bad],
                    limit=None,
                    interval=10.0,
                    as_json=False,
                    echo=lines.append,
                    clock=vt.clock,
                )
            )
            await vt.until(lambda: bool(lines))  # its own calls made, the monitor follows both
            emu.faults(throttle={"*": 0.25})  # from now on a quarter of all calls refused, to the end
            code = await vt.run(waiting)
    finally:
        emu.faults()
    assert code == 1, lines  # one Failed
    assert any(line.startswith(f"{SUCCEEDED} ") and "Succeeded  5/5 steps" in line for line in lines)
    assert any(line.startswith(f"{FAILED} ") and "Failed" in line for line in lines)


async def test_a_lost_connection_does_not_end_the_wait(tmp_path: Any) -> None:
    """With botocore's own retries off (so that the outage reaches the monitor at once)."""
    state = tmp_path / "state.sqlite"
    emu = EmulatorProcess(state=state).start()
    lines: list[str] = []
    warnings: list[str] = []
    try:
        pipeline = name("cf-restart")
        emu.create_pipeline(pipeline, CF)
        arn = emu.start_execution(pipeline)
        vt = VirtualTime(emu)
        async with client_of(emu) as client:
            waiting = asyncio.ensure_future(
                wait_for(
                    client,
                    [arn],
                    limit=None,
                    interval=10.0,
                    as_json=False,
                    echo=lines.append,
                    warn=warnings.append,
                    clock=vt.clock,
                )
            )
            await vt.until(lambda: bool(lines))
            emu.kill()
            await vt.until(lambda: bool(warnings))
            assert "cannot reach the SageMaker endpoint" in warnings[0] and "still waiting" in warnings[0]
            assert not waiting.done()
            emu = vt.emu = EmulatorProcess(state=state, port=emu.port).start()
            assert await vt.run(waiting) == 0
    finally:
        emu.stop()
    assert lines[0].startswith(f"{RUNNING} ") and lines[-1].startswith(f"{SUCCEEDED} ")
    assert "Succeeded  5/5 steps" in lines[-1]
    assert len(warnings) == 1  # said once, not on every failed poll
