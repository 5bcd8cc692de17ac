"""Following a step's logs over HTTP against the emulator, on a simulated clock (`follow_harness`).

What a user would notice: every line of the job once, in order, soon after it is written; the follow ends
by itself after the step ends; a step without logs says why; the Logs calls stay within their budget
(counted by the emulator) and back off when throttled."""

from __future__ import annotations

import itertools
import json

import pytest
from emulator_proc import EmulatorProcess
from follow_harness import CF, TRAIN, advance_until, follow, name
from served_logs import (
    describe_job,
    in_time_order,
    job_events,
    served,
    step_job,
    step_window,
    traceback_tail,
)

from smtui.core.client import SageMakerClient
from smtui.core.logs import LogState
from smtui.core.logs_client import LogsClient


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
