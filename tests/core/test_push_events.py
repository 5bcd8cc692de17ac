"""Push updates, the pure part: EventBridge events as SQS delivers them (the shapes AWS documents for the two
SageMaker pipeline detail types), and the ledger that orders and de-duplicates them. What they do to a
monitor is in test_push_monitor.py, against the emulator."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from smtui.core.model import StepStatus
from smtui.core.push import EXECUTION_CHANGE, STEP_CHANGE, Ledger, PipelineEvent, parse_message

PIPELINE = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/train"
EXECUTION = f"{PIPELINE}/execution/abc123"
T0 = datetime(2026, 12, 2, 8, 0, 0, tzinfo=UTC)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def execution_event(status: str, at: datetime, *, id: str | None = None, **detail: Any) -> str:
    return json.dumps(
        {
            "version": "0",
            "id": id or f"id-{status}-{at.timestamp()}",
            "detail-type": EXECUTION_CHANGE,
            "source": "aws.sagemaker",
            "account": "123456789012",
            "time": iso(at),
            "region": "us-east-1",
            "resources": [PIPELINE, EXECUTION],
            "detail": {
                "currentPipelineExecutionStatus": status,
                "previousPipelineExecutionStatus": "Executing",
                "executionStartTime": iso(T0),
                "pipelineArn": PIPELINE,
                "pipelineExecutionArn": EXECUTION,
                **detail,
            },
        }
    )


def step_event(step: str, status: str, at: datetime, *, id: str | None = None, **detail: Any) -> str:
    return json.dumps(
        {
            "version": "0",
            "id": id or f"id-{step}-{status}-{at.timestamp()}",
            "detail-type": STEP_CHANGE,
            "source": "aws.sagemaker",
            "time": iso(at),
            "resources": [PIPELINE, EXECUTION],
            "detail": {
                "stepName": step,
                "stepType": "Training",
                "currentStepStatus": status,
                "stepStartTime": iso(T0),
                "pipelineArn": PIPELINE,
                "pipelineExecutionArn": EXECUTION,
                **detail,
            },
        }
    )


def parsed(body: str) -> PipelineEvent:
    event = parse_message(body)
    assert event is not None
    return event


def test_a_step_event_reads_as_a_listed_step_would() -> None:
    event = parsed(
        step_event(
            "Train",
            "Failed",
            T0 + timedelta(seconds=90),
            stepEndTime=iso(T0 + timedelta(seconds=90)),
            failureReason="AlgorithmError: boom",
            metadata={"trainingJob": {"arn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/x"}},
            cacheHitResult={"sourcePipelineExecutionArn": f"{PIPELINE}/execution/old"},
        )
    )
    assert event.execution_arn == EXECUTION and event.step == "Train"
    run = event.run
    assert run is not None
    assert run.status is StepStatus.FAILED and run.failure_reason == "AlgorithmError: boom"
    assert run.started == T0 and run.ended == T0 + timedelta(seconds=90)
    assert run.metadata_kind == "TrainingJob" and run.job_arn is not None and run.job_arn.endswith("/x")
    assert run.cache_source_arn == f"{PIPELINE}/execution/old"


def test_anything_else_on_the_queue_is_not_an_event() -> None:
    assert parse_message("not json") is None
    assert parse_message(json.dumps({"source": "aws.ec2", "detail-type": EXECUTION_CHANGE})) is None
    other = json.loads(execution_event("Succeeded", T0))
    other["detail-type"] = "SageMaker Training Job State Change"
    assert parse_message(json.dumps(other)) is None
    assert parse_message(execution_event("Bogus", T0)) is None


def admitted(ledger: Ledger, bodies: list[str]) -> list[str]:
    """The statuses the ledger lets through, fed in the order given, one batch sorted as the feed does."""
    events = sorted((parsed(b) for b in bodies), key=lambda e: e.order)
    return [e.status for e in events if ledger.admit(e)]


def test_duplicates_by_id_and_by_content_are_dropped() -> None:
    ledger = Ledger()
    first = execution_event("Executing", T0, id="a")
    same_id = execution_event("Executing", T0, id="a")
    same_content_new_id = execution_event("Executing", T0, id="b")  # SageMaker's own duplicates
    assert admitted(ledger, [first]) == ["Executing"]
    assert admitted(ledger, [same_id, same_content_new_id]) == []
    assert ledger.duplicates == 2


def test_a_late_event_never_moves_an_execution_backwards() -> None:
    ledger = Ledger()
    assert admitted(ledger, [execution_event("Succeeded", T0 + timedelta(seconds=30))]) == ["Succeeded"]
    # Executing from before the end arrives late: dropped.
    assert admitted(ledger, [execution_event("Executing", T0 + timedelta(seconds=1))]) == []
    # The same second: a status further along wins, whatever the order of arrival.
    ledger = Ledger()
    assert admitted(
        ledger,
        [execution_event("Succeeded", T0, id="s"), execution_event("Executing", T0, id="e")],
    ) == ["Executing", "Succeeded"]
    assert admitted(ledger, [execution_event("Executing", T0, id="e2", note="again")]) == []


def test_a_retry_after_a_failure_is_a_real_change() -> None:
    ledger = Ledger()
    assert admitted(ledger, [execution_event("Failed", T0 + timedelta(seconds=10))]) == ["Failed"]
    # RetryPipelineExecution: Executing again, later, under the same ARN.
    assert admitted(ledger, [execution_event("Executing", T0 + timedelta(seconds=40))]) == ["Executing"]


def test_steps_are_ordered_each_on_its_own() -> None:
    ledger = Ledger()
    bodies = [
        step_event("Train", "Starting", T0),
        step_event("Train", "Executing", T0 + timedelta(seconds=1)),
        step_event("Train", "Succeeded", T0 + timedelta(seconds=60)),
        step_event("Eval", "Executing", T0 + timedelta(seconds=61)),
    ]
    shuffled = bodies[:]
    random.Random(7).shuffle(shuffled)
    # One batch, shuffled: applied in event order.
    assert admitted(ledger, shuffled) == ["Starting", "Executing", "Succeeded", "Executing"]
    # Across batches: the late Executing of Train is older than its Succeeded.
    ledger = Ledger()
    assert admitted(ledger, [bodies[2], bodies[3]]) == ["Succeeded", "Executing"]
    assert admitted(ledger, [bodies[1], bodies[0]]) == []
