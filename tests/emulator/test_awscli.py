"""The AWS CLI, an independent client, works against the emulator with only --endpoint-url and dummy keys."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from wire_harness import ROLE_ARN, EmulatorProcess, create_pipeline, simple_definition

AWS = Path(sys.executable).parent / "aws"


def aws(emulator: EmulatorProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "AKIAEMULATOR",
        "AWS_SECRET_ACCESS_KEY": "emulator-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    return subprocess.run(
        [str(AWS), "--endpoint-url", emulator.url, "--output", "json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def ok(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_aws_cli_creates_starts_and_lists(
    emulator: EmulatorProcess, unique_name: Any, tmp_path: Path
) -> None:
    name = unique_name("Cli")
    definition = tmp_path / "pipeline.json"
    definition.write_text(simple_definition())
    created = ok(
        aws(
            emulator,
            "sagemaker",
            "create-pipeline",
            "--pipeline-name",
            name,
            "--pipeline-definition",
            f"file://{definition}",
            "--role-arn",
            ROLE_ARN,
        )
    )
    assert created["PipelineArn"].endswith(f":pipeline/{name.lower()}")
    started = ok(aws(emulator, "sagemaker", "start-pipeline-execution", "--pipeline-name", name))
    listed = ok(aws(emulator, "sagemaker", "list-pipeline-executions", "--pipeline-name", name))
    assert [e["PipelineExecutionArn"] for e in listed["PipelineExecutionSummaries"]] == [
        started["PipelineExecutionArn"]
    ]
    pipelines = ok(aws(emulator, "sagemaker", "list-pipelines", "--pipeline-name-prefix", name))
    assert [p["PipelineName"] for p in pipelines["PipelineSummaries"]] == [name]


def test_aws_cli_shows_the_services_error(emulator: EmulatorProcess, unique_name: Any) -> None:
    result = aws(emulator, "sagemaker", "describe-pipeline", "--pipeline-name", unique_name("Nope"))
    assert result.returncode != 0
    assert "(ResourceNotFound) when calling the DescribePipeline operation" in result.stderr
    result = aws(emulator, "sagemaker", "list-pipelines", "--sort-order", "Sideways")
    assert "(ValidationException)" in result.stderr and "sortOrder" in result.stderr


def test_aws_cli_reads_a_steps_logs_and_approves_its_model(
    emulator: EmulatorProcess, sm: Any, unique_name: Any
) -> None:
    name, group = unique_name("CliLogs"), unique_name("cli-models")
    register = {"Name": "Register", "Type": "RegisterModel", "Arguments": {"ModelPackageGroupName": group}}
    # Created and started through boto3 (the CLI's part of that is the first test's): each CLI call is a
    # process of its own, about a second.
    create_pipeline(sm, name, simple_definition(json.loads(simple_definition())["Steps"][0], register))
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    emulator.advance(4 * 3600)
    steps = ok(aws(emulator, "sagemaker", "list-pipeline-execution-steps", "--pipeline-execution-arn", arn))
    by_name = {s["StepName"]: s for s in steps["PipelineExecutionSteps"]}
    lower = by_name["Prepare"]["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[1]
    job = ok(aws(emulator, "sagemaker", "describe-processing-job", "--processing-job-name", lower))[
        "ProcessingJobName"
    ]
    found = ok(
        aws(
            emulator,
            "logs",
            "filter-log-events",
            "--log-group-name",
            "/aws/sagemaker/ProcessingJobs",
            "--log-stream-name-prefix",
            f"{job}/",
            "--filter-pattern",
            "Processed",
            "--interleaved",
        )
    )
    assert found["events"] and all("Processed" in e["message"] for e in found["events"])
    stream = found["events"][0]["logStreamName"]
    head = ok(
        aws(
            emulator,
            "logs",
            "get-log-events",
            "--log-group-name",
            "/aws/sagemaker/ProcessingJobs",
            "--log-stream-name",
            stream,
            "--start-from-head",
            "--limit",
            "3",
        )
    )
    assert len(head["events"]) == 3 and "Starting:" in head["events"][0]["message"]

    package = by_name["Register"]["Metadata"]["RegisterModel"]["Arn"]
    ok(
        aws(
            emulator,
            "sagemaker",
            "update-model-package",
            "--model-package-arn",
            package,
            "--model-approval-status",
            "Approved",
            "--approval-description",
            "looks good",
        )
    )
    described = ok(aws(emulator, "sagemaker", "describe-model-package", "--model-package-name", package))
    assert (described["ModelApprovalStatus"], described["ApprovalDescription"]) == ("Approved", "looks good")
    listed = ok(
        aws(
            emulator,
            "sagemaker",
            "list-model-packages",
            "--model-package-group-name",
            group,
            "--model-approval-status",
            "Approved",
        )
    )
    assert [p["ModelPackageArn"] for p in listed["ModelPackageSummaryList"]] == [package]


def test_aws_cli_subscribes_a_queue_to_pipeline_events(
    emulator: EmulatorProcess, sm: Any, unique_name: Any, tmp_path: Path
) -> None:
    name = unique_name("CliEvents")
    pipeline_arn = create_pipeline(sm, name)  # boto3: the CLI's create and start are the first test's
    url = ok(aws(emulator, "sqs", "create-queue", "--queue-name", name))["QueueUrl"]
    queue_arn = ok(
        aws(emulator, "sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names", "QueueArn")
    )["Attributes"]["QueueArn"]
    pattern = json.dumps({"source": ["aws.sagemaker"], "resources": [pipeline_arn]})
    rule_arn = ok(aws(emulator, "events", "put-rule", "--name", name, "--event-pattern", pattern))["RuleArn"]
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ]
    }
    attributes = tmp_path / "attributes.json"
    attributes.write_text(json.dumps({"Policy": json.dumps(policy)}))
    ok(
        aws(
            emulator,
            "sqs",
            "set-queue-attributes",
            "--queue-url",
            url,
            "--attributes",
            f"file://{attributes}",
        )
    )
    targets = ok(aws(emulator, "events", "put-targets", "--rule", name, "--targets", f"Id=q,Arn={queue_arn}"))
    assert targets["FailedEntryCount"] == 0
    sm.start_pipeline_execution(PipelineName=name)

    received = ok(aws(emulator, "sqs", "receive-message", "--queue-url", url, "--wait-time-seconds", "5"))
    event = json.loads(received["Messages"][0]["Body"])
    assert event["detail-type"] == "SageMaker Model Building Pipeline Execution Status Change"
    assert event["detail"]["currentPipelineExecutionStatus"] == "Executing"
    handle = received["Messages"][0]["ReceiptHandle"]
    ok(aws(emulator, "sqs", "delete-message", "--queue-url", url, "--receipt-handle", handle))

    refused = aws(emulator, "events", "delete-rule", "--name", name)
    assert "(ValidationException)" in refused.stderr and "has targets" in refused.stderr
    ok(aws(emulator, "events", "remove-targets", "--rule", name, "--ids", "q"))
    ok(aws(emulator, "events", "delete-rule", "--name", name))
    ok(aws(emulator, "sqs", "delete-queue", "--queue-url", url))
    gone = aws(emulator, "sqs", "get-queue-url", "--queue-name", name)
    assert "(AWS.SimpleQueueService.NonExistentQueue)" in gone.stderr
