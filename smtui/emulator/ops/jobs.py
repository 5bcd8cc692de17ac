"""DescribeTrainingJob, DescribeProcessingJob and DescribeTransformJob for the jobs the engine's steps "ran".

A response starts from the step's resolved Arguments (they are the Create*Job request, whose members the
Describe* reply mostly repeats), then adds status, times, metrics and every member the output shape requires.
The trimmer drops whatever the Describe shape lacks.
"""

from __future__ import annotations

from typing import Any

from smtui.emulator.errors import ServiceError
from smtui.emulator.ops.common import Context, Operation, fresh
from smtui.emulator.store.records import JobRecord

_SECONDARY = {
    "InProgress": "Training",
    "Completed": "Completed",
    "Failed": "Failed",
    "Stopping": "Stopping",
    "Stopped": "Stopped",
}


def _job(ctx: Context, kind: str, name: str) -> JobRecord:
    job = ctx.store.get_job(kind, name)
    if job is None:
        # The service answers this ValidationException (not ResourceNotFound) for an unknown job name.
        raise ServiceError("ValidationException", "Requested resource not found.")
    execution = ctx.store.get_execution(job.execution_arn)
    if execution is not None:
        fresh(ctx, execution)
    return job


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _times(job: JobRecord) -> tuple[float | None, float | None, float]:
    modified = job.end or job.start or job.created
    return job.start, job.end, modified


def describe_training_job(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    job = _job(ctx, "TrainingJob", request["TrainingJobName"])
    args = dict(job.arguments)
    start, end, modified = _times(job)
    output = _dict(args.get("OutputDataConfig"))
    output_path = str(output.get("S3OutputPath") or "s3://sagemaker-emulator/output").rstrip("/")
    resources = _dict(args.get("ResourceConfig"))
    resources = {
        "VolumeSizeInGB": 30,
        **resources,
        "InstanceType": job.instance_type or resources.get("InstanceType") or "ml.m5.xlarge",
        "InstanceCount": job.instance_count,
    }
    transitions = [
        {"Status": "Starting", "StartTime": job.created, "StatusMessage": "Preparing the instances"}
    ]
    if start is not None:
        transitions[0]["EndTime"] = start
        transitions.append(
            {"Status": "Training", "StartTime": start, "EndTime": end, "StatusMessage": "Training"}
        )
    if end is not None:
        transitions.append(
            {"Status": _SECONDARY.get(job.status, job.status), "StartTime": end, "EndTime": end}
        )
    elapsed = int((end or ctx.now()) - start) if start is not None else None
    return {
        **args,
        "TrainingJobName": job.name,
        "TrainingJobArn": job.arn,
        "ModelArtifacts": {"S3ModelArtifacts": f"{output_path}/{job.name}/output/model.tar.gz"},
        "TrainingJobStatus": job.status,
        "SecondaryStatus": _SECONDARY.get(job.status, "Starting") if start is not None else "Starting",
        "FailureReason": job.failure_reason,
        "ResourceConfig": resources,
        "StoppingCondition": _dict(args.get("StoppingCondition")) or {"MaxRuntimeInSeconds": 86400},
        "CreationTime": job.created,
        "TrainingStartTime": start,
        "TrainingEndTime": end,
        "LastModifiedTime": modified,
        "SecondaryStatusTransitions": transitions,
        "FinalMetricDataList": [
            {"MetricName": name, "Value": value, "Timestamp": end or modified}
            for name, value in job.metrics.items()
        ]
        if job.status == "Completed"
        else None,
        "TrainingTimeInSeconds": elapsed if end is not None else None,
        "BillableTimeInSeconds": elapsed * job.instance_count
        if end is not None and elapsed is not None
        else None,
    }


def describe_processing_job(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    job = _job(ctx, "ProcessingJob", request["ProcessingJobName"])
    args = dict(job.arguments)
    start, end, modified = _times(job)
    cluster = _dict(_dict(args.get("ProcessingResources")).get("ClusterConfig"))
    cluster = {
        "VolumeSizeInGB": 30,
        **cluster,
        "InstanceType": job.instance_type or cluster.get("InstanceType") or "ml.m5.xlarge",
        "InstanceCount": job.instance_count,
    }
    app = _dict(args.get("AppSpecification"))
    app = {"ImageUri": "sagemaker-emulator/processing:latest", **app}
    return {
        **args,
        "ProcessingJobName": job.name,
        "ProcessingJobArn": job.arn,
        "ProcessingResources": {"ClusterConfig": cluster},
        "AppSpecification": app,
        "ProcessingJobStatus": job.status,
        "FailureReason": job.failure_reason,
        "ExitMessage": job.failure_reason,
        "CreationTime": job.created,
        "ProcessingStartTime": start,
        "ProcessingEndTime": end,
        "LastModifiedTime": modified,
    }


def describe_transform_job(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    job = _job(ctx, "TransformJob", request["TransformJobName"])
    args = dict(job.arguments)
    start, end, _ = _times(job)
    transform_input = _dict(args.get("TransformInput"))
    s3 = _dict(_dict(transform_input.get("DataSource")).get("S3DataSource"))
    s3 = {"S3DataType": "S3Prefix", "S3Uri": "s3://sagemaker-emulator/input", **s3}
    transform_input = {**transform_input, "DataSource": {"S3DataSource": s3}}
    resources = _dict(args.get("TransformResources"))
    resources = {
        **resources,
        "InstanceType": job.instance_type or resources.get("InstanceType") or "ml.m5.xlarge",
        "InstanceCount": job.instance_count,
    }
    return {
        **args,
        "TransformJobName": job.name,
        "TransformJobArn": job.arn,
        "TransformJobStatus": job.status,
        "FailureReason": job.failure_reason,
        "ModelName": args.get("ModelName") or "sagemaker-emulator-model",
        "TransformInput": transform_input,
        "TransformResources": resources,
        "CreationTime": job.created,
        "TransformStartTime": start,
        "TransformEndTime": end,
    }


OPERATIONS: dict[str, Operation] = {
    "DescribeTrainingJob": describe_training_job,
    "DescribeProcessingJob": describe_processing_job,
    "DescribeTransformJob": describe_transform_job,
}
