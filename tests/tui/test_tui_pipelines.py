"""The pipelines view (`p`): a row per pipeline with its active runs, last run, success rate, p50/p95 and a
sparkline of its last runs' durations; Enter shows its executions, `s` its definition as a step graph."""

from __future__ import annotations

import re
import statistics
from datetime import datetime, timedelta
from typing import Any

from conftest import Emulator, definition, from_palette, screen_text, text_of, tui, type_text, until
from textual.widgets import Input

from smtui.tui.format import duration
from smtui.tui.screens.definition import DefinitionScreen
from smtui.tui.screens.executions import ExecutionsScreen
from smtui.tui.screens.pipelines import PipelinesScreen

DESCRIBE = "SageMaker.DescribePipelineExecution"
ALWAYS_SUCCEEDS = definition(AccuracyThreshold=0.0)  # its Condition never takes the branch that fails


def _row(app: Any, pipeline: str) -> str:
    """The screen line of the pipeline's row ("" while it is not shown)."""
    return next((line for line in screen_text(app) if line.strip().startswith(pipeline)), "")


async def _duration_of(emu: Emulator, arn: str) -> float:
    """A run's duration as the service tells it (DescribePipelineExecution), for the expected figures."""
    reply = await emu.client.call("describe_pipeline_execution", PipelineExecutionArn=arn)
    ended: datetime = reply["LastModifiedTime"]
    started: datetime = reply["CreationTime"]
    return (ended - started).total_seconds()


async def _open_pipelines(app: Any, pilot: Any) -> PipelinesScreen:
    await until(lambda: isinstance(app.screen, ExecutionsScreen), pilot=pilot, what="the executions")
    await pilot.press("p")
    screen = await until(
        lambda: app.screen if isinstance(app.screen, PipelinesScreen) else None, pilot=pilot, what="the view"
    )
    assert isinstance(screen, PipelinesScreen)
    return screen


async def test_each_pipeline_shows_its_active_runs_last_run_success_rate_and_durations(emu: Emulator) -> None:
    await emu.create_pipeline("alpha", ALWAYS_SUCCEEDS)
    await emu.create_pipeline("flaky-etl")  # its first Preprocess attempt fails: the run fails
    done = []
    for _ in range(3):
        done.append(await emu.start("alpha"))
        emu.advance(3600)
    failed = await emu.start("flaky-etl")
    emu.advance(3600)
    running = await emu.start("alpha")
    emu.advance(30)
    assert {await emu.status(arn) for arn in done} == {"Succeeded"}
    assert await emu.status(failed) == "Failed" and await emu.status(running) == "Executing"
    seconds = [await _duration_of(emu, arn) for arn in done]
    p50 = duration(timedelta(seconds=statistics.median_low(seconds)))  # nearest rank: one of the runs
    p95 = duration(timedelta(seconds=max(seconds)))
    async with tui(emu, size=(140, 30)) as (app, pilot):
        await _open_pipelines(app, pilot)
        await until(lambda: p95 in _row(app, "alpha"), pilot=pilot, what="alpha's durations")
        alpha = _row(app, "alpha")
        assert "▶ 1" in alpha  # one run active now
        # The last run, and how long ago it started (30 s; 29 when its start time was rounded up to the ms).
        assert re.search(r"▶ Running (29|30)s ago", alpha)
        assert "100% 3/3" in alpha  # over the finished runs only
        assert f"{p50} " in alpha and f"{p95} " in alpha
        assert alpha.split()[-2:] == ["3", alpha.split()[-1]]  # timed over 3 runs, then the sparkline
        assert len(alpha.split()[-1]) == 3 and set(alpha.split()[-1]) <= set("▁▂▃▄▅▆▇█")
        flaky = _row(app, "flaky-etl")
        assert "✘ Failed 1h00m ago" in flaky
        assert "0% 0/1" in flaky
        assert flaky.rstrip().endswith("✘")  # its one run, failed: a glyph, not a bar
        assert "5 pipelines" not in screen_text(app)[1] and "2 pipelines" in screen_text(app)[1]
        assert "last 20 finished runs" in screen_text(app)[1]


