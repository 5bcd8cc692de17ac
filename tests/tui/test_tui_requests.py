"""What the screens show on demand (a step's job, the start form's parameters) is asked of the monitor, which
makes the call inside its budget: a throttled call or a spent budget makes the screen wait, not fail."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Emulator, text_of, tui, until

from smtui.tui.screens.execution import ExecutionScreen
from smtui.tui.screens.start import StartScreen

DESCRIBE_JOB = "SageMaker.DescribeProcessingJob"


def _details(app: Any) -> str:
    return text_of(app.screen.query_one("#step-details"))


def _header(app: Any) -> str:
    return text_of(app.screen.query_one("#status"))


async def _open(app: Any, pilot: Any, arn: str) -> None:
    """Enter on the execution's row: its screen opens with the first step (Preprocess) selected."""
    await until(lambda: app.screen.table.cursor_arn == arn, pilot=pilot, what="the row")
    await pilot.press("enter")
    await until(lambda: isinstance(app.screen, ExecutionScreen), pilot=pilot, what="the execution screen")


async def test_a_finished_job_is_described_once_however_often_its_step_is_shown(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    arn = await emu.start("alpha")
    emu.advance(3600)  # the run and its Preprocess job are over
    async with tui(emu) as (app, pilot):
        for _ in range(3):  # open it, go back, open it again...
            await _open(app, pilot, arn)
            await until(lambda: "Completed" in _details(app), pilot=pilot, what="the job's details")
            assert "processing-job/" in _details(app)
            await pilot.press("down", "up")  # away from the step and back to it
            await until(lambda: "Completed" in _details(app), pilot=pilot, what="the job's details again")
            await pilot.press("escape")
        assert emu.calls()[DESCRIBE_JOB] == 1


@pytest.mark.usefixtures("one_attempt")
async def test_a_throttled_job_description_waits_then_arrives(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    arn = await emu.start("alpha")
    emu.advance(10)  # Preprocess is running
    emu.running.protocol.faults.configure({"throttle": {"DescribeProcessingJob": 1.0}})
    async with tui(emu) as (app, pilot):
        await _open(app, pilot, arn)
        await until(lambda: "waiting: throttled" in _details(app), pilot=pilot, wait=20, what="waiting")
        await until(lambda: "THROTTLED" in _header(app), pilot=pilot, what="throttled in the header")
        assert "InProgress" not in _details(app)
        emu.running.protocol.faults.configure({})
        await until(lambda: "InProgress" in _details(app), pilot=pilot, wait=20, what="the job's details")
        assert "waiting" not in _details(app)
        assert emu.calls()[DESCRIBE_JOB] > 1  # the throttled attempts, then the one answered


async def test_with_the_call_budget_spent_the_job_details_wait_for_it(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    arn = await emu.start("alpha")
    emu.advance(10)
    async with tui(emu) as (app, pilot):
        monitor = app.session.monitor

        def job_known() -> bool:
            return any(run.job_arn for run in monitor.runs(arn))

        # The row in view has its steps read (they name the job), but nobody asked for the job yet.
        await until(job_known, pilot=pilot, what="the steps of the row")
        monitor.budget.charge(10**6)  # hours' worth of calls spent
        await _open(app, pilot, arn)
        await until(lambda: "waiting for the call budget" in _details(app), pilot=pilot, what="waiting")
        assert DESCRIBE_JOB not in emu.calls()


@pytest.mark.usefixtures("one_attempt")
async def test_the_start_form_reads_the_parameters_through_the_monitor(emu: Emulator) -> None:
    await emu.create_pipeline("churn")
    emu.running.protocol.faults.configure({"throttle": {"DescribePipeline": 1.0}})
    async with tui(emu) as (app, pilot):
        await until(lambda: "churn" in app.session.monitor.pipelines, pilot=pilot, what="pipeline discovered")
        await pilot.press("n")
        await until(lambda: isinstance(app.screen, StartScreen), pilot=pilot, what="start dialog")
        form = app.screen
        await pilot.press("enter")

        def said() -> str:
            return text_of(form.query_one("#start-error"))

        await until(lambda: "waiting: throttled" in said(), pilot=pilot, wait=20, what="waiting")
        header = app.screen_stack[-2].query_one("#status")  # under the dialog
        await until(lambda: "THROTTLED" in text_of(header), pilot=pilot, what="throttled in the header")
        assert not form.query("#param-InstanceCount")
        emu.running.protocol.faults.configure({})
        await until(lambda: form.query("#param-InstanceCount"), pilot=pilot, wait=20, what="the form")
        assert emu.calls()["SageMaker.DescribePipeline"] > 1  # throttled, then answered


async def test_a_failed_read_is_told_in_the_form(emu: Emulator) -> None:
    await emu.create_pipeline("churn")
    # Listed once: the pipeline deleted since stays in the list (a colleague deleted it a moment ago).
    async with tui(emu, monitor={"discovery_interval": 3600}) as (app, pilot):
        await until(lambda: "churn" in app.session.monitor.pipelines, pilot=pilot, what="pipeline discovered")
        await emu.client.call("delete_pipeline", PipelineName="churn", ClientRequestToken="d" * 32)
        await pilot.press("n")
        await until(lambda: isinstance(app.screen, StartScreen), pilot=pilot, what="start dialog")
        form = app.screen
        await pilot.press("enter")
        await until(
            lambda: "ResourceNotFound" in text_of(form.query_one("#start-error")),
            pilot=pilot,
            what="AWS's answer in the form",
        )
        assert not form.query("#param-InstanceCount")
