"""Fault injection and call statistics through the control endpoints, seen from boto3."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError
from wire_harness import EmulatorProcess, create_pipeline, make_client, make_sm

STEPS = "SageMaker.ListPipelineExecutionSteps"


def _calls(emulator: EmulatorProcess, target: str) -> int:
    return emulator.stats().get(target, 0)


def test_stats_count_every_call_by_target(sm: Any, emulator: EmulatorProcess) -> None:
    before = _calls(emulator, "SageMaker.ListPipelines")
    for _ in range(3):
        sm.list_pipelines(MaxResults=1)
    assert _calls(emulator, "SageMaker.ListPipelines") == before + 3


def test_throttled_operation_answers_rate_exceeded_and_is_counted(
    sm: Any, emulator: EmulatorProcess, make_pipeline: Any
) -> None:
    name, _ = make_pipeline()
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    emulator.faults({"throttle": {"ListPipelineExecutionSteps": 1.0}})
    before = _calls(emulator, STEPS)
    with pytest.raises(ClientError) as caught:
        sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)
    error = caught.value.response
    assert (error["Error"]["Code"], error["Error"]["Message"]) == ("ThrottlingException", "Rate exceeded")
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert _calls(emulator, STEPS) == before + 1
    # Other operations are not throttled.
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionArn"] == arn


def test_a_retrying_client_is_seen_calling_again(emulator: EmulatorProcess, make_pipeline: Any) -> None:
    name, _ = make_pipeline()
    emulator.faults({"throttle": {"SageMaker.DescribePipeline": 1.0}})
    client = make_sm(emulator, retries={"mode": "standard", "total_max_attempts": 3})
    before = _calls(emulator, "SageMaker.DescribePipeline")
    with pytest.raises(ClientError):
        client.describe_pipeline(PipelineName=name)
    assert _calls(emulator, "SageMaker.DescribePipeline") == before + 3


def test_partial_throttling_lets_some_calls_through(sm: Any, emulator: EmulatorProcess) -> None:
    emulator.faults({"throttle": {"ListPipelines": 0.5}})
    outcomes = []
    for _ in range(40):
        try:
            sm.list_pipelines(MaxResults=1)
            outcomes.append(True)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ThrottlingException"
            outcomes.append(False)
    assert 5 < outcomes.count(False) < 35


def test_error_rate_gives_internal_failure_500(sm: Any, emulator: EmulatorProcess) -> None:
    emulator.faults({"error_rate": 1.0})
    with pytest.raises(ClientError) as caught:
        sm.list_pipelines()
    assert caught.value.response["Error"]["Code"] == "InternalFailure"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    emulator.faults({})
    assert "PipelineSummaries" in sm.list_pipelines(MaxResults=1)


def test_latency_holds_replies_back(sm: Any, emulator: EmulatorProcess) -> None:
    """A call made with latency set is still unanswered when a later call, made once it is cleared, has its
    answer: the order of the replies shows the delay, whatever the machine's speed."""
    target = "SageMaker.ListPipelines"
    before = _calls(emulator, target)
    held = make_sm(emulator)  # a client of its own: its call is in flight while `sm` makes another
    emulator.faults({"latency_ms": 1500})
    answered: list[str] = []
    slow = threading.Thread(target=lambda: (held.list_pipelines(MaxResults=1), answered.append("held")))
    slow.start()
    deadline = time.monotonic() + 30
    while _calls(emulator, target) == before and time.monotonic() < deadline:  # until it has arrived
        time.sleep(0.01)
    assert _calls(emulator, target) == before + 1
    emulator.faults({})
    sm.list_pipelines(MaxResults=1)
    answered.append("later")
    slow.join(30)
    assert answered == ["later", "held"]


def test_bad_fault_settings_are_refused(emulator: EmulatorProcess) -> None:
    request = urllib.request.Request(
        f"{emulator.url}/_emulator/faults", data=json.dumps({"error_rate": 7}).encode(), method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 400
    assert emulator.control("faults") == {
        "throttle": {},
        "latency_ms": 0.0,
        "error_rate": 0.0,
        "expired_token": False,
        "events": {"drop": 0.0, "duplicate": 0.0, "delay": 0.0, "delay_seconds": [1.0, 60.0], "reorder": 0.0},
    }


def test_expired_token_refuses_every_call_until_lifted(emulator: EmulatorProcess, sm: Any) -> None:
    bad = urllib.request.Request(
        f"{emulator.url}/_emulator/faults", data=json.dumps({"expired_token": "yes"}).encode(), method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(bad, timeout=10)
    assert caught.value.code == 400
    emulator.faults({"expired_token": True})
    with pytest.raises(ClientError) as refused:
        sm.list_pipelines()
    assert refused.value.response["Error"]["Code"] == "ExpiredTokenException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    emulator.faults({})
    assert "PipelineSummaries" in sm.list_pipelines()


def test_clock_control_advances_and_scales(emulator: EmulatorProcess) -> None:
    now = emulator.now()
    assert emulator.advance(120) == pytest.approx(now + 120, abs=0.5)
    emulator.set_time_scale(1000)
    time.sleep(0.05)
    assert emulator.now() > now + 120 + 20
    health = emulator.control("health")
    assert health["status"] == "ok" and health["time_scale"] == 1000


def test_reset_brings_the_emulator_back_to_its_start(emulator_factory: Any, tmp_path: Any) -> None:
    own = emulator_factory("--time-scale", "0")
    sm, sqs = make_sm(own), make_client("sqs", own)
    no_faults, started_at = own.control("faults"), own.now()
    create_pipeline(sm, "before-reset")
    sm.start_pipeline_execution(PipelineName="before-reset")
    sqs.create_queue(QueueName="before-reset")
    own.faults({"latency_ms": 5, "events": {"drop": 1.0}})
    own.advance(30 * 86400)

    reply = own.control("reset", {})
    assert reply["time_scale"] == 0 and started_at - 1 <= reply["now"] < started_at + 86400
    assert own.stats() == {} and own.control("faults") == no_faults
    assert sm.list_pipelines()["PipelineSummaries"] == []
    with pytest.raises(ClientError) as gone:
        sqs.get_queue_url(QueueName="before-reset")
    assert gone.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert own.stats() == {"SageMaker.ListPipelines": 1, "AmazonSQS.GetQueueUrl": 1}
    create_pipeline(sm, "before-reset")  # the name is free again

    kept = emulator_factory("--time-scale", "0", "--state", str(tmp_path / "state.db"))
    with pytest.raises(urllib.error.HTTPError) as refused:
        kept.control("reset", {})
    assert refused.value.code == 400 and "--state" in json.loads(refused.value.read())["message"]