async def test_durations_read_each_finished_run_once_and_only_the_last_twenty(emu: Emulator) -> None:
    await emu.create_pipeline("alpha", ALWAYS_SUCCEEDS)
    for _ in range(26):
        await emu.start("alpha")
        emu.advance(3600)
    # A short terminal: the executions table shows fewer than 20 rows, so the view has end times to read.
    async with tui(emu, size=(120, 16)) as (app, pilot):
        await until(lambda: isinstance(app.screen, ExecutionsScreen), pilot=pilot, what="the executions")
        await until(lambda: app.screen.table.row_count == 26, pilot=pilot, what="the rows")
        await app.session.monitor.settle()
        before = emu.calls().get(DESCRIBE, 0)
        assert before < 20  # the rows in view only
        await _open_pipelines(app, pilot)
        await until(lambda: "100% 20/20" in _row(app, "alpha"), pilot=pilot, what="the rate")
        await until(lambda: _row(app, "alpha").split()[-2] == "20", pilot=pilot, what="20 runs timed")
        await app.session.monitor.settle()
        assert emu.calls()[DESCRIBE] == 20  # the 20 newest, once each (those in view were read already)
        for _ in range(2):  # back and in again: nothing is read twice
            await pilot.press("escape")
            await _open_pipelines(app, pilot)
            await until(lambda: _row(app, "alpha").split()[-2] == "20", pilot=pilot, what="20 timed")
        await app.session.monitor.settle()
        assert emu.calls()[DESCRIBE] == 20


