"""A session of weeks stays small: the monitor forgets a pipeline's finished executions beyond `history`,
and keeps what the user can see or needs (unfinished runs, the one open, rows in view, marked rows, the
successes the estimate of the time left reads). Against a private emulator over HTTP, on its paused clock.

Every execution here waits in a Callback step until the test answers it (success or failure), so the test
decides which runs finish, in what order, and when. The monitor runs on virtual time (`virtual_time`): the
emulator's clock moves with it, and a test waits in simulated seconds."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from emulator_proc import EmulatorProcess
from test_monitor import make_monitor, name
from virtual_time import VirtualTime

from smtui.core.client import SageMakerClient
from smtui.core.events import ExecutionsChanged

WAITS = json.dumps(
    {
        "Version": "2020-12-01",
        "Parameters": [],
        "Steps": [
            {
                "Name": "Approve",
                "Type": "Callback",
                "Arguments": {},
                "SqsQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/approvals",
                "OutputParameters": [],
            }
        ],
    }
)


def answer(emu: EmulatorProcess, arn: str, *, ok: bool) -> None:
    """Answer the execution's Callback step: it then succeeds, or fails."""
    sm = emu.boto()
    (step,) = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    token = step["Metadata"]["Callback"]["CallbackToken"]
    if ok:
        sm.send_pipeline_execution_step_success(CallbackToken=token)
    else:
        sm.send_pipeline_execution_step_failure(CallbackToken=token, FailureReason="rejected")


def forgotten(events: list[Any]) -> set[str]:
    return {arn for e in events if isinstance(e, ExecutionsChanged) for arn in e.arns}


