"""FilterLogEvents across a job's streams as `aws logs tail` and the SDK read them: interleaved by time,
narrowed by stream names or prefix, by a filter pattern and by a time window, paged with nextToken (at most
1 MB a page), newest first on request; GetLogEvents per stream agrees with it."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from logs_harness import definition, events, job_name, run, steps, training
from shape_check import ShapeChecker
from wire_harness import EmulatorProcess, create_pipeline, make_logs, make_sm, new_name

GROUP = "/aws/sagemaker/TrainingJobs"
SCENARIO = """
seed = 11
[pipelines."filter-*".steps.Train]
duration = 3000
log_rate = 30
[pipelines."big-*".steps.Train]
duration = 600
"""


@pytest.fixture(scope="module")
def filter_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    path = Path(tmp_path_factory.mktemp("scenario")) / "scenario.toml"
    path.write_text(SCENARIO)
    process = EmulatorProcess(["--port", "0", "--time-scale", "0", "--scenario", str(path)])
    yield process
    process.stop()


@pytest.fixture(scope="module")
def finished_job(filter_emulator: EmulatorProcess) -> tuple[str, list[dict[str, Any]]]:
    """A finished two-instance training job: (job name, every event of it, oldest first)."""
    sm, logs = make_sm(filter_emulator), make_logs(filter_emulator)
    name = new_name("filter")
    create_pipeline(sm, name, definition(training(count=2)))
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert run(sm, filter_emulator, arn) == "Succeeded"
    job = job_name(sm, steps(sm, arn)["Train"])
    return job, events(logs, GROUP, logStreamNamePrefix=job + "/")


@pytest.fixture
def logs(filter_emulator: EmulatorProcess, shape_checker: ShapeChecker) -> Any:
    return make_logs(filter_emulator, shape_checker)


def _messages(found: list[dict[str, Any]]) -> list[str]:
    return [e["message"] for e in found]


def test_events_of_all_streams_are_interleaved_by_time(
    finished_job: tuple[str, list[dict[str, Any]]],
) -> None:
    _, found = finished_job
    assert len(found) > 2 * 1200  # 30 progress lines a minute per host for most of 50 minutes
    streams = {e["logStreamName"] for e in found}
    assert len(streams) == 2
    stamps = [e["timestamp"] for e in found]
    assert stamps == sorted(stamps)
    switches = sum(1 for a, b in itertools.pairwise(found) if a["logStreamName"] != b["logStreamName"])
    assert switches > 100  # not one stream after the other
    ids = [e["eventId"] for e in found]
    assert len(set(ids)) == len(ids) and all(len(i) == 56 and i.isdigit() for i in ids)


def test_stream_names_and_prefix_narrow_the_search(
    logs: Any, finished_job: tuple[str, list[dict[str, Any]]]
) -> None:
    job, found = finished_job
    first = min(e["logStreamName"] for e in found)
    only = events(logs, GROUP, logStreamNames=[first])
    assert only == [e for e in found if e["logStreamName"] == first]
    by_prefix = events(logs, GROUP, logStreamNamePrefix=job + "/algo-2")
    assert by_prefix == [e for e in found if "/algo-2-" in e["logStreamName"]]
    assert events(logs, GROUP, logStreamNamePrefix=job + "/algo-9") == []
    with pytest.raises(ClientError) as caught:
        logs.filter_log_events(logGroupName=GROUP, logStreamNames=[first], logStreamNamePrefix=job)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"


@pytest.mark.parametrize(
    ("pattern", "keep"),
    [
        ("INFO", lambda m: "INFO" in m),
        ("Reporting SUCCESS", lambda m: "Reporting" in m and "SUCCESS" in m),
        ('"training SUCCESS"', lambda m: "training SUCCESS" in m),
        ("?SUCCESS ?GPUs", lambda m: "SUCCESS" in m or "GPUs" in m),
        (
            "sagemaker-training-toolkit -Invoking",
            lambda m: "sagemaker-training-toolkit" in m and "Invoking" not in m,
        ),
        ("%epoch (1|2)/25 %", lambda m: re.search("epoch (1|2)/25 ", m) is not None),
        ("", lambda m: True),
    ],
)
def test_filter_patterns(
    logs: Any, finished_job: tuple[str, list[dict[str, Any]]], pattern: str, keep: Any
) -> None:
    job, found = finished_job
    matched = events(logs, GROUP, logStreamNamePrefix=job + "/", filterPattern=pattern)
    expected = [e for e in found if keep(e["message"])]
    assert matched == expected and (pattern == "" or 0 < len(expected) < len(found))


def test_json_and_space_delimited_patterns_are_refused(logs: Any, finished_job: Any) -> None:
    job, _ = finished_job
    for pattern in ('{ $.level = "ERROR" }', "[ip, user, status]"):
        with pytest.raises(ClientError) as caught:
            logs.filter_log_events(logGroupName=GROUP, logStreamNamePrefix=job, filterPattern=pattern)
        assert caught.value.response["Error"]["Code"] == "InvalidParameterException"


def test_time_window_is_inclusive_at_both_ends(
    logs: Any, finished_job: tuple[str, list[dict[str, Any]]]
) -> None:
    job, found = finished_job
    start, end = found[100]["timestamp"], found[200]["timestamp"]
    window = events(logs, GROUP, logStreamNamePrefix=job + "/", startTime=start, endTime=end)
    assert window == [e for e in found if start <= e["timestamp"] <= end]


def test_pages_follow_next_token_and_newest_first_on_request(
    logs: Any, finished_job: tuple[str, list[dict[str, Any]]]
) -> None:
    job, found = finished_job
    pages = list(
        logs.get_paginator("filter_log_events").paginate(
            logGroupName=GROUP, logStreamNamePrefix=job + "/", PaginationConfig={"PageSize": 700}
        )
    )
    assert len(pages) >= 4 and all(len(p["events"]) <= 700 for p in pages)
    assert [e for p in pages for e in p["events"]] == found
    since = found[0]["timestamp"]
    newest: list[dict[str, Any]] = []
    token = None
    while True:
        kwargs = {"nextToken": token} if token else {}
        page = logs.filter_log_events(
            logGroupName=GROUP,
            logStreamNamePrefix=job + "/",
            startTime=since,
            startFromHead=False,
            limit=900,
            **kwargs,
        )
        newest.extend(page["events"])
        token = page.get("nextToken")
        if not token:
            break
    assert newest == found[::-1]


def test_get_log_events_per_stream_agrees_with_filter(
    logs: Any, finished_job: tuple[str, list[dict[str, Any]]]
) -> None:
    """The SDK's way: DescribeLogStreams on the job's prefix, then GetLogEvents from the head of each stream
    with forward tokens until the token comes back unchanged."""
    job, found = finished_job
    listed = logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix=job + "/")["logStreams"]
    for stream in listed:
        read: list[str] = []
        token = None
        while True:
            kwargs = {"nextToken": token} if token else {}
            page = logs.get_log_events(
                logGroupName=GROUP,
                logStreamName=stream["logStreamName"],
                startFromHead=True,
                limit=1000,
                **kwargs,
            )
            read.extend(e["message"] for e in page["events"])
            if page["nextForwardToken"] == token:
                break
            token = page["nextForwardToken"]
        own = [e for e in found if e["logStreamName"] == stream["logStreamName"]]
        assert read == _messages(own)
        assert (stream["firstEventTimestamp"], stream["lastEventTimestamp"]) == (
            own[0]["timestamp"],
            own[-1]["timestamp"],
        )


def test_following_as_aws_logs_tail_does(filter_emulator: EmulatorProcess, logs: Any) -> None:
    """`aws logs tail --follow`: FilterLogEvents from `since`, every page; then again from the newest
    timestamp seen, dropping events already seen by eventId. Each line shows up exactly once."""
    sm = make_sm(filter_emulator)
    name = new_name("filter")
    create_pipeline(sm, name, definition(training(count=2)))
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    filter_emulator.advance(300)
    job = job_name(sm, steps(sm, arn)["Train"])
    seen: dict[str, dict[str, Any]] = {}
    since = 0
    for _ in range(40):
        for event in events(logs, GROUP, logStreamNamePrefix=job + "/", startTime=since):
            seen.setdefault(event["eventId"], event)
        since = max((e["timestamp"] for e in seen.values()), default=0)
        if sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] != "Executing":
            break
        filter_emulator.advance(97)
    followed = sorted(seen.values(), key=lambda e: (e["timestamp"], e["logStreamName"], e["eventId"]))
    assert _messages(followed) == _messages(events(logs, GROUP, logStreamNamePrefix=job + "/"))
    assert followed[-1]["message"].endswith("Reporting training SUCCESS")


def test_a_page_holds_at_most_one_megabyte(filter_emulator: EmulatorProcess, logs: Any) -> None:
    sm = make_sm(filter_emulator)
    name = new_name("big")
    big = training(count=2)
    # Hyperparameters are echoed three times per host (the training environment, SM_HPS, the command).
    big["Arguments"]["HyperParameters"] = {f"p{i}": "x" * 2000 for i in range(100)}
    create_pipeline(sm, name, definition(big))
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert run(sm, filter_emulator, arn) == "Succeeded"
    job = job_name(sm, steps(sm, arn)["Train"])
    pages = list(
        logs.get_paginator("filter_log_events").paginate(logGroupName=GROUP, logStreamNamePrefix=job + "/")
    )
    sizes = [sum(len(e["message"].encode()) + 26 for e in p["events"]) for p in pages]
    assert len(pages) >= 2 and max(sizes) <= 1_048_576 and sum(sizes) > 1_048_576
    whole = [e for p in pages for e in p["events"]]
    assert len({e["eventId"] for e in whole}) == len(whole)
