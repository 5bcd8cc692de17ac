"""Models and the model registry: DescribeModel for the models Model steps create; DescribeModelPackage,
ListModelPackages, UpdateModelPackage (approval), DescribeModelPackageGroup and ListModelPackageGroups for
what RegisterModel steps register (`engine.registry`).

Unknown names answer the service's ValidationException, not ResourceNotFound (none of these operations
models an error): `ModelPackage <arn> does not exist.`, `ModelPackageGroup <arn> does not exist.`,
`Could not find model "<arn>".`
"""

from __future__ import annotations

from typing import Any

from smtui.emulator.engine.jobs import arn as resource_arn
from smtui.emulator.engine.registry import group_name_of
from smtui.emulator.errors import validation
from smtui.emulator.ops.common import Context, Operation, offset_page
from smtui.emulator.shapes import parse_timestamp
from smtui.emulator.store.records import ModelPackageGroupRecord, ModelPackageRecord, ModelRecord


def _arn(ctx: Context, resource: str, name_or_arn: str) -> str:
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    return resource_arn(ctx.backend.engine.region, ctx.backend.account, resource, name_or_arn)


def _package(ctx: Context, name_or_arn: str) -> ModelPackageRecord:
    package_arn = _arn(ctx, "model-package", name_or_arn)
    package = ctx.store.get_resource(ModelPackageRecord, package_arn)
    if package is None:
        raise validation(f"ModelPackage {package_arn} does not exist.")
    return package


def _group(ctx: Context, name_or_arn: str) -> ModelPackageGroupRecord:
    group_arn = _arn(ctx, "model-package-group", name_or_arn)
    group = ctx.store.get_resource(ModelPackageGroupRecord, group_arn)
    if group is None:
        raise validation(f"ModelPackageGroup {group_arn} does not exist.")
    return group


