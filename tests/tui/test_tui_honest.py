"""What the screen says is what is true: progress totals, sorting by elapsed, marks the filter hides, the keys
help, the step tree's arrows, the start form's highlight, error toasts and dates at 80 columns."""

from __future__ import annotations

from typing import Any

from conftest import Emulator, tui, until
from rich.console import Console

from smtui.tui.screens.executions import ExecutionsScreen


def _cell(screen: Any, arn: str, column: str) -> Any:
    return screen.table.get_cell(arn, column)


async def test_a_run_stopped_in_its_first_step_shows_1_of_6_in_yellow(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")  # six steps once the Condition's two branches are counted
    arn = await emu.start("alpha")
    emu.advance(20)  # Preprocess, the first, is running
    async with tui(emu) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, ExecutionsScreen)
        await until(lambda: screen.table.cursor_arn == arn, pilot=pilot, what="its row")
        await until(lambda: "0/6" in str(_cell(screen, arn, "progress")), pilot=pilot, what="0/6 running")
        await pilot.press("x", "y")
        await until(lambda: "Stopping" in str(_cell(screen, arn, "status")), pilot=pilot, what="stopping")
        emu.advance(60)
        await until(lambda: "Stopped" in str(_cell(screen, arn, "status")), pilot=pilot, what="stopped")
        await until(lambda: "1/6" in str(_cell(screen, arn, "progress")), pilot=pilot, what="1/6, not 1/1")
        bar = _cell(screen, arn, "progress")
        # A stopped run's bar is yellow: 1 of 6 cells' worth filled, the rest to come never came.
        assert bar.plain == "█░░░░░░░ 1/6" and "yellow" in str(bar.get_style_at_offset(Console(), 0))
