"""The AWS CLI, an independent client, works against the emulator with only --endpoint-url and dummy keys.

`test_aws_cli_shows_the_services_error` runs the `aws` executable as a process of its own, as users run it,
and checks that the worker gives the same exit code, stdout and stderr for the same command. Every other
command runs in `awscli_worker`: one process that imports awscli once and runs each command through the
CLI's own entry point, `create_clidriver().main(args)`, which is all the `aws` script does. Starting the AWS
CLI costs about a second of CPU per process, most of it importing awscli and parsing its JSON models; in the
worker a command costs about 50 ms, and the CLI code a command goes through is the same. The worker is a
process rather than this one because importing awscli changes the importing process (see `awscli_worker`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from awscli_worker import AwsCli, CliResult
from wire_harness import ROLE_ARN, EmulatorProcess, create_pipeline, simple_definition

AWS = Path(sys.executable).parent / "aws"
# Dummy keys and a region, and no configuration or credentials file of the user's.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIAEMULATOR",
    "AWS_SECRET_ACCESS_KEY": "emulator-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}

Aws = Callable[..., CliResult]


def common_args(emulator: EmulatorProcess) -> list[str]:
    return ["--endpoint-url", emulator.url, "--output", "json"]


def aws_process(emulator: EmulatorProcess, *args: str) -> CliResult:
    """`aws *args` as a process of its own: the executable users run."""
    result = subprocess.run(
        [str(AWS), *common_args(emulator), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **AWS_ENV},
        timeout=120,
    )
    return CliResult(result.returncode, result.stdout, result.stderr)


@pytest.fixture(scope="module")
def aws_cli() -> Iterator[AwsCli]:
    worker = AwsCli({**os.environ, **AWS_ENV})
    yield worker
    worker.close()


@pytest.fixture
def aws(aws_cli: AwsCli, emulator: EmulatorProcess) -> Aws:
    """`aws(*args)`: `aws --endpoint-url <emulator> --output json *args`, run in the worker."""

    def run(*args: str) -> CliResult:
        return aws_cli.run([*common_args(emulator), *args])

    return run


def ok(result: CliResult) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_aws_cli_creates_starts_and_lists(aws: Aws, unique_name: Any, tmp_path: Path) -> None:
    name = unique_name("Cli")
    definition = tmp_path / "pipeline.json"
    definition.write_text(simple_definition())
    created = ok(
        aws(
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
    started = ok(aws("sagemaker", "start-pipeline-execution", "--pipeline-name", name))
    listed = ok(aws("sagemaker", "list-pipeline-executions", "--pipeline-name", name))
    assert [e["PipelineExecutionArn"] for e in listed["PipelineExecutionSummaries"]] == [
        started["PipelineExecutionArn"]
    ]
    pipelines = ok(aws("sagemaker", "list-pipelines", "--pipeline-name-prefix", name))
    assert [p["PipelineName"] for p in pipelines["PipelineSummaries"]] == [name]


def test_aws_cli_shows_the_services_error(emulator: EmulatorProcess, aws: Aws, unique_name: Any) -> None:
    args = ("sagemaker", "describe-pipeline", "--pipeline-name", unique_name("Nope"))
    result = aws_process(emulator, *args)
    assert result.returncode == 255 and result.stdout == ""
    assert "(ResourceNotFound) when calling the DescribePipeline operation" in result.stderr
    assert aws(*args) == result  # the worker the other tests use answers as the executable does
    result = aws("sagemaker", "list-pipelines", "--sort-order", "Sideways")
    assert "(ValidationException)" in result.stderr and "sortOrder" in result.stderr


def test_aws_cli_reads_a_steps_logs_and_approves_its_model(
    aws: Aws, emulator: EmulatorProcess, sm: Any, unique_name: Any
) -> None:
    name, group = unique_name("CliLogs"), unique_name("cli-models")
    register = {"Name": "Register", "Type": "RegisterModel", "Arguments": {"ModelPackageGroupName": group}}
    # Created and started through boto3: the CLI's part of that is the first test's.
    create_pipeline(sm, name, simple_definition(json.loads(simple_definition())["Steps"][0], register))
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    emulator.advance(4 * 3600)
    steps = ok(aws("sagemaker", "list-pipeline-execution-steps", "--pipeline-execution-arn", arn))
    by_name = {s["StepName"]: s for s in steps["PipelineExecutionSteps"]}
    lower = by_name["Prepare"]["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[1]
    job = ok(aws("sagemaker", "describe-processing-job", "--processing-job-name", lower))["ProcessingJobName"]
    found = ok(
        aws(
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
    described = ok(aws("sagemaker", "describe-model-package", "--model-package-name", package))
    assert (described["ModelApprovalStatus"], described["ApprovalDescription"]) == ("Approved", "looks good")
    listed = ok(
        aws(
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
    aws: Aws, sm: Any, unique_name: Any, tmp_path: Path
) -> None:
    name = unique_name("CliEvents")
    pipeline_arn = create_pipeline(sm, name)  # boto3: the CLI's create and start are the first test's
    url = ok(aws("sqs", "create-queue", "--queue-name", name))["QueueUrl"]
    queue = ok(aws("sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names", "QueueArn"))
    queue_arn = queue["Attributes"]["QueueArn"]
    pattern = json.dumps({"source": ["aws.sagemaker"], "resources": [pipeline_arn]})
    rule_arn = ok(aws("events", "put-rule", "--name", name, "--event-pattern", pattern))["RuleArn"]
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
            "sqs",
            "set-queue-attributes",
            "--queue-url",
            url,
            "--attributes",
            f"file://{attributes}",
        )
    )
    targets = ok(aws("events", "put-targets", "--rule", name, "--targets", f"Id=q,Arn={queue_arn}"))
    assert targets["FailedEntryCount"] == 0
    sm.start_pipeline_execution(PipelineName=name)

    received = ok(aws("sqs", "receive-message", "--queue-url", url, "--wait-time-seconds", "5"))
    event = json.loads(received["Messages"][0]["Body"])
    assert event["detail-type"] == "SageMaker Model Building Pipeline Execution Status Change"
    assert event["detail"]["currentPipelineExecutionStatus"] == "Executing"
    handle = received["Messages"][0]["ReceiptHandle"]
    ok(aws("sqs", "delete-message", "--queue-url", url, "--receipt-handle", handle))

    refused = aws("events", "delete-rule", "--name", name)
    assert "(ValidationException)" in refused.stderr and "has targets" in refused.stderr
    ok(aws("events", "remove-targets", "--rule", name, "--ids", "q"))
    ok(aws("events", "delete-rule", "--name", name))
    ok(aws("sqs", "delete-queue", "--queue-url", url))
    gone = aws("sqs", "get-queue-url", "--queue-name", name)
    assert "(AWS.SimpleQueueService.NonExistentQueue)" in gone.stderr
