"""The job behind a step (DescribeTrainingJob, DescribeProcessingJob, DescribeTransformJob): a domain object;
and the model package a RegisterModel step registered (DescribeModelPackage), for its approval status.

Added for the TUI's step details: status, instance type, times, final metrics. Fetched on demand for the step
the user selects, never polled in bulk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from smtui.core import convert
from smtui.core.model import ModelPackage

# ARN resource type → (operation, name parameter, field prefix, resources member)
_KINDS: dict[str, tuple[str, str, str, str]] = {
    "training-job": ("describe_training_job", "TrainingJobName", "Training", "ResourceConfig"),
    "processing-job": ("describe_processing_job", "ProcessingJobName", "Processing", "ProcessingResources"),
    "transform-job": ("describe_transform_job", "TransformJobName", "Transform", "TransformResources"),
}


class _Caller(Protocol):
    async def call(self, operation: str, **params: Any) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class JobInfo:
    """What the step details show about a job."""

    arn: str
    kind: str  # "Training" | "Processing" | "Transform"
    name: str
    status: str  # InProgress | Completed | Failed | Stopping | Stopped
    secondary_status: str | None = None
    instance_type: str | None = None
    instance_count: int | None = None
    started: datetime | None = None
    ended: datetime | None = None
    failure_reason: str | None = None
    metrics: tuple[tuple[str, float], ...] = ()

    @property
    def is_done(self) -> bool:
        return self.status in ("Completed", "Failed", "Stopped")


def job_kind(job_arn: str) -> str | None:
    """`training-job` etc. from `arn:aws:sagemaker:<region>:<account>:training-job/<name>`; None otherwise."""
    resource = job_arn.split(":", 5)[-1]
    kind = resource.split("/", 1)[0]
    return kind if kind in _KINDS and "/" in resource else None


async def describe_job(client: _Caller, job_arn: str) -> JobInfo | None:
    """Describe the job; None for ARNs that are not training, processing or transform jobs."""
    kind = job_kind(job_arn)
    if kind is None:
        return None
    operation, name_param, prefix, resources_member = _KINDS[kind]
    name = job_arn.rsplit("/", 1)[-1]
    reply = await client.call(operation, **{name_param: name})
    resources = reply.get(resources_member) or {}
    resources = resources.get("ClusterConfig", resources)  # Processing nests them one level deeper
    metrics = tuple(
        (str(m["MetricName"]), float(m["Value"]))
        for m in reply.get("FinalMetricDataList") or ()
        if "MetricName" in m and "Value" in m
    )
    return JobInfo(
        arn=job_arn,
        kind=prefix,
        name=name,
        status=str(reply.get(f"{prefix}JobStatus", "?")),
        secondary_status=reply.get("SecondaryStatus"),
        instance_type=resources.get("InstanceType"),
        instance_count=resources.get("InstanceCount"),
        started=reply.get(f"{prefix}StartTime"),
        ended=reply.get(f"{prefix}EndTime"),
        failure_reason=reply.get("FailureReason") or reply.get("ExitMessage"),
        metrics=metrics,
    )


StepResource = JobInfo | ModelPackage  # what the step details show beside a step (`describe_step_resource`)


def is_model_package(arn: str) -> bool:
    """`arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>` (Metadata.RegisterModel.Arn)."""
    return arn.split(":", 5)[-1].startswith("model-package/")


def describable(arn: str) -> bool:
    """Whether `describe_step_resource` reads something for this ARN."""
    return job_kind(arn) is not None or is_model_package(arn)


async def describe_step_resource(client: _Caller, arn: str) -> JobInfo | ModelPackage | None:
    """What the step details show beside the step: its job, or the model package it registered (one
    Describe call); None for other ARNs."""
    if is_model_package(arn):
        return convert.model_package(await client.call("describe_model_package", ModelPackageName=arn))
    return await describe_job(client, arn)
