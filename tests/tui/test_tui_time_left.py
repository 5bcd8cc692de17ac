"""The executions table's time left: `~Nm left` from the pipeline's earlier successful runs, `no history`
without any, `> longest` once a run is longer than every one of them; nothing for finished rows."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from conftest import Emulator, definition, screen_text, tui, until

from smtui.core.model import Execution, ExecutionStatus
from smtui.core.timing import remaining_from, success_history
from smtui.tui import format as fmt
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


def test_history_not_read_yet_is_not_no_history() -> None:
    """A pipeline whose successful runs are listed but whose end times are not read yet (a listing gives no
    end time) shows `…`, not `no history`; `no history` only when it has no successful run at all."""
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    prefix = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/"

    def run(n: int, status: ExecutionStatus) -> Execution:
        return Execution(
            arn=f"{prefix}{n}", pipeline_name="p", execution_id=str(n), status=status, started=start
        )

    listed = [run(1, ExecutionStatus.SUCCEEDED), run(2, ExecutionStatus.FAILED)]
    assert success_history(listed, "p") is None  # the screen then shows READING_HISTORY
    assert str(fmt.time_left(fmt.READING_HISTORY)) == "…"
    assert success_history([run(2, ExecutionStatus.FAILED)], "p") == []
    described = [replace(listed[0], ended=start + timedelta(minutes=10)), listed[1]]
    assert success_history(described, "p") == [600.0]

    running, now = run(3, ExecutionStatus.EXECUTING), start + timedelta(minutes=4)
    assert str(fmt.time_left(fmt.left_shown(remaining_from(running, [], now)))) == "no history"
    assert str(fmt.time_left(fmt.left_shown(remaining_from(running, [600.0], now)))) == "~6m left"
    assert str(fmt.time_left(fmt.left_shown(remaining_from(running, [200.0], now)))) == "> longest"
