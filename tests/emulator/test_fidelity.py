"""Where the emulator once answered differently from the real service, found by driving it as a user would
(AWS CLI, boto3, the SDK). Each test pins the service's behaviour that an earlier emulator got wrong."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _token() -> str:
    return str(uuid.uuid4())


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


# ---- PipelineDisplayName --------------------------------------------------------------------------------


def test_demo_pipelines_have_a_display_name(emulator_factory: Any) -> None:
    # The service always returns PipelineDisplayName (the name when none was given); sagemaker-core's
    # Pipeline.get_all() showed `Unassigned()` for the demo pipelines.
    from wire_harness import make_sm

    demo = emulator_factory("--demo", "--time-scale", "0")
    sm = make_sm(demo)
    summaries = sm.list_pipelines()["PipelineSummaries"]
    assert summaries
    for summary in summaries:
        assert summary["PipelineDisplayName"] == summary["PipelineName"]
        described = sm.describe_pipeline(PipelineName=summary["PipelineName"])
        assert described["PipelineDisplayName"] == summary["PipelineName"]


# ---- ClientRequestToken: same token, different parameters ---------------------------------------------


def test_start_token_reused_with_other_parameters_is_refused(sm: Any, make_pipeline: Any) -> None:
    name, arn = make_pipeline()
    token = _token()
    first = sm.start_pipeline_execution(PipelineName=name, ClientRequestToken=token)["PipelineExecutionArn"]
    # The same request again (a client retry), by name or by ARN: the same execution, no second one.
    again = sm.start_pipeline_execution(PipelineName=arn, ClientRequestToken=token)["PipelineExecutionArn"]
    assert again == first
    with pytest.raises(ClientError) as error:
        sm.start_pipeline_execution(
            PipelineName=name, ClientRequestToken=token, PipelineExecutionDescription="another run"
        )
    assert _code(error) == "ValidationException"
    assert token in str(error.value)
    listed = sm.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"]
    assert [e["PipelineExecutionArn"] for e in listed] == [first]


def test_start_token_reused_for_another_pipeline_is_refused(sm: Any, make_pipeline: Any) -> None:
    first_name, _ = make_pipeline()
    second_name, _ = make_pipeline()
    token = _token()
    sm.start_pipeline_execution(PipelineName=first_name, ClientRequestToken=token)
    with pytest.raises(ClientError) as error:
        sm.start_pipeline_execution(PipelineName=second_name, ClientRequestToken=token)
    assert _code(error) == "ValidationException"
    assert sm.list_pipeline_executions(PipelineName=second_name)["PipelineExecutionSummaries"] == []


def test_create_token_reused_with_another_definition_is_refused(
    sm: Any, unique_name: Any, make_definition: Any
) -> None:
    from wire_harness import ROLE_ARN

    name, token = unique_name("idem"), _token()
    request = {
        "PipelineName": name,
        "PipelineDefinition": make_definition(),
        "RoleArn": ROLE_ARN,
        "ClientRequestToken": token,
    }
    arn = sm.create_pipeline(**request)["PipelineArn"]
    assert sm.create_pipeline(**request)["PipelineArn"] == arn  # a retried create: idempotent
    with pytest.raises(ClientError) as error:
        sm.create_pipeline(**{**request, "PipelineDescription": "not the same request"})
    assert _code(error) == "ValidationException"
    assert "PipelineDescription" not in sm.describe_pipeline(PipelineName=name)


def test_stop_token_reused_for_another_execution_is_refused(sm: Any, make_pipeline: Any) -> None:
    name, _ = make_pipeline()
    first = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    second = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    token = _token()
    sm.stop_pipeline_execution(PipelineExecutionArn=first, ClientRequestToken=token)
    # Retrying the same stop is harmless even though the execution is no longer Executing.
    sm.stop_pipeline_execution(PipelineExecutionArn=first, ClientRequestToken=token)
    with pytest.raises(ClientError) as error:
        sm.stop_pipeline_execution(PipelineExecutionArn=second, ClientRequestToken=token)
    assert _code(error) == "ValidationException"
    status = sm.describe_pipeline_execution(PipelineExecutionArn=second)["PipelineExecutionStatus"]
    assert status == "Executing"


# ---- DeletePipeline leaves the jobs its steps ran -------------------------------------------------------


def test_jobs_and_their_logs_outlive_a_deleted_pipeline(
    sm: Any, logs: Any, emulator: Any, make_pipeline: Any
) -> None:
    name, _ = make_pipeline()
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    emulator.advance(4 * 3600)
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Succeeded"
    step = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"][0]
    job_name = step["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[-1]
    before = sm.describe_processing_job(ProcessingJobName=job_name)

    sm.delete_pipeline(PipelineName=name)

    # A processing job is a resource of its own: deleting the pipeline that started it deletes neither the
    # job nor its CloudWatch logs (the executions do go).
    with pytest.raises(ClientError) as error:
        sm.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert _code(error) == "ResourceNotFound"
    after = sm.describe_processing_job(ProcessingJobName=job_name)
    assert after["ProcessingJobStatus"] == before["ProcessingJobStatus"] == "Completed"
    assert after["ProcessingJobArn"] == before["ProcessingJobArn"]
    streams = logs.describe_log_streams(
        logGroupName="/aws/sagemaker/ProcessingJobs", logStreamNamePrefix=before["ProcessingJobName"] + "/"
    )["logStreams"]
    assert len(streams) == 1


# ---- a pipeline ARN names one account's pipeline --------------------------------------------------------


def test_pipeline_arn_of_another_account_is_not_found(sm: Any, make_pipeline: Any) -> None:
    name, arn = make_pipeline()
    assert sm.describe_pipeline(PipelineName=arn)["PipelineName"] == name
    foreign = arn.replace(":123456789012:", ":999999999999:")
    for call in (
        lambda: sm.describe_pipeline(PipelineName=foreign),
        lambda: sm.list_pipeline_executions(PipelineName=foreign),
        lambda: sm.start_pipeline_execution(PipelineName=foreign),
    ):
        with pytest.raises(ClientError) as error:
            call()
        assert _code(error) == "ResourceNotFound"
    assert sm.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"] == []


# ---- selective execution without a source: the service's wording ----------------------------------------


def test_selective_execution_without_source_names_the_missing_dependencies(
    sm: Any, make_pipeline: Any, make_definition: Any
) -> None:
    base = json.loads(make_definition())["Steps"][0]
    chain = [
        {**base, "Name": "A"},
        {**base, "Name": "B", "DependsOn": ["A"]},
        {**base, "Name": "C", "DependsOn": ["B"]},
    ]
    name, _ = make_pipeline(definition=make_definition(*chain))
    with pytest.raises(ClientError) as error:
        sm.start_pipeline_execution(
            PipelineName=name, SelectiveExecutionConfig={"SelectedSteps": [{"StepName": "C"}]}
        )
    # As the service words it (aws/sagemaker-python-sdk#4444): only the direct, unselected dependencies.
    assert _code(error) == "ValidationException"
    assert error.value.response["Error"]["Message"] == (
        "Invalid SourcePipelineExecutionArn: null. The selected steps [C] have dependencies on [B]"
    )
    assert sm.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"] == []


# ---- job step Arguments are parsed into the Create*Job request they become ------------------------------


def _processing(**arguments: Any) -> dict[str, Any]:
    from wire_harness import simple_definition

    step: dict[str, Any] = json.loads(simple_definition())["Steps"][0]
    step["Arguments"].update(arguments)
    return step


def test_unknown_argument_member_is_refused_and_nothing_changes(
    sm: Any, make_pipeline: Any, make_definition: Any
) -> None:
    name, _ = make_pipeline()
    before = sm.describe_pipeline(PipelineName=name)["PipelineDefinition"]
    # The SDK once sent ModelPackageName in a step and the service answered exactly this (sdk PR #3472).
    bad = make_definition(_processing(ModelPackageName="pkg"))
    for call in (
        lambda: sm.update_pipeline(PipelineName=name, PipelineDefinition=bad),
        lambda: make_pipeline(definition=bad),
    ):
        with pytest.raises(ClientError) as error:
            call()
        assert _code(error) == "ValidationException"
        message = error.value.response["Error"]["Message"]
        assert message.startswith(
            "Unable to parse pipeline definition. Unknown Argument member 'ModelPackageName'"
        )
    assert sm.describe_pipeline(PipelineName=name)["PipelineDefinition"] == before
    assert [
        v["PipelineVersionId"]
        for v in sm.list_pipeline_versions(PipelineName=name)["PipelineVersionSummaries"]
    ] == [1]


def test_a_parameter_where_a_list_belongs_is_refused(
    sm: Any, make_pipeline: Any, make_definition: Any
) -> None:
    # sagemaker-python-sdk#2345: a parameter passed as NetworkConfig's subnets, outside a list.
    network = {"VpcConfig": {"SecurityGroupIds": ["sg-1"], "Subnets": {"Get": "Parameters.Subnet"}}}
    parameters = [{"Name": "Subnet", "Type": "String", "DefaultValue": "subnet-1"}]
    bad = make_definition(_processing(NetworkConfig=network), parameters=parameters)
    with pytest.raises(ClientError) as error:
        make_pipeline(definition=bad)
    assert "Expecting start of Json Array" in error.value.response["Error"]["Message"]
    # Inside the list, where a string belongs, the parameter is fine.
    network["VpcConfig"]["Subnets"] = [{"Get": "Parameters.Subnet"}]
    name, _ = make_pipeline(
        definition=make_definition(_processing(NetworkConfig=network), parameters=parameters)
    )
    assert sm.describe_pipeline(PipelineName=name)["PipelineStatus"] == "Active"


def test_expressions_stand_for_scalars_in_every_job_step_type(
    sm: Any, make_pipeline: Any, make_definition: Any
) -> None:
    proc = _processing(
        Environment={"RUN": {"Get": "Execution.PipelineExecutionId"}},
        AppSpecification={
            "ImageUri": {
                "Std:Join": {"On": "/", "Values": ["123456789012.dkr.ecr.us-east-1.amazonaws.com", "x"]}
            },
            "ContainerArguments": ["--mode", {"Get": "Parameters.Mode"}],
        },
    )
    train = {
        "Name": "Train",
        "Type": "Training",
        "Arguments": {
            "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
            "HyperParameters": {"epochs": {"Get": "Parameters.Epochs"}},
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.xlarge",
                "InstanceCount": {"Get": "Parameters.Epochs"},
                "VolumeSizeInGB": 30,
            },
            "RoleArn": "arn:aws:iam::123456789012:role/R",
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
    }
    parameters = [
        {"Name": "Mode", "Type": "String", "DefaultValue": "fast"},
        {"Name": "Epochs", "Type": "Integer", "DefaultValue": 1},
    ]
    name, _ = make_pipeline(definition=make_definition(proc, train, parameters=parameters))
    assert sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
