"""The SageMaker Python SDK v3 builds a pipeline (Processing, Training, Condition, ForEach, Fail steps),
upserts it, starts it, waits for it and lists its steps — against the emulator, with no AWS account.

Runs where the `sdk` extra is installed; skipped cleanly otherwise.
"""

from __future__ import annotations

import importlib.util
import json
from typing import Any

import pytest
from shape_check import ShapeChecker
from wire_harness import CREDENTIALS, REGION, EmulatorProcess, new_name

if importlib.util.find_spec("sagemaker") is None or importlib.util.find_spec("sagemaker.mlops") is None:
    pytest.skip("the SageMaker SDK (smtui[sdk]) is not installed", allow_module_level=True)

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


@pytest.fixture
def sdk_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # sagemaker.mlops creates a boto3 client at import time (needs a region), and ModelTrainer checks
    # the role against IAM unless told not to: neither can reach AWS here.
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setenv("SAGEMAKER_VALIDATE_ROLE", "false")


def _build(name: str, session: Any) -> Any:
    from sagemaker.core.processing import Processor
    from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
    from sagemaker.core.training.configs import Compute, InputData, OutputDataConfig
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.parameters import ParameterFloat, ParameterString
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.for_each_step import CurrentItem, ForEachStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import ProcessingStep, TrainingStep
    from sagemaker.train import ModelTrainer

    instance_type = ParameterString(name="ProcessingInstanceType", default_value="ml.m5.xlarge")
    threshold = ParameterFloat(name="AccuracyThreshold", default_value=0.5)

    def processor() -> Any:
        return Processor(
            role=ROLE,
            image_uri=f"{IMAGE}/proc:latest",
            instance_count=1,
            instance_type=instance_type,
            sagemaker_session=session,
        )

    prep = ProcessingStep(
        name="Prep",
        step_args=processor().run(
            inputs=[
                ProcessingInput(
                    input_name="raw",
                    s3_input=ProcessingS3Input(
                        s3_uri="s3://bucket/raw",
                        local_path="/opt/ml/processing/input",
                        s3_data_type="S3Prefix",
                    ),
                )
            ],
            outputs=[
                ProcessingOutput(
                    output_name="train",
                    s3_output=ProcessingS3Output(
                        s3_uri="s3://bucket/train",
                        local_path="/opt/ml/processing/train",
                        s3_upload_mode="EndOfJob",
                    ),
                )
            ],
        ),
    )
    trainer = ModelTrainer(
        training_image=f"{IMAGE}/train:latest",
        role=ROLE,
        compute=Compute(instance_type="ml.m5.2xlarge", instance_count=1),
        sagemaker_session=session,
        base_job_name="train",
        output_data_config=OutputDataConfig(s3_output_path="s3://bucket/models"),
    )
    train = TrainingStep(
        name="Train",
        step_args=trainer.train(
            input_data_config=[
                InputData(
                    channel_name="train",
                    data_source=prep.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri,
                )
            ]
        ),
    )
    score = ProcessingStep(
        name="ScoreShard",
        step_args=processor().run(arguments=["--shard", CurrentItem()]),
    )
    fan_out = ForEachStep(
        name="ScoreAll", iterable_items=["a", "b", "c"], max_concurrency=2, for_each_body=[score]
    )
    too_low = FailStep(name="TooInaccurate", error_message="accuracy below threshold")
    check = ConditionStep(
        name="CheckAccuracy",
        conditions=[
            ConditionGreaterThanOrEqualTo(
                left=train.properties.FinalMetricDataList["validation:accuracy"].Value, right=threshold
            )
        ],
        if_steps=[fan_out],
        else_steps=[too_low],
    )
    return Pipeline(
        name=name,
        parameters=[instance_type, threshold],
        steps=[prep, train, check],
        sagemaker_session=session,
    )


