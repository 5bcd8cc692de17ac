"""CloudWatch Logs for the jobs: real group/stream names, lines that appear as the simulated job runs, and the
service's token and ordering rules."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

GROUP = "/aws/sagemaker/ProcessingJobs"
LONG_ENOUGH = 4 * 3600


@pytest.fixture
def processing_job(sm: Any, emulator: Any, make_pipeline: Any) -> tuple[str, str]:
    """A started (not finished) processing job: (exact-case job name, execution ARN)."""
    name, _ = make_pipeline()
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    # Past the step's start delay and the instances' provisioning (at most 12 % of a run of 180 s or
    # more), well before its end: the container has started logging.
    emulator.advance(125)
    (step,) = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    lower = step["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[1]
    return sm.describe_processing_job(ProcessingJobName=lower)["ProcessingJobName"], arn


def _stream(logs: Any, job: str) -> dict[str, Any]:
    (stream,) = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix=f"{job}/")["logStreams"]
    return dict(stream)


def test_stream_is_named_as_sagemaker_names_it(logs: Any, processing_job: tuple[str, str]) -> None:
    job, _ = processing_job
    stream = _stream(logs, job)
    assert re.fullmatch(re.escape(job) + r"/algo-1-\d{10}", stream["logStreamName"])
    assert (
        stream["arn"]
        == f"arn:aws:logs:us-east-1:123456789012:log-group:{GROUP}:log-stream:{stream['logStreamName']}"
    )
    assert isinstance(stream["creationTime"], int) and stream["creationTime"] > 10**12  # epoch milliseconds


def test_lines_appear_as_the_job_runs(logs: Any, emulator: Any, processing_job: tuple[str, str]) -> None:
    job, _ = processing_job
    name = _stream(logs, job)["logStreamName"]
    early = logs.get_log_events(logGroupName=GROUP, logStreamName=name, startFromHead=True)["events"]
    emulator.advance(LONG_ENOUGH)
    late = logs.get_log_events(logGroupName=GROUP, logStreamName=name, startFromHead=True)["events"]
    assert 1 <= len(early) < len(late)
    assert late[: len(early)] == early
    assert " Done in " in late[-1]["message"]  # the script's last word
    stamps = [e["timestamp"] for e in late]
    assert stamps == sorted(stamps)


def test_forward_token_comes_back_unchanged_at_the_end(
    logs: Any, emulator: Any, processing_job: tuple[str, str]
) -> None:
    job, _ = processing_job
    emulator.advance(LONG_ENOUGH)
    name = _stream(logs, job)["logStreamName"]
    whole = logs.get_log_events(logGroupName=GROUP, logStreamName=name, startFromHead=True)["events"]
    seen: list[str] = []
    token = None
    for _ in range(len(whole) // 3 + 2):
        kwargs = {"nextToken": token} if token else {}
        page = logs.get_log_events(
            logGroupName=GROUP, logStreamName=name, startFromHead=True, limit=3, **kwargs
        )
        seen.extend(e["message"] for e in page["events"])
        if page["nextForwardToken"] == token:
            assert page["events"] == []
            break
        token = page["nextForwardToken"]
    else:
        pytest.fail("the forward token never repeated")
    assert re.fullmatch(r"f/\d{56}/s", token)
    assert seen == [e["message"] for e in whole]


def test_without_start_from_head_the_latest_events_come_first(
    logs: Any, emulator: Any, processing_job: tuple[str, str]
) -> None:
    job, _ = processing_job
    emulator.advance(LONG_ENOUGH)
    name = _stream(logs, job)["logStreamName"]
    whole = logs.get_log_events(logGroupName=GROUP, logStreamName=name, startFromHead=True)["events"]
    latest = logs.get_log_events(logGroupName=GROUP, logStreamName=name, limit=2)
    assert latest["events"] == whole[-2:]
    older = logs.get_log_events(
        logGroupName=GROUP, logStreamName=name, limit=2, nextToken=latest["nextBackwardToken"]
    )
    assert older["events"] == whole[-4:-2]


def test_prefix_with_last_event_time_order_is_invalid(logs: Any, processing_job: tuple[str, str]) -> None:
    job, _ = processing_job
    with pytest.raises(ClientError) as caught:
        logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix=job, orderBy="LastEventTime")
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    newest = logs.describe_log_streams(logGroupName=GROUP, orderBy="LastEventTime", descending=True, limit=50)
    last_events = [s.get("lastEventTimestamp", 0) for s in newest["logStreams"]]
    assert last_events == sorted(last_events, reverse=True)


def test_unknown_group_and_stream_are_not_found(logs: Any, processing_job: tuple[str, str]) -> None:
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.get_log_events(logGroupName="/aws/sagemaker/NoSuchJobs", logStreamName="x")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.get_log_events(logGroupName=GROUP, logStreamName="no-such-job/algo-1-1")


def test_filter_log_events_across_the_jobs_streams(
    logs: Any, emulator: Any, processing_job: tuple[str, str]
) -> None:
    job, _ = processing_job
    emulator.advance(LONG_ENOUGH)
    events = logs.filter_log_events(logGroupName=GROUP, logStreamNamePrefix=job)["events"]
    assert len(events) >= 3
    assert {e["logStreamName"] for e in events} == {_stream(logs, job)["logStreamName"]}
    assert len({e["eventId"] for e in events}) == len(events)
    matched = logs.filter_log_events(logGroupName=GROUP, logStreamNamePrefix=job, filterPattern="Processed")
    assert [e["message"] for e in matched["events"]] == [
        e["message"] for e in events if "Processed" in e["message"]
    ]
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=GROUP, logStreamNamePrefix=job, PaginationConfig={"PageSize": 2}
    )
    assert [e["eventId"] for page in pages for e in page["events"]] == [e["eventId"] for e in events]
    with pytest.raises(ClientError) as caught:
        logs.filter_log_events(logGroupName=GROUP, logStreamNamePrefix=job, logStreamNames=["a"])
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"


async def test_aiobotocore_reads_the_same_log(alogs: Any, logs: Any, processing_job: tuple[str, str]) -> None:
    job, _ = processing_job
    name = _stream(logs, job)["logStreamName"]
    reply = await alogs.get_log_events(logGroupName=GROUP, logStreamName=name, startFromHead=True)
    assert reply["events"][0]["message"].endswith("Starting: python3 /opt/program/process.py")
