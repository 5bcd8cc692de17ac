"""The monitor's adaptive costs, against an emulator over HTTP: quiet executions are polled less until
something changes, step polls carry the news of a stop to the status, and finished executions off screen
cost nothing more. Counts come from `/_emulator/stats` or from when the monitor last refreshed something;
time is virtual (`virtual_time.VirtualTime`), and durations are simulated seconds."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from itertools import pairwise
from pathlib import Path

from emulator_proc import EmulatorProcess
from test_monitor import definition, make_monitor, name
from virtual_time import VirtualTime

from smtui.core.client import AwsTarget, SageMakerClient
from smtui.core.model import ExecutionStatus, StepStatus
from smtui.core.monitor import Monitor

HOUR = 3600.0


async def step_polls(vt: VirtualTime, monitor: Monitor, arns: list[str], seconds: float) -> dict[str, int]:
    """How many times each execution's steps were read over the next `seconds`."""
    seen: dict[str, set[datetime | None]] = {a: {monitor.steps_refreshed(a)} for a in arns}

    def see() -> None:
        for arn in arns:
            seen[arn].add(monitor.steps_refreshed(arn))

    await vt.observe(see, seconds)
    return {a: len(s) - 1 for a, s in seen.items()}


async def test_quiet_executions_are_polled_less_until_something_changes(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = name("quiet")
    emu.create_pipeline(pipeline, definition("train-retry-cache.json"))
    watched, shown = emu.start_execution(pipeline), emu.start_execution(pipeline)
    emu.advance(5)  # both are in their first step, which lasts 60 simulated seconds: nothing will change
    vt = VirtualTime(emu)
    monitor = make_monitor(client, vt, pipeline, active_interval=1.0, watched_interval=1.0)
    monitor.set_visible([shown])
    await monitor.start()
    try:
        await vt.until(lambda: monitor.progress(watched) is not None and monitor.progress(shown) is not None)
        monitor.watch(watched)
        await vt.advance(5.0)  # the visible one's pace has stretched to its cap by now
        polls = await step_polls(vt, monitor, [watched, shown], 15.0)
        # Over 15 s at 1 s each would be 15 polls: the watched one keeps that pace, the quiet visible one
        # stretches to 3x (3 s), i.e. about 5.
        assert polls[watched] >= 14, polls
        assert polls[shown] <= 6, polls

        def second_step_running() -> bool:
            tree = monitor.tree(shown)
            return tree is not None and tree.roots[0].status is StepStatus.SUCCEEDED

        await vt.until(second_step_running)  # the first step ends, the next starts: the next poll sees it
        tree = monitor.tree(shown)
        assert tree is not None and tree.roots[0].run is not None and tree.roots[0].run.ended is not None
        late = (vt.clock.now() - tree.roots[0].run.ended).total_seconds()
        assert late <= 3.0  # within the stretched interval
        # A change brings the pace back: the next polls come at 1 s again, then stretch.
        polls = await step_polls(vt, monitor, [shown], 2.5)
        assert polls[shown] >= 2, polls
    finally:
        await monitor.stop()


async def test_a_stop_seen_in_the_steps_reaches_the_status_before_the_lists_turn(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = name("stopnews")
    emu.create_pipeline(pipeline, definition("train-retry-cache.json"))
    arn = emu.start_execution(pipeline)
    emu.advance(5)
    vt = VirtualTime(emu)
    # Steps every second (visible), the pipeline's list only every hour.
    monitor = make_monitor(
        client, vt, pipeline, active_interval=1.0, visible_status_interval=HOUR, discovery_interval=HOUR
    )
    await monitor.start()
    try:
        await vt.until(lambda: monitor.progress(arn) is not None)
        await vt.settle(monitor)
        emu.boto().stop_pipeline_execution(PipelineExecutionArn=arn)
        took = await vt.until(lambda: monitor.executions[arn].status is not ExecutionStatus.EXECUTING)
        assert took <= 3.0  # a step poll's pace, not the list's hour
        assert monitor.executions[arn].status in (ExecutionStatus.STOPPING, ExecutionStatus.STOPPED)
    finally:
        await monitor.stop()


async def test_an_execution_that_ends_off_screen_costs_no_describe_until_it_is_shown(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = name("offscreen")
    emu.create_pipeline(pipeline, definition("train-retry-cache.json"))
    history = emu.start_execution(pipeline)
    assert emu.run_until_done(history, step=30) == "Succeeded"
    arn = emu.start_execution(pipeline)
    vt = VirtualTime(emu)
    monitor = make_monitor(client, vt, pipeline)
    monitor.set_visible([])  # nothing on screen: no estimate is shown, so no end times of earlier runs
    await monitor.start()
    try:
        await vt.until(lambda: monitor.progress(arn) is not None)
        before = emu.stats().get("DescribePipelineExecution", 0)
        await vt.until(lambda: monitor.executions[arn].status is ExecutionStatus.SUCCEEDED)  # 3 steps of 60 s
        await vt.settle(monitor)
        assert emu.stats().get("DescribePipelineExecution", 0) == before
        assert monitor.executions[arn].ended is None

        monitor.set_visible([arn])  # scrolled into view: its end time is fetched, once
        await vt.until(lambda: monitor.executions[arn].ended is not None)
        await vt.advance(60)
        assert emu.stats().get("DescribePipelineExecution", 0) == before + 1
    finally:
        await monitor.stop()


@asynccontextmanager
async def after_a_first_run(
    definition_text: str, *args: str, scenario: bool = True
) -> AsyncIterator[tuple[EmulatorProcess, VirtualTime, Monitor, str]]:
    """An emulator whose clock runs at 20x the monitor's, with a pipeline whose first run has ended, and a
    monitor (0.2 s pace, 0.6 s stretched, new runs found within 1 s) that saw it end, so the pipeline's
    step history is known."""
    emu = EmulatorProcess(*args, scenario=scenario).start()
    try:
        target = AwsTarget(region="us-east-1", endpoint_url=emu.url)
        async with SageMakerClient.create(target, max_attempts=1) as client:
            pipeline = name("history")
            emu.create_pipeline(pipeline, definition_text)
            first = emu.start_execution(pipeline)
            vt = VirtualTime(emu, rate=20)
            paces = {"active_interval": 0.2, "watched_interval": 0.2, "background_interval": 0.6}
            monitor = make_monitor(client, vt, pipeline, discovery_interval=1.0, **paces)

            def every_step_done() -> bool:
                done = monitor.progress(first)
                return done is not None and done[0] == done[1] > 0

            await monitor.start()
            try:
                await vt.until(every_step_done)
                yield emu, vt, monitor, pipeline
            finally:
                await monitor.stop()
    finally:
        emu.stop()


async def test_a_row_waits_while_no_running_step_can_have_ended_yet() -> None:
    """Train took 60 simulated seconds in the earlier run: a visible row running it is not polled before
    that, and its end is still seen at the row's pace. The emulator runs at 20x the monitor's clock here.
    (Preprocess is a cache hit the second time.)"""
    async with after_a_first_run(definition("train-retry-cache.json")) as (emu, vt, monitor, pipeline):
        second = emu.start_execution(pipeline)

        def train() -> StepStatus | None:
            tree = monitor.tree(second)
            return None if tree is None else tree.roots[1].status

        await vt.until(lambda: train() is StepStatus.EXECUTING)
        # At the row's pace that would be 4 or more polls in 2 s (0.2 s, stretching to 0.6 s).
        polls = await step_polls(vt, monitor, [second], 2.0)
        assert polls[second] <= 1, polls
        await vt.until(lambda: train() is StepStatus.SUCCEEDED)
        seen = vt.clock.now()
        tree = monitor.tree(second)
        assert tree is not None and tree.roots[1].run is not None and tree.roots[1].run.ended is not None
        late = (seen - tree.roots[1].run.ended).total_seconds() / 20
        assert late <= 0.6, late  # within the row's stretched pace


def _one_step(step_type: str) -> str:
    """A pipeline of one step named Train, of this type."""
    step: dict[str, object] = {"Name": "Train", "Type": step_type, "Arguments": {}}
    if step_type == "Lambda":
        step["FunctionArn"] = "arn:aws:lambda:us-east-1:123456789012:function:train"
    return json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": [step]})


async def test_after_waiting_out_the_shortest_run_a_row_polls_at_its_stretched_pace(tmp_path: Path) -> None:
    """Train took 101 simulated seconds last time and takes 161 now (emulator at 20x). The row waits out the
    first 101 (about 5 s), then polls at the pace it would have reached by polling all along (0.6 s), not
    from its start pace again (0.2 s): history only removes polls."""
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(
        "[defaults]\nstart_delay = 1\n[types.Lambda]\nduration = 100\n[types.Training]\nduration = 160\n"
    )
    async with after_a_first_run(_one_step("Lambda"), "--scenario", str(scenario), scenario=False) as (
        emu,
        vt,
        monitor,
        pipeline,
    ):
        emu.boto().update_pipeline(PipelineName=pipeline, PipelineDefinition=_one_step("Training"))
        second = emu.start_execution(pipeline)

        def train() -> StepStatus | None:
            tree = monitor.tree(second)
            return None if tree is None else tree.roots[0].status

        await vt.until(lambda: train() is StepStatus.EXECUTING)
        polls = [vt.monotonic()]  # the poll that saw Train start
        last = monitor.steps_refreshed(second)

        def see() -> bool:
            nonlocal last
            if train() is StepStatus.SUCCEEDED:
                return True  # the poll that saw its end may be the end's (its pipeline's list saw it first)
            if monitor.steps_refreshed(second) != last:
                last = monitor.steps_refreshed(second)
                polls.append(vt.monotonic())
            return False

        await vt.until(see, limit=60)
        gaps = [b - a for a, b in pairwise(polls)]
        # Waits of at most 12 intervals (2.4 s) while Train cannot have ended (5 s)...
        waits = [gap for gap in gaps if gap > 1.0]
        assert sum(waits) > 3.5, gaps
        # ...then the stretched pace (0.6 s), not the start pace again (0.2, 0.3, 0.45 s).
        assert len(gaps) > len(waits) + 2, gaps
        assert min(gaps) > 0.5, gaps
