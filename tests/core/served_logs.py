"""What the emulator serves for a step's logs, read with boto3 outside the code under test: the yardstick the
follower's and `smtui logs`' output is compared with (every event once, in the service's order), so that the
tests hold whatever the emulator writes."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import boto3
from emulator_proc import CREDS, EmulatorProcess

GROUPS = {
    "TrainingJob": "/aws/sagemaker/TrainingJobs",
    "ProcessingJob": "/aws/sagemaker/ProcessingJobs",
    "TransformJob": "/aws/sagemaker/TransformJobs",
}


class Event(NamedTuple):
    """A log event as a reader sees it: its time (epoch ms), its stream and its message."""

    timestamp: int
    stream: str
    message: str


@dataclass(frozen=True)
class StepJob:
    """The job a step ran, as the service describes it."""

    kind: str  # TrainingJob | ProcessingJob | TransformJob
    name: str  # the exact case (Describe*Job), as the streams are named
    group: str
    failure_reason: str | None


def logs_client(emu: EmulatorProcess) -> Any:
    return boto3.client(
        "logs",
        endpoint_url=emu.url,
        region_name="us-east-1",
        aws_access_key_id=CREDS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDS["AWS_SECRET_ACCESS_KEY"],
    )


def served(
    emu: EmulatorProcess,
    group: str,
    prefix: str | None = None,
    *,
    start_ms: int | None = None,
    end_ms: int | None = None,
) -> list[Event]:
    """Every event of the group's streams (those starting with `prefix`) as of now, all pages of
    FilterLogEvents interleaved by time; an empty list if the group does not exist yet."""
    params: dict[str, Any] = {"logGroupName": group}
    if prefix is not None:
        params["logStreamNamePrefix"] = prefix
    if start_ms is not None:
        params["startTime"] = start_ms
    if end_ms is not None:
        params["endTime"] = end_ms
    client = logs_client(emu)
    try:
        pages = list(client.get_paginator("filter_log_events").paginate(**params))
    except client.exceptions.ResourceNotFoundException:
        return []
    return [Event(e["timestamp"], e["logStreamName"], e["message"]) for page in pages for e in page["events"]]


def steps_of(emu: EmulatorProcess, arn: str) -> list[dict[str, Any]]:
    sm = emu.boto()
    steps: list[dict[str, Any]] = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)[
        "PipelineExecutionSteps"
    ]
    return steps


def describe_job(emu: EmulatorProcess, kind: str, name: str) -> StepJob:
    """A job by name (any case), as the service describes it."""
    noun = kind.removesuffix("Job").lower()
    reply = getattr(emu.boto(), f"describe_{noun}_job")(**{f"{kind}Name": name})
    return StepJob(kind, reply[f"{kind}Name"], GROUPS[kind], reply.get("FailureReason"))


def step_job(emu: EmulatorProcess, arn: str, step: str) -> StepJob:
    """The job the step ran (its last attempt's); its ARN carries the name lower-cased."""
    (metadata,) = (s["Metadata"] for s in steps_of(emu, arn) if s["StepName"] == step)
    kind, body = next(iter(metadata.items()))
    return describe_job(emu, kind, body["Arn"].rsplit("/", 1)[1])


def job_events(emu: EmulatorProcess, job: StepJob) -> list[Event]:
    """Every event of every stream of the job (one per instance, and a transform's data logs)."""
    return served(emu, job.group, f"{job.name}/")


def step_window(emu: EmulatorProcess, arn: str, step: str) -> tuple[int, int]:
    """The step's StartTime and EndTime, in epoch ms."""
    (entry,) = (s for s in steps_of(emu, arn) if s["StepName"] == step)
    return int(entry["StartTime"].timestamp() * 1000), int(entry["EndTime"].timestamp() * 1000)


def in_time_order(events: list[Event]) -> bool:
    return all(a.timestamp <= b.timestamp for a, b in itertools.pairwise(events))


def traceback_tail(messages: list[str]) -> list[str]:
    """The lines from the last `Traceback (most recent call last):` to the end, checked to be one Python
    traceback: `File` lines each followed by its code line, then the exception."""
    starts = [i for i, message in enumerate(messages) if message == "Traceback (most recent call last):"]
    assert starts, "no traceback"
    tail = messages[starts[-1] :]
    body = tail[1:]
    frames = 0
    while body and body[0].startswith('  File "'):
        assert len(body) > 1 and body[1].startswith("    "), body[:2]
        body, frames = body[2:], frames + 1
    assert frames and body, tail  # at least one frame, then the exception
    assert not any(line.startswith("  File ") for line in body), tail
    return tail


def stamp(timestamp: int) -> str:
    """How `smtui logs` shows a time: UTC, to the millisecond."""
    return datetime.fromtimestamp(timestamp / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
