"""`smtui show --timeline`: the Gantt chart of an execution against the emulator: a bar per step, the
ForEach iterations under their step, the wait before a step kept apart, the attempts of a retried
execution as segments of their own, and the critical path."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from click.testing import Result
from emulator_proc import DEFINITIONS, EmulatorProcess

from smtui.core.format import format_duration


def _bar(lines: list[str], name: str) -> str:
    return next(line for line in lines if line[1:].lstrip().startswith(name + " "))


def test_timeline_draws_steps_iterations_and_the_critical_path(
    smtui: Callable[..., Result], emu: EmulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = f"cmp-{uuid.uuid4().hex[:6]}"
    emu.create_pipeline(pipeline, (DEFINITIONS / "compare.json").read_text())
    arn = emu.start_execution(pipeline)
    assert emu.run_until_done(arn) == "Succeeded"
    monkeypatch.setenv("COLUMNS", "100")
    result = smtui("show", arn, "--timeline")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert all(len(line) <= 100 for line in lines)
    order = [lines.index(_bar(lines, n)) for n in ("Preprocess", "Train", "Shards", "Score-0", "Score-1")]
    assert order == sorted(order)
    # Preprocess, then Train, then the ForEach: each one's bar starts where the one before ended.
    pre, train, shards = _bar(lines, "Preprocess"), _bar(lines, "Train"), _bar(lines, "Shards")
    assert pre.index("█") < train.index("█") < shards.index("█")
    assert all(bar.startswith("*") for bar in (pre, train, shards))  # the chain that decided the total
    assert "  Score-" in _bar(lines, "Score-0")  # an iteration, indented under its step
    assert sum(_bar(lines, f"Score-{i}").startswith("*") for i in (0, 1)) == 1  # the one that ended last
    assert "█ succeeded" in "\n".join(lines[-2:]) and "· waiting" in "\n".join(lines[-2:])


def test_at_40_columns_the_axis_labels_do_not_run_into_each_other(
    smtui: Callable[..., Result], emu: EmulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = f"cmp-{uuid.uuid4().hex[:6]}"
    emu.create_pipeline(pipeline, (DEFINITIONS / "compare.json").read_text())
    arn = emu.start_execution(pipeline)
    assert emu.run_until_done(arn) == "Succeeded"
    total = emu.boto().describe_pipeline_execution(PipelineExecutionArn=arn)
    elapsed = format_duration(total["LastModifiedTime"] - total["CreationTime"])
    monkeypatch.setenv("COLUMNS", "40")
    result = smtui("show", arn, "--timeline")
    assert result.exit_code == 0, result.output
    ruler = next(line for line in result.output.splitlines() if line.strip().startswith("0s "))
    labels = ruler.split()
    assert labels[0] == "0s" and labels[-1] == elapsed  # each a word of its own: no "715m58s"
    assert len(labels) in (2, 3)


def test_timeline_shows_a_failed_attempt_and_its_retry_apart(
    smtui: Callable[..., Result], emu: EmulatorProcess
) -> None:
    pipeline = f"flaky-{uuid.uuid4().hex[:6]}"
    emu.create_pipeline(pipeline, (DEFINITIONS / "train-retry-cache.json").read_text())
    arn = emu.start_execution(pipeline)
    assert emu.run_until_done(arn) == "Failed"
    emu.advance(120)
    emu.boto().retry_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=uuid.uuid4().hex)
    assert emu.run_until_done(arn) == "Succeeded"
    lines = smtui("show", arn, "--timeline").output.splitlines()
    train = _bar(lines, "Train")
    # The failed attempt's times are not listed any more (the entry is reused): drawn apart, before the last.
    assert "░" in train and "█" in train and train.rindex("░") < train.index("█")
    assert "·" not in train and train.rstrip().endswith("×2")
    assert "░ earlier attempts" in "\n".join(lines[-2:])


REVIEW_PIPELINE = {
    "Version": "2020-12-01",
    "Parameters": [],
    "Steps": [
        {
            "Name": "Prep",
            "Type": "Processing",
            "Arguments": {
                "ProcessingResources": {
                    "ClusterConfig": {
                        "InstanceType": "ml.m5.xlarge",
                        "InstanceCount": 1,
                        "VolumeSizeInGB": 30,
                    }
                },
                "AppSpecification": {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/proc:latest"},
                "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
            },
        },
        {  # runs until it is answered: the test decides how long each run of it takes
            "Name": "Review",
            "Type": "Callback",
            "DependsOn": ["Prep"],
            "Arguments": {},
            "SqsQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/reviews",
        },
    ],
}


def _review(emu: EmulatorProcess, arn: str) -> dict[str, Any]:
    """Advance until Review waits for its answer; its entry."""
    while True:
        steps = emu.boto().list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
        review = next((s for s in steps if s["StepName"] == "Review"), {})
        if review.get("StepStatus") == "Executing":
            return review
        emu.advance(10)


def test_timeline_tells_the_time_left_of_a_running_step(
    smtui: Callable[..., Result], emu: EmulatorProcess
) -> None:
    pipeline = f"review-{uuid.uuid4().hex[:6]}"
    emu.create_pipeline(pipeline, json.dumps(REVIEW_PIPELINE))
    first = emu.start_execution(pipeline)
    started = _review(emu, first)["StartTime"]
    assert "no history" in _bar(smtui("show", first, "--timeline").output.splitlines(), "Review")
    emu.advance(600)
    token = _review(emu, first)["Metadata"]["Callback"]["CallbackToken"]
    emu.boto().send_pipeline_execution_step_success(CallbackToken=token)
    assert emu.run_until_done(first) == "Succeeded"
    steps = emu.boto().list_pipeline_execution_steps(PipelineExecutionArn=first)["PipelineExecutionSteps"]
    took = next(s for s in steps if s["StepName"] == "Review")["EndTime"] - started

    second = emu.start_execution(pipeline)
    review = _review(emu, second)
    emu.advance(60)
    running = emu.now() - review["StartTime"]
    expected = {format_duration(took - running + timedelta(seconds=d)) for d in (-1, 0, 1)}
    lists = emu.stats().get("ListPipelineExecutionSteps", 0)
    bar = _bar(smtui("show", second, "--timeline").output.splitlines(), "Review")
    assert any(f"~{text} left" in bar for text in expected), bar
    with_timeline = emu.stats()["ListPipelineExecutionSteps"] - lists
    smtui("show", second)
    without = emu.stats()["ListPipelineExecutionSteps"] - lists - with_timeline
    assert with_timeline == without + 1  # the steps of the one earlier successful run, only for the chart
    emu.advance(took.total_seconds())
    bar = _bar(smtui("show", second, "--timeline").output.splitlines(), "Review")
    assert "longer than any earlier run" in bar
