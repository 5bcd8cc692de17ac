"""Elapsed times are measured against the server's clock (its `Date` header), so they stay right when the
local clock disagrees with the server's: here an emulator whose simulated clock runs an hour ahead."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from click.testing import Result
from emulator_proc import EmulatorProcess

WAITS_FOREVER = json.dumps(
    {
        "Version": "2020-12-01",
        "Parameters": [],
        "Steps": [
            {
                "Name": "Approve",
                "Type": "Callback",
                "Arguments": {},
                "SqsQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/approvals",
                "OutputParameters": [],
            }
        ],
    }
)


def test_ls_and_show_measure_elapsed_on_the_server_clock(
    smtui: Callable[..., Result], emu: EmulatorProcess
) -> None:
    pipeline = f"skew-{uuid.uuid4().hex[:8]}"
    emu.create_pipeline(pipeline, WAITS_FOREVER)
    arn = emu.start_execution(pipeline)
    emu.advance(3600)  # the server's clock is now an hour ahead of this machine's

    listed = smtui("ls", "--pipeline", pipeline, "--json")
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.output)
    assert row["arn"] == arn and row["status"] == "Executing"
    assert 3590 <= row["elapsed_s"] <= 3660

    shown = smtui("show", arn)
    assert shown.exit_code == 0, shown.output
    assert "Executing" in shown.output.splitlines()[0]
    header = shown.output.splitlines()[0]
    assert "59m5" in header or "1h00m" in header  # the Date header has whole seconds
