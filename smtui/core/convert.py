"""API response members → domain objects. The only place that reads raw boto dicts."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from smtui.core.model import (
    Execution,
    ExecutionStatus,
    ForEachInfo,
    ModelPackage,
    Pipeline,
    PipelineVersion,
    StepRun,
    StepStatus,
)

# arn:aws:sagemaker:REGION:ACCOUNT:pipeline/NAME/execution/ID
EXECUTION_ARN = re.compile(
    r"^arn:aws[a-z\-]*:sagemaker:(?P<region>[a-z0-9\-]*):(?P<account>\d{12}):pipeline/(?P<pipeline>[^/]+)"
    r"/execution/(?P<id>[^/]+)$"
)


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def pipeline(summary: dict[str, Any]) -> Pipeline:
    return Pipeline(
        arn=summary["PipelineArn"],
        name=summary["PipelineName"],
        display_name=summary.get("PipelineDisplayName"),
        description=summary.get("PipelineDescription"),
        created=_time(summary.get("CreationTime")),
        last_modified=_time(summary.get("LastModifiedTime")),
        last_execution=_time(summary.get("LastExecutionTime") or summary.get("LastRunTime")),
    )


def pipeline_version(summary: dict[str, Any]) -> PipelineVersion:
    return PipelineVersion(
        version_id=int(summary["PipelineVersionId"]),
        created=_time(summary.get("CreationTime")),
        last_execution_arn=summary.get("LastExecutionPipelineExecutionArn") or None,
    )


def execution_from_summary(summary: dict[str, Any], pipeline_name: str) -> Execution:
    arn = summary["PipelineExecutionArn"]
    return Execution(
        arn=arn,
        pipeline_name=pipeline_name,
        execution_id=arn.rsplit("/", 1)[-1],
        status=ExecutionStatus(summary["PipelineExecutionStatus"]),
        started=_time(summary.get("StartTime")),
        display_name=summary.get("PipelineExecutionDisplayName"),
        description=summary.get("PipelineExecutionDescription"),
        failure_reason=summary.get("PipelineExecutionFailureReason") or None,
    )


def execution_from_describe(resp: dict[str, Any], pipeline_name: str | None = None) -> Execution:
    arn = resp["PipelineExecutionArn"]
    status = ExecutionStatus(resp["PipelineExecutionStatus"])
    name = pipeline_name or resp.get("PipelineArn", arn).split(":pipeline/", 1)[-1].split("/", 1)[0]
    return Execution(
        arn=arn,
        pipeline_name=name,
        execution_id=arn.rsplit("/", 1)[-1],
        status=status,
        # CreationTime is when the execution was started: the same instant as the summary's StartTime.
        started=_time(resp.get("CreationTime")),
        display_name=resp.get("PipelineExecutionDisplayName"),
        description=resp.get("PipelineExecutionDescription"),
        failure_reason=resp.get("FailureReason") or None,
        ended=_time(resp.get("LastModifiedTime")) if status.is_terminal else None,
    )


def step_run(step: dict[str, Any]) -> StepRun:
    metadata: dict[str, Any] = step.get("Metadata") or {}
    kind = next(iter(metadata), None)
    body: Any = metadata.get(kind) if kind else None
    body = body if isinstance(body, dict) else {}
    outcome = body.get("Outcome") if kind == "Condition" else None
    outputs = tuple((o["Name"], o["Value"]) for o in body.get("OutputParameters") or [] if "Name" in o)
    context = step.get("IterationContext") or {}
    foreach = None
    if kind == "ForEach":
        foreach = ForEachInfo(
            item_count=body.get("InputItemCount"),
            total=body.get("TotalStepCount"),
            succeeded=body.get("SucceededStepCount"),
            failed=body.get("FailedStepCount"),
            stopped=body.get("StoppedStepCount"),
        )
    index = context.get("Index")
    return StepRun(
        name=step.get("StepName", ""),
        status=StepStatus(step["StepStatus"]) if step.get("StepStatus") else StepStatus.STARTING,
        started=_time(step.get("StartTime")),
        ended=_time(step.get("EndTime")),
        display_name=step.get("StepDisplayName"),
        failure_reason=step.get("FailureReason") or None,
        attempt=int(step.get("AttemptCount") or 1),
        cache_source_arn=(step.get("CacheHitResult") or {}).get("SourcePipelineExecutionArn"),
        selective_source_arn=(step.get("SelectiveExecutionResult") or {}).get("SourcePipelineExecutionArn"),
        metadata_kind=kind,
        job_arn=body.get("Arn") if isinstance(body.get("Arn"), str) else body.get("CheckJobArn"),
        condition_outcome=None if outcome is None else str(outcome).lower() == "true",
        callback_token=body.get("CallbackToken") if kind == "Callback" else None,
        outputs=outputs,
        fail_message=body.get("ErrorMessage") if kind == "Fail" else None,
        parent_step=context.get("ParentStepName"),
        iteration_index=int(index) if index is not None else None,
        iteration_item=context.get("Item"),
        foreach=foreach,
    )


def model_package(resp: dict[str, Any]) -> ModelPackage:
    version = resp.get("ModelPackageVersion")
    return ModelPackage(
        arn=resp["ModelPackageArn"],
        group=resp.get("ModelPackageGroupName"),
        version=int(version) if isinstance(version, int) else None,
        approval_status=resp.get("ModelApprovalStatus"),
        approval_description=resp.get("ApprovalDescription"),
        status=resp.get("ModelPackageStatus"),
    )
