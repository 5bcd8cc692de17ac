"""`smtui wait` runs on the monitor: what it costs (read from `/_emulator/stats`), executions older than
their pipeline's newest 100, and throttling that must not end the wait."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from background import Background, Smtui
from click.testing import Result
from emulator_proc import DEFINITIONS, EmulatorProcess, wait_until

from smtui.core.client import AwsTarget, SageMakerClient
from smtui.headless.wait import wait_for

CF = (DEFINITIONS / "condition-foreach.json").read_text()


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}


def events(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


@pytest.fixture
def fast_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """A call budget well above what the pace asks for, so that the counts below measure the pace."""
    monkeypatch.setenv("SMTUI_RATE", "200")


def test_waiting_on_twenty_executions_costs_per_pipeline_not_per_execution(
    smtui: Smtui, emu: EmulatorProcess, fast_budget: None
) -> None:
    pipelines = [name("cf-many"), name("cf-many")]
    arns: list[str] = []
    for pipeline in pipelines:
        emu.create_pipeline(pipeline, CF)
        arns += [emu.start_execution(pipeline) for _ in range(10)]
    before = emu.stats()
    interval = 0.25
    waiting = Background(smtui, "wait", *arns, "--json", "--interval", str(interval))

    # Every execution read once (definition, steps) while the clock stands still: nothing changes.
    wait_until(
        lambda: (
            delta(emu.stats(), before).get("ListPipelineExecutionSteps", 0) >= 20
            and delta(emu.stats(), before).get("DescribePipelineDefinitionForExecution", 0) >= 20
        )
    )
    steady = emu.stats()
    window = 2.0  # eight of the old looks, which cost DescribePipelineExecution + steps per execution each
    time.sleep(window)
    calls = delta(emu.stats(), steady)
    looks = window / interval
    assert calls.get("DescribePipelineExecution", 0) == 0  # the status comes from the pipelines' lists
    assert calls.get("ListPipelineExecutions", 0) <= len(pipelines) * (looks + 1)  # per pipeline
    assert calls.get("ListPipelineExecutionSteps", 0) <= 20 * looks / 2  # backs off while nothing changes
    assert sum(calls.values()) <= 2 * 20 * looks / 3  # the old way: 2 per execution per look

    result = waiting.join(emu)
    assert result.exit_code == 0, result.output
    done = events(result)[-1]
    assert done["event"] == "done" and done["succeeded"] is True
    assert [e["arn"] for e in done["executions"]] == arns
    assert all(e["status"] == "Succeeded" and e["elapsed_s"] > 0 for e in done["executions"])
    assert {e["pipeline"] for e in done["executions"]} == set(pipelines)
    progress = [e for e in events(result) if e["event"] == "progress"]
    assert all(sum(1 for p in progress if p["arn"] == arn) >= 2 for arn in arns)
    assert progress[-1]["status"] == "Succeeded" and progress[-1]["done"] == progress[-1]["total"] == 5

    total = delta(emu.stats(), before)
    # Never polled: once per execution at the start, once more at its end (for the end time).
    assert total["DescribePipelineExecution"] <= 2 * len(arns)
    assert total["DescribePipelineDefinitionForExecution"] == len(arns)
    assert total["ListPipelines"] <= 2


def test_an_execution_older_than_the_newest_hundred_is_followed_to_its_end(
    smtui: Smtui, emu: EmulatorProcess
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
    waiting = Background(smtui, "wait", old, "--json", "--interval", "0.05")
    wait_until(lambda: delta(emu.stats(), before).get("ListPipelineExecutionSteps", 0) >= 1)
    result = waiting.join(emu)  # only now does it run on, and end
    assert result.exit_code == 0, result.output
    progress = [e for e in events(result) if e["event"] == "progress"]
    assert progress[0]["status"] == "Executing" and progress[-1]["status"] == "Succeeded"
    (execution,) = events(result)[-1]["executions"]
    assert execution["arn"] == old and execution["status"] == "Succeeded"
    assert execution["pipeline"] == pipeline  # ListPipelines' spelling, not the ARN's
    calls = delta(emu.stats(), before)
    assert calls["DescribePipelineExecution"] <= 2
    assert calls["ListPipelineExecutionSteps"] >= 2  # its steps were followed (and not the others')
    assert calls["DescribePipelineDefinitionForExecution"] == 1


def test_throttling_does_not_end_the_wait(smtui: Smtui, emu: EmulatorProcess) -> None:
    ok_pipeline, bad_pipeline = name("cf-throttled"), name("broken-throttled")
    emu.create_pipeline(ok_pipeline, CF)
    emu.create_pipeline(bad_pipeline, (DEFINITIONS / "train-retry-cache.json").read_text())
    ok, bad = emu.start_execution(ok_pipeline), emu.start_execution(bad_pipeline)
    before = emu.stats()
    emu.faults(throttle={"*": 0.25})  # a quarter of all calls refused, for the whole wait
    try:
        waiting = Background(smtui, "wait", ok, bad, "--interval", "0.05")
        wait_until(lambda: delta(emu.stats(), before).get("ListPipelineExecutionSteps", 0) >= 2, timeout=30)
        result = waiting.join(emu)
    finally:
        emu.faults()
    assert result.exit_code == 1, result.output  # one Failed
    lines = result.stdout.splitlines()
    assert any(line.startswith("✔ ") and "Succeeded  5/5 steps" in line for line in lines)
    assert any(line.startswith("✘ ") and "Failed" in line for line in lines)


async def until(predicate: Callable[[], bool], limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_a_lost_connection_does_not_end_the_wait(tmp_path: Any) -> None:
    """In-process, with botocore's own retries off (so that the outage reaches the monitor at once)."""
    state = tmp_path / "state.sqlite"
    emu = EmulatorProcess(state=state).start()
    lines: list[str] = []
    warnings: list[str] = []
    try:
        pipeline = name("cf-restart")
        emu.create_pipeline(pipeline, CF)
        arn = emu.start_execution(pipeline)
        target = AwsTarget(region="us-east-1", endpoint_url=emu.url)
        async with SageMakerClient.create(target, max_attempts=1) as client:
            waiting = asyncio.create_task(
                wait_for(
                    client,
                    [arn],
                    limit=None,
                    interval=0.05,
                    as_json=False,
                    echo=lines.append,
                    warn=warnings.append,
                )
            )
            await until(lambda: bool(lines))
            emu.kill()
            await until(lambda: bool(warnings))
            assert "cannot reach the SageMaker endpoint" in warnings[0] and "still waiting" in warnings[0]
            assert not waiting.done()
            emu = EmulatorProcess(state=state, port=emu.port).start()
            deadline = time.monotonic() + 30
            while not waiting.done() and time.monotonic() < deadline:
                await asyncio.to_thread(emu.advance, 15)
                await asyncio.wait({waiting}, timeout=0.05)
            assert await waiting == 0
    finally:
        emu.stop()
    assert lines[0].startswith("▶ ") and lines[-1].startswith("✔ ") and "Succeeded  5/5 steps" in lines[-1]
    assert len(warnings) == 1  # said once, not on every failed poll
