"""SageMaker's status-change events, delivered by the emulator through EventBridge rules to SQS queues."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from bus_harness import DETAIL_TYPES, drain, for_pipeline, subscribe
from shape_check import ShapeChecker
from wire_harness import DEFINITIONS, ROLE_ARN, EmulatorProcess, make_client, new_name, simple_definition

PREPARE = {
    **json.loads(simple_definition())["Steps"][0],
    "CacheConfig": {"Enabled": True, "ExpireAfter": "P1D"},
}
TRAIN = {
    "Name": "Train",
    "Type": "Training",
    "DependsOn": ["Prepare"],
    "Arguments": {
        "AlgorithmSpecification": {"TrainingImage": "image:1", "TrainingInputMode": "File"},
        "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "RoleArn": ROLE_ARN,
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    },
}


@pytest.fixture
def scripted(emulator_factory: Callable[..., EmulatorProcess]) -> EmulatorProcess:
    """An emulator of its own with the test scenario: `broken-*` pipelines' Train step fails."""
    return emulator_factory("--time-scale", "0", "--scenario", str(DEFINITIONS / "scenario.toml"))


def clients(emulator: EmulatorProcess, checker: ShapeChecker) -> tuple[Any, Any, Any]:
    return tuple(make_client(s, emulator, checker) for s in ("sagemaker", "sqs", "events"))  # type: ignore[return-value]


def by_execution(found: list[dict[str, Any]], arn: str) -> list[dict[str, Any]]:
    return sorted((e for e in found if e["resources"][1] == arn), key=lambda e: e["time"])


