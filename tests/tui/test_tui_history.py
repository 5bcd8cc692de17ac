"""The table holds each pipeline's newest `history` finished runs: older ones leave as new ones arrive,
except what the user holds on to (a marked row, even one the filter hides)."""

from __future__ import annotations

import json

from conftest import Emulator, text_of, tui, type_text, until

from smtui.tui.screens.executions import ExecutionsScreen

FAILS = json.dumps(
    {
        "Version": "2020-12-01",
        "Parameters": [],
        "Steps": [{"Name": "Reject", "Type": "Fail", "Arguments": {"ErrorMessage": "rejected"}}],
    }
)


async def _run(emu: Emulator, name: str) -> str:
    """A run of `soak` named `name`, ended (its Fail step fails it) a few simulated seconds later."""
    reply = await emu.client.call(
        "start_pipeline_execution", PipelineName="soak", PipelineExecutionDisplayName=name
    )
    emu.advance(5)
    return str(reply["PipelineExecutionArn"])


async def test_old_runs_leave_the_table_but_a_marked_one_stays(emu: Emulator) -> None:
    await emu.create_pipeline("soak", FAILS)
    alpha, bravo, charlie = [await _run(emu, n) for n in ("alpha", "bravo", "charlie")]
    async with tui(emu, monitor={"history": 2}) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, ExecutionsScreen)
        monitor = app.session.monitor
        # Two kept: the oldest of the three is not loaded (as a session of days forgets it).
        await until(lambda: screen.table.cursor_arn == charlie, pilot=pilot, what="newest row selected")
        await until(lambda: " 2 executions" in text_of(screen.info), pilot=pilot, what="two rows")
        assert alpha not in monitor.executions

        await pilot.press("down", "space")  # mark bravo, the older of the two
        await pilot.press("slash")
        await type_text(pilot, "name:charlie", "enter")  # and filter it out of sight
        await until(lambda: "1 hidden by the filter" in text_of(screen.info), pilot=pilot, what="hidden")

        delta = await _run(emu, "delta")  # pushes bravo beyond the two newest
        await until(lambda: delta in monitor.executions, pilot=pilot, what="new run listed")
        listed = emu.calls()["SageMaker.ListPipelineExecutions"]
        await until(
            lambda: emu.calls()["SageMaker.ListPipelineExecutions"] >= listed + 2, pilot=pilot, what="lists"
        )
        assert bravo in monitor.executions
        info = text_of(screen.info)
        assert "of 3 executions" in info and "1 marked, 1 hidden by the filter" in info, info
