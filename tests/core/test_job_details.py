"""The job behind a step, against the emulator over HTTP: what Describe*Job says becomes `JobInfo` (image,
instances, hyperparameters, environment, inputs and outputs with their S3 URIs, secondary status transitions,
billable time), and a training job's metric history is read from its log lines by its MetricDefinitions,
through the monitor: once for a finished job, a Describe and a read of its logs, however often it is asked."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import boto3
from emulator_proc import CREDS, DEFINITIONS, EmulatorProcess
from test_requests import until

from smtui.core.client import SageMakerClient
from smtui.core.events import MetricHistoryRead
from smtui.core.jobs import JobChannel, JobOutput, describe_job
from smtui.core.monitor import Monitor

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
# A Processing, a Training (with MetricDefinitions, hyperparameters, environment) and a Transform step.
DEFINITION = (DEFINITIONS / "job-details.json").read_text()
METRICS = json.loads(DEFINITION)["Steps"][1]["Arguments"]["AlgorithmSpecification"]["MetricDefinitions"]


def start(emu: EmulatorProcess) -> str:
    name = f"jobs-{uuid.uuid4().hex[:8]}"
    emu.create_pipeline(name, DEFINITION)
    return emu.start_execution(name)


def job_arns(emu: EmulatorProcess, arn: str) -> dict[str, str]:
    steps = emu.boto().list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    return {
        s["StepName"]: next(iter(s["Metadata"].values()))["Arn"]
        for s in steps
        if s.get("Metadata") and "Arn" in next(iter(s["Metadata"].values()))
    }


def metric_lines(emu: EmulatorProcess, job: str) -> dict[str, list[float]]:
    """Each metric's values as a user would find them: FilterLogEvents read with boto3, each regex applied."""
    import re

    logs = boto3.client(
        "logs",
        endpoint_url=emu.url,
        region_name="us-east-1",
        aws_access_key_id=CREDS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDS["AWS_SECRET_ACCESS_KEY"],
    )
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=f"{job}/"
    )
    found: dict[str, list[float]] = {m["Name"]: [] for m in METRICS}
    for page in pages:
        for event in page["events"]:
            for metric in METRICS:
                match = re.search(metric["Regex"], event["message"])
                if match:
                    found[metric["Name"]].append(float(match.group(1)))
    return found


async def test_job_info_carries_what_each_describe_says(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    arn = start(emu)
    emu.advance(400)  # every step (60 s each) has ended
    jobs = job_arns(emu, arn)

    prep = await describe_job(client, jobs["Prep"])
    assert prep is not None and prep.kind == "Processing" and prep.status == "Completed"
    assert prep.image == f"{IMAGE}/prep:1"
    assert (prep.instance_type, prep.instance_count) == ("ml.m5.large", 2)
    assert prep.environment == (("MODE", "full"),)
    assert prep.inputs == (JobChannel("raw", "s3://bucket/raw", "/opt/ml/processing/input/raw"),)
    assert prep.outputs == (JobOutput("train", "s3://bucket/prepared/train"),)

    train = await describe_job(client, jobs["Train"])
    assert train is not None and train.kind == "Training" and train.status == "Completed"
    assert train.image == f"{IMAGE}/train:2"
    assert (train.instance_type, train.instance_count) == ("ml.g5.xlarge", 1)
    assert train.hyperparameters == (("epochs", "8"), ("lr", "0.01"))
    assert train.environment == (("SEED", "7"),)
    assert train.inputs == (JobChannel("train", "s3://bucket/prepared/train", "text/csv"),)
    # The ARN carries the name lower-cased; the reply's exact case is the one its paths (and streams) use.
    assert train.name.lower() == jobs["Train"].rsplit("/", 1)[-1] and train.name != train.name.lower()
    name = train.name
    assert train.outputs == (
        JobOutput("output", "s3://bucket/models"),
        JobOutput("model", f"s3://bucket/models/{name}/output/model.tar.gz"),
    )
    statuses = [t.status for t in train.transitions]
    assert statuses[:3] == ["Starting", "Downloading", "Training"] and statuses[-1] == "Completed"
    assert all(t.ended is not None for t in train.transitions[:-1])
    assert train.billable_seconds is not None and 0 < train.billable_seconds <= 60
    assert [d.name for d in train.metric_definitions] == ["train:loss", "validation:auc"]
    assert {m for m, _ in train.metrics} == {"train:loss", "validation:auc"}

    score = await describe_job(client, jobs["Score"])
    assert score is not None and score.kind == "Transform"
    assert score.inputs == (JobChannel("input", "s3://bucket/score", "text/csv"),)
    assert score.outputs == (JobOutput("output", "s3://bucket/scored"),)


async def test_a_finished_jobs_metric_history_is_its_log_lines_read_once(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    arn = start(emu)
    emu.advance(400)
    train_arn = job_arns(emu, arn)["Train"]
    # Not started: no poll, so every call the emulator counts is one of these requests.
    monitor = Monitor(client, rate=50.0, active_interval=0.1)
    events: list[Any] = []
    monitor.subscribe(events.append)

    def ask() -> None:  # as the execution screen does, at every repaint
        monitor.want_job(train_arn)
        monitor.want_metric_history(train_arn)

    try:
        await until(lambda: any(isinstance(e, MetricHistoryRead) for e in events), then=ask)
        for _ in range(20):  # asked again and again: nothing more is read
            ask()
            await asyncio.sleep(0.02)
        history = monitor.metric_history(train_arn)
        job = monitor.job(train_arn)
        assert history is not None and history.final and job is not None
        stats = emu.stats()  # before the test reads the log itself
        assert stats["DescribeTrainingJob"] == 1
        assert stats["FilterLogEvents"] == 1
        expected = metric_lines(emu, job.name)
        assert {s.name: list(s.values) for s in history.series} == expected
        finals = dict(job.metrics)
        for series in history.series:
            assert len(series.values) >= 2
            assert series.values[-1] == finals[series.name]
        assert sum(1 for e in events if isinstance(e, MetricHistoryRead)) == 1
    finally:
        await monitor.stop()
