"""What Model and RegisterModel steps create, over HTTP: DescribeModel; model packages registered in their
group (created when missing) with the approval status of the step's arguments; ListModelPackages,
UpdateModelPackage (approval), DescribeModelPackageGroup and ListModelPackageGroups; the service's errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from logs_harness import IMAGE, run, steps
from wire_harness import ROLE_ARN

ACCOUNT = "123456789012"
APPROVAL = {"Name": "Approval", "Type": "String", "DefaultValue": "PendingManualApproval"}


def _register(group: str, approval: Any = None, **arguments: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "InferenceSpecification": {
            "Containers": [{"Image": f"{IMAGE}/xgboost:1.7-1", "ModelDataUrl": "s3://bucket/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        **arguments,
    }
    if approval is not None:
        args["ModelApprovalStatus"] = approval
    return {"Name": "Register", "Type": "RegisterModel", "Arguments": args}


def _definition(*step_list: dict[str, Any], parameters: list[dict[str, Any]] | None = None) -> str:
    return json.dumps({"Version": "2020-12-01", "Parameters": parameters or [], "Steps": list(step_list)})


def _execute(sm: Any, emulator: Any, name: str, **start: Any) -> dict[str, dict[str, Any]]:
    arn = sm.start_pipeline_execution(PipelineName=name, **start)["PipelineExecutionArn"]
    run(sm, emulator, arn)
    return steps(sm, arn)


def _code(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def test_register_model_registers_the_next_version_in_its_group(
    sm: Any, emulator: Any, make_pipeline: Any, unique_name: Any
) -> None:
    group = unique_name("Churn")
    name, _ = make_pipeline(
        definition=_definition(_register(group, {"Get": "Parameters.Approval"}), parameters=[APPROVAL])
    )
    first = _execute(sm, emulator, name)["Register"]
    assert first["StepStatus"] == "Succeeded"
    arn = first["Metadata"]["RegisterModel"]["Arn"]
    assert arn == f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/{group.lower()}/1"
    package = sm.describe_model_package(ModelPackageName=arn)
    assert (package["ModelPackageGroupName"], package["ModelPackageVersion"]) == (group, 1)
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert package["ModelPackageStatus"] == "Completed"
    assert package["InferenceSpecification"] == _register(group)["Arguments"]["InferenceSpecification"]
    assert package["CreationTime"] == first["StartTime"]
    second = _execute(sm, emulator, name, PipelineParameters=[{"Name": "Approval", "Value": "Approved"}])
    arn2 = second["Register"]["Metadata"]["RegisterModel"]["Arn"]
    assert arn2.endswith(f"/{group.lower()}/2")
    assert sm.describe_model_package(ModelPackageName=f"{group}/2")["ModelApprovalStatus"] == "Approved"
    created = sm.describe_model_package_group(ModelPackageGroupName=group)
    assert (
        created["ModelPackageGroupArn"]
        == f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package-group/{group.lower()}"
    )
    assert created["ModelPackageGroupStatus"] == "Completed"
    assert created["CreatedBy"]["IamIdentity"]["Arn"].startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/")
    groups = sm.list_model_package_groups(NameContains=group)["ModelPackageGroupSummaryList"]
    assert [g["ModelPackageGroupName"] for g in groups] == [group]


def test_list_model_packages_filters_and_pages(
    sm: Any, emulator: Any, make_pipeline: Any, unique_name: Any
) -> None:
    group = unique_name("Listed")
    name, _ = make_pipeline(
        definition=_definition(_register(group, {"Get": "Parameters.Approval"}), parameters=[APPROVAL])
    )
    for approval in ("PendingManualApproval", "Approved", "PendingManualApproval"):
        _execute(sm, emulator, name, PipelineParameters=[{"Name": "Approval", "Value": approval}])
    listed = sm.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
    assert [p["ModelPackageVersion"] for p in listed] == [1, 2, 3]  # oldest first by default
    pending = sm.list_model_packages(ModelPackageGroupName=group, ModelApprovalStatus="PendingManualApproval")
    assert [p["ModelPackageVersion"] for p in pending["ModelPackageSummaryList"]] == [1, 3]
    pages = sm.get_paginator("list_model_packages").paginate(
        ModelPackageGroupName=group, SortOrder="Descending", PaginationConfig={"PageSize": 1}
    )
    assert [p["ModelPackageVersion"] for page in pages for p in page["ModelPackageSummaryList"]] == [3, 2, 1]
    # Without a group the documented default type is Unversioned: the group's versions are not listed.
    everything = sm.get_paginator("list_model_packages").paginate()
    assert not any(
        p.get("ModelPackageGroupName") == group
        for page in everything
        for p in page["ModelPackageSummaryList"]
    )
    both = sm.get_paginator("list_model_packages").paginate(ModelPackageType="Both", NameContains=group)
    assert len([p for page in both for p in page["ModelPackageSummaryList"]]) == 3


def test_update_model_package_approves_with_a_note(
    sm: Any, emulator: Any, make_pipeline: Any, unique_name: Any
) -> None:
    group = unique_name("Approve")
    name, _ = make_pipeline(definition=_definition(_register(group)))
    arn = _execute(sm, emulator, name)["Register"]["Metadata"]["RegisterModel"]["Arn"]
    emulator.advance(60)
    reply = sm.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="AUC 0.91 beats prod"
    )
    assert reply["ModelPackageArn"] == arn
    package = sm.describe_model_package(ModelPackageName=arn)
    assert (package["ModelApprovalStatus"], package["ApprovalDescription"]) == (
        "Approved",
        "AUC 0.91 beats prod",
    )
    assert package["LastModifiedTime"] > package["CreationTime"]
    assert package["LastModifiedBy"] == {
        "IamIdentity": {"Arn": f"arn:aws:iam::{ACCOUNT}:user/AKIAEMULATOR", "PrincipalId": "AKIAEMULATOR"}
    }
    approved = sm.list_model_packages(ModelPackageGroupName=group, ModelApprovalStatus="Approved")
    assert [p["ModelPackageArn"] for p in approved["ModelPackageSummaryList"]] == [arn]
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected")
    assert sm.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == "Rejected"


def test_model_registry_errors_are_the_services(sm: Any, unique_name: Any) -> None:
    ghost = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/{unique_name('ghost').lower()}/1"
    with pytest.raises(ClientError) as caught:
        sm.update_model_package(ModelPackageArn=ghost, ModelApprovalStatus="Approved")
    assert _code(caught) == ("ValidationException", f"ModelPackage {ghost} does not exist.")
    with pytest.raises(ClientError) as caught:
        sm.describe_model_package(ModelPackageName=ghost)
    assert _code(caught) == ("ValidationException", f"ModelPackage {ghost} does not exist.")
    with pytest.raises(ClientError) as caught:
        sm.update_model_package(ModelPackageArn=ghost, ModelApprovalStatus="Maybe")
    code, message = _code(caught)
    assert (
        code == "ValidationException" and "at 'modelApprovalStatus' failed to satisfy constraint" in message
    )
    with pytest.raises(ClientError) as caught:
        sm.update_model_package(ModelPackageArn="not-an-arn")
    assert "Member must satisfy regular expression pattern" in _code(caught)[1]
    group = unique_name("nogroup")
    with pytest.raises(ClientError) as caught:
        sm.describe_model_package_group(ModelPackageGroupName=group)
    group_arn = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package-group/{group.lower()}"
    assert _code(caught) == ("ValidationException", f"ModelPackageGroup {group_arn} does not exist.")
    with pytest.raises(ClientError) as caught:
        sm.describe_model(ModelName="no-such-model")
    assert _code(caught) == (
        "ValidationException",
        f'Could not find model "arn:aws:sagemaker:us-east-1:{ACCOUNT}:model/no-such-model".',
    )


def test_register_model_fails_where_create_model_package_would(
    sm: Any, emulator: Any, make_pipeline: Any, unique_name: Any
) -> None:
    bare = {"Name": "Register", "Type": "RegisterModel", "Arguments": {}}
    name, _ = make_pipeline(definition=_definition(bare))
    step = _execute(sm, emulator, name)["Register"]
    prefix = "ClientError: Failed to invoke sagemaker:CreateModelPackage. Error Details: "
    assert (step["StepStatus"], step["FailureReason"]) == ("Failed", prefix + "Missing ARN.")
    assert "RegisterModel" not in step["Metadata"]
    name, _ = make_pipeline(
        definition=_definition(
            _register(unique_name("Typo"), {"Get": "Parameters.Approval"}), parameters=[APPROVAL]
        )
    )
    step = _execute(sm, emulator, name, PipelineParameters=[{"Name": "Approval", "Value": "Approve"}])[
        "Register"
    ]
    assert step["StepStatus"] == "Failed"
    assert step["FailureReason"].startswith(
        prefix + "1 validation error detected: Value 'Approve' at 'modelApprovalStatus'"
    )


def test_model_step_creates_the_model_it_names(sm: Any, emulator: Any, make_pipeline: Any) -> None:
    container = {"Image": f"{IMAGE}/xgboost:1.7-1", "ModelDataUrl": "s3://bucket/model.tar.gz"}
    model_step = {
        "Name": "CreateModel",
        "Type": "Model",
        "Arguments": {"ExecutionRoleArn": ROLE_ARN, "PrimaryContainer": container},
    }
    name, _ = make_pipeline(definition=_definition(model_step))
    listed = _execute(sm, emulator, name)
    arn = listed["CreateModel"]["Metadata"]["Model"]["Arn"]
    execution_id = sm.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"][0][
        "PipelineExecutionArn"
    ].rsplit("/", 1)[1]
    assert arn.startswith(
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model/pipelines-{execution_id}-createmodel-"
    )
    model = sm.describe_model(ModelName=arn.rsplit("/", 1)[1])
    assert model["ModelArn"] == arn and model["ModelName"].lower() == arn.rsplit("/", 1)[1]
    assert model["PrimaryContainer"] == container and model["ExecutionRoleArn"] == ROLE_ARN
