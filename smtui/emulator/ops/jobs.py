"""DescribeTrainingJob, DescribeProcessingJob and DescribeTransformJob for the jobs the engine's steps "ran".

A response starts from the step's resolved Arguments (they are the Create*Job request, whose members the
Describe* reply mostly repeats: inputs, outputs, hyperparameters, environment, image), fills in what the
service would (S3 data types, local paths, upload modes), then adds status, times (`joblogs.phases`: the
secondary status transitions, the billable time) and the final metrics, read from the job's log as SageMaker
reads them. The trimmer drops whatever the Describe shape lacks.
"""

from __future__ import annotations

from typing import Any

from smtui.emulator import joblogs
from smtui.emulator.errors import ServiceError
from smtui.emulator.joblogs.phases import cut_time, life, training_transitions
from smtui.emulator.ops.common import Context, Operation, fresh
from smtui.emulator.store.records import JobRecord


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


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _started(job: JobRecord, at: float | None, now: float) -> float | None:
    """`at` if the job reached it: the clock has passed it and no stop came first."""
    cut = cut_time(job)
    return at if at is not None and at <= now and (cut is None or at < cut) else None


def _training_args(job: JobRecord) -> dict[str, Any]:
    """The CreateTrainingJob request as Describe repeats it, with the members the service fills in."""
    args = dict(job.arguments)
    if "AlgorithmSpecification" in args:
        args["AlgorithmSpecification"] = {
            "TrainingInputMode": "File",
            **_dict(args["AlgorithmSpecification"]),
        }
    channels = []
    for channel in _dicts(args.get("InputDataConfig")):
        source = _dict(_dict(channel.get("DataSource")).get("S3DataSource"))
        s3 = {
            "S3DataType": "S3Prefix",
            "S3Uri": f"s3://sagemaker-emulator/{channel.get('ChannelName')}",
            **source,
        }
        channels.append({**channel, "DataSource": {**_dict(channel.get("DataSource")), "S3DataSource": s3}})
    if channels:
        args["InputDataConfig"] = channels
    return args


def describe_training_job(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    job = _job(ctx, "TrainingJob", request["TrainingJobName"])
    now = ctx.now()
    args = _training_args(job)
    output = _dict(args.get("OutputDataConfig"))
    output_path = str(output.get("S3OutputPath") or "s3://sagemaker-emulator/output").rstrip("/")
    resources = _dict(args.get("ResourceConfig"))
    resources = {
        "VolumeSizeInGB": 30,
        **resources,
        "InstanceType": job.instance_type or resources.get("InstanceType") or "ml.m5.xlarge",
        "InstanceCount": job.instance_count,
    }
    transitions = training_transitions(job, now)
    # TrainingStartTime is when the instances are ready and the download starts; billing runs from there
    # to the end, wall-clock (not multiplied by the instance count: the API reference says to do that).
    began = _started(job, life(job).ready, now)
    billable = int(job.end - began) if job.end is not None and began is not None else None
    ended = job.status in ("Completed", "Failed", "Stopped")
    final = joblogs.final_metrics(job) if ended else {}
    return {
        **args,
        "TrainingJobName": job.name,
        "TrainingJobArn": job.arn,
        "ModelArtifacts": {"S3ModelArtifacts": f"{output_path}/{job.name}/output/model.tar.gz"},
        "OutputDataConfig": {**output, "S3OutputPath": output_path},
        "TrainingJobStatus": job.status,
        "SecondaryStatus": transitions[-1].status if transitions else "Starting",
        "FailureReason": job.failure_reason,
        "ResourceConfig": resources,
        "StoppingCondition": _dict(args.get("StoppingCondition")) or {"MaxRuntimeInSeconds": 86400},
        "CreationTime": job.created,
        "TrainingStartTime": began,
        "TrainingEndTime": job.end if began is not None else None,
        "LastModifiedTime": max([job.created, *(t.start for t in transitions)]),
        "SecondaryStatusTransitions": [
            {"Status": t.status, "StartTime": t.start, "EndTime": t.end, "StatusMessage": t.message}
            for t in transitions
        ],
        "FinalMetricDataList": [
            {"MetricName": name, "Value": value, "Timestamp": ms / 1000}
            for name, (value, ms) in sorted(final.items())
        ]
        or None,
        "TrainingTimeInSeconds": billable,
        "BillableTimeInSeconds": billable,
    }


def _processing_args(job: JobRecord) -> dict[str, Any]:
    """The CreateProcessingJob request as Describe repeats it, with the members the service fills in."""
    args = dict(job.arguments)
    inputs = []
    for item in _dicts(args.get("ProcessingInputs")):
        if "S3Input" in item:
            name = item.get("InputName", "input")
            s3 = {
                "S3Uri": f"s3://sagemaker-emulator/{job.name}/input/{name}",
                "LocalPath": f"/opt/ml/processing/input/{name}",
                "S3DataType": "S3Prefix",
                "S3InputMode": "File",
                **_dict(item["S3Input"]),
            }
            item = {**item, "S3Input": s3}
        inputs.append(item)
    if inputs:
        args["ProcessingInputs"] = inputs
    config = _dict(args.get("ProcessingOutputConfig"))
    outputs = []
    for item in _dicts(config.get("Outputs")):
        name = item.get("OutputName", "output")
        s3 = {
            "S3Uri": f"s3://sagemaker-emulator/{job.name}/output/{name}",
            "LocalPath": f"/opt/ml/processing/{name}",
            "S3UploadMode": "EndOfJob",
            **_dict(item.get("S3Output")),
        }
        outputs.append({**item, "S3Output": s3})
    if "ProcessingOutputConfig" in args:
        args["ProcessingOutputConfig"] = {**config, "Outputs": outputs}
    return args


def describe_processing_job(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    job = _job(ctx, "ProcessingJob", request["ProcessingJobName"])
    args = _processing_args(job)
    cluster = _dict(_dict(args.get("ProcessingResources")).get("ClusterConfig"))
    cluster = {
        "VolumeSizeInGB": 30,
        **cluster,
        "InstanceType": job.instance_type or cluster.get("InstanceType") or "ml.m5.xlarge",
        "InstanceCount": job.instance_count,
    }
    app = _dict(args.get("AppSpecification"))
    app = {"ImageUri": "sagemaker-emulator/processing:latest", **app}
    began = _started(job, life(job).container_start, ctx.now())
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
        "ProcessingStartTime": began,
        "ProcessingEndTime": job.end,
        "LastModifiedTime": job.end or began or job.created,
    }


def describe_transform_job(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    job = _job(ctx, "TransformJob", request["TransformJobName"])
    args = dict(job.arguments)
    transform_input = _dict(args.get("TransformInput"))
    s3 = _dict(_dict(transform_input.get("DataSource")).get("S3DataSource"))
    s3 = {"S3DataType": "S3Prefix", "S3Uri": "s3://sagemaker-emulator/input", **s3}
    transform_input = {**transform_input, "DataSource": {"S3DataSource": s3}}
    transform_output = {
        "S3OutputPath": f"s3://sagemaker-emulator/{job.name}/output",
        **_dict(args.get("TransformOutput")),
    }
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
        "TransformOutput": transform_output,
        "TransformResources": resources,
        "CreationTime": job.created,
        "TransformStartTime": _started(job, life(job).container_start, ctx.now()),
        "TransformEndTime": job.end,
    }


OPERATIONS: dict[str, Operation] = {
    "DescribeTrainingJob": describe_training_job,
    "DescribeProcessingJob": describe_processing_job,
    "DescribeTransformJob": describe_transform_job,
}
