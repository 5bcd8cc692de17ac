"""Following a step's logs over HTTP against the emulator, on a simulated clock: every wait of the follower
(and of its budget) advances the emulator's clock instead of sleeping, so time is exact and tests are fast.

What a user would notice: every line of the job once, in order, soon after it is written; the follow ends
by itself after the step ends; a step without logs says why; the Logs calls stay within their budget
(counted by the emulator) and back off when throttled."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from emulator_proc import DEFINITIONS, EmulatorProcess
from served_logs import (
    Event,
    describe_job,
    in_time_order,
    job_events,
    served,
    step_job,
    step_window,
    traceback_tail,
)

from smtui.core.client import SageMakerClient
from smtui.core.definition import parse_definition
from smtui.core.log_follow import LogFollows
from smtui.core.logs import LogEvent, LogFollowChanged, LogLinesRead, LogState
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

    lines: list[tuple[float, Event]] = field(default_factory=list)  # (sim time published, the line)
    states: list[LogFollowChanged] = field(default_factory=list)
    final: LogState | None = None
    rates: list[float] = field(default_factory=list)

    @property
    def events(self) -> list[Event]:
        return [event for _, event in self.lines]

    @property
    def messages(self) -> list[str]:
        return [event.message for _, event in self.lines]

    @property
    def jobs(self) -> list[str]:
        """The jobs it read, in order."""
        names = [s.source.job_name for s in self.states if s.source is not None and s.source.job_name]
        return list(dict.fromkeys(names))


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


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
                seen.lines += [(clock.t, Event(x.timestamp, x.stream, x.message)) for x in event.lines]
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
    calls = {op: n - before.get(op, 0) for op, n in emu.stats().items()}
    assert calls["DescribeTrainingJob"] == 1
    assert calls["FilterLogEvents"] > 3  # it did follow: several reads, each line printed once still
    job = step_job(emu, arn, "Train")
    # Every line the service holds for the job, once each (the reads overlap by 5 s), in time order.
    assert seen.events == job_events(emu, job) and in_time_order(seen.events)
    # It ends with the traceback whose last line names the job's FailureReason.
    assert job.failure_reason and job.failure_reason in traceback_tail(seen.messages)[-1]
    # Each line arrived within one read interval (2 s, stretched to 10 s at most while the log is quiet)
    # of the simulated time it was written (or of the start of the follow).
    for at, event in seen.lines:
        written = max(event.timestamp / 1000, start)
        assert at + start - written <= 10.0, (event.message, at + start - written)
    assert seen.final is LogState.ENDED and seen.states[-1].final


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
    assert seen.events == job_events(emu, step_job(emu, arn, "Preprocess"))  # ~60 reads, each line once


async def test_reads_slow_down_while_the_log_is_quiet(client: SageMakerClient, emu: EmulatorProcess) -> None:
    counts = []
    for quiet_after in (1000.0, 0.0):  # never quiet, then quiet after the first read without lines
        pipeline = name("logs")  # one each: the second run of a pipeline would reuse Preprocess (CacheConfig)
        emu.create_pipeline(pipeline, TRAIN)
        arn = emu.start_execution(pipeline)
        advance_until(emu, arn, "Preprocess", "Executing")
        before = emu.stats().get("FilterLogEvents", 0)
        seen = await follow(
            client, emu, arn, "Preprocess", interval=1.0, max_interval=4.0, quiet_after=quiet_after
        )
        counts.append(emu.stats()["FilterLogEvents"] - before)
        assert seen.final is LogState.ENDED
        assert seen.events == job_events(emu, step_job(emu, arn, "Preprocess"))
        intervals = [s.interval for s in seen.states if s.state is LogState.FOLLOWING and s.interval]
        if quiet_after:
            assert set(intervals) == {1.0}
        else:
            # Each read without lines stretches the next wait by half, up to the cap; a line brings it back.
            for before_, after_ in itertools.pairwise(intervals):
                assert after_ in (1.0, min(4.0, before_ * 1.5)), intervals
            assert max(intervals) == 4.0 and 1.0 in intervals[1:]
    steady, backing_off = counts
    assert backing_off < steady / 2, counts  # ~60 reads at 1 s, against a read per up to 4 s


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
    assert seen.events == job_events(emu, step_job(emu, arn, "Preprocess"))
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
    assert seen.events == job_events(emu, step_job(emu, arn, "Train"))
    assert seen.final is LogState.ENDED
    assert calls.get("FilterLogEvents", 0) == 0
    assert calls["GetLogEvents"] > 3 and calls["DescribeLogStreams"] >= 1


def retried_on(exception: str) -> str:
    """TRAIN whose Train step retries on `exception` too."""
    definition = json.loads(TRAIN)
    train = next(step for step in definition["Steps"] if step["Name"] == "Train")
    train["RetryPolicies"][0]["ExceptionType"].append(exception)
    return json.dumps(definition)


@pytest.mark.parametrize(
    ("prefix", "definition"),
    [
        # The first attempt got no capacity: its job never ran a container, so it wrote no line.
        ("retry", TRAIN),
        # The first attempt ran and died of an internal error: its log ends with a traceback.
        ("rerun", retried_on("SageMaker.JOB_INTERNAL_ERROR")),
    ],
)
async def test_a_new_attempt_is_followed_after_the_last_lines_of_the_failed_one(
    client: SageMakerClient, emu: EmulatorProcess, prefix: str, definition: str
) -> None:
    pipeline = name(prefix)  # the scenario fails Train's first attempt; a retry policy reruns it
    emu.create_pipeline(pipeline, definition)
    arn = emu.start_execution(pipeline)
    advance_until(emu, arn, "Train", "Executing")
    start = emu._control("health")["now"]
    seen = await follow(client, emu, arn, "Train")
    assert seen.final is LogState.ENDED
    first, second = (describe_job(emu, "TrainingJob", job) for job in seen.jobs)  # two jobs, in order
    assert second.name == step_job(emu, arn, "Train").name
    before, after = job_events(emu, first), job_events(emu, second)
    assert after and seen.events == before + after
    assert first.failure_reason is not None
    if prefix == "retry":
        assert before == [] and first.failure_reason.startswith("CapacityError")
    else:
        assert first.failure_reason in traceback_tail([e.message for e in before])[-1]
    for at, event in seen.lines:  # the new attempt's lines came as soon as those of the first
        written = max(event.timestamp / 1000, start)
        assert at + start - written <= 10.0, (event.message, at + start - written)


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
    runs = [emu.start_execution(pipeline)]
    assert emu.run_until_done(runs[0]) == "Succeeded"
    runs.append(emu.start_execution(pipeline))  # the function runs again, later, in another execution
    assert emu.run_until_done(runs[1]) == "Succeeded"
    group = "/aws/lambda/eval"
    for arn in runs:
        seen = await follow(client, emu, arn, "Evaluate", follow=False)
        source = next(s.source for s in seen.states if s.source is not None)
        assert source is not None and source.group == group and source.kind == "lambda"
        start, end = step_window(emu, arn, "Evaluate")
        assert source.start_ms is not None and source.end_ms is not None
        assert source.start_ms <= start and end <= source.end_ms
        assert seen.final is LogState.ENDED
        # This step's invocation: the function's lines within the step's window, and no other invocation's.
        invocation = served(emu, group, start_ms=start, end_ms=end)
        assert invocation and len({e.stream for e in invocation}) == 1
        assert seen.events == invocation and in_time_order(seen.events)
        assert len(served(emu, group)) > len(invocation)
        assert seen.messages[0].startswith("INIT_START") and seen.messages[-1].startswith("REPORT RequestId")


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
    job = step_job(emu, arn, "Train")
    assert seen.final is LogState.ENDED
    assert seen.events == job_events(emu, job)  # what the job wrote so far
    assert emu.run_until_done(arn) == "Succeeded"
    assert 0 < len(seen.events) < len(job_events(emu, job))  # it did stop: the job wrote more later


def two_hosts() -> str:
    """TRAIN whose Train step runs on two instances (algo-1 and algo-2, a stream each)."""
    definition = json.loads(TRAIN)
    train = next(step for step in definition["Steps"] if step["Name"] == "Train")
    train["Arguments"]["ResourceConfig"]["InstanceCount"] = 2
    return json.dumps(definition)


TRANSFORM = json.dumps(
    {
        "Version": "2020-12-01",
        "Parameters": [],
        "Steps": [
            {
                "Name": "Score",
                "Type": "Transform",
                "Arguments": {
                    "ModelName": "churn-model",
                    "TransformInput": {
                        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/in"}},
                        "ContentType": "text/csv",
                    },
                    "TransformOutput": {"S3OutputPath": "s3://b/out"},
                    "TransformResources": {"InstanceCount": 1, "InstanceType": "ml.c5.xlarge"},
                },
            }
        ],
    }
)


@pytest.mark.parametrize("mode", ["filter", "streams"])
async def test_a_multi_instance_job_interleaves_its_streams_by_time(
    client: SageMakerClient, emu: EmulatorProcess, mode: str
) -> None:
    pipeline = name("hosts")  # two hosts writing a couple of lines a second each; it fails (scenario.toml)
    emu.create_pipeline(pipeline, two_hosts())
    arn = emu.start_execution(pipeline)
    advance_until(emu, arn, "Train", "Executing")
    seen = await follow(client, emu, arn, "Train", mode=mode)
    job = step_job(emu, arn, "Train")
    expected = job_events(emu, job)
    assert seen.final is LogState.ENDED
    assert seen.events == expected and in_time_order(seen.events)
    hosts = sorted({e.stream.removeprefix(f"{job.name}/").rsplit("-", 1)[0] for e in seen.events})
    assert hosts == ["algo-1", "algo-2"]
    assert [e.stream for e in seen.events] != sorted(e.stream for e in seen.events)  # interleaved
    source = seen.states[-1].source
    assert source is not None and source.instances == 2 and source.many_streams
    assert job.failure_reason and job.failure_reason in traceback_tail(seen.messages)[-1]


def advance_until_stream(emu: EmulatorProcess, arn: str, step: str) -> None:
    """Until the step's job has written its first line."""
    for _ in range(100):
        if job_events(emu, step_job(emu, arn, step)):
            return
        emu.advance(1)
    raise AssertionError(f"{step} never wrote a line")


