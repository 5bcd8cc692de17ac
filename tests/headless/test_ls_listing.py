"""`smtui ls`: `--limit N` stops listing once it has N rows (counted in the emulator's call stats), the text
has a header row, and finished executions have their end time and elapsed time."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from click.testing import Result
from emulator_proc import EmulatorProcess
from wire_harness import simple_definition

from smtui.headless.ls import ENDED_ROWS

Smtui = Callable[..., Result]
EXECUTION_FIELDS = {
    "arn",
    "pipeline",
    "execution_id",
    "display_name",
    "status",
    "started",
    "ended",
    "elapsed_s",
    "failure_reason",
    "remaining_s",
    "remaining",
}


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def listed(emu: EmulatorProcess) -> int:
    return emu.stats().get("ListPipelineExecutions", 0)


def described(emu: EmulatorProcess) -> int:
    return emu.stats().get("DescribePipelineExecution", 0)


@pytest.fixture(scope="module")
def crowded(emu: EmulatorProcess) -> tuple[str, list[str]]:
    """A pipeline with more executions than one page (100): all running, the clock being paused."""
    pipeline = name("crowded")
    emu.create_pipeline(pipeline, simple_definition())
    arns = []
    for _ in range(105):
        arns.append(emu.start_execution(pipeline))
        emu.advance(1)  # distinct start times: newest first is then one order
    return pipeline, arns[::-1]


def test_limit_stops_paging_once_it_has_enough_rows(smtui: Smtui, emu: EmulatorProcess, crowded: Any) -> None:
    pipeline, newest_first = crowded
    before = listed(emu)
    everything = json.loads(smtui("ls", "--pipeline", pipeline, "--json").output)
    assert [r["arn"] for r in everything] == newest_first
    assert listed(emu) - before == 2  # two pages of 100

    before = listed(emu)
    three = smtui("ls", "--pipeline", pipeline, "--limit", "3", "--json")
    assert three.exit_code == 0, three.output
    assert [r["arn"] for r in json.loads(three.output)] == newest_first[:3]
    # One page for the rows, one for the time-left estimate (the rows cut at 3 hold no successful run).
    assert listed(emu) - before == 2

    # With a status filter the rows that count are the matching ones: still one page here.
    before = listed(emu)
    running = json.loads(smtui("ls", "-P", pipeline, "-s", "Executing", "--limit", "5", "--json").output)
    assert [r["arn"] for r in running] == newest_first[:5]
    assert listed(emu) - before == 2  # and the time-left estimate's page


def test_limit_skips_the_pipelines_whose_last_run_is_older_than_the_rows_found(
    smtui: Smtui, emu: EmulatorProcess
) -> None:
    """ListPipelines says when each pipeline last ran: once N rows are newer than that, it is not listed."""
    for _ in range(20):
        old = name("idle")
        emu.create_pipeline(old, simple_definition())
        emu.start_execution(old)
        emu.advance(1)
    busy = name("busy")
    emu.create_pipeline(busy, simple_definition())
    newest = []
    for _ in range(3):
        newest.append(emu.start_execution(busy))
        emu.advance(1)
    pipelines = len(emu.boto().list_pipelines(MaxResults=100)["PipelineSummaries"])
    before = listed(emu)
    rows = json.loads(smtui("ls", "--limit", "2", "--json").output)
    assert [r["arn"] for r in rows] == newest[::-1][:2]
    # At most the 8 listed at once (concurrency) and one more before two answers are in.
    assert listed(emu) - before <= 9 < pipelines


def test_ls_text_has_a_header_and_finished_runs_show_their_elapsed_time(
    smtui: Smtui, emu: EmulatorProcess
) -> None:
    pipeline = name("timed")
    emu.create_pipeline(pipeline, simple_definition())
    done = emu.start_execution(pipeline)
    assert emu.run_until_done(done, step=30) == "Succeeded"
    emu.advance(600)
    running = emu.start_execution(pipeline)
    emu.advance(30)
    truth = emu.boto().describe_pipeline_execution(PipelineExecutionArn=done)
    took = truth["LastModifiedTime"] - truth["CreationTime"]

    before = described(emu)
    rows = json.loads(smtui("ls", "--pipeline", pipeline, "--json").output)
    assert described(emu) - before == 1  # the finished row only: a running one ticks against now
    assert [set(r) for r in rows] == [EXECUTION_FIELDS, EXECUTION_FIELDS]  # the fields did not change
    by_arn = {r["arn"]: r for r in rows}
    assert by_arn[done]["ended"] is not None
    assert datetime.fromisoformat(by_arn[done]["ended"]) == truth["LastModifiedTime"]
    assert by_arn[done]["elapsed_s"] == pytest.approx(took.total_seconds(), abs=0.01)
    assert by_arn[running]["ended"] is None and by_arn[running]["elapsed_s"] == pytest.approx(30, abs=2)

    text = smtui("ls", "--pipeline", pipeline)
    assert text.exit_code == 0, text.output
    header, *lines = text.output.splitlines()
    assert header.split() == [
        "PIPELINE",
        "EXECUTION",
        "STATUS",
        "STARTED",
        "(UTC)",
        "ELAPSED",
        "DISPLAY",
        "NAME",
    ]
    assert lines[0].startswith("▶ ") and running.rsplit("/", 1)[1] in lines[0]
    assert lines[1].startswith("✔ ") and done.rsplit("/", 1)[1] in lines[1]
    assert f"  {int(took.total_seconds()) // 60}m{int(took.total_seconds()) % 60:02d}s  " in lines[1]
    # The columns line up under the header.
    assert lines[1].index("Succeeded") == header.index("STATUS") == lines[0].index("Executing")
    emu.boto().stop_pipeline_execution(PipelineExecutionArn=running)


def test_end_times_are_read_for_the_printed_rows_only(
    smtui: Smtui, emu: EmulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One DescribePipelineExecution per finished row printed: every row with --limit, else a screenful."""
    monkeypatch.setenv("SMTUI_RATE", "200")  # the count of calls is the point, not their pace (10/s)
    pipeline = name("ended")
    emu.create_pipeline(pipeline, simple_definition())
    runs = []
    for _ in range(ENDED_ROWS + 5):
        runs.append(emu.start_execution(pipeline))
        emu.advance(1)
    emu.advance(120)  # every run (61 s) has ended
    newest_first = runs[::-1]
    before = described(emu)
    rows = json.loads(smtui("ls", "--pipeline", pipeline, "--limit", "2", "--json").output)
    assert [r["arn"] for r in rows] == newest_first[:2]
    assert all(r["status"] == "Succeeded" and r["elapsed_s"] == pytest.approx(61, abs=1) for r in rows)
    assert described(emu) - before == 2

    before = described(emu)
    rows = json.loads(smtui("ls", "--pipeline", pipeline, "--json").output)
    assert [r["arn"] for r in rows] == newest_first
    assert all(r["ended"] is not None for r in rows[:ENDED_ROWS])
    assert all(r["ended"] is None and r["elapsed_s"] is None for r in rows[ENDED_ROWS:])
    assert described(emu) - before == ENDED_ROWS
    text = smtui("ls", "--pipeline", pipeline).output.splitlines()
    assert "1m01s" in text[ENDED_ROWS] and "1m01s" not in text[ENDED_ROWS + 1]  # text[0] is the header
