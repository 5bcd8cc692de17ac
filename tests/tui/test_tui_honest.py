"""What the screen says is what is true: progress totals, sorting by elapsed, marks the filter hides, the keys
help, the step tree's arrows, the start form's highlight, error toasts and dates at 80 columns."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Emulator, idle, text_of, toasts_shown, tui, type_text, until
from rich.console import Console
from textual.app import App, ComposeResult
from textual.widgets import OptionList

from smtui.core.model import ExecutionStatus
from smtui.tui import toasts as toast_rack
from smtui.tui.screens.confirm import ConfirmScreen
from smtui.tui.screens.execution import ExecutionScreen
from smtui.tui.screens.executions import ExecutionsScreen
from smtui.tui.screens.keys import KeysScreen
from smtui.tui.screens.start import StartScreen
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


async def test_a_mark_hidden_by_the_filter_is_acted_on_and_the_question_says_so(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    await emu.create_pipeline("beta")
    alpha = [await emu.start("alpha") for _ in range(2)]
    emu.advance(5)
    beta = await emu.start("beta")
    async with tui(emu) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, ExecutionsScreen)
        await until(lambda: screen.table.row_count == 3, pilot=pilot, what="three rows")
        assert screen.table.cursor_arn == beta
        await pilot.press("space", "space")  # beta and the newest alpha
        marked = {beta, screen.table.ordered_arns()[1]}
        assert screen.marked == marked
        await pilot.press("slash")
        await type_text(pilot, "alpha", "enter")
        await until(lambda: screen.table.row_count == 2, pilot=pilot, what="beta filtered out")
        info = str(screen.query_one("#info").render())
        assert "2 of 3 executions · 2 marked, 1 hidden by the filter" in info
        await pilot.press("x")
        await until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot, what="the question")
        question = text_of(app.screen.query_one("#confirm-question"))
        assert "Stop 2 marked, 1 of them hidden by the filter?" in question
        assert "beta" in text_of(app.screen.query_one("#confirm-detail"))
        await pilot.press("y")
        await until(
            lambda: all("Stopping" in str(_cell(screen, a, "status")) for a in marked if a != beta),
            pilot=pilot,
            what="the shown mark stopping",
        )
        statuses = {arn: await emu.status(arn) for arn in [*alpha, beta]}
        assert statuses[beta] == "Stopping"  # the hidden mark was not silently dropped
        assert sorted(statuses.values()) == ["Executing", "Stopping", "Stopping"]


async def test_only_hidden_marks_still_make_the_action_ask(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    await emu.create_pipeline("beta")
    await emu.start("alpha")
    emu.advance(5)
    beta = await emu.start("beta")
    async with tui(emu) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, ExecutionsScreen)
        await until(lambda: screen.table.cursor_arn == beta, pilot=pilot, what="beta on top")
        await pilot.press("space", "slash")
        await type_text(pilot, "alpha", "enter")
        await until(lambda: screen.table.row_count == 1, pilot=pilot, what="beta filtered out")
        await pilot.press("x")
        await until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot, what="the question")
        assert "Stop 1 marked, hidden by the filter?" in text_of(app.screen.query_one("#confirm-question"))
        await pilot.press("n")
    assert emu.mutating_calls() == {"SageMaker.StartPipelineExecution": 2}  # asked, refused: nothing sent


async def test_arrows_fold_and_unfold_the_tree_and_the_help_says_so(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    arn = await emu.start("alpha")
    emu.advance(20)
    async with tui(emu, size=(40, 30)) as (app, pilot):  # narrower than the labels
        screen = app.screen
        await until(lambda: screen.table.cursor_arn == arn, pilot=pilot)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, ExecutionScreen), pilot=pilot)
        detail = app.screen
        assert isinstance(detail, ExecutionScreen)
        tree = detail.tree_view
        await until(lambda: tree.cursor_node is not None and tree.cursor_node.data, pilot=pilot, what="tree")

        def at() -> str:
            node = tree.cursor_node
            assert node is not None and node.data is not None
            return node.data.name

        await pilot.press("down", "down")
        assert at() == "CheckAccuracy" and tree.cursor_node is not None and tree.cursor_node.is_expanded
        check = tree.cursor_node
        await pilot.press("left")  # unfolded: folds
        assert at() == "CheckAccuracy" and not check.is_expanded
        await pilot.press("right")  # folded: unfolds
        assert at() == "CheckAccuracy" and check.is_expanded
        await pilot.press("right")  # unfolded: to the first child
        assert at() == "ScoreAll"
        await pilot.press("left", "left")  # folds ScoreAll, then up to its parent
        assert at() == "CheckAccuracy"
        assert tree.scroll_x == 0
        await pilot.press("greater_than_sign")  # sideways is on < and >
        assert tree.scroll_x > 0
        await pilot.press("less_than_sign")
        assert tree.scroll_x == 0

        await pilot.press("question_mark")
        await until(lambda: isinstance(app.screen, KeysScreen), pilot=pilot)
        keys = text_of(app.screen.query_one("#keys-table"))
        assert "Fold / to parent" in keys and "tree.fold" in keys and "tree.scroll_right" in keys


async def test_the_keys_help_heading_keeps_its_brackets(emu: Emulator) -> None:
    async with tui(emu, size=(80, 24)) as (app, pilot):
        await pilot.press("question_mark")
        await until(lambda: isinstance(app.screen, KeysScreen), pilot=pilot)
        # It names the table of config.toml where keys are remapped; Rich markup used to eat `[keys]`.
        assert "id (for [keys] in config.toml)" in text_of(app.screen.query_one("#keys-table"))


async def test_the_start_form_opens_on_the_first_pipeline_and_fills_in(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    await emu.create_pipeline("beta")
    beta = await emu.start("beta")
    async with tui(emu) as (app, pilot):
        screen = app.screen
        await until(lambda: screen.table.cursor_arn == beta, pilot=pilot, what="beta's run under the cursor")
        await pilot.press("n")
        await until(lambda: isinstance(app.screen, StartScreen), pilot=pilot)
        options = app.screen.query_one("#pipelines", OptionList)
        assert options.highlighted == 0 and options.get_option_at_index(0).id == "alpha"
        await emu.create_pipeline("aardvark")  # discovered while the list is open: it joins it
        await until(lambda: options.option_count == 3, pilot=pilot, wait=15, what="the new pipeline listed")
        assert options.get_option_at_index(0).id == "aardvark"
        assert options.get_option_at_index(options.highlighted or 0).id == "alpha"  # the highlight stays


async def test_the_start_form_opened_before_discovery_highlights_the_first(emu: Emulator) -> None:
    async with tui(emu) as (app, pilot):
        await pilot.press("n")
        await until(lambda: isinstance(app.screen, StartScreen), pilot=pilot)
        options = app.screen.query_one("#pipelines", OptionList)
        assert options.option_count == 0
        await emu.create_pipeline("churn")
        await until(lambda: options.option_count == 1, pilot=pilot, wait=15, what="the pipeline listed")
        assert options.highlighted == 0
        await pilot.press("enter")  # Enter picks it
        await until(lambda: app.screen.query("#param-InstanceCount"), pilot=pilot, what="its form")


@pytest.mark.usefixtures("one_attempt")
async def test_errors_in_a_row_show_one_toast_not_a_stack(emu: Emulator, monkeypatch: Any) -> None:
    """Each new error replaces the one in the toast at once, counted; other toasts stay."""
    await emu.create_pipeline("alpha")
    arn = await emu.start("alpha")
    # Toasts live on real time (10 s an error's, 5 s the others'); on a loaded machine the second error can
    # come later than that. Their expiry is not what this test checks: they live for ten minutes here.
    monkeypatch.setattr(toast_rack, "TROUBLE_TOAST", 600.0)
    async with tui(emu, toasts=True) as (app, pilot):
        app.NOTIFICATION_TIMEOUT = 600.0
        screen = app.screen
        await until(lambda: screen.table.cursor_arn == arn, pilot=pilot)
        emu.running.protocol.faults.configure({"error_rate": 1.0})
        await pilot.press("ctrl+r")
        health = app.session.monitor
        await until(lambda: "InternalFailure" in (health.health.error or ""), pilot=pilot, wait=20)
        await until(lambda: len(toasts_shown(app, "error")) == 1, pilot=pilot, what="the error's toast")
        assert "InternalFailure" in toasts_shown(app, "error")[0]
        await pilot.press("c")  # another toast, which the next error must leave alone
        await until(lambda: any("Copied" in t for t in toasts_shown(app)), pilot=pilot, what="Copied")
        await emu.running.stop()  # and now another error: the endpoint goes away
        await pilot.press("ctrl+r")
        await until(lambda: "reach" in (health.health.error or ""), pilot=pilot, wait=20, what="another")
        await until(
            lambda: "reach" in "".join(toasts_shown(app, "error")),
            pilot=pilot,
            what="the newest error, at once",
        )
        await idle(pilot, 0.3)
        errors = toasts_shown(app, "error")
        assert len(errors) == 1, errors
        # Counted: two errors at least (the lost endpoint may be told in more than one wording as polls fail).
        count = re.search(r"AWS \(×(\d+)\)", errors[0])
        assert count is not None and int(count.group(1)) >= 2, errors
        assert "InternalFailure" not in errors[0]
        assert any("Copied" in t for t in toasts_shown(app))


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


@pytest.mark.usefixtures("one_attempt")
async def test_a_batch_refused_for_one_reason_is_one_toast(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    arns = [await emu.start("alpha") for _ in range(3)]
    async with tui(emu, toasts=True) as (app, pilot):
        screen = app.screen
        await until(lambda: screen.table.row_count == 3, pilot=pilot, what="three rows")
        emu.running.protocol.faults.configure({"throttle": {"StopPipelineExecution": 1.0}})
        await pilot.press("space", "space", "space", "x")
        await until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot, what="the question")
        await pilot.press("y")

        def stopping() -> list[Any]:
            return [w for w in app.workers if w.group == "actions" and not w.is_finished]

        await until(stopping, pilot=pilot, what="the stops being sent")
        await until(lambda: not stopping(), pilot=pilot, wait=60, what="all three refused")
        await idle(pilot, 0.3)
        toasts = toasts_shown(app, "error")
        assert len(toasts) == 1, toasts  # not one per execution, stacked over the screen
        assert "Stop refused: 3 executions" in toasts[0] and "Rate exceeded" in toasts[0]
    assert all([await emu.status(arn) == "Executing" for arn in arns])
