"""Following a step's logs over HTTP against the emulator, on a simulated clock: every wait of the follower
(and of its budget) advances the emulator's clock instead of sleeping, so time is exact and tests are fast.

What a user would notice: every line of the job once, in order, soon after it is written; the follow ends
by itself after the step ends; a step without logs says why; the Logs calls stay within their budget
(counted by the emulator) and back off when throttled."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from emulator_proc import CREDS, DEFINITIONS, EmulatorProcess

from smtui.core.client import SageMakerClient
from smtui.core.definition import parse_definition
from smtui.core.log_follow import LogFollows
from smtui.core.logs import LogEvent, LogFollowChanged, LogLinesRead, LogState, epoch_ms
from smtui.core.logs_client import LogsClient
from smtui.core.model import StepNode, StepTree
from smtui.core.tree import build_tree

TRAIN = (DEFINITIONS / "train-retry-cache.json").read_text()
CF = (DEFINITIONS / "condition-foreach.json").read_text()


class SimClock:
    """Simulated seconds: `sleep(s)` advances the emulator's clock by s and returns at once, after
    `after_advance` (the test's stand-in for the monitor's step polls). Only the follower sleeps on it, so
    simulated time is exactly the sum of its waits."""

    def __init__(
        self, emu: EmulatorProcess, after_advance: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self.emu = emu
        self.t = 0.0
        self.after_advance = after_advance

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds
        self.emu.advance(seconds)
        if self.after_advance is not None:
            await self.after_advance()


@dataclass
class Followed:
    """What a follow published, with the simulated time of each event."""

    lines: list[tuple[float, str, int]] = field(default_factory=list)  # (sim time, message, timestamp)
    states: list[LogFollowChanged] = field(default_factory=list)
    final: LogState | None = None
    rates: list[float] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        return [message for _, message, _ in self.lines]


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def logs_of(emu: EmulatorProcess) -> Any:
    return boto3.client(
        "logs",
        endpoint_url=emu.url,
        region_name="us-east-1",
        aws_access_key_id=CREDS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDS["AWS_SECRET_ACCESS_KEY"],
    )


def job_log(emu: EmulatorProcess, group: str, job: str) -> list[str]:
    """The whole log of a job as the service holds it (read with boto3, outside the follower)."""
    events = logs_of(emu).filter_log_events(logGroupName=group, logStreamNamePrefix=f"{job}/")["events"]
    return [e["message"] for e in events]


async def tree_of(client: SageMakerClient, arn: str) -> StepTree:
    execution = await client.describe_execution(arn)
    graph = parse_definition(await client.definition(arn))
    return build_tree(graph, execution, await client.list_steps(arn), now=client.now())


def node_of(tree: StepTree, step: str) -> StepNode:
    return next(node for _, node in tree.walk() if node.name == step)


def advance_until(emu: EmulatorProcess, arn: str, step: str, status: str, limit: int = 200) -> None:
    sm = emu.boto()
    for _ in range(limit):
        steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
        if any(s["StepName"] == step and s["StepStatus"] == status for s in steps):
            return
        emu.advance(1)
    raise AssertionError(f"{step} never {status}")


async def follow(
    client: SageMakerClient,
    emu: EmulatorProcess,
    arn: str,
    step: str,
    *,
    follow: bool = True,
    interval: float = 2.0,
    max_interval: float = 10.0,
    quiet_after: float = 30.0,
    rate: float = 2.0,
    mode: str = "filter",
    on_logs: Callable[[LogsClient], None] | None = None,
) -> Followed:
    """Follow `step` as a view would, the test standing in for the monitor: it reads the step each time the
    follower's clock advances (with `follow`), and passes the tree on."""
    follows: LogFollows | None = None

    async def step_poll() -> None:
        if follow and follows is not None:
            follows.tree_changed(arn, await tree_of(client, arn))

    clock = SimClock(emu, step_poll)
    seen = Followed()
    async with LogsClient(client, rate=rate, clock=clock) as logs:
        if on_logs is not None:
            on_logs(logs)

        def publish(event: LogEvent) -> None:
            seen.rates.append(logs.budget.rate)
            if isinstance(event, LogLinesRead):
                seen.lines += [(clock.t, line.message, line.timestamp) for line in event.lines]
            else:
                seen.states.append(event)

        follows = LogFollows(
            logs,
            client,
            publish=publish,
            interval=interval,
            max_interval=max_interval,
            quiet_after=quiet_after,
            mode=mode,
        )
        tree = await tree_of(client, arn)
        follows.follow(arn, node_of(tree, step), follow=follow)
        states = await follows.join()
        seen.final = states[(arn, step)]
    return seen


