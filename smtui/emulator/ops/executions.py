"""Execution operations: start, stop, retry, describe, update and list executions, their steps and parameters,
and the callback answers. Behaviour is the engine's; this layer looks records up and shapes the replies."""

from __future__ import annotations

import bisect
import json
from typing import Any

from smtui.emulator.errors import validation
from smtui.emulator.ops.common import (
    Context,
    Operation,
    decode_token,
    encode_token,
    fresh,
    get_execution,
    get_pipeline,
    offset_page,
    page_size,
    parallelism,
    remember,
    replayed,
)
from smtui.emulator.shapes import parse_timestamp
from smtui.emulator.store.records import ExecutionRecord, StepRecord


def start_pipeline_execution(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    pipeline = get_pipeline(ctx, request["PipelineName"])
    token = request["ClientRequestToken"]
    # Idempotent on the token: the same call twice starts one execution (the pipeline named by name or ARN).
    remembered = replayed(ctx, "StartPipelineExecution", request, PipelineName=pipeline.arn)
    if remembered is not None and ctx.store.get_execution(remembered) is not None:
        return {"PipelineExecutionArn": remembered}
    execution = ctx.engine.start_execution(
        pipeline,
        parameters=request.get("PipelineParameters"),
        display_name=request.get("PipelineExecutionDisplayName"),
        description=request.get("PipelineExecutionDescription"),
        parallelism=parallelism(request),
        selective_config=request.get("SelectiveExecutionConfig"),
        version_id=request.get("PipelineVersionId"),
        client_token=token,
    )
    execution.created_by = execution.modified_by = ctx.identity()
    ctx.store.touch(execution)
    remember(ctx, "StartPipelineExecution", request, execution.arn, PipelineName=pipeline.arn)
    for version in pipeline.versions:
        if version.version_id == (execution.pipeline_version_id or pipeline.versions[-1].version_id):
            version.last_execution_arn = execution.arn
    ctx.store.touch(pipeline)
    return {"PipelineExecutionArn": execution.arn}


def stop_pipeline_execution(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    execution = get_execution(ctx, request["PipelineExecutionArn"])
    if replayed(ctx, "StopPipelineExecution", request) is None:
        ctx.engine.stop_execution(execution)
        execution.modified_by = ctx.identity()
        ctx.store.touch(execution)
        remember(ctx, "StopPipelineExecution", request, execution.arn)
    return {"PipelineExecutionArn": execution.arn}


def retry_pipeline_execution(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    execution = get_execution(ctx, request["PipelineExecutionArn"])
    if replayed(ctx, "RetryPipelineExecution", request) is None:
        ctx.engine.retry_execution(execution, parallelism(request))
        execution.modified_by = ctx.identity()
        ctx.store.touch(execution)
        remember(ctx, "RetryPipelineExecution", request, execution.arn)
    return {"PipelineExecutionArn": execution.arn}


def _experiment_config(execution: ExecutionRecord) -> dict[str, str] | None:
    """PipelineExperimentConfig as the definition asks, its usual `Get`s resolved."""
    try:
        config = json.loads(execution.definition).get("PipelineExperimentConfig")
    except (ValueError, AttributeError):
        return None
    if not isinstance(config, dict):
        return None
    variables = {
        "Execution.PipelineName": execution.pipeline_name,
        "Execution.PipelineExecutionId": execution.execution_id,
    }
    resolved: dict[str, str] = {}
    for member in ("ExperimentName", "TrialName"):
        value = config.get(member)
        if isinstance(value, dict):
            # The service names the experiment after the pipeline lower-cased (observed 2024: pipeline
            # `SimpleXGBoostPipeline`, experiment `simplexgboostpipeline`).
            value = variables.get(str(value.get("Get")))
            value = value.lower() if isinstance(value, str) else value
        if isinstance(value, str):
            resolved[member] = value
    return resolved or None


def describe_pipeline_execution(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    execution = get_execution(ctx, request["PipelineExecutionArn"])
    return {
        "PipelineArn": execution.pipeline_arn,
        "PipelineExecutionArn": execution.arn,
        "PipelineExecutionDisplayName": execution.display_name,
        "PipelineExecutionStatus": execution.status,
        "PipelineExecutionDescription": execution.description,
        "PipelineExperimentConfig": _experiment_config(execution),
        "FailureReason": execution.failure_reason,
        "CreationTime": execution.created,
        "LastModifiedTime": execution.modified,
        "CreatedBy": execution.created_by or {},
        "LastModifiedBy": execution.modified_by or execution.created_by or {},
        "ParallelismConfiguration": (
            None if execution.parallelism is None else {"MaxParallelExecutionSteps": execution.parallelism}
        ),
        "SelectiveExecutionConfig": execution.selective_config,
        "PipelineVersionId": execution.pipeline_version_id,
    }


def update_pipeline_execution(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    execution = get_execution(ctx, request["PipelineExecutionArn"])
    if request.get("PipelineExecutionDescription") is not None:
        execution.description = request["PipelineExecutionDescription"]
    if request.get("PipelineExecutionDisplayName") is not None:
        execution.display_name = request["PipelineExecutionDisplayName"]
    if request.get("ParallelismConfiguration") is not None:
        execution.parallelism = parallelism(request)
    execution.modified = ctx.now()
    execution.modified_by = ctx.identity()
    ctx.store.touch(execution)
    return {"PipelineExecutionArn": execution.arn}


def list_pipeline_executions(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    pipeline = get_pipeline(ctx, request["PipelineName"])
    by_arn = request.get("SortBy") == "PipelineExecutionArn"
    descending = request.get("SortOrder", "Descending") == "Descending"
    after, before = (
        parse_timestamp(request.get("CreatedAfter")),
        parse_timestamp(request.get("CreatedBefore")),
    )
    query = [pipeline.arn, after, before, by_arn, descending]
    state = decode_token(request.get("NextToken"), query)
    size = page_size(request)
    # The store keeps each pipeline's executions in creation order: a page is a bisect and a slice, never a
    # sort of all 10,000 (sorting by ARN, which nobody uses for paging through history, is the exception).
    ordered = ctx.store.executions_of(pipeline)
    lo = 0 if after is None else bisect.bisect_right(ordered, after, key=lambda e: e.created)
    hi = len(ordered) if before is None else bisect.bisect_left(ordered, before, key=lambda e: e.created)
    window = ordered[lo:hi] if (lo, hi) != (0, len(ordered)) else ordered
    if by_arn:
        rows = sorted(window, key=lambda e: e.arn, reverse=descending)
        start = 0
        if state is not None:
            last = state["k"]
            start = next(
                (i for i, e in enumerate(rows) if (e.arn < last if descending else e.arn > last)), len(rows)
            )
        chunk = rows[start : start + size]
        more = start + size < len(rows)
        last_key: Any = chunk[-1].arn if chunk else None
    else:
        # Resume strictly after the last (created, seq) served: new executions never shift a page.
        keys = ctx.store.order_key
        if descending:
            end = len(window)
            if state is not None:
                end = bisect.bisect_left(window, tuple(state["k"]), key=keys)
            chunk = list(reversed(window[max(0, end - size) : end]))
            more = end - size > 0
        else:
            begin = 0 if state is None else bisect.bisect_right(window, tuple(state["k"]), key=keys)
            chunk = list(window[begin : begin + size])
            more = begin + size < len(window)
        last_key = list(keys(chunk[-1])) if chunk else None
    summaries = []
    for execution in chunk:
        fresh(ctx, execution)
        summaries.append(
            {
                "PipelineExecutionArn": execution.arn,
                "StartTime": execution.created,
                "PipelineExecutionStatus": execution.status,
                "PipelineExecutionDescription": execution.description,
                "PipelineExecutionDisplayName": execution.display_name,
                "PipelineExecutionFailureReason": execution.failure_reason,
            }
        )
    token = encode_token({"k": last_key, "q": query}) if more and chunk else None
    return {"PipelineExecutionSummaries": summaries, "NextToken": token}


def _step(step: StepRecord) -> dict[str, Any]:
    return {
        "StepName": step.name,
        "StepDisplayName": step.display_name,
        "StepDescription": step.description,
        "StartTime": step.start,
        "EndTime": step.end,
        "StepStatus": step.status,
        "CacheHitResult": (
            None if step.cache_source_arn is None else {"SourcePipelineExecutionArn": step.cache_source_arn}
        ),
        "FailureReason": step.failure_reason,
        # Always present, `{}` before a step has anything to show (observed: a step whose job could not be
        # created lists `"Metadata": {}`).
        "Metadata": step.metadata,
        "AttemptCount": step.attempt,
        "SelectiveExecutionResult": (
            None
            if step.selective_source_arn is None
            else {"SourcePipelineExecutionArn": step.selective_source_arn}
        ),
        "IterationContext": step.iteration,
    }


def list_pipeline_execution_steps(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    arn = request.get("PipelineExecutionArn")
    if arn is None:
        # The model leaves it optional; the emulator (like the service, we assume) needs to know whose steps.
        raise validation(
            "1 validation error detected: Value null at 'pipelineExecutionArn' failed to satisfy constraint: "
            "Member must not be null"
        )
    execution = get_execution(ctx, arn)
    descending = request.get("SortOrder", "Descending") == "Descending"
    # Newest first by start time; the step list's own order breaks ties (the engine appends as steps start).
    indexed = sorted(
        enumerate(execution.steps), key=lambda pair: (pair[1].start, pair[0]), reverse=descending
    )
    keys = [[step.start, index] for index, step in indexed]
    state = decode_token(request.get("NextToken"), [execution.arn, descending])
    start = 0
    if state is not None:
        last = state["k"]
        start = next((i for i, k in enumerate(keys) if (k < last if descending else k > last)), len(keys))
    size = page_size(request)
    chunk = indexed[start : start + size]
    more = start + size < len(indexed)
    token = encode_token({"k": keys[start + size - 1], "q": [execution.arn, descending]}) if more else None
    return {"PipelineExecutionSteps": [_step(step) for _, step in chunk], "NextToken": token}


def list_pipeline_parameters_for_execution(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    execution = get_execution(ctx, request["PipelineExecutionArn"])
    chunk, token = offset_page(execution.parameters, request, execution.arn)
    return {
        "PipelineParameters": [{"Name": p["Name"], "Value": p["Value"]} for p in chunk],
        "NextToken": token,
    }


def describe_pipeline_definition_for_execution(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    execution = get_execution(ctx, request["PipelineExecutionArn"])
    return {"PipelineDefinition": execution.definition, "CreationTime": execution.created}


def _callback(ctx: Context, request: dict[str, Any], operation: str) -> dict[str, Any]:
    token = request["CallbackToken"]
    remembered = replayed(ctx, operation, request)  # the same answer sent twice (e.g. a retried call)
    if remembered is not None:
        return {"PipelineExecutionArn": remembered}
    # The engine judges the token (unknown or used: ValidationException); first catch its execution up.
    target = ctx.store.resolve_callback(token)
    execution = ctx.store.get_execution(target[0]) if target is not None else None
    if execution is not None:
        fresh(ctx, execution)
    if operation == "SendPipelineExecutionStepSuccess":
        execution = ctx.engine.send_step_success(token, list(request.get("OutputParameters") or []))
    else:
        execution = ctx.engine.send_step_failure(token, request.get("FailureReason"))
    ctx.store.touch(execution)
    remember(ctx, operation, request, execution.arn)
    return {"PipelineExecutionArn": execution.arn}


def send_step_success(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    return _callback(ctx, request, "SendPipelineExecutionStepSuccess")


def send_step_failure(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    return _callback(ctx, request, "SendPipelineExecutionStepFailure")


OPERATIONS: dict[str, Operation] = {
    "StartPipelineExecution": start_pipeline_execution,
    "StopPipelineExecution": stop_pipeline_execution,
    "RetryPipelineExecution": retry_pipeline_execution,
    "DescribePipelineExecution": describe_pipeline_execution,
    "UpdatePipelineExecution": update_pipeline_execution,
    "ListPipelineExecutions": list_pipeline_executions,
    "ListPipelineExecutionSteps": list_pipeline_execution_steps,
    "ListPipelineParametersForExecution": list_pipeline_parameters_for_execution,
    "DescribePipelineDefinitionForExecution": describe_pipeline_definition_for_execution,
    "SendPipelineExecutionStepSuccess": send_step_success,
    "SendPipelineExecutionStepFailure": send_step_failure,
}