async def test_old_finished_runs_are_forgotten_and_what_is_shown_running_or_estimated_stays(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = name("soak")
    emu.create_pipeline(pipeline, WAITS)

    def run() -> str:  # one a second: the list's order (newest first) is the order they start in
        arn = emu.start_execution(pipeline)
        emu.advance(1)
        return arn

    old_success, running, opened, shown, marked, dropped = (run() for _ in range(6))
    successes = [run() for _ in range(5)]
    recent = [run() for _ in range(3)]
    emu.advance(600)
    for arn in (old_success, *successes):
        answer(emu, arn, ok=True)  # each took about ten minutes
    for arn in (opened, shown, marked, dropped, *recent):
        answer(emu, arn, ok=False)
    emu.advance(5)

    vt = VirtualTime(emu)
    monitor = make_monitor(client, vt, pipeline, history=3)
    events: list[Any] = []
    monitor.subscribe(events.append)
    monitor.watch(opened)  # what the TUI tells it: the execution open, the rows in view, the marked ones
    monitor.set_visible([shown])
    monitor.keep([marked])
    await monitor.start()
    try:
        await vt.until(lambda: all(arn in monitor.executions for arn in recent))
        # The 3 newest finished runs; beyond them only what is held: running, open, in view, marked, and
        # the 5 latest successes (the estimate's); an older success and an unheld failure are forgotten.
        assert set(monitor.executions) == {running, opened, shown, marked, *successes, *recent}
        assert {old_success, dropped} <= forgotten(events)
        monitor.watch(opened)  # its screen, now open, reads its steps and definition
        await vt.until(lambda: monitor.tree(opened) is not None)
        await vt.settle(monitor)

        # Let go of them all; a new run arrives, and pushes the oldest of the 3 newest out too. The one
        # that was open goes with its steps, definition and refresh stamp.
        monitor.unwatch(opened)
        monitor.set_visible([])
        monitor.keep([])
        newest = emu.start_execution(pipeline)
        await vt.advance(1)
        answer(emu, newest, ok=False)
        await vt.advance(5)
        await vt.until(lambda: newest in monitor.executions and opened not in monitor.executions)
        assert set(monitor.executions) == {running, *successes, recent[1], recent[2], newest}
        assert {opened, shown, marked, recent[0]} <= forgotten(events)
        assert monitor.tree(opened) is None and monitor.runs(opened) == ()
        assert monitor.graph(opened) is None and monitor.last_refreshed(opened) is None

        # Lists that reach deeper (down to the running one, the oldest held) do not bring them back.
        listed = emu.stats()["ListPipelineExecutions"]
        await vt.until(lambda: emu.stats()["ListPipelineExecutions"] >= listed + 3)
        assert set(monitor.executions) == {running, *successes, recent[1], recent[2], newest}

        # A new run in view gets its time left from the successes kept (about ten minutes each).
        later = emu.start_execution(pipeline)
        await vt.until(lambda: later in monitor.executions)
        monitor.set_visible([later])
        await vt.until(lambda: monitor.estimate_remaining(later) is not None)
        left = monitor.estimate_remaining(later)
        assert left is not None and timedelta(minutes=9) < left < timedelta(minutes=11)
    finally:
        await monitor.stop()


async def test_a_session_without_screens_keeps_the_runs_it_follows(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    """`smtui wait` tells no rows in view: the executions it follows stay however old."""
    pipeline = name("soak")
    emu.create_pipeline(pipeline, WAITS)
    followed = emu.start_execution(pipeline)
    emu.advance(1)
    others = []
    for _ in range(4):
        others.append(emu.start_execution(pipeline))
        emu.advance(1)
    for arn in (followed, *others):
        answer(emu, arn, ok=False)
    emu.advance(5)
    vt = VirtualTime(emu)
    monitor = make_monitor(client, vt, pipeline, history=2, executions=[followed])
    await monitor.start()
    try:
        await vt.until(lambda: others[-1] in monitor.executions)
        listed = emu.stats()["ListPipelineExecutions"]  # a few more lists (its failed runs may be retried)
        await vt.until(lambda: emu.stats()["ListPipelineExecutions"] >= listed + 3)
        assert set(monitor.executions) == {followed, others[-2], others[-1]}
    finally:
        await monitor.stop()


async def test_runs_that_started_and_ended_between_two_looks_beyond_history_never_stay(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    """More runs than `history` arrive finished between two lists: the older ones go at once (no screen saw
    them), where a known run that just ended stays until the next list (screens see its end)."""
    pipeline = name("soak")
    emu.create_pipeline(pipeline, WAITS)
    old = emu.start_execution(pipeline)
    emu.advance(5)
    answer(emu, old, ok=False)
    emu.advance(5)
    vt = VirtualTime(emu)
    monitor = make_monitor(client, vt, pipeline, history=1, discovery_interval=60.0)
    monitor.set_visible([])
    await monitor.start()
    try:
        await vt.until(lambda: old in monitor.executions)
        await vt.settle(monitor)
        # Between two looks: they start and end while the monitor's clock stands still (no list runs).
        first = emu.start_execution(pipeline)
        emu.advance(1)
        second = emu.start_execution(pipeline)
        emu.advance(5)
        for arn in (first, second):
            answer(emu, arn, ok=False)
        emu.advance(5)
        monitor.nudge_pipeline(pipeline)  # as a ListPipelines that saw the pipeline's last run move
        await vt.until(lambda: second in monitor.executions)
        assert first not in monitor.executions and old not in monitor.executions
    finally:
        await monitor.stop()


async def test_the_steps_of_earlier_successes_are_read_once_an_unfinished_run_is_opened(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    """The time left of a running step goes by the same step's earlier successful runs: their steps are
    read (once each, after everything else) only while one of the pipeline's unfinished runs is open."""
    pipeline = name("steps")
    emu.create_pipeline(pipeline, WAITS)
    quick, slow = emu.start_execution(pipeline), emu.start_execution(pipeline)
    emu.advance(300)
    answer(emu, quick, ok=True)
    emu.advance(300)
    answer(emu, slow, ok=True)
    running = emu.start_execution(pipeline)
    emu.advance(5)
    vt = VirtualTime(emu)
    monitor = make_monitor(client, vt, pipeline)
    monitor.set_visible([])  # no row in view: nothing reads the finished runs' steps for a screen
    await monitor.start()
    try:
        await vt.until(lambda: {quick, slow, running} <= set(monitor.executions))
        await vt.settle(monitor)
        await vt.advance(120)
        assert monitor.runs(quick) == () and monitor.step_durations(running) == {}
        monitor.watch(running)
        await vt.until(lambda: len(monitor.step_durations(running).get("Approve", [])) == 2)
        took = sorted(monitor.step_durations(running)["Approve"])
        assert 290 < took[0] < 310 and 590 < took[1] < 610
    finally:
        await monitor.stop()
