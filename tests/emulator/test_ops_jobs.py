"""Describe{Training,Processing,Transform}Job for the jobs steps run: names, status, times, metrics."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from botocore.exceptions import ClientError
from logs_harness import definition, job_name, processing, run, steps, training, transform
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


def test_job_descriptions_carry_the_steps_arguments_and_their_secondary_statuses(
    sm: Any, emulator: Any, make_pipeline: Any
) -> None:
    name, _ = make_pipeline(
        definition=definition(
            training(count=3), processing(DependsOn=["Train"]), transform(DependsOn=["Train"])
        )
    )
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    # Training: it starts within 4 s (start delay) + 150 s (provisioning) + 60 s (download), runs >= 600 s.
    emulator.advance(300)
    running = sm.describe_training_job(TrainingJobName=job_name(sm, steps(sm, arn)["Train"]))
    assert running["SecondaryStatus"] == "Training"
    assert [t["Status"] for t in running["SecondaryStatusTransitions"]] == [
        "Starting",
        "Downloading",
        "Training",
    ]
    assert "EndTime" not in running["SecondaryStatusTransitions"][-1]
    assert run(sm, emulator, arn) == "Succeeded"
    listed = steps(sm, arn)
    job = sm.describe_training_job(TrainingJobName=job_name(sm, listed["Train"]))
    args = training(count=3)["Arguments"]
    for member in ("HyperParameters", "Environment", "InputDataConfig", "StoppingCondition", "RoleArn"):
        assert job[member] == args[member], member
    assert job["AlgorithmSpecification"] == args["AlgorithmSpecification"]  # image and MetricDefinitions
    assert (
        job["ModelArtifacts"]["S3ModelArtifacts"]
        == f"s3://bucket/models/{job['TrainingJobName']}/output/model.tar.gz"
    )
    transitions = job["SecondaryStatusTransitions"]
    assert [t["Status"] for t in transitions] == [
        "Starting",
        "Downloading",
        "Training",
        "Uploading",
        "Completed",
    ]
    assert transitions[0]["StartTime"] == job["CreationTime"]
    assert all(a["EndTime"] == b["StartTime"] for a, b in itertools.pairwise(transitions))
    assert transitions[1]["StartTime"] == job["TrainingStartTime"]
    assert transitions[-1]["StartTime"] == job["TrainingEndTime"] == listed["Train"]["EndTime"]
    # Wall-clock seconds from TrainingStartTime: not multiplied by the 3 instances.
    elapsed = (job["TrainingEndTime"] - job["TrainingStartTime"]).total_seconds()
    assert job["BillableTimeInSeconds"] == job["TrainingTimeInSeconds"] == int(elapsed)
    assert job["ResourceConfig"]["InstanceCount"] == 3

    prep = sm.describe_processing_job(ProcessingJobName=job_name(sm, listed["Prep"]))
    given = processing()["Arguments"]
    assert prep["ProcessingInputs"] == given["ProcessingInputs"]
    assert prep["Environment"] == {"SPLIT": "0.2"}
    assert prep["AppSpecification"] == given["AppSpecification"]
    (output,) = prep["ProcessingOutputConfig"]["Outputs"]
    # The step left S3UploadMode out: the service fills in its default.
    assert output["S3Output"] == {
        "S3Uri": "s3://bucket/out/train",
        "LocalPath": "/opt/ml/processing/train",
        "S3UploadMode": "EndOfJob",
    }
    assert prep["CreationTime"] < prep["ProcessingStartTime"] < prep["ProcessingEndTime"]

    score = sm.describe_transform_job(TransformJobName=job_name(sm, listed["Score"]))
    assert score["TransformInput"] == transform()["Arguments"]["TransformInput"]
    assert score["TransformOutput"] == {"S3OutputPath": "s3://bucket/score-out"}
    assert score["CreationTime"] < score["TransformStartTime"] < score["TransformEndTime"]


def test_a_stopped_training_job_ends_stopping_then_stopped(
    sm: Any, emulator: Any, make_pipeline: Any
) -> None:
    name, _ = make_pipeline(definition=definition(training()))
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    emulator.advance(300)  # training
    sm.stop_pipeline_execution(PipelineExecutionArn=arn)
    stopping = sm.describe_training_job(TrainingJobName=job_name(sm, steps(sm, arn)["Train"]))
    assert stopping["TrainingJobStatus"] == "Stopping" and stopping["SecondaryStatus"] == "Stopping"
    assert run(sm, emulator, arn, tick=5) == "Stopped"
    job = sm.describe_training_job(TrainingJobName=stopping["TrainingJobName"])
    transitions = job["SecondaryStatusTransitions"]
    assert [t["Status"] for t in transitions] == [
        "Starting",
        "Downloading",
        "Training",
        "Stopping",
        "Stopped",
    ]
    assert transitions[2]["EndTime"] == transitions[3]["StartTime"]  # training ended when the stop came
    assert transitions[-1]["StartTime"] == job["TrainingEndTime"]
    assert job["BillableTimeInSeconds"] == int(
        (job["TrainingEndTime"] - job["TrainingStartTime"]).total_seconds()
    )
