"""Helpers for the log and job tests: steps of each kind, running an execution to its end over HTTP, and
reading a job's events the way a client does (FilterLogEvents on the job's stream prefix, every page)."""

from __future__ import annotations

import json
from typing import Any

from wire_harness import ROLE_ARN, EmulatorProcess

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
# SageMaker's built-in XGBoost metric definition, and a script's own `loss: 0.41` lines.
AUC = {"Name": "validation:auc", "Regex": r".*\[[0-9]+\].*#011validation-auc:" + NUMBER + ".*"}
LOSS = {"Name": "train:loss", "Regex": r"loss: ([0-9\.]+)"}


def training(
    name: str = "Train", *, count: int = 1, metrics: list[Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {
                "TrainingImage": f"{IMAGE}/xgboost:1.7-1",
                "TrainingInputMode": "File",
                "MetricDefinitions": metrics if metrics is not None else [AUC, LOSS],
            },
            "HyperParameters": {"num_round": "25", "eta": "0.3"},
            "InputDataConfig": [
                {
                    "ChannelName": "train",
                    "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bucket/train/"}},
                }
            ],
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/models"},
            "ResourceConfig": {"InstanceCount": count, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30},
            "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
            "Environment": {"MODE": "full"},
            "RoleArn": ROLE_ARN,
        },
        **extra,
    }


def processing(name: str = "Prep", *, count: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceType": "ml.m5.xlarge",
                    "InstanceCount": count,
                    "VolumeSizeInGB": 30,
                }
            },
            "AppSpecification": {
                "ImageUri": f"{IMAGE}/sklearn:1.2-1",
                "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/preprocess.py"],
                "ContainerArguments": ["--split", "0.2"],
            },
            "ProcessingInputs": [
                {
                    "InputName": "raw",
                    "S3Input": {
                        "S3Uri": "s3://bucket/raw",
                        "LocalPath": "/opt/ml/processing/input/raw",
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                    },
                }
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "train",
                        "S3Output": {
                            "S3Uri": "s3://bucket/out/train",
                            "LocalPath": "/opt/ml/processing/train",
                        },
                    }
                ]
            },
            "Environment": {"SPLIT": "0.2"},
            "RoleArn": ROLE_ARN,
        },
        **extra,
    }


def transform(name: str = "Score", *, count: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Transform",
        "Arguments": {
            "ModelName": "churn-model",
            "TransformInput": {
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bucket/score-in"}},
                "ContentType": "text/csv",
            },
            "TransformOutput": {"S3OutputPath": "s3://bucket/score-out"},
            "TransformResources": {"InstanceCount": count, "InstanceType": "ml.c5.xlarge"},
        },
        **extra,
    }


def definition(*steps: dict[str, Any]) -> str:
    return json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": list(steps)})


def run(sm: Any, emulator: EmulatorProcess, arn: str, *, tick: float = 600, limit: int = 200) -> str:
    """Advance the clock until the execution ends; its final status."""
    for _ in range(limit):
        status: str = sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        if status not in ("Executing", "Stopping"):
            return status
        emulator.advance(tick)
    raise AssertionError(f"{arn} still running")


def steps(sm: Any, arn: str) -> dict[str, dict[str, Any]]:
    pages = sm.get_paginator("list_pipeline_execution_steps").paginate(PipelineExecutionArn=arn)
    return {s["StepName"]: s for page in pages for s in page["PipelineExecutionSteps"]}


def job_name(sm: Any, step: dict[str, Any]) -> str:
    """The exact-case job name behind a step (its Metadata ARN lower-cases it)."""
    for kind, describe, key in (
        ("TrainingJob", sm.describe_training_job, "TrainingJobName"),
        ("ProcessingJob", sm.describe_processing_job, "ProcessingJobName"),
        ("TransformJob", sm.describe_transform_job, "TransformJobName"),
    ):
        if kind in step["Metadata"]:
            lower = step["Metadata"][kind]["Arn"].rsplit("/", 1)[1]
            name: str = describe(**{key: lower})[key]
            return name
    raise AssertionError(f"no job in {step['Metadata']}")


def events(logs: Any, group: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Every event FilterLogEvents gives, following nextToken."""
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group, **kwargs)
    return [event for page in pages for event in page["events"]]
