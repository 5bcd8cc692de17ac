"""Pipeline operations over boto3 and aiobotocore: create/update/describe/delete, versions, listing."""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from wire_harness import ROLE_ARN


def test_create_then_describe_round_trips_everything(sm: Any, unique_name: Any, make_definition: Any) -> None:
    name = unique_name("Describe")
    definition = make_definition()
    arn = sm.create_pipeline(
        PipelineName=name,
        PipelineDisplayName="Nightly-training",
        PipelineDescription="trains every night",
        PipelineDefinition=definition,
        RoleArn=ROLE_ARN,
        ParallelismConfiguration={"MaxParallelExecutionSteps": 3},
        Tags=[{"Key": "team", "Value": "ml"}],
    )["PipelineArn"]
    described = sm.describe_pipeline(PipelineName=arn)  # by ARN as well as by name
    assert described["PipelineArn"] == arn
    assert described["PipelineName"] == name
    assert described["PipelineDisplayName"] == "Nightly-training"
    assert described["PipelineDescription"] == "trains every night"
    assert json.loads(described["PipelineDefinition"]) == json.loads(definition)
    assert described["RoleArn"] == ROLE_ARN
    assert described["PipelineStatus"] == "Active"
    assert described["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 3}
    assert described["CreationTime"] == described["LastModifiedTime"]
    assert "LastRunTime" not in described


def test_create_is_idempotent_on_the_token_and_refuses_a_taken_name(
    sm: Any, unique_name: Any, make_definition: Any
) -> None:
    name, token = unique_name("Idem"), uuid.uuid4().hex
    args = {"PipelineName": name, "PipelineDefinition": make_definition(), "RoleArn": ROLE_ARN}
    first = sm.create_pipeline(ClientRequestToken=token, **args)["PipelineArn"]
    assert sm.create_pipeline(ClientRequestToken=token, **args)["PipelineArn"] == first
    with pytest.raises(ClientError) as caught:
        sm.create_pipeline(**args)  # a new token: a second pipeline of the same name
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert f"({name}) already exists" in caught.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    "definition",
    [
        "{not json",
        json.dumps(
            {"Version": "2020-12-01", "Steps": [{"Name": "A", "Type": "Fail", "DependsOn": ["Nope"]}]}
        ),
    ],
)
def test_create_rejects_a_bad_definition(sm: Any, unique_name: Any, definition: str) -> None:
    name = unique_name("BadDef")
    with pytest.raises(ClientError) as caught:
        sm.create_pipeline(PipelineName=name, PipelineDefinition=definition, RoleArn=ROLE_ARN)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_pipeline(PipelineName=name)


def test_s3_definition_location_is_refused_plainly(sm: Any, unique_name: Any) -> None:
    with pytest.raises(ClientError) as caught:
        sm.create_pipeline(
            PipelineName=unique_name("S3"),
            PipelineDefinitionS3Location={"Bucket": "bucket", "ObjectKey": "pipeline.json"},
            RoleArn=ROLE_ARN,
        )
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "S3" in caught.value.response["Error"]["Message"]


def test_update_makes_versions_and_describe_reads_any_of_them(
    sm: Any, make_pipeline: Any, make_definition: Any
) -> None:
    name, arn = make_pipeline()
    first = json.loads(sm.describe_pipeline(PipelineName=name)["PipelineDefinition"])
    second = make_definition(
        {"Name": "Only", "Type": "Fail", "Arguments": {"ErrorMessage": "v2"}},
    )
    update = sm.update_pipeline(PipelineName=name, PipelineDefinition=second, PipelineDescription="v2")
    assert update == {**update, "PipelineArn": arn, "PipelineVersionId": 2}
    assert json.loads(sm.describe_pipeline(PipelineName=name)["PipelineDefinition"]) == json.loads(second)
    old = sm.describe_pipeline(PipelineName=name, PipelineVersionId=1)
    assert json.loads(old["PipelineDefinition"]) == first
    sm.update_pipeline_version(PipelineArn=arn, PipelineVersionId=1, PipelineVersionDisplayName="first-cut")
    versions = sm.list_pipeline_versions(PipelineName=name)["PipelineVersionSummaries"]
    assert [v["PipelineVersionId"] for v in versions] == [2, 1]  # newest first
    assert versions[1]["PipelineVersionDisplayName"] == "first-cut"
    ascending = sm.list_pipeline_versions(PipelineName=name, SortOrder="Ascending")[
        "PipelineVersionSummaries"
    ]
    assert [v["PipelineVersionId"] for v in ascending] == [1, 2]
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_pipeline(PipelineName=name, PipelineVersionId=9)


