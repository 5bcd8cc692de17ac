"""The executions table's time left: `~Nm left` from the pipeline's earlier successful runs, `no history`
without any, `> longest` once a run is longer than every one of them; nothing for finished rows."""

from __future__ import annotations

import json
import math

from conftest import Emulator, definition, screen_text, tui, until

from smtui.tui.screens.executions import ExecutionsScreen

# One Lambda step: a run of a minute at most (the bundled scenario's Lambda takes 5-60 s, after 1-4 s).
QUICK = json.dumps(
    {
        "Version": "2020-12-01",
        "Parameters": [],
        "Steps": [
            {
                "Name": "Evaluate",
                "Type": "Lambda",
                "Arguments": {"x": 1},
                "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:eval",
            }
        ],
    }
)


async def _run_to_end(emu: Emulator, arn: str) -> float:
    """Advance the clock until `arn` has ended; its duration in seconds."""
    for _ in range(100):
        if await emu.status(arn) != "Executing":
            break
        emu.advance(10)
    reply = await emu.client.call("describe_pipeline_execution", PipelineExecutionArn=arn)
    assert reply["PipelineExecutionStatus"] == "Succeeded"
    return float((reply["LastModifiedTime"] - reply["CreationTime"]).total_seconds())


async def _started(emu: Emulator, arn: str) -> float:
    reply = await emu.client.call("describe_pipeline_execution", PipelineExecutionArn=arn)
    return float(reply["CreationTime"].timestamp())


async def test_time_left_in_the_table(emu: Emulator) -> None:
    await emu.create_pipeline("timed", QUICK)
    earlier = await emu.start("timed")
    typical = await _run_to_end(emu, earlier)
    assert typical < 70
    # The pipeline now runs a Processing step (3 minutes at least): longer than its history.
    await emu.client.call("update_pipeline", PipelineName="timed", PipelineDefinition=definition())
    running = await emu.start("timed")
    await emu.create_pipeline("fresh")
    unknown = await emu.start("fresh")
    emu.advance(2)
    elapsed = emu.now().timestamp() - await _started(emu, running)
    expected = f"~{math.ceil((typical - elapsed) / 60)}m left"

    async with tui(emu, size=(160, 30)) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, ExecutionsScreen)

        def left(arn: str) -> str:
            return str(screen.table.get_cell(arn, "left")) if screen.table.shown_row(arn) else ""

        await until(
            lambda: left(running) == expected, pilot=pilot, what=f"{expected!r}, not {left(running)!r}"
        )
        assert left(unknown) == "no history"
        assert left(earlier) == ""  # finished: nothing left to tell
        lines = screen_text(app)
        assert "Left" in lines[2]  # the header, under the status line and the info line
        row = next(line for line in lines if "fresh" in line)
        assert "no history" in row
        assert expected in next(line for line in lines if "timed" in line and "Running" in line)

        emu.advance(typical + 5)  # still running (Processing), already longer than the one earlier run
        await until(lambda: left(running) == "> longest", pilot=pilot, what="> longest")
        assert await emu.status(running) == "Executing"
