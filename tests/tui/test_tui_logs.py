"""The log view, driven with the keys a user presses against the emulator's logs (over HTTP, paused clock)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Emulator, idle, screen_text, toasts_shown, tui, until

from smtui.tui.screens.execution import ExecutionScreen
from smtui.tui.screens.logs import LogsScreen


def shown(app: object) -> str:
    return "\n".join(screen_text(app))


async def failed_run(emu: Emulator) -> str:
    """A `flaky` execution whose Preprocess failed (AlgorithmError: disk full): the execution failed."""
    await emu.create_pipeline("flaky-etl")
    arn = await emu.start("flaky-etl")
    emu.advance(3600)
    assert await emu.status(arn) == "Failed"
    return arn


async def test_l_on_an_execution_opens_its_failed_step_with_the_traceback(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = await failed_run(emu)
    monkeypatch.chdir(tmp_path)
    async with tui(emu, toasts=True) as (app, pilot):
        await until(lambda: app.screen.table.cursor_arn == arn, pilot=pilot, what="the failed run")
        await pilot.press("l")
        await until(lambda: isinstance(app.screen, LogsScreen), pilot=pilot, what="the log view")
        await until(lambda: "ended" in shown(app), pilot=pilot, what="the follow to end")
        text = shown(app)
        assert "Preprocess (Processing)" in text
        assert "Traceback (most recent call last):" in text
        assert "disk full" in text
        # It opens at the end: the last line of the log is on screen, the cursor on it.
        await pilot.press("c")
        assert "disk full" in (app.clipboard or "")
        # `e`: the first error line.
        await pilot.press("e")
        await pilot.press("c")
        assert app.clipboard == "Traceback (most recent call last):"
        # Search: matches counted, `n` moves to one.
        await pilot.press("slash", "d", "i", "s", "k", "enter")
        await until(lambda: "/disk: " in shown(app), pilot=pilot, what="the search")
        await pilot.press("1", "n", "c")
        assert "disk" in (app.clipboard or "").lower()
        # Ctrl+S: saved, and the toast says where.
        await pilot.press("ctrl+s")
        saved = tmp_path / f"smtui-{arn.rsplit('/', 1)[-1]}-Preprocess.log"
        await until(lambda: any(str(saved) in t for t in toasts_shown(app)), pilot=pilot, what="saved toast")
        assert "Traceback (most recent call last):" in saved.read_text()
        await pilot.press("escape")  # closes the search box
        await pilot.press("escape")
        await until(lambda: not isinstance(app.screen, LogsScreen), pilot=pilot, what="back")
    assert emu.calls().get("Logs_20140328.FilterLogEvents", 0) >= 1  # read from the emulator over HTTP


async def test_keys_change_what_the_lines_show(emu: Emulator) -> None:
    arn = await failed_run(emu)
    async with tui(emu) as (app, pilot):
        await until(lambda: app.screen.table.cursor_arn == arn, pilot=pilot)
        await pilot.press("l")
        await until(lambda: "disk full" in shown(app), pilot=pilot, what="the lines")
        line = next(row for row in screen_text(app) if "Traceback" in row)
        assert line.strip()[0].isdigit()  # a timestamp first
        await pilot.press("t")
        line = next(row for row in screen_text(app) if "Traceback" in row)
        assert line.startswith("Traceback (most recent call last):")
        # A since-preset: the job ended an hour (of emulator time) ago, so the last minute has none.
        await pilot.press("2")
        await until(lambda: "since 1m" in shown(app), pilot=pilot)
        assert "Traceback" not in shown(app)
        assert "· 0 lines" in shown(app)
        await pilot.press("0")  # tail: every line again
        await until(lambda: "Traceback" in shown(app), pilot=pilot)
        assert "since" not in shown(app)
        # Wrap: at 60 columns the end of a long line is cut off, until `w` wraps it onto the next rows.
        await pilot.resize_terminal(60, 30)  # type: ignore[attr-defined]
        await until(lambda: "Input contains NaN" in shown(app), pilot=pilot)
        assert "float32" not in shown(app)
        await pilot.press("w")
        await until(lambda: "float32" in shown(app), pilot=pilot, what="the wrapped rest of the line")


async def test_a_running_step_is_followed_until_it_ends(emu: Emulator) -> None:
    await emu.create_pipeline("churn")
    arn = await emu.start("churn")
    emu.advance(5)  # Preprocess is running
    async with tui(emu) as (app, pilot):
        await until(lambda: app.screen.table.cursor_arn == arn, pilot=pilot)
        await until(lambda: "Preprocess" in app.session.monitor.running_steps(arn), pilot=pilot)
        await pilot.press("l")
        await until(lambda: isinstance(app.screen, LogsScreen), pilot=pilot)
        screen = app.screen

        async def lines_come(more_than: int) -> bool:
            for _ in range(200):  # the job writes as its clock moves; the view shows it without a key
                emu.advance(10)
                await idle(pilot, 0.1)
                if screen.view.count > more_than:
                    return True
            return False

        assert await lines_come(0)
        await until(lambda: "following" in shown(app), pilot=pilot, what="following")
        assert await lines_come(screen.view.count)
        emu.advance(3600)  # the step ends: one final read, then the follow stops by itself
        await until(lambda: "ended" in shown(app), pilot=pilot, what="the follow to end")


async def test_steps_without_logs_say_why(emu: Emulator) -> None:
    await emu.create_pipeline("churn")
    arn = await emu.start("churn")
    emu.advance(3600)
    async with tui(emu) as (app, pilot):
        await until(lambda: app.screen.table.cursor_arn == arn, pilot=pilot)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, ExecutionScreen), pilot=pilot)
        await until(lambda: app.session.monitor.tree(arn) is not None, pilot=pilot)
        tree = app.screen.tree_view
        await until(lambda: tree.selected_step() is not None, pilot=pilot)
        while tree.selected_step().name != "CheckAccuracy":
            await pilot.press("down")
        await pilot.press("l")
        await until(lambda: isinstance(app.screen, LogsScreen), pilot=pilot)
        await until(lambda: "runs no job" in shown(app), pilot=pilot, what="the reason")
        assert "CheckAccuracy: a Condition step evaluates its conditions" in shown(app)
        # The Lambda step: its function's log lines.
        await pilot.press("escape")
        await until(lambda: isinstance(app.screen, ExecutionScreen), pilot=pilot)
        while app.screen.tree_view.selected_step().name != "Evaluate":
            await pilot.press("up")
        await pilot.press("l")
        await until(lambda: isinstance(app.screen, LogsScreen), pilot=pilot)
        await until(lambda: "ended" in shown(app), pilot=pilot, what="the Lambda's lines")
        assert app.screen.view.count > 0
        assert "Evaluate (Lambda)" in shown(app)


async def test_at_80x24_the_log_opens_with_its_last_line_in_view(emu: Emulator) -> None:
    """Lines wider than 80 columns bring a horizontal scrollbar: the last line is not left behind it."""
    arn = await failed_run(emu)
    async with tui(emu, size=(80, 24)) as (app, pilot):
        await until(lambda: app.screen.table.cursor_arn == arn, pilot=pilot, what="the failed run")
        await pilot.press("l")
        await until(lambda: isinstance(app.screen, LogsScreen), pilot=pilot, what="the log view")
        await until(lambda: "ended" in shown(app), pilot=pilot, what="the follow to end")
        view = app.screen.view
        assert view.count > view.scrollable_content_region.height  # more lines than rows
        last = view.buffer.get(view.buffer.total - 1)
        await until(lambda: last.message[:40] in shown(app), pilot=pilot, what="the last line")
        # Searching for what only that line says: one match, and the title says so in English.
        await pilot.press("slash", *last.message[:30], "enter")
        await until(lambda: ": 1 match" in shown(app), pilot=pilot, what="the count")
        assert ": 1 matches" not in shown(app)


async def test_at_80_columns_the_reason_for_no_logs_is_read_whole(emu: Emulator) -> None:
    await emu.create_pipeline("churn")
    arn = await emu.start("churn")
    emu.advance(3600)
    async with tui(emu, size=(80, 24)) as (app, pilot):
        await until(lambda: app.screen.table.cursor_arn == arn, pilot=pilot)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, ExecutionScreen), pilot=pilot)
        tree = app.screen.tree_view
        await until(lambda: tree.selected_step() is not None, pilot=pilot)
        while tree.selected_step().name != "CheckAccuracy":
            await pilot.press("down")
        await pilot.press("l")
        await until(lambda: isinstance(app.screen, LogsScreen), pilot=pilot)
        await until(lambda: "runs no job" in shown(app), pilot=pilot, what="the reason")
        assert " ".join(shown(app).split()).count("it runs no job and has no logs") == 1


async def test_log_keys_are_in_help_and_palette(emu: Emulator) -> None:
    arn = await failed_run(emu)
    async with tui(emu) as (app, pilot):
        await until(lambda: app.screen.table.cursor_arn == arn, pilot=pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "execution: logs" in titles
        await pilot.press("l")
        await until(lambda: isinstance(app.screen, LogsScreen), pilot=pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for title in ("logs: search", "logs: first error", "logs: since 5m", "logs: save", "logs: copy line"):
            assert title in titles
        await pilot.press("question_mark")
        await idle(pilot, 0.1)
        text = shown(app)
        for binding_id in (
            "logs.first_error",
            "logs.autoscroll",
            "logs.since_1m",
            "logs.since_1h",
            "logs.save",
        ):
            assert binding_id in text
