"""What Model and RegisterModel steps create: a model (CreateModel), and a model package in its group
(CreateModelPackage; the group too when it is missing), as the service would from the step's resolved
Arguments — which are those requests, checked against botocore's model like any request.

A RegisterModel step whose request the service would refuse fails the way pipeline steps report a refused
call: `ClientError: Failed to invoke sagemaker:CreateModelPackage. Error Details: <the service's message>`.
"""

from __future__ import annotations

from typing import Any

from smtui.emulator.engine.jobs import arn
from smtui.emulator.errors import ServiceError
from smtui.emulator.shapes import service_shapes
from smtui.emulator.store.records import ModelPackageGroupRecord, ModelPackageRecord, ModelRecord
from smtui.emulator.store.store import Store

APPROVAL_DEFAULT = "PendingManualApproval"


def refused(operation: str, message: str) -> str:
    """The FailureReason of a step whose service call was refused."""
    return f"ClientError: Failed to invoke sagemaker:{operation}. Error Details: {message}"


def create_model(
    store: Store, region: str, account: str, name: str, args: Any, *, t: float, execution: str, step: str
) -> ModelRecord:
    """The model a Model step creates (named like the jobs steps run: `pipelines-<id>-<Step>-<10 chars>`)."""
    model = ModelRecord(
        name=name,
        arn=arn(region, account, "model", name),
        created=t,
        arguments=dict(args) if isinstance(args, dict) else {},
        execution_arn=execution,
        step_name=step,
    )
    store.add_resource(model)
    return model


def register_model_package(
    store: Store,
    region: str,
    account: str,
    args: Any,
    *,
    t: float,
    execution: str,
    step: str,
    creator: dict[str, Any],
) -> ModelPackageRecord:
    """CreateModelPackage from a RegisterModel step's resolved Arguments: the next version in its group (the
    group created when missing), or an unversioned package named by `ModelPackageName`.

    Raises ServiceError with the service's message when it would refuse the request."""
    request = dict(args) if isinstance(args, dict) else {}
    service_shapes("sagemaker").validate_input("CreateModelPackage", request)
    group_name, package_name = request.get("ModelPackageGroupName"), request.get("ModelPackageName")
    # The service's words for these two refusals (quoted by moto, getmoto/moto#7165).
    if group_name and package_name:
        raise ServiceError(
            "ValidationException",
            "Both ModelPackageName and ModelPackageGroupName are provided in the input. Cannot determine"
            " which one to use.",
        )
    if not group_name and not package_name:
        raise ServiceError("ValidationException", "Missing ARN.")
    if package_name:
        package_arn = arn(region, account, "model-package", str(package_name))
        if store.get_resource(ModelPackageRecord, package_arn) is not None:
            raise ServiceError("ValidationException", f"ModelPackage {package_arn} already exists.")
        package = ModelPackageRecord(
            name=str(package_name),
            arn=package_arn,
            created=t,
            modified=t,
            arguments=request,
            execution_arn=execution,
            step_name=step,
            created_by=creator,
        )
    else:
        group = group_name_of(str(group_name))
        group_record = _group(store, region, account, group, t, creator)
        version = 1 + sum(1 for p in store.resources(ModelPackageRecord) if p.group == group_record.name)
        package = ModelPackageRecord(
            name=group_record.name,
            arn=arn(region, account, "model-package", f"{group_record.name}/{version}"),
            created=t,
            modified=t,
            arguments=request,
            group=group_record.name,
            version=version,
            approval_status=str(request.get("ModelApprovalStatus") or APPROVAL_DEFAULT),
            execution_arn=execution,
            step_name=step,
            created_by=creator,
        )
    store.add_resource(package)
    return package


def group_name_of(name_or_arn: str) -> str:
    """A group's name from its name or ARN (`...:model-package-group/<name>`)."""
    return name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn


def _group(
    store: Store, region: str, account: str, name: str, t: float, creator: dict[str, Any]
) -> ModelPackageGroupRecord:
    group_arn = arn(region, account, "model-package-group", name)
    group = store.get_resource(ModelPackageGroupRecord, group_arn)
    if group is None:
        group = ModelPackageGroupRecord(name=name, arn=group_arn, created=t, created_by=creator)
        store.add_resource(group)
    return group