@pytest.mark.parametrize("mode", ["filter", "streams"])
async def test_a_transform_job_shows_its_data_log_with_the_model_servers_lines(
    client: SageMakerClient, emu: EmulatorProcess, mode: str
) -> None:
    pipeline = name("transform")
    emu.create_pipeline(pipeline, TRANSFORM)
    arn = emu.start_execution(pipeline)
    advance_until(emu, arn, "Score", "Executing")
    # The model server's stream exists from its container's start (~7 s in), the data log from when the
    # transform begins (~9 s later): the follow starts between the two.
    advance_until_stream(emu, arn, "Score")
    start = emu._control("health")["now"]
    job = step_job(emu, arn, "Score")
    assert len({e.stream for e in job_events(emu, job)}) == 1
    seen = await follow(client, emu, arn, "Score", mode=mode)
    assert seen.final is LogState.ENDED
    assert seen.events == job_events(emu, job) and in_time_order(seen.events)
    streams = {e.stream for e in seen.events}
    assert len(streams) == 2 and sum(s.endswith("/data-log") for s in streams) == 1
    source = seen.states[-1].source
    assert source is not None and source.many_streams
    for at, event in seen.lines:  # the data log's lines as soon as the server's: found when it appears
        written = max(event.timestamp / 1000, start)
        assert at + start - written <= 10.0, (event.stream, event.message, at + start - written)


