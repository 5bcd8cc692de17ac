"""The job behind a step, in the step details: Info (image, instance, billable time, status transitions with
their durations), Input (a channel's S3 URI), Output, and each metric's history from the log as a sparkline;
a finished job is described once and its log read once, however often its step is shown."""

from __future__ import annotations

import re
from typing import Any

from conftest import DEFINITIONS, Emulator, text_of, tui, until

from smtui.tui import format as fmt
from smtui.tui.screens.execution import ExecutionScreen
from smtui.tui.widgets.job_panel import BLOCKS

LOGS_FILTER = "Logs_20140328.FilterLogEvents"
SPARK = re.compile(f"[{BLOCKS}]{{2,}}")


def _details(app: Any) -> str:
    return text_of(app.screen.query_one("#step-details"))


async def _open(app: Any, pilot: Any, arn: str) -> None:
    await until(lambda: app.screen.table.cursor_arn == arn, pilot=pilot, what="the row")
    await pilot.press("enter")
    await until(lambda: isinstance(app.screen, ExecutionScreen), pilot=pilot, what="the execution screen")


async def test_the_training_jobs_details_and_its_metrics_history(emu: Emulator) -> None:
    await emu.create_pipeline("jobs", (DEFINITIONS / "job-details.json").read_text())
    arn = await emu.start("jobs")
    emu.advance(3600)  # every step and job has ended
    steps = await emu.client.call("list_pipeline_execution_steps", PipelineExecutionArn=arn)
    train_arn = next(
        s["Metadata"]["TrainingJob"]["Arn"]
        for s in steps["PipelineExecutionSteps"]
        if s["StepName"] == "Train"
    )
    job = await emu.client.call("describe_training_job", TrainingJobName=train_arn.rsplit("/", 1)[-1])
    training = next(t for t in job["SecondaryStatusTransitions"] if t["Status"] == "Training")
    took = fmt.duration(training["EndTime"] - training["StartTime"])
    emu.running.protocol.calls.clear()  # from here on, only what the TUI asks counts
    async with tui(emu) as (app, pilot):
        for _ in range(2):  # opened, left, opened again
            await _open(app, pilot, arn)
            await pilot.press("down")  # Prep → Train
            await until(lambda: SPARK.search(_details(app)) is not None, pilot=pilot, what="a sparkline")
            shown = _details(app)
            assert "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:2" in shown
            assert "1 × ml.g5.xlarge" in shown
            assert f"({job['BillableTimeInSeconds']} s)" in shown
            assert re.search(rf"Training\s+{took}", shown), shown
            assert re.search(r"train\s+s3://bucket/prepared/train", shown)
            assert "epochs=8" in shown and "SEED=7" in shown
            assert job["ModelArtifacts"]["S3ModelArtifacts"] in shown
            final = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
            for name, value in final.items():
                line = next(row for row in shown.splitlines() if row.lstrip().startswith(name))
                assert f"{value:.4g}" in line and SPARK.search(line), line
            await pilot.press("escape")
        calls = emu.calls()
        assert calls["SageMaker.DescribeTrainingJob"] == 1
        assert calls[LOGS_FILTER] == 1
        assert not any(k.endswith(("GetLogEvents", "DescribeLogStreams")) for k in calls)


async def test_a_processing_and_a_transform_job_show_their_inputs_and_outputs(emu: Emulator) -> None:
    await emu.create_pipeline("jobs", (DEFINITIONS / "job-details.json").read_text())
    arn = await emu.start("jobs")
    emu.advance(3600)
    async with tui(emu) as (app, pilot):
        await _open(app, pilot, arn)
        await until(lambda: "Completed" in _details(app), pilot=pilot, what="Prep's job")
        shown = _details(app)
        assert "prep:1" in shown and "2 × ml.m5.large" in shown and "MODE=full" in shown
        assert re.search(r"raw\s+s3://bucket/raw", shown)
        assert re.search(r"train\s+s3://bucket/prepared/train", shown)
        await pilot.press("down", "down")  # Train → Score
        await until(lambda: "s3://bucket/scored" in _details(app), pilot=pilot, what="Score's job")
        assert re.search(r"input\s+s3://bucket/score", _details(app))
