"""The job behind a step (DescribeTrainingJob, DescribeProcessingJob, DescribeTransformJob): a domain object;
and the model package a RegisterModel step registered (DescribeModelPackage), for its approval status.

What the step details show, as Studio's Info / Input / Output tabs do: status, image, instances,
hyperparameters, environment, the secondary status transitions and billable time (Info); the channels or
processing inputs with their S3 URIs (Input); the output locations and model artifacts (Output); the final
metrics and the MetricDefinitions that the metric history (`job_metrics`) reads the log with. Fetched on
demand for the step the user selects, never polled in bulk; one Describe per look.
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
class JobChannel:
    """One input of a job: a training channel, a processing input, or a transform job's input."""

    name: str
    uri: str | None  # S3 URI (or a dataset definition's name for a processing input without S3)
    detail: str | None = None  # content type, local path, data type: what helps to read it


@dataclass(frozen=True, slots=True)
class JobOutput:
    """One output of a job: where it writes (S3), and what (a processing output's name, model artifacts)."""

    name: str
    uri: str


@dataclass(frozen=True, slots=True)
class StatusTransition:
    """One `SecondaryStatusTransitions` entry: Starting, Downloading, Training, Uploading, …"""

    status: str
    started: datetime
    ended: datetime | None = None  # None: the job is in this status now
    message: str | None = None


@dataclass(frozen=True, slots=True)
class MetricDefinition:
    """`AlgorithmSpecification.MetricDefinitions[]`: the regex whose first group is the metric's value."""

    name: str
    regex: str


@dataclass(frozen=True, slots=True)
class MetricSeries:
    """One metric's values in the order the job logged them."""

    name: str
    values: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class MetricHistory:
    """Every defined metric's series (empty ones too: defined, never logged yet); `final` once the job had
    ended when it was read, so nothing will be added."""

    job_arn: str
    series: tuple[MetricSeries, ...]
    final: bool


@dataclass(frozen=True, slots=True)
class JobInfo:
    """What the step details show about a job."""

    arn: str
    kind: str  # "Training" | "Processing" | "Transform"
    name: str  # exact case, from the reply (an ARN may carry it lower-cased): the log streams use it
    status: str  # InProgress | Completed | Failed | Stopping | Stopped
    secondary_status: str | None = None
    instance_type: str | None = None
    instance_count: int | None = None
    started: datetime | None = None
    ended: datetime | None = None
    failure_reason: str | None = None
    metrics: tuple[tuple[str, float], ...] = ()
    image: str | None = None
    hyperparameters: tuple[tuple[str, str], ...] = ()
    environment: tuple[tuple[str, str], ...] = ()
    inputs: tuple[JobChannel, ...] = ()
    outputs: tuple[JobOutput, ...] = ()
    transitions: tuple[StatusTransition, ...] = ()
    billable_seconds: int | None = None
    metric_definitions: tuple[MetricDefinition, ...] = ()

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
    return job_info(job_arn, prefix, reply, str(reply.get(name_param) or name), resources_member)


def job_info(job_arn: str, prefix: str, reply: dict[str, Any], name: str, resources_member: str) -> JobInfo:
    """A Describe*Job reply → `JobInfo` (no raw dict goes further)."""
    resources = _dict(reply.get(resources_member))
    resources = _dict(resources.get("ClusterConfig", resources))  # Processing nests them one level deeper
    metrics = tuple(
        (str(m["MetricName"]), float(m["Value"]))
        for m in _dicts(reply.get("FinalMetricDataList"))
        if "MetricName" in m and "Value" in m
    )
    spec = _dict(reply.get("AlgorithmSpecification"))
    image = spec.get("TrainingImage") or spec.get("AlgorithmName")
    if prefix == "Processing":
        image = _dict(reply.get("AppSpecification")).get("ImageUri")
    billable = reply.get("BillableTimeInSeconds")
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
        image=str(image) if image else None,
        hyperparameters=_pairs(reply.get("HyperParameters")),
        environment=_pairs(reply.get("Environment")),
        inputs=_inputs(prefix, reply),
        outputs=_outputs(prefix, reply),
        transitions=tuple(
            StatusTransition(
                str(t["Status"]), t["StartTime"], t.get("EndTime"), t.get("StatusMessage") or None
            )
            for t in _dicts(reply.get("SecondaryStatusTransitions"))
            if "Status" in t and isinstance(t.get("StartTime"), datetime)
        ),
        billable_seconds=int(billable) if isinstance(billable, int | float) else None,
        metric_definitions=tuple(
            MetricDefinition(str(d["Name"]), str(d["Regex"]))
            for d in _dicts(spec.get("MetricDefinitions"))
            if d.get("Name") and d.get("Regex")
        ),
    )


def _inputs(prefix: str, reply: dict[str, Any]) -> tuple[JobChannel, ...]:
    if prefix == "Training":
        return tuple(
            JobChannel(
                str(c.get("ChannelName", "?")),
                _s3(c.get("DataSource"), "S3DataSource", "S3Uri"),
                c.get("ContentType"),
            )
            for c in _dicts(reply.get("InputDataConfig"))
        )
    if prefix == "Processing":
        found = []
        for item in _dicts(reply.get("ProcessingInputs")):
            s3 = _dict(item.get("S3Input"))
            dataset = _dict(item.get("DatasetDefinition"))
            uri = s3.get("S3Uri") or (f"dataset: {dataset['LocalPath']}" if "LocalPath" in dataset else None)
            found.append(JobChannel(str(item.get("InputName", "?")), uri, s3.get("LocalPath")))
        return tuple(found)
    transform = _dict(reply.get("TransformInput"))
    uri = _s3(transform.get("DataSource"), "S3DataSource", "S3Uri")
    return (JobChannel("input", uri, transform.get("ContentType")),) if uri else ()


def _outputs(prefix: str, reply: dict[str, Any]) -> tuple[JobOutput, ...]:
    if prefix == "Training":
        found = []
        path = _dict(reply.get("OutputDataConfig")).get("S3OutputPath")
        if path:
            found.append(JobOutput("output", str(path)))
        artifacts = _dict(reply.get("ModelArtifacts")).get("S3ModelArtifacts")
        if artifacts:
            found.append(JobOutput("model", str(artifacts)))
        return tuple(found)
    if prefix == "Processing":
        return tuple(
            JobOutput(str(o.get("OutputName", "?")), str(_dict(o.get("S3Output"))["S3Uri"]))
            for o in _dicts(_dict(reply.get("ProcessingOutputConfig")).get("Outputs"))
            if "S3Uri" in _dict(o.get("S3Output"))
        )
    path = _dict(reply.get("TransformOutput")).get("S3OutputPath")
    return (JobOutput("output", str(path)),) if path else ()


def _s3(value: Any, member: str, key: str) -> str | None:
    found = _dict(_dict(value).get(member)).get(key)
    return str(found) if found else None


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in _dict(value).items()))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


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
