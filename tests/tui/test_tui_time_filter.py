"""The filter box's time terms: `since:24h`, `started:>DATE` / `<` / full times, combined with the other
terms; a value that cannot be read is told under the box, and the rest of the filter still applies."""

from __future__ import annotations

from datetime import timedelta

from conftest import Emulator, screen_text, text_of, tui, type_text, until

from smtui.tui.screens.executions import ExecutionsScreen


async def test_since_and_started_filter_the_table(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    await emu.create_pipeline("beta")
    old = await emu.start("alpha")
    emu.advance(3 * 86400)  # three days later
    new_alpha = await emu.start("alpha")
    new_beta = await emu.start("beta")
    today = emu.now().astimezone().date()
    async with tui(emu) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, ExecutionsScreen)
        shown = screen.table.ordered_arns
        await until(lambda: len(shown()) == 3, pilot=pilot, what="three rows")

        await pilot.press("slash")
        await type_text(pilot, "since:24h", "enter")
        assert set(shown()) == {new_alpha, new_beta}
        await pilot.press("slash", "ctrl+u")
        await type_text(pilot, "since:4d", "enter")
        assert len(shown()) == 3
        await pilot.press("slash", "ctrl+u")
        await type_text(pilot, "alpha since:1w", "enter")  # with the other terms
        assert set(shown()) == {old, new_alpha}
        await pilot.press("slash", "ctrl+u")
        await type_text(pilot, f"started:<{today.isoformat()}", "enter")
        assert shown() == [old]
        await pilot.press("slash", "ctrl+u")
        await type_text(pilot, f"started:{today.isoformat()}", "enter")  # that day
        assert set(shown()) == {new_alpha, new_beta}
        moment = (emu.now() - timedelta(hours=1)).isoformat()  # a full timestamp, with its zone
        await pilot.press("slash", "ctrl+u")
        await type_text(pilot, f"beta started:>{moment}", "enter")
        assert shown() == [new_beta]

        # A value it cannot read: said under the box; the rest of the filter still applies.
        await pilot.press("slash", "ctrl+u")
        await type_text(pilot, "beta since:5x", "enter")
        info = text_of(screen.info)
        assert "since: '5x' is not a time span (examples: 30m, 24h, 7d, 2w)" in info
        assert shown() == [new_beta]
        await pilot.press("slash", "ctrl+u")
        await type_text(pilot, "started:>2026-13-45", "enter")
        assert "started: '2026-13-45' is not a date or a time" in text_of(screen.info)
        assert len(shown()) == 3
        lines = screen_text(app)
        assert any("'2026-13-45' is not a date or a time" in line for line in lines[:4])  # under the box

        # A field typed without its value yet (`since:`, `status:`) narrows nothing until the value comes.
        for typing in ("beta since:", "beta started:", "beta status:", "beta param:"):
            await pilot.press("slash", "ctrl+u")
            await type_text(pilot, typing, "enter")
            assert shown() == [new_beta], typing

        # `since:` counts back from now: a day later, the rows of today's runs are older than that.
        await pilot.press("slash", "ctrl+u")
        await type_text(pilot, "since:1d", "enter")
        assert set(shown()) == {new_alpha, new_beta}
        emu.advance(86400 + 120)
        await until(lambda: not shown(), pilot=pilot, what="rows older than a day gone")
