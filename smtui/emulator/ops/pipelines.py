"""Pipeline operations: Create/Update/Delete/Describe/List pipelines and their versions."""

from __future__ import annotations

from typing import Any

from smtui.emulator.errors import ServiceError, conflict, not_found, validation
from smtui.emulator.ops.common import (
    ACTIVE,
    Context,
    Operation,
    decode_token,
    encode_token,
    fresh,
    get_pipeline,
    offset_page,
    page_size,
    parallelism,
    remember,
    replayed,
)
from smtui.emulator.shapes import parse_timestamp
from smtui.emulator.store.records import PipelineRecord, PipelineVersion
from smtui.emulator.store.store import pipeline_key


def _definition(ctx: Context, request: dict[str, Any], *, required: bool) -> str | None:
    definition: str | None = request.get("PipelineDefinition")
    if request.get("PipelineDefinitionS3Location") is not None:
        # Our choice: the emulator has no S3 to read from, so it says so rather than pretend.
        raise validation(
            "PipelineDefinitionS3Location is not supported by this emulator: it cannot reach S3."
        )
    if definition is None:
        if required:
            raise validation("Either PipelineDefinition or PipelineDefinitionS3Location must be specified.")
        return None
    ctx.engine.validate_definition(definition)
    return definition


def create_pipeline(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    name = request["PipelineName"]
    token = request["ClientRequestToken"]
    earlier = replayed(ctx, "CreatePipeline", request)
    existing = ctx.store.get_pipeline(name)
    if existing is not None:
        if earlier == existing.arn:
            return {"PipelineArn": existing.arn}  # the same call again: idempotent
        raise validation(
            "Pipeline names must be unique within an AWS account and region. "
            f"Pipeline with name ({name}) already exists."
        )
    definition = _definition(ctx, request, required=True)
    assert definition is not None
    now = ctx.now()
    pipeline = PipelineRecord(
        name=name,
        arn=ctx.pipeline_arn(name),
        definition=definition,
        role_arn=request["RoleArn"],
        created=now,
        modified=now,
        # Our choice: without PipelineDisplayName the display name is the pipeline name.
        display_name=request.get("PipelineDisplayName") or name,
        description=request.get("PipelineDescription"),
        parallelism=parallelism(request),
        versions=[PipelineVersion(version_id=1, created=now, definition=definition)],
        tags=list(request.get("Tags") or []),
        client_token=token,
        created_by=ctx.identity(),
        modified_by=ctx.identity(),
    )
    ctx.store.add_pipeline(pipeline)
    remember(ctx, "CreatePipeline", request, pipeline.arn)
    return {"PipelineArn": pipeline.arn}


def update_pipeline(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    pipeline = get_pipeline(ctx, request["PipelineName"])
    definition = _definition(ctx, request, required=False)
    now = ctx.now()
    if definition is not None:
        pipeline.definition = definition
    for member, attribute in (
        ("PipelineDisplayName", "display_name"),
        ("PipelineDescription", "description"),
        ("RoleArn", "role_arn"),
    ):
        if request.get(member) is not None:
            setattr(pipeline, attribute, request[member])
    if request.get("ParallelismConfiguration") is not None:
        pipeline.parallelism = parallelism(request)
    pipeline.modified = now
    pipeline.modified_by = ctx.identity()
    # Every update makes a version, numbered from 1 like the service's PipelineVersionId.
    version = PipelineVersion(
        version_id=len(pipeline.versions) + 1, created=now, definition=pipeline.definition
    )
    pipeline.versions.append(version)
    ctx.store.touch(pipeline)
    return {"PipelineArn": pipeline.arn, "PipelineVersionId": version.version_id}


def delete_pipeline(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    key = pipeline_key(request["PipelineName"])  # a name or an ARN of the same pipeline: one request
    remembered = replayed(ctx, "DeletePipeline", request, PipelineName=key)
    pipeline = ctx.store.get_pipeline(request["PipelineName"])
    if pipeline is None:
        if remembered is not None:
            return {"PipelineArn": remembered}  # a repeated delete: idempotent
        raise not_found(f"Pipeline '{ctx.pipeline_arn(request['PipelineName'])}' does not exist.")
    executions = ctx.store.executions_of(pipeline)
    running = [e for e in reversed(executions) if e.status in ACTIVE and fresh(ctx, e).status in ACTIVE]
    if running:
        # Our choice of code: the API reference only says deletion needs no running execution.
        raise conflict(
            f"Pipeline '{pipeline.arn}' cannot be deleted while it has running executions ({running[0].arn})."
        )
    ctx.store.delete_pipeline(pipeline)
    remember(ctx, "DeletePipeline", request, pipeline.arn, PipelineName=key)
    return {"PipelineArn": pipeline.arn}


def _version(pipeline: PipelineRecord, version_id: int | None) -> PipelineVersion | None:
    if version_id is None:
        return pipeline.versions[-1] if pipeline.versions else None
    for version in pipeline.versions:
        if version.version_id == version_id:
            return version
    raise not_found(f"Pipeline version {version_id} of pipeline '{pipeline.arn}' does not exist.")


def describe_pipeline(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    pipeline = get_pipeline(ctx, request["PipelineName"])
    version = _version(pipeline, request.get("PipelineVersionId"))
    return {
        "PipelineArn": pipeline.arn,
        "PipelineName": pipeline.name,
        # The service always has one: the name when none was given (also for records made without one).
        "PipelineDisplayName": pipeline.display_name or pipeline.name,
        "PipelineDefinition": version.definition if version else pipeline.definition,
        "PipelineDescription": pipeline.description,
        "RoleArn": pipeline.role_arn,
        "PipelineStatus": "Active",
        "CreationTime": pipeline.created,
        "LastModifiedTime": pipeline.modified,
        "LastRunTime": pipeline.last_run,
        "CreatedBy": pipeline.created_by or {},
        "LastModifiedBy": pipeline.modified_by or pipeline.created_by or {},
        "ParallelismConfiguration": _parallelism(pipeline.parallelism),
        "PipelineVersionDisplayName": version.display_name if version else None,
        "PipelineVersionDescription": version.description if version else None,
    }


def _parallelism(value: int | None) -> dict[str, int] | None:
    return None if value is None else {"MaxParallelExecutionSteps": value}


def _created_between(request: dict[str, Any], created: float) -> bool:
    after, before = (
        parse_timestamp(request.get("CreatedAfter")),
        parse_timestamp(request.get("CreatedBefore")),
    )
    return (after is None or created > after) and (before is None or created < before)


def list_pipelines(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    prefix = (request.get("PipelineNamePrefix") or "").lower()
    by_name = request.get("SortBy") == "Name"
    descending = request.get("SortOrder", "Descending") == "Descending"
    query = [prefix, request.get("CreatedAfter"), request.get("CreatedBefore"), by_name, descending]
    state = decode_token(request.get("NextToken"), query)

    def key(p: PipelineRecord) -> list[Any]:
        return [p.name.lower()] if by_name else [p.created, p.name.lower()]

    # Pages resume after the last key served (not at an offset), so pipelines created meanwhile never
    # shift a page into serving duplicates.
    rows = sorted(
        (
            p
            for p in ctx.store.pipelines()
            if p.name.lower().startswith(prefix) and _created_between(request, p.created)
        ),
        key=key,
        reverse=descending,
    )
    if state is not None:
        last = state["k"]
        rows = [p for p in rows if (key(p) < last if descending else key(p) > last)]
    size = page_size(request)
    chunk = rows[:size]
    summaries = [
        {
            "PipelineArn": p.arn,
            "PipelineName": p.name,
            "PipelineDisplayName": p.display_name or p.name,
            "PipelineDescription": p.description,
            "RoleArn": p.role_arn,
            "CreationTime": p.created,
            "LastModifiedTime": p.modified,
            "LastExecutionTime": p.last_run,
        }
        for p in chunk
    ]
    token = encode_token({"k": key(chunk[-1]), "q": query}) if len(rows) > size else None
    return {"PipelineSummaries": summaries, "NextToken": token}


def list_pipeline_versions(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    pipeline = get_pipeline(ctx, request["PipelineName"])
    ascending = request.get("SortOrder", "Descending") == "Ascending"
    versions = [v for v in pipeline.versions if _created_between(request, v.created)]
    if not ascending:
        versions.reverse()
    query = [pipeline.arn, request.get("CreatedAfter"), request.get("CreatedBefore"), ascending]
    chunk, token = offset_page(versions, request, query)
    summaries = [
        {
            "PipelineArn": pipeline.arn,
            "PipelineVersionId": v.version_id,
            "CreationTime": v.created,
            "PipelineVersionDescription": v.description,
            "PipelineVersionDisplayName": v.display_name,
            "LastExecutionPipelineExecutionArn": v.last_execution_arn,
        }
        for v in chunk
    ]
    return {"PipelineVersionSummaries": summaries, "NextToken": token}


def update_pipeline_version(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    pipeline = get_pipeline(ctx, request["PipelineArn"])
    version = _version(pipeline, request["PipelineVersionId"])
    if version is None:
        raise ServiceError("ResourceNotFound", f"Pipeline '{pipeline.arn}' has no versions.")
    if request.get("PipelineVersionDisplayName") is not None:
        version.display_name = request["PipelineVersionDisplayName"]
    if request.get("PipelineVersionDescription") is not None:
        version.description = request["PipelineVersionDescription"]
    ctx.store.touch(pipeline)
    return {"PipelineArn": pipeline.arn, "PipelineVersionId": version.version_id}


def _tagged(ctx: Context, arn: str) -> PipelineRecord:
    """Tags are kept for pipelines only (what the SDK's `upsert(tags=...)` reads and writes)."""
    pipeline = ctx.store.get_pipeline(arn) if ":pipeline/" in arn and "/execution/" not in arn else None
    if pipeline is None or pipeline.arn != arn:
        raise not_found(f"Resource '{arn}' does not exist or does not take tags in this emulator.")
    return pipeline


def add_tags(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    pipeline = _tagged(ctx, request["ResourceArn"])
    added = {tag["Key"]: tag.get("Value", "") for tag in request["Tags"]}
    kept = [tag for tag in pipeline.tags if tag["Key"] not in added]
    pipeline.tags = kept + [{"Key": key, "Value": value} for key, value in added.items()]
    ctx.store.touch(pipeline)
    return {"Tags": pipeline.tags}


def list_tags(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    pipeline = _tagged(ctx, request["ResourceArn"])
    chunk, token = offset_page(pipeline.tags, request, pipeline.arn)
    return {"Tags": list(chunk), "NextToken": token}


def delete_tags(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    pipeline = _tagged(ctx, request["ResourceArn"])
    gone = set(request["TagKeys"])
    pipeline.tags = [tag for tag in pipeline.tags if tag["Key"] not in gone]
    ctx.store.touch(pipeline)
    return {}


OPERATIONS: dict[str, Operation] = {
    "AddTags": add_tags,
    "ListTags": list_tags,
    "DeleteTags": delete_tags,
    "CreatePipeline": create_pipeline,
    "UpdatePipeline": update_pipeline,
    "DeletePipeline": delete_pipeline,
    "DescribePipeline": describe_pipeline,
    "ListPipelines": list_pipelines,
    "ListPipelineVersions": list_pipeline_versions,
    "UpdatePipelineVersion": update_pipeline_version,
}
