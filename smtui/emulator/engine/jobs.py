"""What a step "runs": job names and ARNs, JobRecords (their logs are written on demand), step Metadata,
step properties.

Step properties are what `{"Get": "Steps.X.<path>"}` reads: the Describe* response of the step's job
(the step's resolved Arguments are the Create* request, so the response is those plus what the service adds).
"""

from __future__ import annotations

import copy
import random
import string
from typing import Any

from smtui.emulator.joblogs import metrics as joblogs_metrics
from smtui.emulator.store.records import JobRecord

# Step type -> (JobRecord kind, ARN resource, Describe* name member, Describe* ARN member).
JOB_KINDS = {
    "Training": ("TrainingJob", "training-job", "TrainingJobName", "TrainingJobArn"),
    "Processing": ("ProcessingJob", "processing-job", "ProcessingJobName", "ProcessingJobArn"),
    "Transform": ("TransformJob", "transform-job", "TransformJobName", "TransformJobArn"),
}
# Check steps run a processing job of their own (Metadata.<Check>.CheckJobArn names it).
CHECK_TYPES = frozenset({"QualityCheck", "ClarifyCheck"})


def job_kind(step_type: str) -> tuple[str, str] | None:
    """(JobRecord kind, ARN resource) of the job a step type runs, or None."""
    if step_type in JOB_KINDS:
        return JOB_KINDS[step_type][0], JOB_KINDS[step_type][1]
    if step_type in CHECK_TYPES:
        return "ProcessingJob", "processing-job"
    return None


# Step type -> (Metadata key, ARN resource) for steps whose metadata is a single ARN of something the
# emulator does not model further (Model and RegisterModel steps create records: `registry`).
_ARN_METADATA = {
    "Tuning": ("TuningJob", "hyper-parameter-tuning-job"),
    "AutoML": ("AutoMLJob", "automl-job"),
    "Endpoint": ("Endpoint", "endpoint"),
    "EndpointConfig": ("EndpointConfig", "endpoint-config"),
    "InferenceComponent": ("InferenceComponent", "inference-component"),
    "Job": ("Job", "job"),
}
_ALNUM = string.ascii_letters + string.digits
# Training job names are at most 63 characters; the step part is shortened to fit.
_JOB_NAME_MAX = 63


def random_suffix(rng: random.Random, length: int = 10) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(length))


def job_name(execution_id: str, step: str, rng: random.Random) -> str:
    """`pipelines-<execution id>-<Step>-<10 chars>`, case preserved, within the 63-character limit."""
    room = _JOB_NAME_MAX - len("pipelines-") - len(execution_id) - 2 - 10
    return f"pipelines-{execution_id}-{step[:room].rstrip('-')}-{random_suffix(rng)}"


def arn(region: str, account: str, resource: str, name: str) -> str:
    # Older service output (and the Developer Guide) lower-case job names inside ARNs; clients must read
    # the exact-case name from Describe*, so the emulator keeps them lower-case to catch those who don't.
    return f"arn:aws:sagemaker:{region}:{account}:{resource}/{name.lower()}"


def instance_of(kind: str, args: dict[str, Any]) -> tuple[str | None, int]:
    """(instance type, count) from the Create* request a step sends."""
    if kind == "TrainingJob":
        config = args.get("ResourceConfig") or {}
    elif kind == "ProcessingJob":
        config = (args.get("ProcessingResources") or {}).get("ClusterConfig") or {}
    else:
        config = args.get("TransformResources") or {}
    instance_type = config.get("InstanceType")
    try:
        count = int(config.get("InstanceCount", 1))
    except (TypeError, ValueError):
        count = 1
    return (str(instance_type) if instance_type is not None else None), count


def new_job(
    kind: str,
    name: str,
    job_arn: str,
    *,
    execution_arn: str,
    step: str,
    args: dict[str, Any],
    created: float,
    start: float,
    duration: float,
    failure: str | None,
    metrics: dict[str, float],
    log_seed: str,
    log_rate: float | None,
) -> JobRecord:
    """A job record for one step attempt, with what its log needs to be written on demand (`joblogs`)."""
    instance_type, count = instance_of(kind, args) if kind != "LambdaInvocation" else (None, 1)
    return JobRecord(
        kind=kind,
        name=name,
        arn=job_arn,
        status="InProgress",
        created=created,
        execution_arn=execution_arn,
        step_name=step,
        arguments=args,
        start=start,
        instance_type=instance_type,
        instance_count=count,
        duration=duration,
        planned_failure=failure,
        target_metrics=dict(metrics),
        log_seed=log_seed,
        log_rate=log_rate,
    )


def training_targets(args: Any, scenario_metrics: dict[str, float], rng: random.Random) -> dict[str, float]:
    """The final values a training attempt's metrics converge to: one per declared MetricDefinition (the
    scenario's value when it names that metric, else a plausible one), or the scenario's metrics when the
    job declares none (a built-in algorithm reports its own)."""
    declared = joblogs_metrics.definitions(args if isinstance(args, dict) else {})
    if not declared:
        return dict(scenario_metrics)
    return {
        d.name: scenario_metrics[d.name]
        if d.name in scenario_metrics
        else joblogs_metrics.synthesized_target(d.name, rng)
        for d in declared
    }


