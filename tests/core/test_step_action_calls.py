"""The core's step actions over HTTP: a repeated call with the same idempotency token acts once (a retried
keypress, a botocore retry), what the definition declares reaches the checks, and the service's own refusal
comes back as an AwsError."""

from __future__ import annotations

import re
import uuid

import pytest
from emulator_proc import EmulatorProcess

from smtui.core.actions import Actions, new_token
from smtui.core.client import SageMakerClient
from smtui.core.definition import OutputDecl
from smtui.core.errors import AwsError
from smtui.core.model import StepStatus

PROCESSING = {
    "ProcessingResources": {
        "ClusterConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30}
    },
    "AppSpecification": {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/proc:latest"},
    "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
}


def callback_definition() -> dict[str, object]:
    review = {
        "Name": "Review",
        "Type": "Callback",
        "Arguments": {},
        "SqsQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
        "OutputParameters": [{"OutputName": "n", "OutputType": "Integer"}, {"OutputName": "who"}],
    }
    return {"Version": "2020-12-01", "Steps": [review]}


async def test_a_callback_answer_sent_twice_with_one_token_is_taken_once(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = f"cb-{uuid.uuid4().hex[:8]}"
    emu.create_pipeline(pipeline, callback_definition())
    arn = emu.start_execution(pipeline)
    emu.advance(30)
    actions = Actions(client)
    waiting = await actions.find_callback(arn, "Review")
    # The declared outputs, String when the definition leaves OutputType out (the SDK's default).
    assert waiting.outputs == (OutputDecl("n", "Integer"), OutputDecl("who", "String"))
    with pytest.raises(ValueError, match=re.escape("output 'n' is an Integer; got '1.5'")):
        await actions.answer_callback(waiting, outputs={"n": "1.5"})
    assert emu.stats().get("SendPipelineExecutionStepSuccess", 0) == 0
    token = new_token()
    await actions.answer_callback(waiting, outputs={"n": "3"}, token=token)
    await actions.answer_callback(waiting, outputs={"n": "3"}, token=token)  # a retry: the same answer
    (run,) = await client.list_steps(arn)
    assert run.status is StepStatus.SUCCEEDED and run.outputs == (("n", "3"),)
    with pytest.raises(AwsError) as refused:  # a new answer to a step already answered
        await actions.answer_callback(waiting, failure="late")
    assert refused.value.code == "ValidationException"


async def test_a_selective_start_sent_twice_with_one_token_starts_once(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = f"sel-{uuid.uuid4().hex[:8]}"
    steps = [
        {"Name": "A", "Type": "Processing", "Arguments": PROCESSING},
        {"Name": "B", "Type": "Processing", "Arguments": PROCESSING, "DependsOn": ["A"]},
    ]
    emu.create_pipeline(pipeline, {"Version": "2020-12-01", "Steps": steps})
    source = emu.start_execution(pipeline)
    assert emu.run_until_done(source) == "Succeeded"
    actions = Actions(client)
    plan = await actions.plan_selection(pipeline, source, ["B", "B"])
    assert (plan.steps, plan.reused) == (("B",), ("A",))
    token = new_token()
    first = await actions.start_selection(plan, token=token)
    assert await actions.start_selection(plan, token=token) == first
    assert len(await client.list_executions(pipeline)) == 2
    assert emu.run_until_done(first) == "Succeeded"
    reused = {run.name: run.selective_source_arn for run in await client.list_steps(first)}
    assert reused == {"A": source, "B": None}