@pytest.mark.parametrize("mode", ["filter", "streams"])
async def test_a_busy_log_is_read_whole_page_after_page_in_time_order(
    client: SageMakerClient, emu: EmulatorProcess, mode: str
) -> None:
    # `chatty-*` Preprocess writes ~600 lines/s per host on two hosts (scenario.toml): a read catches up on
    # pages cut at 1 MB (~8,000 lines), and every read of the follow brings thousands.
    pipeline = name("chatty")
    emu.create_pipeline(pipeline, CF)
    arn = emu.start_execution(pipeline, InstanceCount="2")
    advance_until(emu, arn, "Preprocess", "Executing")
    emu.advance(30)  # the follow starts with a backlog of several pages per stream
    start = emu._control("health")["now"]
    seen = await follow(client, emu, arn, "Preprocess", mode=mode)
    expected = job_events(emu, step_job(emu, arn, "Preprocess"))
    assert len(expected) > 40_000 and len({e.stream for e in expected}) == 2
    assert seen.final is LogState.ENDED
    assert seen.events == expected and in_time_order(seen.events)
    backlog = sum(1 for e in expected if e.timestamp / 1000 <= start)
    assert backlog > 20_000
    for at, event in seen.lines:  # the backlog at once (page after page, at the budget's pace), then live
        written = max(event.timestamp / 1000, start)
        assert at + start - written <= 5.0, (event.message, at + start - written)


@pytest.mark.parametrize("mode", ["filter", "streams"])
async def test_the_first_lines_show_as_soon_as_a_late_container_writes_them(
    client: SageMakerClient, emu: EmulatorProcess, mode: str
) -> None:
    # `late-*` Preprocess provisions for ~14 s before its container writes a first line (scenario.toml):
    # seven reads find no stream of the job. The first lines still come at the next read.
    earlier = name("cf")  # another processing job logged before: the log group exists, empty for this job
    emu.create_pipeline(earlier, CF)
    assert emu.run_until_done(emu.start_execution(earlier)) == "Succeeded"
    pipeline = name("late")
    emu.create_pipeline(pipeline, CF)
    arn = emu.start_execution(pipeline)
    advance_until(emu, arn, "Preprocess", "Executing")
    start = emu._control("health")["now"]
    seen = await follow(client, emu, arn, "Preprocess", mode=mode, max_interval=2.0)  # never backs off
    job = step_job(emu, arn, "Preprocess")
    assert seen.final is LogState.ENDED
    assert seen.events == job_events(emu, job)
    assert seen.events[0].timestamp / 1000 - start > 10
    for at, event in seen.lines:  # a read every 2 s, and the calls of a read at the budget's 2 a second
        written = max(event.timestamp / 1000, start)
        assert at + start - written <= 3.0, (event.message, at + start - written)
