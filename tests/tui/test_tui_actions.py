"""Start, stop, retry and read-only, driven with the keys a user presses (screen + emulator)."""

from __future__ import annotations

import pytest
from conftest import Emulator, idle, screen_text, toasts_shown, tui, type_text, until
from textual.widgets import Input, Static

from smtui.core.actions import Actions
from smtui.core.model import ExecutionStatus
from smtui.tui.screens.confirm import ConfirmScreen
from smtui.tui.screens.execution import ExecutionScreen
from smtui.tui.screens.executions import ExecutionsScreen
from smtui.tui.screens.start import StartScreen


def _status_cell(app: object, arn: str) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, ExecutionsScreen)
    return str(screen.table.get_cell(arn, "status"))


async def _replace(pilot: object, text: str) -> None:
    await pilot.press("ctrl+u")  # type: ignore[attr-defined]
    await type_text(pilot, text)


async def test_start_with_edited_parameters(emu: Emulator) -> None:
    await emu.create_pipeline("churn")
    async with tui(emu) as (app, pilot):
        await until(lambda: "churn" in app.session.monitor.pipelines, pilot=pilot, what="pipeline discovered")
        await pilot.press("n")
        await until(lambda: isinstance(app.screen, StartScreen), pilot=pilot, what="start dialog")
        await pilot.press("enter")  # the only pipeline is highlighted
        await until(lambda: app.screen.query("#param-InstanceCount"), pilot=pilot, what="parameter form")
        form = app.screen
        assert form.query_one("#param-ProcessingInstanceType", Input).value == "ml.m5.xlarge"  # the default
        await pilot.pause()
        await _replace(pilot, "ml.c5.2xlarge")
        await pilot.press("tab")
        await _replace(pilot, "3")
        await pilot.press("tab")
        await _replace(pilot, "0.95")
        await pilot.press("ctrl+s")
        await until(lambda: not isinstance(app.screen, StartScreen), pilot=pilot, what="dialog closed")

        runs = await emu.executions("churn")
        assert len(runs) == 1
        arn = runs[0]["PipelineExecutionArn"]
        assert await emu.parameters(arn) == {
            "ProcessingInstanceType": "ml.c5.2xlarge",
            "InstanceCount": "3",
            "AccuracyThreshold": "0.95",
        }
        screen = app.screen
        assert isinstance(screen, ExecutionsScreen)
        # The new run shows up in the table and the cursor lands on it.
        await until(lambda: screen.table.cursor_arn == arn, pilot=pilot, what="cursor on the new run")
        assert "Running" in _status_cell(app, arn)


async def test_invalid_value_is_caught_before_sending(emu: Emulator) -> None:
    await emu.create_pipeline("churn")
    async with tui(emu) as (app, pilot):
        await until(lambda: "churn" in app.session.monitor.pipelines, pilot=pilot)
        await pilot.press("n", "enter")
        await until(lambda: app.screen.query("#param-InstanceCount"), pilot=pilot)
        await pilot.pause()
        await pilot.press("tab")
        await _replace(pilot, "three")
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = str(app.screen.query_one("#start-error", Static).render())
        assert "InstanceCount" in error and "Integer" in error
        assert isinstance(app.screen, StartScreen)  # still there, to fix the value
        assert emu.mutating_calls() == {}


async def test_rejected_start_shows_aws_message(emu: Emulator) -> None:
    await emu.create_pipeline("churn")
    async with tui(emu) as (app, pilot):
        await until(lambda: "churn" in app.session.monitor.pipelines, pilot=pilot)
        await pilot.press("n", "enter")
        await until(lambda: app.screen.query("#display-name"), pilot=pilot)
        # The form focuses its first field once drawn: wait for that, or it takes the focus back from the
        # display name and the name is typed into a parameter (the start is then accepted, the form closes).
        await until(lambda: isinstance(app.focused, Input), pilot=pilot, what="the form's first field")
        app.screen.query_one("#display-name", Input).focus()
        await pilot.pause()
        await type_text(pilot, "not a valid name!")  # the API's pattern forbids spaces and "!"
        await pilot.press("ctrl+s")
        error_widget = app.screen.query_one("#start-error", Static)
        await until(lambda: "Validation" in str(error_widget.render()), pilot=pilot, what="AWS error")
        assert isinstance(app.screen, StartScreen)
        assert emu.mutating_calls().get("SageMaker.StartPipelineExecution") == 1  # sent, refused
        assert await emu.executions("churn") == []  # nothing started


async def test_stop_shows_stopping_then_stopped(emu: Emulator) -> None:
    await emu.create_pipeline("churn")
    arn = await emu.start("churn")
    emu.advance(20)
    async with tui(emu) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, ExecutionsScreen)
        await until(lambda: screen.table.cursor_arn == arn, pilot=pilot, what="row")
        await pilot.press("x")
        await until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot, what="confirmation")
        await pilot.press("y")
        await until(lambda: "Stopping" in _status_cell(app, arn), pilot=pilot, what="Stopping on screen")
        assert await emu.status(arn) == "Stopping"
        emu.advance(30)
        await until(lambda: "Stopped" in _status_cell(app, arn), pilot=pilot, what="Stopped on screen")
        assert await emu.status(arn) == "Stopped"


