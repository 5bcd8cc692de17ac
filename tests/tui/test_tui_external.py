"""Changes made outside smtui reach the screen: a run retried by another client (not the app's session),
in the table and in the open execution, whose header and tree then agree."""

from __future__ import annotations

from conftest import Emulator, idle, screen_text, text_of, tui, until

from smtui.tui.screens.execution import ExecutionScreen
from smtui.tui.screens.executions import ExecutionsScreen


def _cell(app: object, arn: str, column: str) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, ExecutionsScreen)
    if not screen.table.row_count:
        return ""  # the first rows are on their way
    return str(screen.table.get_cell(arn, column))


def _status_cell(app: object, arn: str) -> str:
    return _cell(app, arn, "status")


async def _failed_run(emu: Emulator) -> str:
    await emu.create_pipeline("flaky-sync")  # its Preprocess fails once, then succeeds
    arn = await emu.start("flaky-sync")
    emu.advance(3600)
    assert await emu.status(arn) == "Failed"
    return arn


async def _retry_elsewhere(emu: Emulator, arn: str) -> None:
    # `emu.client` is a client of its own, as a colleague's console or script would be.
    await emu.client.call("retry_pipeline_execution", PipelineExecutionArn=arn)


async def test_a_row_retried_elsewhere_runs_again_on_screen(emu: Emulator) -> None:
    arn = await _failed_run(emu)
    async with tui(emu) as (app, pilot):
        await until(lambda: "Failed" in _status_cell(app, arn), pilot=pilot, what="the failed row")
        await _retry_elsewhere(emu, arn)
        await until(lambda: "Running" in _status_cell(app, arn), pilot=pilot, what="the row running again")


async def test_the_open_execution_retried_elsewhere_header_and_tree_agree(emu: Emulator) -> None:
    arn = await _failed_run(emu)
    async with tui(emu, size=(160, 40)) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, ExecutionsScreen)
        await until(lambda: screen.table.cursor_arn == arn, pilot=pilot)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, ExecutionScreen), pilot=pilot)
        detail = app.screen
        assert isinstance(detail, ExecutionScreen)
        summary = detail.query_one("#summary")

        def labels() -> list[str]:
            return [line for line in screen_text(app) if " · " in line]  # the tree's lines, as shown

        def step(name: str) -> str:
            return next((label for label in labels() if f" {name} " in label), "")

        await until(lambda: "Failed" in step("Preprocess"), pilot=pilot, what="the failed step")
        assert "Failed" in text_of(summary) and "Step failure" in text_of(summary)

        await _retry_elsewhere(emu, arn)
        await until(lambda: "Running" in text_of(summary), pilot=pilot, what="the header running again")
        assert "Step failure" not in text_of(summary)  # the failure reason went with the retry
        await until(lambda: "attempt 2" in step("Preprocess"), pilot=pilot, what="the step running again")

        emu.advance(3600)  # this time it runs to the end
        await until(lambda: "Failed" in text_of(summary) or "Succeeded" in text_of(summary), pilot=pilot)
        active = ("Executing", "Starting", "Stopping")
        await until(
            lambda: not any(a in " ".join(labels()) for a in active), pilot=pilot, what="the final read"
        )
        assert "Step failure" not in text_of(summary)
        assert "Succeeded" in step("Preprocess")


async def test_ctrl_r_brings_the_rows_in_view_up_to_date(emu: Emulator) -> None:
    arn = await _failed_run(emu)
    hour = 3600.0
    slow = ("active", "watched", "background", "discovery", "visible_status", "watched_status", "reconcile")
    async with tui(emu, monitor={f"{pace}_interval": hour for pace in slow}) as (app, pilot):
        await until(lambda: "Failed" in _status_cell(app, arn), pilot=pilot, what="the failed row")
        # Its end time read too (DescribePipelineExecution, once, when the row came into view): that read,
        # made after the retry, would see it.
        await until(lambda: _cell(app, arn, "elapsed") not in ("", "…"), pilot=pilot, what="the end time")
        await _retry_elsewhere(emu, arn)
        await idle(pilot, 0.5)
        assert "Failed" in _status_cell(app, arn)  # every poll that would see it is an hour away
        await pilot.press("ctrl+r")
        await until(lambda: "Running" in _status_cell(app, arn), pilot=pilot, what="the row running again")
