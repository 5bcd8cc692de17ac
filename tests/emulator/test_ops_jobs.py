"""Describe{Training,Processing,Transform}Job for the jobs steps run: names, status, times, metrics."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from wire_harness import ROLE_ARN

LONG_ENOUGH = 4 * 3600
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/image:latest"

TRAIN = {
    "Name": "Train",
    "Type": "Training",
    "Arguments": {
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "OutputDataConfig": {"S3OutputPath": "s3://bucket/models"},
        "ResourceConfig": {"InstanceCount": 2, "InstanceType": "ml.g5.2xlarge", "VolumeSizeInGB": 50},
        "StoppingCondition": {"MaxRuntimeInSeconds": 7200},
        "RoleArn": ROLE_ARN,
        "HyperParameters": {"epochs": "5"},
    },
}
SCORE = {
    "Name": "Score",
    "Type": "Transform",
    "DependsOn": ["Train"],
    "Arguments": {
        "ModelName": "my-model",
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bucket/in"}}
        },
        "TransformOutput": {"S3OutputPath": "s3://bucket/out"},
        "TransformResources": {"InstanceCount": 1, "InstanceType": "ml.c5.xlarge"},
    },
}


def _job_names(sm: Any, arn: str) -> dict[str, str]:
    """Step name → job name taken from the step's Metadata ARN (lower-cased there, as the service does)."""
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    names = {}
    for step in steps:
        for value in step.get("Metadata", {}).values():
            if isinstance(value, dict) and "Arn" in value and "-job/" in value["Arn"]:
                names[step["StepName"]] = value["Arn"].rsplit("/", 1)[1]
    return names


def test_training_and_transform_jobs_describe_like_the_service(
    sm: Any, emulator: Any, make_definition: Any, make_pipeline: Any
) -> None:
    name, _ = make_pipeline(definition=make_definition(TRAIN, SCORE))
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    emulator.advance(30)
    running = sm.describe_training_job(TrainingJobName=_job_names(sm, arn)["Train"])
    assert running["TrainingJobStatus"] == "InProgress"
    assert "TrainingEndTime" not in running and "FinalMetricDataList" not in running
    emulator.advance(LONG_ENOUGH)
    names = _job_names(sm, arn)
    training = sm.describe_training_job(TrainingJobName=names["Train"])  # the lower-cased name finds it
    assert training["TrainingJobName"].lower() == names["Train"]
    assert training["TrainingJobName"].startswith(f"pipelines-{arn.rsplit('/', 1)[1]}-Train-")  # exact case
    assert training["TrainingJobStatus"] == "Completed"
    assert training["SecondaryStatus"] == "Completed"
    assert training["ResourceConfig"]["InstanceType"] == "ml.g5.2xlarge"
    assert training["ResourceConfig"]["InstanceCount"] == 2
    assert training["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200}
    assert training["HyperParameters"] == {"epochs": "5"}
    assert training["ModelArtifacts"]["S3ModelArtifacts"].startswith("s3://bucket/models/")
    assert training["TrainingStartTime"] <= training["TrainingEndTime"]
    assert {m["MetricName"] for m in training["FinalMetricDataList"]} >= {"validation:accuracy"}
    transform = sm.describe_transform_job(TransformJobName=names["Score"])
    assert transform["TransformJobStatus"] == "Completed"
    assert transform["ModelName"] == "my-model"
    assert transform["TransformResources"] == {"InstanceType": "ml.c5.xlarge", "InstanceCount": 1}
    assert transform["TransformStartTime"] >= training["TrainingEndTime"]


def test_processing_job_takes_its_instance_from_the_step(
    sm: Any, emulator: Any, make_definition: Any, make_pipeline: Any
) -> None:
    name, _ = make_pipeline(definition=make_definition())
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    emulator.advance(LONG_ENOUGH)
    job = sm.describe_processing_job(ProcessingJobName=_job_names(sm, arn)["Prepare"])
    assert job["ProcessingJobStatus"] == "Completed"
    assert job["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.m5.xlarge"
    assert job["AppSpecification"]["ImageUri"].endswith("/prep:latest")
    assert job["ProcessingStartTime"] < job["ProcessingEndTime"]


def test_unknown_job_is_the_services_validation_error(sm: Any) -> None:
    with pytest.raises(ClientError) as caught:
        sm.describe_training_job(TrainingJobName="no-such-job")
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["Error"]["Message"] == "Requested resource not found."