async def test_cancelled_stop_sends_nothing(emu: Emulator) -> None:
    await emu.create_pipeline("churn")
    arn = await emu.start("churn")
    async with tui(emu) as (app, pilot):
        screen = app.screen
        await until(lambda: screen.table.cursor_arn == arn, pilot=pilot)
        await pilot.press("x")
        await until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot)
        await pilot.press("n")
        await idle(pilot, 0.3)
        assert emu.mutating_calls() == {"SageMaker.StartPipelineExecution": 1}  # only the set-up's start
        assert await emu.status(arn) == "Executing"


async def test_retry_runs_the_same_arn_again(emu: Emulator) -> None:
    await emu.create_pipeline("flaky-etl")
    arn = await emu.start("flaky-etl")
    emu.advance(3600)
    assert await emu.status(arn) == "Failed"
    async with tui(emu) as (app, pilot):
        screen = app.screen
        await until(
            lambda: "Failed" in _status_cell(app, arn) if screen.table.row_count else False, pilot=pilot
        )
        await pilot.press("r")
        await until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot)
        await pilot.press("y")
        await until(lambda: "Running" in _status_cell(app, arn), pilot=pilot, what="same ARN running again")
        assert await emu.status(arn) == "Executing"
        assert len(await emu.executions("flaky-etl")) == 1  # no new execution


async def test_read_only_never_mutates(emu: Emulator) -> None:
    await emu.create_pipeline("churn")
    arn = await emu.start("churn")
    before = emu.mutating_calls()
    async with tui(emu, read_only=True) as (app, pilot):
        screen = app.screen
        await until(lambda: screen.table.cursor_arn == arn, pilot=pilot)
        footer_keys = {b.binding.action for b in screen.active_bindings.values() if b.enabled}
        assert not footer_keys & {"start_execution", "stop_execution", "retry_execution", "rerun_execution"}
        for key in ("n", "x", "r", "e", "y", "enter", "x", "y"):
            await pilot.press(key)
        await idle(pilot, 0.3)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "execution: copy ARN" in titles
        assert not [t for t in titles if t.split(": ")[-1] in ("stop", "start", "retry", "rerun")]
        assert "read-only" in str(app.screen.query_one("#status").render())
    assert emu.mutating_calls() == before
    assert await emu.status(arn) == ExecutionStatus.EXECUTING.value


async def test_rerun_starts_a_new_run_with_the_same_parameters(emu: Emulator) -> None:
    await emu.create_pipeline("churn")
    first = await emu.start("churn", InstanceCount="4", AccuracyThreshold="0.5")
    emu.advance(3600)
    async with tui(emu) as (app, pilot):
        screen = app.screen
        await until(lambda: screen.table.cursor_arn == first, pilot=pilot)
        await pilot.press("e")
        await until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot)
        assert "as a new run with the same parameters?" in " ".join(" ".join(screen_text(app)).split())
        await pilot.press("y")
        await until(lambda: len(screen.table.ordered_arns()) == 2, pilot=pilot, what="the new run's row")
        runs = await emu.executions("churn")
        assert len(runs) == 2
        second = next(r["PipelineExecutionArn"] for r in runs if r["PipelineExecutionArn"] != first)
        assert await emu.parameters(second) == await emu.parameters(first)
        assert (await emu.parameters(second))["InstanceCount"] == "4"
        await until(lambda: screen.table.cursor_arn == second, pilot=pilot, what="cursor on the rerun")


async def test_rerun_from_the_execution_screen_goes_back_to_the_new_run(emu: Emulator) -> None:
    await emu.create_pipeline("churn")
    first = await emu.start("churn")
    emu.advance(3600)
    async with tui(emu) as (app, pilot):
        screen = app.screen
        await until(lambda: screen.table.cursor_arn == first, pilot=pilot)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, ExecutionScreen), pilot=pilot, what="the execution")
        await pilot.press("e")
        await until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot)
        await pilot.press("y")
        await until(lambda: app.screen is screen, pilot=pilot, what="back to the table")
        await until(lambda: len(screen.table.ordered_arns()) == 2, pilot=pilot, what="the new run's row")
        second = next(arn for arn in screen.table.ordered_arns() if arn != first)
        await until(lambda: screen.table.cursor_arn == second, pilot=pilot, what="cursor on the rerun")
        assert second in app.watched  # a toast when it ends


async def test_a_bug_in_a_worker_is_one_toast_and_the_app_goes_on(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a worker does not expect (a bug, not an AWS error) is told, once, in a toast naming it; no
    traceback over the screen, and the app goes on."""
    await emu.create_pipeline("churn")
    arn = await emu.start("churn")
    emu.advance(10)

    async def broken(self: object, execution_arn: str, *, token: str | None = None) -> None:
        raise TypeError("stop() got an unexpected keyword argument 'Name'")

    monkeypatch.setattr(Actions, "stop", broken)
    async with tui(emu, toasts=True) as (app, pilot):
        screen = app.screen
        await until(lambda: screen.table.cursor_arn == arn, pilot=pilot)
        await pilot.press("x")  # the stop is made in a worker, after the question
        await until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot, what="confirmation")
        await pilot.press("y")

        def told() -> list[str]:
            return [toast for toast in toasts_shown(app, "error") if "TypeError" in toast]

        toasts = await until(told, pilot=pilot, what="the bug's toast")
        assert "unexpected keyword argument 'Name'" in toasts[0] and "bug" in toasts[0]
        assert not any("Traceback" in line for line in screen_text(app))
        await pilot.press("enter")  # still running, keys work
        await until(lambda: isinstance(app.screen, ExecutionScreen), pilot=pilot, what="the execution")
        assert len(told()) == 1
