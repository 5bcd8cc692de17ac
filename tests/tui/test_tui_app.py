"""App-wide behaviour: remapped keys, the command palette, notifications, clipboard and console links."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Emulator, from_palette, idle, text_of, toasts_shown, tui, until

from smtui.tui.screens.confirm import ConfirmScreen
from smtui.tui.screens.executions import ExecutionsScreen
from smtui.tui.screens.keys import KeysScreen


async def test_keys_remapped_from_config(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    arn = await emu.start("alpha")
    async with tui(emu, keymap={"execution.stop": "ctrl+k"}) as (app, pilot):
        screen = app.screen
        await until(lambda: screen.table.cursor_arn == arn, pilot=pilot)
        await pilot.press("x")  # the old key does nothing now
        await idle(pilot, 0.1)
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("ctrl+k")
        await until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot, what="remapped stop")
        await pilot.press("n")
        await pilot.press("question_mark")
        await until(lambda: isinstance(app.screen, KeysScreen), pilot=pilot)
        help_text = text_of(app.screen.query_one("#keys-table"))
        assert "^k" in help_text and "execution.stop" in help_text


async def test_palette_offers_every_action(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    arn = await emu.start("alpha")
    async with tui(emu) as (app, pilot):
        screen = app.screen
        await until(lambda: screen.table.cursor_arn == arn, pilot=pilot)
        titles = {command.title for command in app.get_system_commands(screen)}
        for title in ("execution: start", "execution: stop", "execution: rerun", "execution: copy ARN"):
            assert title in titles
        assert "execution: retry" not in titles  # running: nothing to retry yet
        # Run one from the palette as a user would: ctrl+p, type, enter.
        await from_palette(pilot, "execution: stop")
        await until(
            lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot, what="stop asked from the palette"
        )


async def test_toast_and_bell_when_a_watched_execution_ends(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    arn = await emu.start("alpha")
    bells: list[int] = []
    async with tui(emu, bell=True, toasts=True) as (app, pilot):
        app.bell = lambda: bells.append(1)
        screen = app.screen
        await until(lambda: screen.table.cursor_arn == arn, pilot=pilot)
        await pilot.press("enter", "escape")  # opening it is what makes it watched
        await emu.client.call(
            "stop_pipeline_execution", PipelineExecutionArn=arn, ClientRequestToken="t" * 32
        )
        emu.advance(60)

        def toasts() -> list[str]:
            return [toast for toast in toasts_shown(app) if "Execution finished" in toast]

        found = await until(toasts, pilot=pilot, what="toast")
        assert "Stopped" in found[0] and "alpha" in found[0]
        assert bells == [1]


async def test_copy_arn_and_console_link(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    arn = await emu.start("alpha")
    opened: list[str] = []
    async with tui(emu) as (app, pilot):
        app.open_url = lambda url, new_tab=True: opened.append(url)
        screen = app.screen
        assert isinstance(screen, ExecutionsScreen)
        await until(lambda: screen.table.cursor_arn == arn, pilot=pilot)
        await pilot.press("c")
        assert app.clipboard == arn
        await pilot.press("o")
        execution_id = arn.rsplit("/", 1)[-1]
        assert opened == [
            "https://us-east-1.console.aws.amazon.com/sagemaker/home?region=us-east-1"
            f"#/pipelines/alpha/executions/{execution_id}"
        ]


@pytest.mark.usefixtures("one_attempt")
async def test_header_says_throttled_then_disconnected(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    await emu.start("alpha")
    async with tui(emu) as (app, pilot):
        screen = app.screen
        await until(lambda: screen.table.row_count == 1, pilot=pilot)
        header = screen.query_one("#status")
        assert "THROTTLED" not in text_of(header) and "DISCONNECTED" not in text_of(header)
        emu.running.protocol.faults.configure(
            {"throttle": {"ListPipelines": 1.0, "ListPipelineExecutions": 1.0}}
        )
        await pilot.press("ctrl+r")
        await until(
            lambda: "THROTTLED" in text_of(header), pilot=pilot, wait=20, what="throttled in the header"
        )
        emu.running.protocol.faults.configure({})
        await emu.running.stop()  # the endpoint goes away
        await pilot.press("ctrl+r")
        await until(lambda: "DISCONNECTED" in text_of(header), pilot=pilot, wait=20, what="disconnected")


async def test_header_says_why_nothing_shows_without_credentials(
    emu: Emulator, monkeypatch: Any, tmp_path: Any
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    async with tui(emu) as (app, pilot):
        header = app.screen.query_one("#status")
        await until(lambda: "ERROR" in text_of(header), pilot=pilot, wait=20, what="the credentials error")
        assert "credentials" in text_of(header).lower()


@pytest.mark.usefixtures("one_attempt")
async def test_a_narrow_terminal_still_says_why_nothing_shows(emu: Emulator) -> None:
    """At 40 columns the header is cut before its DISCONNECTED part: a toast carries the whole message."""
    async with tui(emu, size=(40, 16), toasts=True) as (app, pilot):
        await emu.running.stop()  # the endpoint goes away
        await pilot.press("ctrl+r")

        def told() -> list[str]:
            return [toast for toast in toasts_shown(app, "error") if "cannot reach" in toast.lower()]

        messages = await until(told, pilot=pilot, wait=20, what="a toast: the endpoint cannot be reached")
        assert emu.url.removeprefix("http://") in messages[0]  # the whole message, where it failed
        await pilot.press("ctrl+r")
        await idle(pilot, 0.5)
        assert len(told()) == 1  # the same error again is not told twice


async def test_the_monitor_polls_on_the_sessions_clock(emu: Emulator) -> None:
    """`open_session(clock=...)`: the monitor's polls wait on that clock, not on the loop's."""
    await emu.create_pipeline("alpha")
    await emu.start("alpha")
    lists = "SageMaker.ListPipelineExecutions"
    async with tui(emu) as (app, pilot):
        await until(lambda: app.screen.table.row_count == 1, pilot=pilot, what="the row")
        listed = emu.calls()[lists]
        await pilot.pause(0.5)  # real time passes; the session's clock stands still
        assert emu.calls()[lists] == listed
        await idle(pilot, 2.0)  # two seconds of it: the row in view is listed every 0.2 s (FAST_MONITOR)
        assert emu.calls()[lists] >= listed + 5