async def test_follow_shows_every_line_once_soon_after_it_is_written_and_ends_with_the_step(
    client: SageMakerClient, emu: EmulatorProcess
) -> None:
    pipeline = name("broken")
    emu.create_pipeline(pipeline, TRAIN)
    arn = emu.start_execution(pipeline)
    advance_until(emu, arn, "Train", "Executing")
    start = emu._control("health")["now"]
    before = emu.stats()

    seen = await follow(client, emu, arn, "Train")

    source = seen.states[-1].source
    assert source is not None and source.job_name is not None
    job_arn = emu.boto().list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"][0]
    lowered = job_arn["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[1]
    # The ARN carries the name lower-cased; the streams are found under its exact case, from Describe.
    assert source.job_name != lowered and source.job_name.lower() == lowered
    assert seen.messages == job_log(emu, "/aws/sagemaker/TrainingJobs", source.job_name)
    assert seen.messages[-1].startswith("Traceback") and "AlgorithmError" in seen.messages[-1]
    assert len(seen.messages) == len(set(seen.messages))
    # Each line arrived within one read interval (2 s, stretched to 10 s at most while the log is quiet)
    # of the simulated time it was written (or of the start of the follow).
    for at, message, stamp in seen.lines:
        written = max(stamp / 1000, start)
        assert at + start - written <= 10.0, (message, at + start - written)
    assert seen.final is LogState.ENDED and seen.states[-1].final
    calls = {op: n - before.get(op, 0) for op, n in emu.stats().items()}
    assert calls["DescribeTrainingJob"] == 1
    assert calls["FilterLogEvents"] > 3  # it did follow: several reads, each line printed once still


async def test_the_budget_holds_when_reads_would_want_more(
    client: SageMakerClient, emu: EmulatorProcess
) -> None:
    pipeline = name("logs")
    emu.create_pipeline(pipeline, TRAIN)
    arn = emu.start_execution(pipeline)
    advance_until(emu, arn, "Preprocess", "Executing")
    begin = emu._control("health")["now"]
    before = emu.stats().get("FilterLogEvents", 0)

    # A read every 50 ms, quiet or not, would be 20 calls/s: the budget of 1 call/s decides.
    seen = await follow(client, emu, arn, "Preprocess", interval=0.05, max_interval=0.05, rate=1.0)

    elapsed = emu._control("health")["now"] - begin
    calls = emu.stats()["FilterLogEvents"] - before
    assert seen.final is LogState.ENDED
    assert elapsed > 30  # the step ran ~60 simulated seconds under the follow
    assert calls <= 1.0 * elapsed + 2, (calls, elapsed)
    assert calls >= 0.8 * elapsed  # and it did use it: the budget is the limit, not the pace
    assert len(seen.messages) == len(set(seen.messages)) == 5


async def test_reads_slow_down_while_the_log_is_quiet(client: SageMakerClient, emu: EmulatorProcess) -> None:
    counts = []
    for quiet_after in (1000.0, 0.0):  # never quiet, then quiet after the first read without lines
        pipeline = name("logs")  # one each: the second run of a pipeline would reuse Preprocess (CacheConfig)
        emu.create_pipeline(pipeline, TRAIN)
        arn = emu.start_execution(pipeline)
        advance_until(emu, arn, "Preprocess", "Executing")
        before = emu.stats().get("FilterLogEvents", 0)
        seen = await follow(
            client, emu, arn, "Preprocess", interval=1.0, max_interval=8.0, quiet_after=quiet_after
        )
        counts.append(emu.stats()["FilterLogEvents"] - before)
        assert seen.final is LogState.ENDED
        assert len(seen.messages) == len(set(seen.messages)) == 5
        intervals = [s.interval for s in seen.states if s.state is LogState.FOLLOWING and s.interval]
        if quiet_after:
            assert set(intervals) == {1.0}
        else:
            assert max(intervals) == 8.0  # stretched by half per quiet read, up to the cap
            assert 1.0 in intervals[1:]  # and back to the interval when a line came
    steady, backing_off = counts
    assert backing_off < steady / 2, counts  # ~60 reads at 1 s, against a read per up to 8 s


async def test_throttling_halves_the_rate_and_loses_no_line(
    client: SageMakerClient, emu: EmulatorProcess
) -> None:
    pipeline = name("logs")
    emu.create_pipeline(pipeline, TRAIN)
    arn = emu.start_execution(pipeline)
    advance_until(emu, arn, "Preprocess", "Executing")
    emu.faults(throttle={"FilterLogEvents": 0.5})
    counted: list[LogsClient] = []
    try:
        seen = await follow(client, emu, arn, "Preprocess", interval=0.5, on_logs=counted.append)
    finally:
        emu.faults()
    (logs,) = counted
    assert logs.throttles > 0
    assert min(seen.rates) <= 1.0  # halved at least once (AIMD)
    assert any(
        s.state is LogState.ERROR and "throttled by CloudWatch Logs" in (s.reason or "") for s in seen.states
    )
    source = seen.states[-1].source
    assert source is not None and source.job_name is not None
    assert seen.messages == job_log(emu, "/aws/sagemaker/ProcessingJobs", source.job_name)
    assert seen.final is LogState.ENDED


async def test_a_one_time_read_gives_up_when_throttling_persists(
    client: SageMakerClient, emu: EmulatorProcess
) -> None:
    pipeline = name("logs")
    emu.create_pipeline(pipeline, TRAIN)
    arn = emu.start_execution(pipeline)
    assert emu.run_until_done(arn) == "Succeeded"
    before = emu.stats().get("FilterLogEvents", 0)
    emu.faults(throttle={"FilterLogEvents": 1.0})
    try:
        seen = await follow(client, emu, arn, "Train", follow=False)
    finally:
        emu.faults()
    assert seen.final is LogState.ERROR and seen.states[-1].final
    assert (seen.states[-1].reason or "").startswith("throttled by CloudWatch Logs (FilterLogEvents)")
    assert emu.stats()["FilterLogEvents"] - before == 4  # ONE_SHOT_RETRIES attempts, then it says so
    assert seen.lines == []


async def test_streams_reader_reads_the_same_lines_with_get_log_events(
    client: SageMakerClient, emu: EmulatorProcess
) -> None:
    pipeline = name("logs")
    emu.create_pipeline(pipeline, TRAIN)
    arn = emu.start_execution(pipeline)
    advance_until(emu, arn, "Train", "Executing")
    before = emu.stats()
    seen = await follow(client, emu, arn, "Train", mode="streams")
    calls = {op: n - before.get(op, 0) for op, n in emu.stats().items()}
    source = seen.states[-1].source
    assert source is not None and source.job_name is not None
    assert seen.messages == job_log(emu, "/aws/sagemaker/TrainingJobs", source.job_name)
    assert seen.final is LogState.ENDED
    assert calls.get("FilterLogEvents", 0) == 0
    assert calls["GetLogEvents"] > 3 and calls["DescribeLogStreams"] >= 1


async def test_a_new_attempt_is_followed_after_the_last_lines_of_the_failed_one(
    client: SageMakerClient, emu: EmulatorProcess
) -> None:
    pipeline = name(
        "retry"
    )  # the scenario fails Train's first attempt (CapacityError); a retry policy reruns it
    emu.create_pipeline(pipeline, TRAIN)
    arn = emu.start_execution(pipeline)
    advance_until(emu, arn, "Train", "Executing")
    seen = await follow(client, emu, arn, "Train")
    jobs = [s.source.job_name for s in seen.states if s.source is not None]
    first, second = dict.fromkeys(jobs)  # two jobs, in order
    assert first is not None and second is not None
    group = "/aws/sagemaker/TrainingJobs"
    assert seen.messages == job_log(emu, group, first) + job_log(emu, group, second)
    assert "CapacityError" in job_log(emu, group, first)[-1]
    assert seen.final is LogState.ENDED


async def test_steps_without_logs_say_why_in_one_line(client: SageMakerClient, emu: EmulatorProcess) -> None:
    pipeline = name("cf")
    emu.create_pipeline(pipeline, CF)
    arn = emu.start_execution(pipeline)
    assert emu.run_until_done(arn) == "Succeeded"
    before = emu.stats()
    for step, expected in [
        (
            "CheckAccuracy",
            "CheckAccuracy: a Condition step evaluates its conditions inside Pipelines: it runs no job and "
            "has no logs (it evaluated to True)",
        ),
        ("ScoreAll", "ScoreAll is a ForEach step: its iterations (ScoreShard-0, …) have the logs"),
        ("TooInaccurate", "TooInaccurate: a Fail step ends the execution with its message: it runs no job"),
    ]:
        seen = await follow(client, emu, arn, step, follow=False)
        assert seen.final is LogState.NO_LOGS
        reason = seen.states[-1].reason or ""
        assert reason.startswith(expected) and "\n" not in reason, reason
    calls = {op: n - before.get(op, 0) for op, n in emu.stats().items() if n != before.get(op, 0)}
    assert not any(op.endswith("LogEvents") or op.endswith("Job") for op in calls)  # no call to learn that


async def test_a_lambda_step_reads_its_functions_group_over_the_steps_window(
    client: SageMakerClient, emu: EmulatorProcess
) -> None:
    pipeline = name("cf")
    emu.create_pipeline(pipeline, CF)
    arn = emu.start_execution(pipeline)
    assert emu.run_until_done(arn) == "Succeeded"
    step = next(
        s
        for s in emu.boto().list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
        if s["StepName"] == "Evaluate"
    )
    seen = await follow(client, emu, arn, "Evaluate", follow=False)
    source = next(s.source for s in seen.states if s.source is not None)
    assert source is not None and source.group == "/aws/lambda/eval" and source.kind == "lambda"
    assert source.start_ms is not None and source.end_ms is not None
    assert source.start_ms <= epoch_ms(step["StartTime"]) and epoch_ms(step["EndTime"]) <= source.end_ms
    # Today's emulator has no Lambda log group (it answers ResourceNotFoundException): then the one line
    # says so; once it has, the lines are those of the window.
    if seen.final is LogState.NO_LOGS:
        assert seen.states[-1].reason == "Evaluate: no logs (/aws/lambda/eval has none for it)"
    else:
        assert seen.final is LogState.ENDED
        assert all(source.start_ms <= stamp <= source.end_ms for _, _, stamp in seen.lines)


@pytest.mark.parametrize("mode", ["filter", "streams"])
async def test_reading_once_reads_what_is_there_and_stops(
    client: SageMakerClient, emu: EmulatorProcess, mode: str
) -> None:
    pipeline = name("logs")
    emu.create_pipeline(pipeline, TRAIN)
    arn = emu.start_execution(pipeline)
    advance_until(emu, arn, "Train", "Executing")
    emu.advance(20)
    seen = await follow(client, emu, arn, "Train", follow=False, mode=mode)
    source = seen.states[-1].source
    assert source is not None and source.job_name is not None
    assert seen.final is LogState.ENDED
    assert seen.messages == job_log(emu, "/aws/sagemaker/TrainingJobs", source.job_name)
    assert 2 <= len(seen.messages) < 8  # the job still runs: what it wrote so far
