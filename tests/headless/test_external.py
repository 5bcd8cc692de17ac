"""`smtui show` and `smtui wait` while another client changes what they read: a run retried between two
reads, or while it is waited on (in-process, on virtual time: `virtual_time.VirtualTime`)."""

from __future__ import annotations

import asyncio
import uuid

from background import Background, Smtui
from emulator_proc import DEFINITIONS, EmulatorProcess, wait_until
from virtual_time import VirtualTime

from smtui.core.client import AwsTarget, SageMakerClient
from smtui.core.format import EXECUTION_GLYPHS, STEP_GLYPHS
from smtui.core.model import ExecutionStatus, StepStatus
from smtui.headless.wait import wait_for

TRAIN = (DEFINITIONS / "train-retry-cache.json").read_text()
CF = (DEFINITIONS / "condition-foreach.json").read_text()
RUNNING = {STEP_GLYPHS[s] for s in StepStatus if s.is_active}


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def failed_run(emu: EmulatorProcess) -> str:
    """A run of a `flaky-*` pipeline (its Train step fails once, then succeeds) that Failed."""
    pipeline = name("flaky")
    emu.create_pipeline(pipeline, TRAIN)
    arn = emu.start_execution(pipeline)
    assert emu.run_until_done(arn, step=30) == "Failed"
    return arn


def test_show_never_prints_a_step_running_under_a_finished_execution(
    smtui: Smtui, emu: EmulatorProcess
) -> None:
    arn = failed_run(emu)
    described = emu.stats().get("DescribePipelineExecution", 0)
    emu.faults(latency_ms=600)  # every call takes 0.6 s: room for another client's call in between
    try:
        showing = Background(smtui, "show", arn)
        # `show` has read the status: someone retries the run before it reads anything else.
        wait_until(lambda: emu.stats().get("DescribePipelineExecution", 0) > described, timeout=30)
        emu.boto().retry_pipeline_execution(PipelineExecutionArn=arn)
        result = showing.join(limit=60)
    finally:
        emu.faults()
    assert result.exit_code == 0, result.output
    header, _, *tree = result.output.splitlines()
    ended = {EXECUTION_GLYPHS[s] for s in ExecutionStatus if s.is_terminal}
    if header[0] in ended:
        running = [line for line in tree if line.lstrip("│├└─ ")[:1] in RUNNING]
        assert not running, result.output
    else:
        assert "failure:" not in result.output  # running again: the old failure is gone


async def test_wait_follows_a_run_retried_elsewhere_to_its_new_end(emu: EmulatorProcess) -> None:
    failed = failed_run(emu)
    other = name("cf-other")
    emu.create_pipeline(other, CF)
    running = emu.start_execution(other)
    lines: list[str] = []
    vt = VirtualTime(emu)
    glyph = EXECUTION_GLYPHS
    target = AwsTarget(region="us-east-1", endpoint_url=emu.url)
    async with SageMakerClient.create(target, max_attempts=1) as client:
        waiting = asyncio.ensure_future(
            wait_for(
                client,
                [failed, running],
                limit=None,
                interval=5.0,
                as_json=False,
                echo=lines.append,
                clock=vt.clock,
            )
        )
        failed_line = f"{glyph[ExecutionStatus.FAILED]} {failed}  Failed"
        await vt.until(
            lambda: any(line.startswith(failed_line) for line in lines)
        )  # the failed run, as it was
        emu.boto().retry_pipeline_execution(PipelineExecutionArn=failed)
        again = f"{glyph[ExecutionStatus.EXECUTING]} {failed}  Executing"
        await vt.until(lambda: any(line.startswith(again) for line in lines))
        assert await vt.run(waiting) == 0, lines  # both Succeeded in the end
    ends = [
        line for line in lines if line.startswith(f"{glyph[ExecutionStatus.SUCCEEDED]} {failed}  Succeeded")
    ]
    assert ends and "AlgorithmError" not in ends[-1] and "running:" not in ends[-1]
