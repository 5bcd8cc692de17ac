"""The monitor against a private emulator over HTTP: what it knows, and what it costs (read from
`/_emulator/stats`, so a cost regression fails here). Time moves with the emulator's clock, not sleeps."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from emulator_proc import DEFINITIONS, EmulatorProcess

from smtui.core.client import AwsTarget, SageMakerClient
from smtui.core.events import ExecutionsChanged, HealthChanged, StepsChanged
from smtui.core.model import ExecutionStatus, StepStatus
from smtui.core.monitor import Monitor

INTERVAL = 0.2  # the active interval in these tests: one "cycle"


async def until(predicate: Callable[[], bool], limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def definition(file: str) -> str:
    return (DEFINITIONS / file).read_text()


def make_monitor(client: SageMakerClient, **kw: Any) -> Monitor:
    options: dict[str, Any] = {
        "rate": 50.0,
        "active_interval": INTERVAL,
        "watched_interval": 0.1,
        "discovery_interval": 1.0,
    }
    options.update(kw)
    return Monitor(client, **options)


async def test_follows_condition_and_foreach_to_the_end_then_costs_nothing(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = name("cf")
    emu.create_pipeline(pipeline, definition("condition-foreach.json"))
    arn = emu.start_execution(pipeline)
    monitor = make_monitor(client)
    events: list[Any] = []
    monitor.subscribe(events.append)
    await monitor.start()
    try:
        await until(lambda: arn in monitor.executions)
        monitor.watch(arn)
        await until(lambda: monitor.tree(arn) is not None and monitor.running_steps(arn) == ("Preprocess",))
        assert monitor.progress(arn) == (0, 6)
        for _ in range(40):
            if emu.status(arn) != "Executing":
                break
            emu.advance(20)
            await asyncio.sleep(0.15)
        assert emu.status(arn) == "Succeeded"
        await until(lambda: monitor.executions[arn].ended is not None)
        tree = monitor.tree(arn)
        assert tree is not None
        nodes = {n.name: n for _, n in tree.walk()}
        assert monitor.executions[arn].status is ExecutionStatus.SUCCEEDED
        assert [nodes[f"ScoreShard-{i}"].run.iteration_item for i in range(3)] == ["a", "b", "c"]  # type: ignore[union-attr]
        assert all(nodes[f"ScoreShard-{i}"].status is StepStatus.SUCCEEDED for i in range(3))
        assert nodes["TooInaccurate"].skip_reason == "branch not taken (CheckAccuracy was True)"
        assert monitor.progress(arn) == (5, 5)
        assert any(isinstance(e, StepsChanged) and e.execution_arn == arn for e in events)
        assert any(isinstance(e, ExecutionsChanged) and arn in e.arns for e in events)
        assert monitor.last_refreshed(arn) is not None

        # Finished: its steps, definition and status cost nothing any more; the idle pipeline is not listed.
        await monitor.settle()
        before = emu.stats()
        await asyncio.sleep(8 * INTERVAL)
        after = emu.stats()
        spent = {op: after.get(op, 0) - before.get(op, 0) for op in after}
        assert {op for op, n in spent.items() if n} <= {"ListPipelines"}, spent
    finally:
        await monitor.stop()


async def test_calls_per_cycle_are_pipelines_with_activity_plus_active_executions(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    busy, other, idle = name("busy"), name("other"), name("idle")
    for p in (busy, other, idle):
        emu.create_pipeline(p, definition("train-retry-cache.json"))
    for _ in range(3):  # history: finished executions must cost nothing at all
        emu.run_until_done(emu.start_execution(idle))
    active = [emu.start_execution(busy), emu.start_execution(busy), emu.start_execution(other)]
    emu.advance(5)
    setup = emu.stats()
    monitor = make_monitor(client, discovery_interval=60.0)
    await monitor.start()
    try:
        await until(lambda: all(monitor.progress(a) is not None for a in active))
        await monitor.settle()
        loaded = emu.stats()
        initial = {op: loaded.get(op, 0) - setup.get(op, 0) for op in loaded}
        # One definition per active execution, none for history; no Describe: statuses come from the lists.
        assert initial["DescribePipelineDefinitionForExecution"] == 3
        assert initial["DescribePipelineExecution"] == 0
        assert initial["ListPipelines"] == 1
        assert initial["ListPipelineExecutions"] == 3  # each pipeline listed once to start with
        started = time.monotonic()
        await asyncio.sleep(12 * INTERVAL)
        elapsed = time.monotonic() - started
        after = emu.stats()
        spent = {op: after.get(op, 0) - loaded.get(op, 0) for op in after}
        cycles = elapsed / INTERVAL
        floor = 2 + 3  # pipelines with active executions + active executions
        assert sum(spent.values()) <= 1.2 * floor * (cycles + 1), spent
        assert spent.get("ListPipelineExecutions", 0) <= 1.2 * 2 * (cycles + 1), spent  # never the idle one
        assert spent.get("ListPipelineExecutionSteps", 0) >= 3 * cycles / 3, spent  # it does keep polling
        assert {op for op, n in spent.items() if n} <= {
            "ListPipelineExecutions",
            "ListPipelineExecutionSteps",
        }
    finally:
        await monitor.stop()


async def test_watched_beats_the_rest_and_new_runs_are_discovered(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = name("watch")
    emu.create_pipeline(pipeline, definition("train-retry-cache.json"))
    first, second = emu.start_execution(pipeline), emu.start_execution(pipeline)
    monitor = make_monitor(client, active_interval=1.0, watched_interval=0.1, discovery_interval=0.5)
    await monitor.start()
    try:
        await until(lambda: monitor.progress(first) is not None and monitor.progress(second) is not None)
        monitor.set_visible([])
        monitor.watch(first)
        await monitor.settle()
        emu.advance(5)  # both move from Starting to Executing
        await until(lambda: monitor.tree(first).roots[0].status is StepStatus.EXECUTING, limit=1.0)  # type: ignore[union-attr]
        # Over 2 s the watched one is polled every 0.1 s, the unwatched one (background: 3 s) at most once.
        polls: dict[str, set[Any]] = {first: set(), second: set()}
        for _ in range(100):
            for arn in polls:
                polls[arn].add(monitor.steps_refreshed(arn))
            await asyncio.sleep(0.02)
        assert len(polls[first]) >= 10, polls
        assert len(polls[second]) <= 2, polls
        idle = name("late")
        emu.create_pipeline(idle, definition("train-retry-cache.json"))
        late = emu.start_execution(idle)
        await until(lambda: late in monitor.executions, limit=3.0)  # found by discovery (ListPipelines)
    finally:
        await monitor.stop()


async def test_retry_and_cache_hit_reach_the_tree(emu: EmulatorProcess, client: SageMakerClient) -> None:
    pipeline = name("retry")
    emu.create_pipeline(pipeline, definition("train-retry-cache.json"))
    source = emu.start_execution(pipeline)
    assert emu.run_until_done(source, step=30) == "Succeeded"
    arn = emu.start_execution(pipeline)
    monitor = make_monitor(client)
    await monitor.start()
    try:
        await until(lambda: arn in monitor.executions)
        monitor.watch(arn)
        assert emu.run_until_done(arn, step=30) == "Succeeded"
        await until(lambda: monitor.executions[arn].status is ExecutionStatus.SUCCEEDED)
        await until(lambda: (monitor.progress(arn) or (0, 0))[0] == 3)
        tree = monitor.tree(arn)
        assert tree is not None
        nodes = {n.name: n for _, n in tree.walk()}
        assert nodes["Preprocess"].run is not None and nodes["Preprocess"].run.cache_source_arn == source
        assert (
            nodes["Train"].run is not None and nodes["Train"].run.attempt == 2
        )  # first attempt: CapacityError
        assert monitor.estimate_remaining(arn) is None  # finished: nothing left
    finally:
        await monitor.stop()


async def test_throttling_is_survived_nothing_lost_and_recovers(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = name("cf")
    emu.create_pipeline(pipeline, definition("condition-foreach.json"))
    arn = emu.start_execution(pipeline)
    monitor = make_monitor(client, rate=20.0)
    health: list[Any] = []
    monitor.subscribe(lambda e: health.append(e.health) if isinstance(e, HealthChanged) else None)
    await monitor.start()
    try:
        await until(lambda: arn in monitor.executions)
        monitor.watch(arn)
        ops = [
            "ListPipelines",
            "ListPipelineExecutions",
            "ListPipelineExecutionSteps",
            "DescribePipelineExecution",
            "DescribePipelineDefinitionForExecution",
        ]
        emu.faults(throttle={op: 0.2 for op in ops})
        for _ in range(40):
            if emu.status(arn) != "Executing":
                break
            emu.advance(20)
            await asyncio.sleep(0.2)
        assert any(h.throttled for h in health), "the header never said throttled"
        emu.faults()  # clear
        await until(lambda: monitor.executions[arn].status is ExecutionStatus.SUCCEEDED, limit=15)
        await until(lambda: monitor.progress(arn) == (5, 5), limit=15)
        # Still polling, no crash, and recovered: the next change is known within a couple of cycles.
        other = emu.start_execution(pipeline)
        seen = time.monotonic()
        await until(lambda: other in monitor.executions, limit=10)
        assert time.monotonic() - seen < 5.0
        await until(lambda: not monitor.health.throttled, limit=15)
    finally:
        await monitor.stop()


async def test_restart_reports_disconnected_then_catches_up(tmp_path: Any) -> None:
    state = tmp_path / "state.sqlite"
    emu = EmulatorProcess(state=state).start()
    try:
        pipeline = name("restart")
        emu.create_pipeline(pipeline, definition("train-retry-cache.json"))
        arn = emu.start_execution(pipeline)
        async with SageMakerClient.create(
            AwsTarget(region="us-east-1", endpoint_url=emu.url), max_attempts=1
        ) as sm:
            monitor = make_monitor(sm)
            await monitor.start()
            try:
                await until(lambda: monitor.progress(arn) is not None)
                monitor.watch(arn)
                emu.kill()
                await until(lambda: not monitor.health.connected, limit=10)
                assert monitor.health.error
                emu = EmulatorProcess(state=state, port=emu.port).start()
                assert emu.run_until_done(arn, step=30) == "Succeeded"
                await until(lambda: monitor.health.connected, limit=10)
                await until(lambda: monitor.executions[arn].status is ExecutionStatus.SUCCEEDED, limit=10)
                await until(lambda: monitor.progress(arn) == (3, 3), limit=10)
                assert monitor.health.error is None
            finally:
                await monitor.stop()
    finally:
        emu.stop()


async def test_refresh_now_sees_a_change_at_once(emu: EmulatorProcess, client: SageMakerClient) -> None:
    pipeline = name("refresh")
    emu.create_pipeline(pipeline, definition("train-retry-cache.json"))
    arn = emu.start_execution(pipeline)
    monitor = make_monitor(client, active_interval=30.0, watched_interval=30.0, discovery_interval=60.0)
    await monitor.start()
    try:
        await until(lambda: monitor.progress(arn) is not None)
        await monitor.settle()

        def first_step() -> StepStatus:
            tree = monitor.tree(arn)
            assert tree is not None
            return tree.roots[0].status

        assert first_step() is StepStatus.STARTING
        emu.advance(5)
        await asyncio.sleep(0.3)
        assert first_step() is StepStatus.STARTING  # the next poll is 30 s away
        await monitor.refresh_now()
        assert first_step() is StepStatus.EXECUTING
    finally:
        await monitor.stop()


async def test_estimate_of_time_left_comes_from_earlier_successful_runs(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = name("eta")
    emu.create_pipeline(pipeline, definition("train-retry-cache.json"))
    durations = []
    for _ in range(3):
        done = emu.start_execution(pipeline)
        assert emu.run_until_done(done, step=30) == "Succeeded"
        described = emu.boto().describe_pipeline_execution(PipelineExecutionArn=done)
        durations.append(described["LastModifiedTime"] - described["CreationTime"])
    arn = emu.start_execution(pipeline)
    started = emu.boto().describe_pipeline_execution(PipelineExecutionArn=arn)["CreationTime"]
    # The monitor's clock stands 40 s after the start (the emulator's clock is simulated).
    monitor = make_monitor(client, clock=lambda: started + timedelta(seconds=40))
    await monitor.start()
    try:
        await until(lambda: monitor.estimate_remaining(arn) is not None)
        expected = sorted(durations)[1] - timedelta(seconds=40)  # the median run, minus the elapsed 40 s
        estimate = monitor.estimate_remaining(arn)
        assert estimate is not None and abs((estimate - expected).total_seconds()) < 0.01
    finally:
        await monitor.stop()


async def test_watched_execution_keeps_its_pace_when_the_budget_is_short(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipelines = [name("short"), name("short")]
    for p in pipelines:
        emu.create_pipeline(p, definition("train-retry-cache.json"))
    arns = [emu.start_execution(pipelines[i % 2]) for i in range(8)]
    # 2 calls/s against a demand of ~15 (8 executions and 2 pipelines every 0.5 s, plus one-off fetches).
    monitor = make_monitor(
        client, rate=2.0, active_interval=0.5, watched_interval=0.5, background_interval=0.5
    )
    await monitor.start()
    try:
        await until(lambda: arns[-1] in monitor.executions, limit=10)
        monitor.watch(arns[-1])
        await until(lambda: monitor.steps_refreshed(arns[-1]) is not None, limit=10)
        seen = set()
        for _ in range(200):  # 4 s
            seen.add(monitor.steps_refreshed(arns[-1]))
            await asyncio.sleep(0.02)
        assert len(seen) >= 3, "the watched execution was starved by the backlog"  # ~1 poll/s
    finally:
        await monitor.stop()


async def test_a_finished_run_shows_no_progress_until_its_steps_are_read(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    # Its definition alone would count every step as skipped: the table showed `0/0` for a while.
    pipeline = name("done")
    emu.create_pipeline(pipeline, definition("condition-foreach.json"))
    arn = emu.start_execution(pipeline)
    assert emu.run_until_done(arn, step=30) in ("Succeeded", "Failed")
    monitor = make_monitor(client)
    seen: list[tuple[int, int] | None] = []
    monitor.subscribe(lambda _: seen.append(monitor.progress(arn)))
    await monitor.start()
    try:
        await until(lambda: arn in monitor.executions)
        monitor.watch(arn)
        await until(lambda: monitor.progress(arn) is not None)
        final = monitor.progress(arn)
        assert final is not None and final[0] > 0 and final[1] > 0
        assert {p for p in seen if p is not None} == {final}  # never a guess before the steps were read
    finally:
        await monitor.stop()
