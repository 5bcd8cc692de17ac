"""The EventBridge events SageMaker publishes for pipeline executions and their steps, built from the
engine's status changes. Shapes from the SageMaker Developer Guide, "Events that Amazon SageMaker sends to
Amazon EventBridge" (pipeline execution / pipeline step state change); see docs/emulator.md.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from smtui.emulator.engine.changes import StatusChange
from smtui.emulator.engine.entries import run_state

EXECUTION_DETAIL_TYPE = "SageMaker Model Building Pipeline Execution Status Change"
STEP_DETAIL_TYPE = "SageMaker Model Building Pipeline Execution Step Status Change"
_ENDED = frozenset({"Succeeded", "Failed", "Stopped"})


def iso(seconds: float) -> str:
    """`2021-03-15T16:10:10Z`: the documented examples' form (UTC, whole seconds)."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def camel_keys(value: Any) -> Any:
    """API-shaped step Metadata in the event's spelling: `{"ProcessingJob": {"Arn"}}` → `{"processingJob":
    {"arn"}}` (the documented example shows `processingJob.arn`; other members follow the same rule)."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: camel_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel_keys(v) for v in value]
    return value


def build(change: StatusChange, *, account: str) -> dict[str, Any]:
    """The event for one status change, as EventBridge hands it to a target."""
    execution = change.execution
    region = execution.pipeline_arn.split(":")[3]
    detail: dict[str, Any]
    if change.step is None:
        ended = run_state(execution).ended if change.current in _ENDED else None
        detail = {
            "pipelineExecutionDisplayName": execution.display_name,
            "currentPipelineExecutionStatus": change.current,
            "previousPipelineExecutionStatus": change.previous,
            "executionStartTime": iso(execution.created),
            "executionEndTime": iso(ended) if ended is not None else None,
            "pipelineExecutionDescription": execution.description,
            "pipelineArn": execution.pipeline_arn,
            "pipelineExecutionArn": execution.arn,
        }
        detail_type = EXECUTION_DETAIL_TYPE
    else:
        step = change.step
        detail = {
            "metadata": camel_keys(step.metadata),
            "stepStartTime": iso(step.start),
            "stepEndTime": iso(step.end) if step.end is not None and change.current in _ENDED else None,
            "stepName": step.name,
            "stepType": change.step_type,
            "previousStepStatus": change.previous,
            "currentStepStatus": change.current,
            "failureReason": step.failure_reason if change.current == "Failed" else None,
            "cacheHitResult": (
                {"sourcePipelineExecutionArn": step.cache_source_arn} if step.cache_source_arn else None
            ),
            "pipelineArn": execution.pipeline_arn,
            "pipelineExecutionArn": execution.arn,
        }
        detail_type = STEP_DETAIL_TYPE
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.sagemaker",
        "account": account,
        "time": iso(change.at),
        "region": region,
        "resources": [execution.pipeline_arn, execution.arn],
        "detail": {k: v for k, v in detail.items() if v is not None},
    }