def test_delete_removes_the_pipeline_and_is_idempotent(sm: Any, make_pipeline: Any) -> None:
    name, arn = make_pipeline()
    token = uuid.uuid4().hex
    assert sm.delete_pipeline(PipelineName=name, ClientRequestToken=token)["PipelineArn"] == arn
    assert sm.delete_pipeline(PipelineName=name, ClientRequestToken=token)["PipelineArn"] == arn
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_pipeline(PipelineName=name)
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.delete_pipeline(PipelineName=name)


def _all_pipelines(sm: Any, **kwargs: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for page in sm.get_paginator("list_pipelines").paginate(**kwargs):
        rows.extend(page["PipelineSummaries"])
    return rows


def test_list_pipelines_prefix_sorting_and_pages(
    sm: Any, emulator: Any, unique_name: Any, make_pipeline: Any
) -> None:
    prefix = unique_name("List")
    names = []
    for index in range(7):
        names.append(make_pipeline(f"{prefix}-{index}")[0])
        emulator.advance(1)  # distinct creation times
    newest_first = _all_pipelines(sm, PipelineNamePrefix=prefix, PaginationConfig={"PageSize": 3})
    assert [p["PipelineName"] for p in newest_first] == names[::-1]
    by_name = _all_pipelines(
        sm, PipelineNamePrefix=prefix, SortBy="Name", SortOrder="Ascending", PaginationConfig={"PageSize": 2}
    )
    assert [p["PipelineName"] for p in by_name] == sorted(names, key=str.lower)
    page = sm.list_pipelines(PipelineNamePrefix=prefix, MaxResults=3)
    assert len(page["PipelineSummaries"]) == 3 and "NextToken" in page
    created = [p["CreationTime"] for p in newest_first]
    # Whole-second bounds (botocore may truncate fractions): after names[2]'s creation, before names[5]'s.
    after, before = math.ceil(created[4].timestamp()), math.floor(created[1].timestamp())
    window = sm.list_pipelines(PipelineNamePrefix=prefix, CreatedAfter=after, CreatedBefore=before)
    assert [p["PipelineName"] for p in window["PipelineSummaries"]] == [names[4], names[3]]


def test_a_token_from_another_query_is_refused(sm: Any, unique_name: Any, make_pipeline: Any) -> None:
    prefix = unique_name("Tok")
    for index in range(3):
        make_pipeline(f"{prefix}-{index}")
    token = sm.list_pipelines(PipelineNamePrefix=prefix, MaxResults=1)["NextToken"]
    with pytest.raises(ClientError) as caught:
        sm.list_pipelines(PipelineNamePrefix=prefix, SortBy="Name", NextToken=token)
    assert caught.value.response["Error"]["Code"] == "ValidationException"


async def test_aiobotocore_sees_the_same_pipelines(asm: Any, sm: Any, make_pipeline: Any) -> None:
    name, arn = make_pipeline()
    described = await asm.describe_pipeline(PipelineName=name)
    assert described["PipelineArn"] == arn
    paginator = asm.get_paginator("list_pipelines")
    seen = [
        p["PipelineArn"]
        async for page in paginator.paginate(PipelineNamePrefix=name)
        for p in page["PipelineSummaries"]
    ]
    assert seen == [arn]


def test_pipeline_tags_can_be_listed_added_and_deleted(sm: Any, make_pipeline: Any) -> None:
    _, arn = make_pipeline(Tags=[{"Key": "team", "Value": "ml"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "data"}, {"Key": "env", "Value": "dev"}])
    assert sorted((t["Key"], t["Value"]) for t in sm.list_tags(ResourceArn=arn)["Tags"]) == [
        ("env", "dev"),
        ("team", "data"),
    ]
    sm.delete_tags(ResourceArn=arn, TagKeys=["team"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]