def properties(
    step_type: str,
    name: str | None,
    resource_arn: str | None,
    args: Any,
    job: JobRecord | None,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """The step's Describe*-shaped properties for `Steps.X...` references."""
    # A deep copy: defaults filled in below must not leak into the job's recorded arguments.
    props: dict[str, Any] = copy.deepcopy(args) if isinstance(args, dict) else {}
    props.update(extra)
    if step_type in JOB_KINDS and name is not None:
        _, _, name_key, arn_key = JOB_KINDS[step_type]
        props[name_key] = name
        props[arn_key] = resource_arn
        if job is not None:
            status = {"InProgress": "InProgress", "Completed": "Completed"}.get(job.status, job.status)
            props[name_key.replace("Name", "Status")] = status
    if step_type == "Training" and name is not None:
        base = str((props.get("OutputDataConfig") or {}).get("S3OutputPath", "s3://sagemaker-bucket")).rstrip(
            "/"
        )
        props["ModelArtifacts"] = {"S3ModelArtifacts": f"{base}/{name}/output/model.tar.gz"}
        if job is not None:
            props["FinalMetricDataList"] = [{"MetricName": k, "Value": v} for k, v in job.metrics.items()]
    elif step_type == "Processing" and name is not None:
        outputs = (props.get("ProcessingOutputConfig") or {}).get("Outputs") or []
        for output in outputs:
            s3 = output.setdefault("S3Output", {}) if isinstance(output, dict) else {}
            s3.setdefault(
                "S3Uri", f"s3://sagemaker-bucket/{name}/output/{output.get('OutputName', 'output')}"
            )
    elif step_type == "Transform" and name is not None:
        transform_output = props.setdefault("TransformOutput", {})
        if isinstance(transform_output, dict):
            transform_output.setdefault("S3OutputPath", f"s3://sagemaker-bucket/{name}/output")
    elif step_type in ("Model", "CreateModel") and resource_arn is not None:
        props.update(ModelName=resource_arn.rsplit("/", 1)[-1], ModelArn=resource_arn)
    elif step_type == "RegisterModel" and resource_arn is not None:
        props.update(
            ModelPackageArn=resource_arn,
            ModelApprovalStatus=props.get("ModelApprovalStatus", "PendingManualApproval"),
        )
    elif step_type == "Tuning" and resource_arn is not None:
        props.update(
            HyperParameterTuningJobArn=resource_arn,
            HyperParameterTuningJobName=resource_arn.rsplit("/", 1)[-1],
        )
    return props


def arn_metadata(
    step_type: str, region: str, account: str, resource_name: str
) -> tuple[dict[str, Any], str] | None:
    """Metadata for steps whose metadata is one ARN, with the ARN; None for other step types."""
    if step_type not in _ARN_METADATA:
        return None
    key, resource = _ARN_METADATA[step_type]
    resource_arn = arn(region, account, resource, resource_name)
    return {key: {"Arn": resource_arn}}, resource_arn


def service_metadata(
    step_type: str,
    raw: dict[str, Any],
    args: Any,
    rng: random.Random,
    region: str,
    account: str,
    entry_name: str,
    job_arn: str | None = None,
) -> dict[str, Any] | None:
    """Metadata of EMR, EMR Serverless and check steps (the members botocore's model has)."""
    args = args if isinstance(args, dict) else {}
    upper = string.ascii_uppercase + string.digits
    if step_type == "EMR":
        cluster = args.get("ClusterId") or "j-" + "".join(rng.choice(upper) for _ in range(13))
        step_config = args.get("StepConfig") or {}
        return {
            "EMR": {
                "ClusterId": str(cluster),
                "StepId": "s-" + "".join(rng.choice(upper) for _ in range(13)),
                "StepName": str(step_config.get("Name") or entry_name),
                "LogFilePath": f"s3://aws-logs-{account}-{region}/elasticmapreduce/{cluster}/steps",
            }
        }
    if step_type == "EMRServerless":
        return {
            "EMRServerless": {
                "ApplicationId": str(args.get("ApplicationId") or random_suffix(rng, 16).lower()),
                "JobRunId": random_suffix(rng, 16).lower(),
                "JobRunName": entry_name,
            }
        }
    if step_type in ("QualityCheck", "ClarifyCheck"):
        check_job = f"pipelines-check-{random_suffix(rng)}"
        metadata: dict[str, Any] = {
            "CheckType": str(raw.get("CheckType") or "DATA_QUALITY"),
            "CheckJobArn": job_arn or arn(region, account, "processing-job", check_job),
            "SkipCheck": bool(raw.get("SkipCheck", False)),
            "RegisterNewBaseline": bool(raw.get("RegisterNewBaseline", False)),
        }
        if isinstance(raw.get("ModelPackageGroupName"), str):
            metadata["ModelPackageGroupName"] = raw["ModelPackageGroupName"]
        return {step_type: metadata}
    return None
