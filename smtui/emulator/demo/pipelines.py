"""The demo's pipeline definitions (as the SageMaker SDK would emit them) and the scenario they run with."""

from __future__ import annotations

import json
from typing import Any

ACCOUNT_BUCKET = "s3://sagemaker-us-east-1-123456789012"
ROLE = "arn:aws:iam::123456789012:role/SageMakerPipelinesDemo"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def _get(ref: str) -> dict[str, str]:
    return {"Get": ref}


def _join(*values: Any) -> dict[str, Any]:
    return {"Std:Join": {"On": "/", "Values": list(values)}}


def _processing(
    name: str, image: str, instance: Any = "ml.m5.xlarge", outputs: tuple[str, ...] = (), **extra: Any
) -> dict[str, Any]:
    args: dict[str, Any] = {
        "ProcessingResources": {
            "ClusterConfig": {"InstanceType": instance, "InstanceCount": 1, "VolumeSizeInGB": 30}
        },
        "AppSpecification": {"ImageUri": f"{IMAGE}/{image}:latest"},
        "RoleArn": ROLE,
    }
    if outputs:
        args["ProcessingOutputConfig"] = {
            "Outputs": [
                {
                    "OutputName": out,
                    "AppManaged": False,
                    "S3Output": {
                        "S3Uri": _join(ACCOUNT_BUCKET, _get("Execution.PipelineExecutionId"), name, out),
                        "LocalPath": f"/opt/ml/processing/{out}",
                        "S3UploadMode": "EndOfJob",
                    },
                }
                for out in outputs
            ]
        }
    return {"Name": name, "Type": "Processing", "Arguments": args, **extra}


# XGBoost's own metric lines (`[12]#011train-logloss:0.41`), matched as its built-in definitions match them.
_NUMBER = "([-+]?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
_XGBOOST_METRICS = [
    {
        "Name": name,
        "Regex": f".*\\[[0-9]+\\].*#011{name.replace(':', '-')}:{_NUMBER}.*",
    }
    for name in ("validation:auc", "train:logloss")
]
# A Hugging Face Trainer's log dicts (`{'loss': 0.41, 'learning_rate': 2e-05, 'epoch': 1.0}`).
_TRAINER_METRICS = [
    {"Name": "train:loss", "Regex": "'loss': ([0-9\\.]+)"},
    {"Name": "eval:loss", "Regex": "'eval_loss': ([0-9\\.]+)"},
]


def _training(
    name: str, instance: Any, hyper: dict[str, Any], image: str, metrics: list[dict[str, str]], **extra: Any
) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {
                "TrainingImage": f"{IMAGE}/{image}",
                "TrainingInputMode": "File",
                "MetricDefinitions": metrics,
            },
            "InputDataConfig": [
                {
                    "ChannelName": channel,
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": _join(ACCOUNT_BUCKET, _get("Execution.PipelineExecutionId"), channel),
                        }
                    },
                    "ContentType": "text/csv",
                }
                for channel in ("train", "validation")
            ],
            "OutputDataConfig": {"S3OutputPath": f"{ACCOUNT_BUCKET}/models"},
            "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
            "ResourceConfig": {"VolumeSizeInGB": 30, "InstanceCount": 1, "InstanceType": instance},
            "RoleArn": ROLE,
            "HyperParameters": hyper,
        },
        **extra,
    }


def _definition(parameters: list[dict[str, Any]], steps: list[dict[str, Any]]) -> str:
    return json.dumps(
        {
            "Version": "2020-12-01",
            "Metadata": {},
            "Parameters": parameters,
            "PipelineExperimentConfig": {
                "ExperimentName": _get("Execution.PipelineName"),
                "TrialName": _get("Execution.PipelineExecutionId"),
            },
            "Steps": steps,
        }
    )


_RETRY = [
    {
        "ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR", "SageMaker.CAPACITY_ERROR"],
        "IntervalSeconds": 30,
        "BackoffRate": 2.0,
        "MaxAttempts": 2,
    }
]