def describe_model(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    model_arn = _arn(ctx, "model", request["ModelName"])
    model = ctx.store.get_resource(ModelRecord, model_arn)
    if model is None:
        raise validation(f'Could not find model "{model_arn}".')
    return {
        **model.arguments,
        "ModelName": model.name,
        "ModelArn": model.arn,
        "CreationTime": model.created,
    }


def _status_details() -> dict[str, Any]:
    return {"ValidationStatuses": [], "ImageScanStatuses": []}


def describe_model_package(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    package = _package(ctx, request["ModelPackageName"])
    return {
        **package.arguments,
        "ModelPackageName": package.name,
        "ModelPackageGroupName": package.group,
        "ModelPackageVersion": package.version,
        "ModelPackageArn": package.arn,
        "ModelPackageDescription": package.arguments.get("ModelPackageDescription"),
        "CreationTime": package.created,
        "ModelPackageStatus": "Completed",
        "ModelPackageStatusDetails": _status_details(),
        "ModelApprovalStatus": package.approval_status,
        "ApprovalDescription": package.approval_description,
        "CreatedBy": package.created_by,
        "LastModifiedTime": package.modified if package.modified != package.created else None,
        "LastModifiedBy": package.modified_by or None,
    }


def _summary(package: ModelPackageRecord) -> dict[str, Any]:
    return {
        "ModelPackageName": package.name,
        "ModelPackageGroupName": package.group,
        "ModelPackageVersion": package.version,
        "ModelPackageArn": package.arn,
        "ModelPackageDescription": package.arguments.get("ModelPackageDescription"),
        "CreationTime": package.created,
        "ModelPackageStatus": "Completed",
        "ModelApprovalStatus": package.approval_status,
    }


def _created_between(created: float, request: dict[str, Any]) -> bool:
    after, before = request.get("CreationTimeAfter"), request.get("CreationTimeBefore")
    after_s = parse_timestamp(after) if after is not None else None
    before_s = parse_timestamp(before) if before is not None else None
    return (after_s is None or created > after_s) and (before_s is None or created < before_s)


def list_model_packages(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    group = request.get("ModelPackageGroupName")
    group_name = group_name_of(group).lower() if group else None
    # The documented default is Unversioned; naming a group asks for its versions (as every client does).
    kind = request.get("ModelPackageType") or ("Versioned" if group else "Unversioned")
    status, contains = request.get("ModelApprovalStatus"), request.get("NameContains")
    packages = [
        p
        for p in ctx.store.resources(ModelPackageRecord)
        if (kind == "Both" or (p.group is not None) == (kind == "Versioned"))
        and (group_name is None or (p.group or "").lower() == group_name)
        and (status is None or p.approval_status == status)
        and (contains is None or contains.lower() in p.name.lower())
        and _created_between(p.created, request)
    ]
    by_name = request.get("SortBy") == "Name"
    packages.sort(key=(lambda p: (p.name.lower(), p.version or 0)) if by_name else (lambda p: p.created))
    if request.get("SortOrder") == "Descending":
        packages.reverse()
    query = ["ListModelPackages", {k: v for k, v in request.items() if k not in ("NextToken", "MaxResults")}]
    chunk, token = offset_page(packages, request, _jsonable(query))
    return {"ModelPackageSummaryList": [_summary(p) for p in chunk], "NextToken": token}


def update_model_package(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    package = _package(ctx, request["ModelPackageArn"])
    status = request.get("ModelApprovalStatus")
    if status is not None:
        if package.group is None:
            raise validation("ModelApprovalStatus can only be set on a versioned model package.")
        package.approval_status = status
    if request.get("ApprovalDescription") is not None:
        package.approval_description = request["ApprovalDescription"]
    arguments = dict(package.arguments)
    if request.get("CustomerMetadataProperties"):
        arguments["CustomerMetadataProperties"] = {
            **(arguments.get("CustomerMetadataProperties") or {}),
            **request["CustomerMetadataProperties"],
        }
    for key in request.get("CustomerMetadataPropertiesToRemove") or []:
        (arguments.get("CustomerMetadataProperties") or {}).pop(key, None)
    if request.get("AdditionalInferenceSpecificationsToAdd"):
        arguments["AdditionalInferenceSpecifications"] = [
            *(arguments.get("AdditionalInferenceSpecifications") or []),
            *request["AdditionalInferenceSpecificationsToAdd"],
        ]
    for key in ("InferenceSpecification", "SourceUri", "ModelCard", "ModelLifeCycle"):
        if request.get(key) is not None:
            arguments[key] = request[key]
    package.arguments = arguments
    package.modified = ctx.now()
    package.modified_by = ctx.identity()
    ctx.store.touch(package)
    return {"ModelPackageArn": package.arn}


def describe_model_package_group(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    group = _group(ctx, request["ModelPackageGroupName"])
    return {
        "ModelPackageGroupName": group.name,
        "ModelPackageGroupArn": group.arn,
        "ModelPackageGroupDescription": group.description,
        "CreationTime": group.created,
        "CreatedBy": group.created_by,
        "ModelPackageGroupStatus": "Completed",
    }


def list_model_package_groups(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    contains = request.get("NameContains")
    groups = [
        g
        for g in ctx.store.resources(ModelPackageGroupRecord)
        if (contains is None or contains.lower() in g.name.lower()) and _created_between(g.created, request)
    ]
    groups.sort(key=(lambda g: g.name.lower()) if request.get("SortBy") == "Name" else (lambda g: g.created))
    if request.get("SortOrder") == "Descending":
        groups.reverse()
    query = [
        "ListModelPackageGroups",
        {k: v for k, v in request.items() if k not in ("NextToken", "MaxResults")},
    ]
    chunk, token = offset_page(groups, request, _jsonable(query))
    return {
        "ModelPackageGroupSummaryList": [
            {
                "ModelPackageGroupName": g.name,
                "ModelPackageGroupArn": g.arn,
                "ModelPackageGroupDescription": g.description,
                "CreationTime": g.created,
                "ModelPackageGroupStatus": "Completed",
            }
            for g in chunk
        ],
        "NextToken": token,
    }


def _jsonable(value: Any) -> Any:
    """The query fingerprint a NextToken carries, as JSON would give it back (timestamps as text)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


OPERATIONS: dict[str, Operation] = {
    "DescribeModel": describe_model,
    "DescribeModelPackage": describe_model_package,
    "ListModelPackages": list_model_packages,
    "UpdateModelPackage": update_model_package,
    "DescribeModelPackageGroup": describe_model_package_group,
    "ListModelPackageGroups": list_model_package_groups,
}
