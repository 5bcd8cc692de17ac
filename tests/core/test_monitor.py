"""The monitor against a private emulator over HTTP: what it knows, and what it costs (read from
`/_emulator/stats`, so a cost regression fails here). Time is virtual (`virtual_time.VirtualTime`): the
monitor's clock and the emulator's paused clock move together when a test advances them, and durations are
simulated seconds."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from emulator_proc import DEFINITIONS, EmulatorProcess
from virtual_time import VirtualTime

from smtui.core.client import AwsTarget, SageMakerClient
from smtui.core.events import ExecutionsChanged, HealthChanged, StepsChanged
from smtui.core.model import ExecutionStatus, StepStatus
from smtui.core.monitor import Monitor

INTERVAL = 5.0  # the active interval in these tests (the default): one "cycle"


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def definition(file: str) -> str:
    return (DEFINITIONS / file).read_text()


def make_monitor(client: SageMakerClient, vt: VirtualTime, *pipelines: str, **kw: Any) -> Monitor:
    """A monitor on virtual time, scoped to the test's pipelines (a worker's tests share the emulator)."""
    options: dict[str, Any] = {
        "pipelines": pipelines,
        "rate": 50.0,
        "active_interval": INTERVAL,
        "watched_interval": 1.0,
        "discovery_interval": 10.0,
        "clock": vt.clock,
    }
    options.update(kw)
    return Monitor(client, **options)


def spent_since(emu: EmulatorProcess, before: dict[str, int]) -> dict[str, int]:
    after = emu.stats()
    return {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}


async def test_follows_condition_and_foreach_to_the_end_then_costs_nothing(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = name("cf")
    emu.create_pipeline(pipeline, definition("condition-foreach.json"))
    arn = emu.start_execution(pipeline)
    vt = VirtualTime(emu)
    monitor = make_monitor(client, vt, pipeline)
    events: list[Any] = []
    monitor.subscribe(events.append)
    await monitor.start()
    try:
        await vt.until(lambda: arn in monitor.executions)
        monitor.watch(arn)
        await vt.until(
            lambda: monitor.tree(arn) is not None and monitor.running_steps(arn) == ("Preprocess",)
        )
        assert monitor.progress(arn) == (0, 6)
        await vt.until(lambda: monitor.executions[arn].ended is not None)
        assert emu.status(arn) == "Succeeded"
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
        await vt.settle(monitor)
        before = emu.stats()
        await vt.advance(8 * INTERVAL)
        assert set(spent_since(emu, before)) <= {"ListPipelines"}, spent_since(emu, before)
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
    vt = VirtualTime(emu)
    monitor = make_monitor(client, vt, busy, other, idle, discovery_interval=600.0)
    await monitor.start()
    try:
        await vt.until(lambda: all(monitor.progress(a) is not None for a in active))
        await vt.settle(monitor)
        loaded = emu.stats()
        initial = spent_since(emu, setup)
        # One definition per active execution, none for history; no Describe: statuses come from the lists.
        assert initial["DescribePipelineDefinitionForExecution"] == 3
        assert "DescribePipelineExecution" not in initial
        assert initial["ListPipelines"] == 1
        assert initial["ListPipelineExecutions"] == 3  # each pipeline listed once to start with
        cycles = 12
        await vt.advance(cycles * INTERVAL)
        spent = spent_since(emu, loaded)
        floor = 2 + 3  # pipelines with active executions + active executions
        assert sum(spent.values()) <= 1.2 * floor * (cycles + 1), spent
        assert spent.get("ListPipelineExecutions", 0) <= 1.2 * 2 * (cycles + 1), spent  # never the idle one
        assert spent.get("ListPipelineExecutionSteps", 0) >= 3 * cycles / 3, spent  # it does keep polling
        assert set(spent) <= {"ListPipelineExecutions", "ListPipelineExecutionSteps"}
    finally:
        await monitor.stop()


async def test_watched_beats_the_rest_and_new_runs_are_discovered(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = name("watch")
    emu.create_pipeline(pipeline, definition("train-retry-cache.json"))
    first, second = emu.start_execution(pipeline), emu.start_execution(pipeline)
    idle = name("late")  # created later
    vt = VirtualTime(emu)
    monitor = make_monitor(
        client, vt, pipeline, idle, active_interval=10.0, watched_interval=1.0, discovery_interval=5.0
    )
    await monitor.start()
    try:
        await vt.until(lambda: monitor.progress(first) is not None and monitor.progress(second) is not None)
        monitor.set_visible([])
        monitor.watch(first)
        await vt.settle(monitor)
        # Both move from Starting to Executing; the watched one is seen within its pace.
        took = await vt.until(lambda: monitor.tree(first).roots[0].status is StepStatus.EXECUTING)  # type: ignore[union-attr]
        assert took <= 1.0 + 1.0  # the step starts 1 s in; the watched pace is 1 s
        # Over 20 s the watched one is polled every second, the unwatched one (background: 30 s) at most once.
        polls: dict[str, set[datetime | None]] = {first: set(), second: set()}

        def see() -> None:
            for arn, seen in polls.items():
                seen.add(monitor.steps_refreshed(arn))

        await vt.observe(see, 20.0)
        assert len(polls[first]) >= 18, polls
        assert len(polls[second]) <= 2, polls
        emu.create_pipeline(idle, definition("train-retry-cache.json"))
        late = emu.start_execution(idle)
        took = await vt.until(lambda: late in monitor.executions)  # found by discovery (ListPipelines)
        assert took <= 5.0 + 0.5  # within the discovery interval
    finally:
        await monitor.stop()


async def test_retry_and_cache_hit_reach_the_tree(emu: EmulatorProcess, client: SageMakerClient) -> None:
    pipeline = name("retry")
    emu.create_pipeline(pipeline, definition("train-retry-cache.json"))
    source = emu.start_execution(pipeline)
    assert emu.run_until_done(source, step=30) == "Succeeded"
    arn = emu.start_execution(pipeline)
    vt = VirtualTime(emu)
    monitor = make_monitor(client, vt, pipeline)
    await monitor.start()
    try:
        await vt.until(lambda: arn in monitor.executions)
        monitor.watch(arn)
        await vt.until(lambda: monitor.executions[arn].status is ExecutionStatus.SUCCEEDED)
        await vt.until(lambda: (monitor.progress(arn) or (0, 0))[0] == 3)
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
    vt = VirtualTime(emu)
    monitor = make_monitor(client, vt, pipeline, rate=20.0)
    health: list[Any] = []
    monitor.subscribe(lambda e: health.append(e.health) if isinstance(e, HealthChanged) else None)
    await monitor.start()
    try:
        await vt.until(lambda: arn in monitor.executions)
        monitor.watch(arn)
        ops = [
            "ListPipelines",
            "ListPipelineExecutions",
            "ListPipelineExecutionSteps",
            "DescribePipelineExecution",
            "DescribePipelineDefinitionForExecution",
        ]
        emu.faults(throttle={op: 0.2 for op in ops})
        await vt.until(lambda: monitor.executions[arn].status is not ExecutionStatus.EXECUTING)
        assert any(h.throttled for h in health), "the header never said throttled"
        emu.faults()  # clear
        assert monitor.executions[arn].status is ExecutionStatus.SUCCEEDED
        await vt.until(lambda: monitor.progress(arn) == (5, 5))
        # Recovered, and still polling: the next run is known within two discovery intervals.
        other = emu.start_execution(pipeline)
        took = await vt.until(lambda: other in monitor.executions)
        assert took <= 2 * 10.0
        await vt.until(lambda: not monitor.health.throttled)
    finally:
        await monitor.stop()


async def test_restart_reports_disconnected_then_catches_up(tmp_path: Any) -> None:
    state = tmp_path / "state.sqlite"
    emu = EmulatorProcess(state=state).start()
    try:
        pipeline = name("restart")
        emu.create_pipeline(pipeline, definition("train-retry-cache.json"))
        arn = emu.start_execution(pipeline)
        vt = VirtualTime(emu)
        async with SageMakerClient.create(
            AwsTarget(region="us-east-1", endpoint_url=emu.url), max_attempts=1
        ) as sm:
            monitor = make_monitor(sm, vt, pipeline)
            await monitor.start()
            try:
                await vt.until(lambda: monitor.progress(arn) is not None)
                monitor.watch(arn)
                emu.kill()
                await vt.until(lambda: not monitor.health.connected)
                assert monitor.health.error
                emu = vt.emu = EmulatorProcess(state=state, port=emu.port).start()
                await vt.until(lambda: monitor.health.connected)
                await vt.until(lambda: monitor.executions[arn].status is ExecutionStatus.SUCCEEDED)
                assert emu.status(arn) == "Succeeded"
                await vt.until(lambda: monitor.progress(arn) == (3, 3))
                assert monitor.health.error is None
            finally:
                await monitor.stop()
    finally:
        emu.stop()


async def test_refresh_now_sees_a_change_at_once(emu: EmulatorProcess, client: SageMakerClient) -> None:
    pipeline = name("refresh")
    emu.create_pipeline(pipeline, definition("train-retry-cache.json"))
    arn = emu.start_execution(pipeline)
    vt = VirtualTime(emu)
    monitor = make_monitor(
        client, vt, pipeline, active_interval=30.0, watched_interval=30.0, discovery_interval=60.0
    )
    await monitor.start()
    try:
        await vt.until(lambda: monitor.progress(arn) is not None)
        await vt.settle(monitor)

        def first_step() -> StepStatus:
            tree = monitor.tree(arn)
            assert tree is not None
            return tree.roots[0].status

        assert first_step() is StepStatus.STARTING
        await vt.advance(5)
        assert first_step() is StepStatus.STARTING  # the next poll is 30 s away
        await vt.run(monitor.refresh_now(), limit=0.5)
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
    vt = VirtualTime(emu)
    monitor = make_monitor(client, vt, pipeline)
    await monitor.start()
    try:
        await vt.advance(40)
        await vt.until(lambda: monitor.estimate_remaining(arn) is not None)
        elapsed = vt.clock.now() - started  # the monitor's clock is the emulator's
        expected = sorted(durations)[1] - elapsed  # the median run, minus the elapsed time
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
    vt = VirtualTime(emu)
    monitor = make_monitor(
        client, vt, *pipelines, rate=2.0, active_interval=0.5, watched_interval=0.5, background_interval=0.5
    )
    await monitor.start()
    try:
        await vt.until(lambda: arns[-1] in monitor.executions)
        monitor.watch(arns[-1])
        await vt.until(lambda: monitor.steps_refreshed(arns[-1]) is not None)
        seen: set[datetime | None] = set()
        await vt.observe(lambda: seen.add(monitor.steps_refreshed(arns[-1])), 4.0)
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
    vt = VirtualTime(emu)
    monitor = make_monitor(client, vt, pipeline)
    seen: list[tuple[int, int] | None] = []
    monitor.subscribe(lambda _: seen.append(monitor.progress(arn)))
    await monitor.start()
    try:
        await vt.until(lambda: arn in monitor.executions)
        monitor.watch(arn)
        await vt.until(lambda: monitor.progress(arn) is not None)
        final = monitor.progress(arn)
        assert final is not None and final[0] > 0 and final[1] > 0
        assert {p for p in seen if p is not None} == {final}  # never a guess before the steps were read
    finally:
        await monitor.stop()