_TRAINING = _definition(
    [
        {"Name": "TrainInstanceType", "Type": "String", "DefaultValue": "ml.m5.2xlarge"},
        {"Name": "AucThreshold", "Type": "Float", "DefaultValue": 0.78},
    ],
    [
        _processing(
            "Preprocess",
            "churn-preprocess",
            outputs=("train", "validation", "test"),
            CacheConfig={"Enabled": True, "ExpireAfter": "PT12H"},
        ),
        _training(
            "Train",
            _get("Parameters.TrainInstanceType"),
            {"max_depth": "6", "eta": "0.2", "objective": "binary:logistic", "num_round": "200"},
            "xgboost:1.7-1",
            _XGBOOST_METRICS,
            RetryPolicies=_RETRY,
            DependsOn=["Preprocess"],
        ),
        _processing(
            "Evaluate",
            "churn-evaluate",
            outputs=("evaluation",),
            PropertyFiles=[
                {
                    "PropertyFileName": "EvaluationReport",
                    "OutputName": "evaluation",
                    "FilePath": "evaluation.json",
                }
            ],
            DependsOn=["Train"],
        ),
        {
            "Name": "CheckAuc",
            "Type": "Condition",
            "Arguments": {
                "Conditions": [
                    {
                        "Type": "GreaterThanOrEqualTo",
                        "LeftValue": {
                            "Std:JsonGet": {
                                "PropertyFile": _get("Steps.Evaluate.PropertyFiles.EvaluationReport"),
                                "Path": "binary_classification_metrics.auc.value",
                            }
                        },
                        "RightValue": _get("Parameters.AucThreshold"),
                    }
                ],
                "IfSteps": [
                    {
                        "Name": "CreateModel",
                        "Type": "Model",
                        "Arguments": {
                            "ExecutionRoleArn": ROLE,
                            "PrimaryContainer": {
                                "Image": f"{IMAGE}/xgboost:1.7-1",
                                "ModelDataUrl": _get("Steps.Train.ModelArtifacts.S3ModelArtifacts"),
                            },
                        },
                    },
                    {
                        "Name": "RegisterModel",
                        "Type": "RegisterModel",
                        "Arguments": {
                            "ModelPackageGroupName": "churn-models",
                            "ModelApprovalStatus": "PendingManualApproval",
                            "InferenceSpecification": {
                                "Containers": [
                                    {
                                        "Image": f"{IMAGE}/xgboost:1.7-1",
                                        "ModelDataUrl": _get("Steps.Train.ModelArtifacts.S3ModelArtifacts"),
                                    }
                                ],
                                "SupportedContentTypes": ["text/csv"],
                                "SupportedResponseMIMETypes": ["text/csv"],
                            },
                        },
                    },
                ],
                "ElseSteps": [
                    {
                        "Name": "AucTooLow",
                        "Type": "Fail",
                        "Arguments": {
                            "ErrorMessage": {
                                "Std:Join": {
                                    "On": " ",
                                    "Values": ["AUC below threshold", _get("Parameters.AucThreshold")],
                                }
                            }
                        },
                    }
                ],
            },
        },
    ],
)

_SCORING = _definition(
    [{"Name": "Regions", "Type": "String", "DefaultValue": '["us","eu","apac","latam"]'}],
    [
        {
            "Name": "ScoreRegions",
            "Type": "ForEach",
            "Arguments": {
                "IterableItems": _get("Parameters.Regions"),
                "MaxConcurrency": 3,
                "ForEachBody": [
                    {
                        "Name": "Score",
                        "Type": "Transform",
                        "Arguments": {
                            "ModelName": "churn-model-prod",
                            "TransformInput": {
                                "DataSource": {
                                    "S3DataSource": {
                                        "S3DataType": "S3Prefix",
                                        "S3Uri": _join(
                                            f"{ACCOUNT_BUCKET}/scoring-input", _get("ForEach.CurrentItem")
                                        ),
                                    }
                                },
                                "ContentType": "text/csv",
                            },
                            "TransformOutput": {
                                "S3OutputPath": _join(f"{ACCOUNT_BUCKET}/scores", _get("ForEach.CurrentItem"))
                            },
                            "TransformResources": {"InstanceCount": 2, "InstanceType": "ml.c5.2xlarge"},
                        },
                    }
                ],
            },
        },
        _processing("Aggregate", "scores-aggregate", DependsOn=["ScoreRegions"]),
    ],
)