def test_events_of_a_failed_run_and_a_cache_hit(
    scripted: EmulatorProcess, shape_checker: ShapeChecker
) -> None:
    sm, sqs, events = clients(scripted, shape_checker)
    name = new_name("broken")
    pipeline_arn = sm.create_pipeline(
        PipelineName=name, PipelineDefinition=simple_definition(PREPARE, TRAIN), RoleArn=ROLE_ARN
    )["PipelineArn"]
    url, _ = subscribe(sqs, events, for_pipeline(pipeline_arn))
    first = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    scripted.advance(3600)
    second = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    scripted.advance(3600)
    found = drain(sqs, url)

    for event in found:
        assert event["version"] == "0" and event["id"]
        assert event["source"] == "aws.sagemaker" and event["detail-type"] in DETAIL_TYPES
        assert (event["account"], event["region"]) == ("123456789012", "us-east-1")
        assert event["resources"][0] == pipeline_arn
        assert event["detail"]["pipelineArn"] == pipeline_arn
        assert event["detail"]["pipelineExecutionArn"] == event["resources"][1]
    assert len({e["id"] for e in found}) == len(found)

    executions = [e for e in by_execution(found, first) if e["detail-type"] == DETAIL_TYPES[0]]
    assert [
        (e["detail"].get("previousPipelineExecutionStatus"), e["detail"]["currentPipelineExecutionStatus"])
        for e in executions
    ] == [(None, "Executing"), ("Executing", "Failed")]
    described = sm.describe_pipeline_execution(PipelineExecutionArn=first)
    ended = executions[1]
    assert ended["detail"]["pipelineExecutionDisplayName"] == described["PipelineExecutionDisplayName"]
    assert ended["detail"]["executionStartTime"] == described["CreationTime"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ended["time"] == ended["detail"]["executionEndTime"]
    assert "executionEndTime" not in executions[0]["detail"]

    steps = {
        s["StepName"]: s
        for s in sm.list_pipeline_execution_steps(PipelineExecutionArn=first)["PipelineExecutionSteps"]
    }
    train = [e["detail"] for e in by_execution(found, first) if e["detail"].get("stepName") == "Train"]
    assert [(d.get("previousStepStatus"), d["currentStepStatus"]) for d in train] == [
        (None, "Starting"),
        ("Starting", "Executing"),
        ("Executing", "Failed"),
    ]
    failed = train[-1]
    assert failed["stepType"] == "Training"
    assert failed["failureReason"] == steps["Train"]["FailureReason"] == "AlgorithmError: exited with code 1"
    assert failed["metadata"] == {"trainingJob": {"arn": steps["Train"]["Metadata"]["TrainingJob"]["Arn"]}}
    assert failed["stepStartTime"] == steps["Train"]["StartTime"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert failed["stepEndTime"] == steps["Train"]["EndTime"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert all("failureReason" not in d for d in train[:-1])
    assert all("cacheHitResult" not in e["detail"] for e in by_execution(found, first))

    hit = [e["detail"] for e in by_execution(found, second) if e["detail"].get("stepName") == "Prepare"]
    assert hit[-1]["currentStepStatus"] == "Succeeded"
    assert hit[-1]["cacheHitResult"] == {"sourcePipelineExecutionArn": first}
    assert hit[-1]["stepType"] == "Processing"
    statuses = [e["detail"].get("currentPipelineExecutionStatus") for e in by_execution(found, second)]
    assert statuses[0] == "Executing" and statuses[-1] == "Failed"  # the execution's end comes last


def test_only_enabled_matching_rules_with_a_policy_deliver(
    emulator: EmulatorProcess, sm: Any, sqs: Any, events: Any, make_pipeline: Any
) -> None:
    _, pipeline_arn = make_pipeline()
    name = pipeline_arn.rsplit("/", 1)[1]
    ended_only = {**for_pipeline(pipeline_arn), "detail": {"currentPipelineExecutionStatus": ["Succeeded"]}}
    ended_url, _ = subscribe(sqs, events, ended_only)
    disabled_url, disabled_arn = subscribe(sqs, events, for_pipeline(pipeline_arn))
    events.put_rule(
        Name=disabled_arn.rsplit("/", 1)[1],
        EventPattern=json.dumps(for_pipeline(pipeline_arn)),
        State="DISABLED",
    )
    unpermitted_url, _ = subscribe(sqs, events, for_pipeline(pipeline_arn), policy=False)
    emulator.reset_stats()
    sm.start_pipeline_execution(PipelineName=name)
    emulator.advance(3600)
    delivered = drain(sqs, ended_url)
    assert [e["detail"]["currentPipelineExecutionStatus"] for e in delivered] == ["Succeeded"]
    assert drain(sqs, disabled_url) == []
    assert drain(sqs, unpermitted_url) == []
    counts = emulator.control("stats")["events"]
    assert counts["delivered"] == 1 and counts["denied"] >= 5  # every event, refused by the queue's policy


def test_a_long_poll_returns_when_an_event_arrives(
    emulator: EmulatorProcess, sm: Any, sqs: Any, events: Any, make_pipeline: Any
) -> None:
    _, pipeline_arn = make_pipeline()
    url, _ = subscribe(sqs, events, for_pipeline(pipeline_arn))
    replies: list[dict[str, Any]] = []
    poller = make_client("sqs", emulator, read_timeout=60)
    thread = threading.Thread(
        target=lambda: replies.append(poller.receive_message(QueueUrl=url, WaitTimeSeconds=20))
    )
    thread.start()
    sm.start_pipeline_execution(PipelineName=pipeline_arn.rsplit("/", 1)[1])
    thread.join(timeout=15)  # well before the poll's 20 s: it answers as the execution starts
    assert not thread.is_alive()
    first = json.loads(replies[0]["Messages"][0]["Body"])
    assert first["detail"]["currentPipelineExecutionStatus"] == "Executing"


def test_a_long_poll_sees_events_the_running_clock_passes(
    emulator: EmulatorProcess, sm: Any, sqs: Any, events: Any, make_pipeline: Any
) -> None:
    """Nobody reads SageMaker: the long poll itself brings the lazy engine to the clock as it runs."""
    _, pipeline_arn = make_pipeline()
    url, _ = subscribe(
        sqs,
        events,
        {
            **for_pipeline(pipeline_arn),
            "detail-type": [DETAIL_TYPES[1]],
            "detail": {"currentStepStatus": ["Executing"]},
        },
    )
    sm.start_pipeline_execution(PipelineName=pipeline_arn.rsplit("/", 1)[1])
    emulator.set_time_scale(10)  # the step leaves Starting within 1 to 4 simulated seconds
    poller = make_client("sqs", emulator, read_timeout=60)
    reply = poller.receive_message(QueueUrl=url, WaitTimeSeconds=20)
    emulator.set_time_scale(0)
    assert json.loads(reply["Messages"][0]["Body"])["detail"]["currentStepStatus"] == "Executing"


def test_an_unacknowledged_event_comes_back_after_the_visibility_timeout(
    emulator: EmulatorProcess, sm: Any, sqs: Any, events: Any, make_pipeline: Any
) -> None:
    _, pipeline_arn = make_pipeline()
    url, _ = subscribe(sqs, events, for_pipeline(pipeline_arn), VisibilityTimeout="60")
    sm.start_pipeline_execution(PipelineName=pipeline_arn.rsplit("/", 1)[1])
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"][0]
    emulator.advance(59)
    assert all(
        m["MessageId"] != first["MessageId"]
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    )
    emulator.advance(120)
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"])[
        "Messages"
    ]
    back = [m for m in again if m["MessageId"] == first["MessageId"]]
    assert back and back[0]["Body"] == first["Body"]
    assert back[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_fault_knobs_drop_duplicate_delay_and_reorder_events(
    emulator: EmulatorProcess, sm: Any, sqs: Any, events: Any, make_pipeline: Any
) -> None:
    def run(faults: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
        _, pipeline_arn = make_pipeline()
        url, _ = subscribe(sqs, events, for_pipeline(pipeline_arn))
        emulator.faults({"events": faults})
        sm.start_pipeline_execution(PipelineName=pipeline_arn.rsplit("/", 1)[1])
        emulator.advance(3600)
        emulator.faults({})
        return drain(sqs, url), url

    plain, _ = run({})
    assert len(plain) == 5  # Executing; Prepare Starting, Executing, Succeeded; Succeeded
    assert [e["time"] for e in plain] == sorted(e["time"] for e in plain)

    dropped, _ = run({"drop": 1})
    assert dropped == []

    doubled, _ = run({"duplicate": 1})
    assert len(doubled) == 10 and len({e["id"] for e in doubled}) == 5

    # Delayed on the emulator's clock: nothing shows until the clock has moved past the delay.
    _, pipeline_arn = make_pipeline()
    url, _ = subscribe(sqs, events, for_pipeline(pipeline_arn))
    emulator.faults({"events": {"delay": 1, "delay_seconds": 5000}})
    sm.start_pipeline_execution(PipelineName=pipeline_arn.rsplit("/", 1)[1])
    emulator.advance(3600)
    emulator.faults({})
    assert drain(sqs, url) == []
    emulator.advance(5000)
    assert len(drain(sqs, url)) == 5

    shuffled, _ = run({"reorder": 1})
    assert len(shuffled) == 5 and len({e["id"] for e in shuffled}) == 5  # all there, once each
    assert [e["time"] for e in shuffled] != sorted(e["time"] for e in shuffled)


def test_bad_event_faults_are_refused(emulator: EmulatorProcess) -> None:
    import urllib.error
    import urllib.request

    for bad in ({"drop": 2}, {"teleport": 0.5}, {"delay_seconds": [10, 1]}, "loud"):
        request = urllib.request.Request(
            f"{emulator.url}/_emulator/faults", data=json.dumps({"events": bad}).encode(), method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=10)
        assert caught.value.code == 400
    assert emulator.control("faults")["events"]["drop"] == 0.0