async def test_enter_shows_the_pipelines_executions_through_the_filter(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    await emu.create_pipeline("beta")
    await emu.create_pipeline("beta-large")  # its name holds "beta": not one of beta's executions
    await emu.start("alpha")
    await emu.start("beta-large")
    emu.advance(5)
    betas = {await emu.start("beta"), await emu.start("beta")}
    async with tui(emu) as (app, pilot):
        await until(lambda: isinstance(app.screen, ExecutionsScreen), pilot=pilot, what="the executions")
        executions = app.screen
        await until(lambda: executions.table.row_count == 4, pilot=pilot, what="four rows")
        screen = await _open_pipelines(app, pilot)
        await until(lambda: _row(app, "beta"), pilot=pilot, what="beta's row")
        await pilot.press("/")
        await type_text(pilot, "bet", "enter")  # the view's own filter, by name
        await until(lambda: not _row(app, "alpha"), pilot=pilot, what="alpha filtered out")
        await until(lambda: _row(app, "beta-large"), pilot=pilot, what="beta-large kept by the view's filter")
        await pilot.press("home", "enter")  # the top row: beta (names sort beta, beta-large)
        await until(lambda: app.screen is executions, pilot=pilot, what="back to the executions")
        assert screen not in app.screen_stack
        box = executions.query_one("#filter", Input)
        assert box.display and box.value == "pipeline:=beta"  # the filter shows, as if typed
        await until(lambda: set(executions.table.ordered_arns()) == betas, pilot=pilot, what="beta's runs")
        assert "2 of 4 executions" in text_of(executions.info)
        await pilot.press("escape")  # the usual key clears it
        await until(lambda: executions.table.row_count == 4, pilot=pilot, what="every row again")


async def test_s_shows_the_step_graph_with_parameters_types_and_defaults(emu: Emulator) -> None:
    await emu.create_pipeline("alpha", definition(InstanceCount=4, AccuracyThreshold=0.75))
    async with tui(emu) as (app, pilot):
        await _open_pipelines(app, pilot)
        await until(lambda: _row(app, "alpha"), pilot=pilot, what="alpha's row")
        before = emu.calls().get("SageMaker.DescribePipeline", 0)
        await pilot.press("s")
        screen = await until(
            lambda: app.screen if isinstance(app.screen, DefinitionScreen) else None,
            pilot=pilot,
            what="graph",
        )
        graph = screen.query_one("#graph")
        await until(lambda: "Steps (6)" in text_of(graph), pilot=pilot, what="the graph")
        lines = [line.rstrip() for line in text_of(graph).splitlines()]
        assert lines[:5] == [
            " Parameters (3)",
            "   Name                    Type     Default",
            "   ProcessingInstanceType  String   ml.m5.xlarge",
            "   InstanceCount           Integer  4",
            "   AccuracyThreshold       Float    0.75",
        ]
        steps = lines[lines.index(" Steps (6)   after X: DependsOn X · reads X: uses X's properties") + 1 :]
        assert steps[:9] == [
            " ├─ Preprocess              Processing",
            " ├─ Evaluate                Lambda      after Preprocess  outputs accuracy:Float",
            " └─ CheckAccuracy           Condition   reads Evaluate",
            "    ├─ if Steps.Evaluate.OutputParameters['accuracy'] >= Parameters.AccuracyThreshold",
            "    │  └─ ScoreAll          ForEach",
            "    │     └─ for each of 3: a, b, c",
            "    │        └─ ScoreShard  Processing",
            "    └─ else",
            '       └─ TooInaccurate     Fail        "accuracy below threshold"',
        ]
        assert emu.calls()["SageMaker.DescribePipeline"] == before + 1  # read once, through the monitor
        await pilot.press("escape")
        await until(lambda: isinstance(app.screen, PipelinesScreen), pilot=pilot, what="back to the view")


async def test_the_view_opens_from_the_palette_and_its_keys_are_in_help(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    async with tui(emu) as (app, pilot):
        await until(lambda: isinstance(app.screen, ExecutionsScreen), pilot=pilot, what="the executions")
        await until(lambda: app.session.monitor.pipelines, pilot=pilot, what="the pipelines")
        await from_palette(pilot, "pipelines")
        await until(lambda: isinstance(app.screen, PipelinesScreen), pilot=pilot, what="the view")
        await until(lambda: _row(app, "alpha"), pilot=pilot, what="alpha's row")
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"pipeline: executions", "pipeline: steps", "pipelines: sort by rate"} <= titles
        await pilot.press("question_mark")
        await pilot.pause(0.2)
        help_text = "\n".join(screen_text(app))
        for binding_id in (
            "pipelines.executions",
            "pipelines.definition",
            "pipelines.filter",
            "pipelines.back",
        ):
            assert binding_id in help_text


async def test_a_run_that_ends_while_the_view_is_open_moves_its_figures(emu: Emulator) -> None:
    await emu.create_pipeline("alpha", ALWAYS_SUCCEEDS)
    await emu.create_pipeline("beta", ALWAYS_SUCCEEDS)
    first = await emu.start("alpha")
    emu.advance(3600)
    await emu.start("alpha")
    emu.advance(10)
    async with tui(emu) as (app, pilot):
        await _open_pipelines(app, pilot)
        await until(lambda: "100% 1/1" in _row(app, "alpha"), pilot=pilot, what="one run finished")
        assert "▶ 1" in _row(app, "alpha")
        emu.advance(3600)  # the second run ends, the view open
        await until(lambda: "100% 2/2" in _row(app, "alpha"), pilot=pilot, what="two runs finished")
        await until(lambda: _row(app, "alpha").split()[-2] == "2", pilot=pilot, what="both timed")
        assert "▶ 1" not in _row(app, "alpha") and "✔ Succeeded" in _row(app, "alpha")
        assert duration(timedelta(seconds=await _duration_of(emu, first))) in _row(app, "alpha")
        assert "–" in _row(app, "beta")  # no run: no rate, no durations


async def test_at_80_columns_p95_and_timed_drop_and_the_rest_fits(emu: Emulator) -> None:
    name = "a-pipeline-with-a-name-far-too-long-for-eighty-columns"
    await emu.create_pipeline(name, ALWAYS_SUCCEEDS)
    await emu.start(name)
    emu.advance(3600)
    async with tui(emu, size=(80, 24)) as (app, pilot):
        await _open_pipelines(app, pilot)
        await until(lambda: "100%" in "\n".join(screen_text(app)), pilot=pilot, what="the row")
        await until(lambda: screen_text(app)[3].rstrip()[-1] != "·", pilot=pilot, what="its duration")
        lines = screen_text(app)
        assert lines[2].split() == ["Pipeline", "Act", "Last", "run", "OK%", "p50", "Last", "20"]
        row = lines[3]
        assert row.startswith(" a-pipeline-with-a-name") and "…" in row.split()[0]  # cut, with an ellipsis
        # Started an hour ago (59m when its start time was rounded up to the ms), succeeded.
        assert re.search(r"✔ (59m|1h00m) ", row) and "100%" in row and row.rstrip()[-1] in "▁▂▃▄▅▆▇█"
        assert row.split()[-2] != "…"  # its p50
        # A sort key says what it did on the line above the table, within the 80 columns.
        await app.screen.run_action("sort('rate')")
        await until(lambda: "sorted by rate ↑" in screen_text(app)[1], pilot=pilot, what="the sort said")
        await pilot.press("slash", "a")
        await until(
            lambda: "filter: a" in screen_text(app)[2], pilot=pilot, what="the filter said"
        )  # under its box