_ETL = _definition(
    [{"Name": "RunDate", "Type": "String", "DefaultValue": "2026-01-01"}],
    [
        _processing("Extract", "etl-extract", outputs=("raw",)),
        {
            "Name": "DataQualityApproval",
            "Type": "Callback",
            "Arguments": {
                "run_date": _get("Parameters.RunDate"),
                "raw": _get("Steps.Extract.ProcessingOutputConfig.Outputs['raw'].S3Output.S3Uri"),
            },
            "SqsQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/dq-approvals",
            "OutputParameters": [{"OutputName": "approved_rows", "OutputType": "Integer"}],
        },
        _processing("Load", "etl-load", DependsOn=["DataQualityApproval"]),
        {
            "Name": "Notify",
            "Type": "Lambda",
            "Arguments": {"rows": _get("Steps.DataQualityApproval.OutputParameters['approved_rows']")},
            "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:etl-notify",
            "OutputParameters": [{"OutputName": "message_id", "OutputType": "String"}],
            "DependsOn": ["Load"],
        },
    ],
)

_FLAKY = _definition(
    [{"Name": "Tables", "Type": "String", "DefaultValue": "users"}],
    [
        _processing("Snapshot", "fs-snapshot", outputs=("snapshot",)),
        _processing("Sync", "fs-sync", DependsOn=["Snapshot"]),
        _processing("Publish", "fs-publish", DependsOn=["Sync"]),
    ],
)

_LONG = _definition(
    [{"Name": "Epochs", "Type": "Integer", "DefaultValue": 3}],
    [
        _processing("Tokenize", "llm-tokenize", instance="ml.m5.4xlarge", outputs=("tokens",)),
        _training(
            "FineTune",
            "ml.p4d.24xlarge",
            {"epochs": _get("Parameters.Epochs"), "lr": "2e-5", "sagemaker_program": "finetune.py"},
            "huggingface-pytorch-training:2.1-transformers4.36-gpu-py310",
            _TRAINER_METRICS,
            DependsOn=["Tokenize"],
            RetryPolicies=_RETRY,
        ),
        _processing("Benchmark", "llm-benchmark", instance="ml.g5.12xlarge", DependsOn=["FineTune"]),
        {
            "Name": "Register",
            "Type": "RegisterModel",
            "Arguments": {
                "ModelPackageGroupName": "llm-finetunes",
                "ModelApprovalStatus": "PendingManualApproval",
            },
            "DependsOn": ["Benchmark"],
        },
    ],
)

# name -> (description, definition, MaxParallelExecutionSteps)
DEMO_PIPELINES: dict[str, tuple[str, str, int | None]] = {
    "churn-model-training": ("Train, evaluate and register the churn model", _TRAINING, None),
    "batch-scoring": ("Score every region with the production model", _SCORING, None),
    "nightly-etl": ("Extract, approve and load the nightly data", _ETL, None),
    "feature-store-sync": ("Sync feature tables (flaky: fails now and then; retry it)", _FLAKY, None),
    "llm-finetune": ("Fine-tune the support assistant (runs for hours)", _LONG, 2),
}

DEMO_SCENARIO: dict[str, Any] = {
    "pipelines": {
        "churn-model-training": {
            "steps": {
                "Train": {
                    "duration": [900, 2400],
                    "metrics": {"validation:auc": [0.7, 0.9], "train:logloss": [0.2, 0.5]},
                },
                "Evaluate": {
                    "property_files": {
                        "EvaluationReport": {"binary_classification_metrics": {"auc": {"value": 0.83}}}
                    }
                },
            }
        },
        "batch-scoring": {"steps": {"Score": {"duration": [300, 900], "failure_probability": 0.01}}},
        "nightly-etl": {
            "steps": {
                "DataQualityApproval": {"callback_reply_after": 420, "outputs": {"approved_rows": 125000}},
                "Notify": {"outputs": {"message_id": "msg-0001"}},
            }
        },
        "feature-store-sync": {"steps": {"Sync": {"failure_probability": 0.35, "duration": [120, 400]}}},
        "llm-finetune": {
            "steps": {"FineTune": {"duration": [14400, 28800]}, "Benchmark": {"duration": [1800, 3600]}}
        },
    }
}
