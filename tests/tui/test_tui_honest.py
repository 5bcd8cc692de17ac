"""What the screen says is what is true: progress totals, sorting by elapsed, marks the filter hides, the keys
help, the step tree's arrows, the start form's highlight, error toasts and dates at 80 columns."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Emulator, tui, until
from rich.console import Console
from textual.app import App, ComposeResult

from smtui.core.model import ExecutionStatus
from smtui.tui.screens.executions import ExecutionsScreen
from smtui.tui.widgets.execution_rows import ExecutionRow
from smtui.tui.widgets.execution_table import ExecutionTable


@pytest.fixture
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Days are local days: pin the zone so "another day" does not depend on the machine.
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


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


def _row(
    i: int, elapsed: timedelta | None, status: ExecutionStatus = ExecutionStatus.SUCCEEDED
) -> ExecutionRow:
    return ExecutionRow(
        arn=f"arn:aws:sagemaker:us-east-1:1:pipeline/p/execution/e{i}",
        status=status,
        pipeline="p",
        name=f"run-{i}",
        started=datetime(2026, 11, 26, 7, i, tzinfo=UTC),
        elapsed=elapsed,
        progress=None,
        running=(),
        reason=None,
    )


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ExecutionTable(id="t")


async def test_rows_whose_elapsed_is_unknown_sort_last_both_ways() -> None:
    minutes = {0: 5, 1: None, 2: 50, 3: None, 4: 0, 5: 20}  # None: finished, its end time not read yet
    rows = [_row(i, None if m is None else timedelta(minutes=m)) for i, m in minutes.items()]
    app = _TableApp()
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.query_one(ExecutionTable)
        table.show(rows)
        await pilot.pause()

        def order() -> list[str]:
            return [arn.rsplit("/e", 1)[1] for arn in table.ordered_arns()]

        await pilot.press("E")  # longest first
        assert order() == ["2", "5", "0", "4", "3", "1"]  # 50m 20m 5m 0s, then the unknown, newest first
        await pilot.press("E")  # shortest first
        assert order() == ["4", "0", "5", "2", "1", "3"]  # still last
        assert str(table.get_cell(rows[1].arn, "elapsed")) == "…"  # not a blank that reads as nothing


@pytest.mark.usefixtures("_utc")
async def test_at_80_columns_a_run_from_another_day_shows_its_date(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    old = await emu.start("alpha")
    started = emu.now()
    emu.advance(2 * 86400)  # two days later
    new = await emu.start("alpha")
    async with tui(emu, size=(80, 24)) as (app, pilot):
        screen = app.screen
        await until(lambda: screen.table.row_count == 2, pilot=pilot, what="both runs")
        await until(lambda: str(_cell(screen, old, "started")), pilot=pilot)
        assert str(_cell(screen, old, "started")) == started.strftime("%m-%d %H:%M")
        assert str(_cell(screen, new, "started")) == emu.now().strftime("%H:%M:%S")  # today's: the time
