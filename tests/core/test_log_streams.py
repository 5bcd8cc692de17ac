"""Following logs of several streams, against the emulator's realistic logs, with both readers: a job on two
instances, a transform's data log, a busy log read page after page, a container that starts late. Every line
once, in time order, soon after it is written."""

from __future__ import annotations

import json

import pytest
from emulator_proc import EmulatorProcess
from follow_harness import CF, TRAIN, advance_until, follow, name
from served_logs import in_time_order, job_events, step_job, traceback_tail

from smtui.core.client import SageMakerClient
from smtui.core.logs import LogState


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
    # `chatty-*` Preprocess writes ~300 lines/s per host on two hosts (scenario.toml): a read catches up on
    # pages cut at 1 MB (~8,000 lines), and every read of the follow brings thousands.
    pipeline = name("chatty")
    emu.create_pipeline(pipeline, CF)
    arn = emu.start_execution(pipeline, InstanceCount="2")
    advance_until(emu, arn, "Preprocess", "Executing")
    emu.advance(45)  # the follow starts with a backlog of several pages per stream (10,000 events at most)
    start = emu._control("health")["now"]
    seen = await follow(client, emu, arn, "Preprocess", mode=mode)
    expected = job_events(emu, step_job(emu, arn, "Preprocess"))
    assert len(expected) > 30_000 and len({e.stream for e in expected}) == 2
    assert seen.final is LogState.ENDED
    assert seen.events == expected and in_time_order(seen.events)
    backlog = sum(1 for e in expected if e.timestamp / 1000 <= start)
    assert backlog > 20_000 and len(expected) - backlog > 5_000  # pages to catch up on, then a live part
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
