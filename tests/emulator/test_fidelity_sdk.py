"""Definitions the SageMaker SDK v3 generates for step types the other SDK test does not build — Lambda,
Callback, EMR, Transform, Tuning, a Processing step with a PropertyFile read by `JsonGet` in a Condition, a
Fail step whose message is a `Std:Join`, and a ForEach — are accepted by CreatePipeline and run to the end.

They guard the emulator's definition checks (job step Arguments are parsed into their Create*Job requests)
against refusing what the SDK really sends. Skipped where the `sdk` extra is not installed.
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
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:latest"


@pytest.fixture
def sdk_env(monkeypatch: pytest.MonkeyPatch, emulator: EmulatorProcess) -> None:
    # Some SDK helpers build their own clients: the endpoint variable points every one at the emulator.
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER", emulator.url)
    monkeypatch.setenv("SAGEMAKER_VALIDATE_ROLE", "false")


def _steps(session: Any) -> list[Any]:
    from sagemaker.core.lambda_helper import Lambda
    from sagemaker.core.parameter import ContinuousParameter
    from sagemaker.core.processing import Processor
    from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output
    from sagemaker.core.training.configs import Compute, InputData, OutputDataConfig
    from sagemaker.core.transformer import Transformer
    from sagemaker.core.workflow.conditions import ConditionGreaterThan
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow.callback_step import CallbackOutput, CallbackOutputTypeEnum, CallbackStep
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.emr_step import EMRStep, EMRStepConfig
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.for_each_step import CurrentItem, ForEachStep
    from sagemaker.mlops.workflow.lambda_step import LambdaOutput, LambdaOutputTypeEnum, LambdaStep
    from sagemaker.mlops.workflow.steps import ProcessingStep, TransformStep, TuningStep
    from sagemaker.train import ModelTrainer
    from sagemaker.train.tuner import HyperparameterTuner

    function = Lambda(function_arn="arn:aws:lambda:us-east-1:123456789012:function:f")
    lam = LambdaStep(
        name="Lam",
        lambda_func=function,
        inputs={"a": 1},
        outputs=[LambdaOutput(output_name="n", output_type=LambdaOutputTypeEnum.Integer)],
    )
    callback = CallbackStep(
        name="Approve",
        sqs_queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/q",
        inputs={"x": "y"},
        outputs=[CallbackOutput(output_name="ok", output_type=CallbackOutputTypeEnum.Boolean)],
    )
    emr = EMRStep(
        name="Emr",
        display_name="emr",
        description="a jar on a cluster",
        cluster_id="j-ABC",
        step_config=EMRStepConfig(jar="s3://bucket/job.jar", args=["a"]),
    )
    processor = Processor(
        role=ROLE, image_uri=IMAGE, instance_count=1, instance_type="ml.m5.xlarge", sagemaker_session=session
    )
    report = PropertyFile(name="Report", output_name="evaluation", path="evaluation.json")
    output = ProcessingS3Output(
        s3_uri="s3://bucket/eval", local_path="/opt/ml/processing/evaluation", s3_upload_mode="EndOfJob"
    )
    evaluate = ProcessingStep(
        name="Eval",
        step_args=processor.run(outputs=[ProcessingOutput(output_name="evaluation", s3_output=output)]),
        property_files=[report],
    )
    mse = JsonGet(step_name="Eval", property_file=report, json_path="metrics.mse.value")
    fail = FailStep(name="TooHigh", error_message=Join(on=" ", values=["mse", mse, "is too high"]))
    body = ProcessingStep(name="Score", step_args=processor.run(arguments=["--item", CurrentItem()]))
    fan_out = ForEachStep(name="Each", iterable_items=["p", "q"], max_concurrency=2, for_each_body=[body])
    check = ConditionStep(
        name="Check",
        conditions=[ConditionGreaterThan(left=mse, right=100.0)],
        if_steps=[fail],
        else_steps=[fan_out],
    )
    transformer = Transformer(
        model_name="model",
        instance_count=1,
        instance_type="ml.m5.xlarge",
        output_path="s3://bucket/out",
        sagemaker_session=session,
        base_transform_job_name="tx",  # otherwise the SDK asks DescribeModel for the image
    )
    transform = TransformStep(
        name="Tx", step_args=transformer.transform(data="s3://bucket/in", content_type="text/csv")
    )
    trainer = ModelTrainer(
        training_image=IMAGE,
        role=ROLE,
        compute=Compute(instance_type="ml.m5.xlarge", instance_count=1),
        sagemaker_session=session,
        base_job_name="t",
        output_data_config=OutputDataConfig(s3_output_path="s3://bucket/models"),
    )
    tuner = HyperparameterTuner(
        model_trainer=trainer,
        objective_metric_name="val:auc",
        hyperparameter_ranges={"eta": ContinuousParameter(0.1, 0.5)},
        metric_definitions=[{"Name": "val:auc", "Regex": "auc=(.*)"}],
        max_jobs=2,
        max_parallel_jobs=1,
    )
    tune = TuningStep(
        name="Tune",
        step_args=tuner.tune(inputs=[InputData(channel_name="train", data_source="s3://bucket/train")]),
    )
    return [lam, callback, emr, evaluate, check, transform, tune]


def test_sdk_definitions_of_every_other_step_type_are_accepted_and_run(
    sdk_env: None, emulator: EmulatorProcess, shape_checker: ShapeChecker
) -> None:
    import boto3
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.mlops.workflow.pipeline import Pipeline

    boto_session = boto3.Session(region_name=REGION, **CREDENTIALS)
    client = shape_checker.attach(boto_session.client("sagemaker", endpoint_url=emulator.url))
    session = PipelineSession(boto_session=boto_session, sagemaker_client=client, default_bucket="bucket")
    pipeline = Pipeline(name=new_name("sdk-types"), steps=_steps(session), sagemaker_session=session)
    types = {step["Type"] for step in json.loads(pipeline.definition())["Steps"]}
    assert types == {"Lambda", "Callback", "EMR", "Processing", "Condition", "Transform", "Tuning"}

    pipeline.upsert(role_arn=ROLE)
    execution = pipeline.start()
    answered = False
    for _ in range(60):
        emulator.advance(600)
        steps = {s["StepName"]: s for s in execution.list_steps()}
        approve = steps.get("Approve")
        if approve and approve["StepStatus"] == "Executing" and not answered:
            token = approve["Metadata"]["Callback"]["CallbackToken"]
            client.send_pipeline_execution_step_success(
                CallbackToken=token, OutputParameters=[{"Name": "ok", "Value": "true"}]
            )
            answered = True
        if execution.describe()["PipelineExecutionStatus"] != "Executing":
            break
    described = execution.describe()
    steps = {s["StepName"]: s for s in execution.list_steps()}
    outcome = steps["Check"]["Metadata"]["Condition"]["Outcome"]
    if outcome == "True":
        # The Fail step's Std:Join message, with the JsonGet value in it, is the execution's FailureReason.
        assert described["PipelineExecutionStatus"] == "Failed"
        assert described["FailureReason"].startswith("mse ") and described["FailureReason"].endswith(
            " is too high"
        )
    else:
        assert described["PipelineExecutionStatus"] == "Succeeded"
        assert {"Each", "Score-0", "Score-1"} <= set(steps)
    assert "TransformJob" in steps["Tx"]["Metadata"] and "TuningJob" in steps["Tune"]["Metadata"]
    assert steps["Emr"]["Metadata"]["EMR"]["ClusterId"] == "j-ABC"
    assert steps["Lam"]["Metadata"]["Lambda"]["OutputParameters"][0]["Name"] == "n"