def test_sdk_pipeline_upserts_runs_and_lists_its_steps(
    sdk_env: None, emulator: EmulatorProcess, shape_checker: ShapeChecker
) -> None:
    import boto3
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    boto_session = boto3.Session(region_name=REGION, **CREDENTIALS)
    client = shape_checker.attach(boto_session.client("sagemaker", endpoint_url=emulator.url))
    session = PipelineSession(boto_session=boto_session, sagemaker_client=client, default_bucket="bucket")
    pipeline = _build(new_name("sdk"), session)
    definition = json.loads(pipeline.definition())
    assert {s["Type"] for s in definition["Steps"]} == {"Processing", "Training", "Condition"}

    pipeline.upsert(role_arn=ROLE)
    pipeline.upsert(role_arn=ROLE, description="second upsert updates the pipeline")
    assert pipeline.describe()["PipelineDescription"] == "second upsert updates the pipeline"

    execution = pipeline.start(parameters={"AccuracyThreshold": 0.6})
    for _ in range(100):
        status = execution.describe()["PipelineExecutionStatus"]
        if status not in ("Executing", "Stopping"):
            break
        emulator.advance(600)
    assert status == "Succeeded"
    # The SDK's own wait() (a botocore waiter on DescribePipelineExecution) sees it finished.
    execution.wait(delay=1, max_attempts=2)

    steps = {s["StepName"]: s for s in execution.list_steps()}
    assert set(steps) == {
        "Prep",
        "Train",
        "CheckAccuracy",
        "ScoreAll",
        "ScoreShard-0",
        "ScoreShard-1",
        "ScoreShard-2",
    }
    assert steps["CheckAccuracy"]["Metadata"]["Condition"]["Outcome"] == "True"
    assert steps["ScoreShard-2"]["IterationContext"]["Item"] == "c"
    assert steps["ScoreAll"]["Metadata"]["ForEach"]["SucceededStepCount"] == 3
    assert "TrainingJob" in steps["Train"]["Metadata"]
    params = {p["Name"]: p["Value"] for p in execution.list_parameters()["PipelineParameters"]}
    assert params == {"ProcessingInstanceType": "ml.m5.xlarge", "AccuracyThreshold": "0.6"}


def test_sdk_cached_step_hits_on_the_second_run_though_its_output_path_holds_the_execution_id(
    sdk_env: None, emulator: EmulatorProcess, shape_checker: ShapeChecker
) -> None:
    import boto3
    from sagemaker.core.processing import Processor
    from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join
    from sagemaker.core.workflow.parameters import ParameterString
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import CacheConfig, ProcessingStep

    boto_session = boto3.Session(region_name=REGION, **CREDENTIALS)
    client = shape_checker.attach(boto_session.client("sagemaker", endpoint_url=emulator.url))
    session = PipelineSession(boto_session=boto_session, sagemaker_client=client, default_bucket="bucket")
    instance_type = ParameterString(name="InstanceType", default_value="ml.m5.xlarge")
    processor = Processor(
        role=ROLE,
        image_uri=f"{IMAGE}/proc:latest",
        instance_count=1,
        instance_type=instance_type,
        sagemaker_session=session,
    )
    # What the SDK writes for an output without a destination (it would ask S3 for its default bucket,
    # which the emulator does not serve): a path that holds the execution id.
    path = Join(on="/", values=["s3://bucket/features", ExecutionVariables.PIPELINE_EXECUTION_ID])
    local = ProcessingS3Output(
        s3_uri=path, local_path="/opt/ml/processing/features", s3_upload_mode="EndOfJob"
    )
    prep = ProcessingStep(
        name="Prep",
        step_args=processor.run(outputs=[ProcessingOutput(output_name="features", s3_output=local)]),
        cache_config=CacheConfig(enable_caching=True, expire_after="P1D"),
    )
    pipeline = Pipeline(
        name=new_name("sdk-cache"), parameters=[instance_type], steps=[prep], sagemaker_session=session
    )
    assert "Execution.PipelineExecutionId" in pipeline.definition()
    pipeline.upsert(role_arn=ROLE)

    first = pipeline.start()
    for _ in range(20):
        if first.describe()["PipelineExecutionStatus"] != "Executing":
            break
        emulator.advance(600)
    assert first.describe()["PipelineExecutionStatus"] == "Succeeded"
    second = pipeline.start(parameters={"InstanceType": "ml.m5.4xlarge"})
    (step,) = second.list_steps()
    assert step["CacheHitResult"] == {"SourcePipelineExecutionArn": first.arn}
