"""The compare screen (`d` on 2–8 marked executions), against the emulator: parameters that differ and
equal ones folded, a step a retry policy ran twice, a cache hit, a ForEach's iterations, the best final
metric marked (and its direction turned around), billable instance-seconds as the jobs add up; Enter opens
a column's execution, `x` drops a column; every job read once however often the screen is drawn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DEFINITIONS, SCENARIO, Emulator, screen_text, text_of, toasts_shown, tui, until

from smtui.core.client import AwsTarget, SageMakerClient
from smtui.tui.screens.compare import CompareScreen
from smtui.tui.screens.execution import ExecutionScreen
from smtui.tui.screens.executions import ExecutionsScreen
from smtui.tui.screens.keys import KeysScreen

# Train fails once on capacity, and its retry policy runs it again (as in the headless `diff` tests).
RETRY = """
[pipelines."retry-*".steps."Train"]
fail_attempts = 1
failures = [{ reason = "CapacityError: no capacity", exception = "SageMaker.CAPACITY_ERROR" }]
"""
COMPARE = (DEFINITIONS / "compare.json").read_text()
DESCRIBES = ("DescribeTrainingJob", "DescribeProcessingJob", "DescribeTransformJob")
READS = (*DESCRIBES, "DescribePipelineDefinitionForExecution", "ListPipelineParametersForExecution")


@pytest.fixture
async def emu(tmp_path: Path) -> AsyncIterator[Emulator]:
    from smtui.emulator.cli import EmulatorOptions, start_emulator

    scenario = tmp_path / "scenario.toml"
    scenario.write_text(SCENARIO + RETRY)
    running = await start_emulator(EmulatorOptions(time_scale=0, seed=3, scenario=str(scenario)))
    try:
        async with SageMakerClient.create(AwsTarget(region="us-east-1", endpoint_url=running.url)) as client:
            yield Emulator(url=running.url, running=running, client=client)
    finally:
        await running.stop()


async def _finish(emu: Emulator, arn: str) -> None:
    for _ in range(20):
        if await emu.status(arn) != "Executing":
            return
        emu.advance(3600)
    raise AssertionError(f"{arn} still running")


async def _runs(emu: Emulator) -> tuple[str, str, str]:
    """Two runs of `retry-cmp` (the second with other Epochs, and a cache hit on Preprocess), then a run
    of another pipeline: three columns, newest first in the table."""
    await emu.create_pipeline("retry-cmp", COMPARE)
    first = await emu.start("retry-cmp")
    await _finish(emu, first)
    second = await emu.start("retry-cmp", Epochs="5")
    await _finish(emu, second)
    await emu.create_pipeline("cf-other")
    third = await emu.start("cf-other")
    await _finish(emu, third)
    return first, second, third


def _line(app: Any, start: str) -> str:
    """The screen's line whose label starts with `start` (after the `≠` mark and the indent)."""
    lines = [line for line in screen_text(app) if line.lstrip(" ≠↓↑").startswith(start)]
    assert lines, f"no line {start!r} on screen:\n" + "\n".join(screen_text(app))
    return lines[0]


def _calls(emu: Emulator, names: tuple[str, ...]) -> dict[str, int]:
    return {name: emu.calls().get(f"SageMaker.{name}", 0) for name in names}


async def _open_compare(app: Any, pilot: Any, count: int) -> CompareScreen:
    screen = app.screen
    assert isinstance(screen, ExecutionsScreen)
    await until(lambda: screen.table.row_count >= count, pilot=pilot, what="rows")
    await pilot.press(*["space"] * count, "d")
    compare = await until(lambda: isinstance(app.screen, CompareScreen) and app.screen, pilot=pilot)
    await until(
        lambda: "Comparing" in text_of(compare.info) and "loading" not in text_of(compare.info),
        pilot=pilot,
        what="the comparison complete",
    )
    await pilot.pause(0.1)
    return compare


async def _training_job(emu: Emulator, execution: str) -> dict[str, Any]:
    reply = await emu.client.call("list_pipeline_execution_steps", PipelineExecutionArn=execution)
    train = next(s for s in reply["PipelineExecutionSteps"] if s["StepName"] == "Train")
    name = train["Metadata"]["TrainingJob"]["Arn"].split("/")[-1]
    return dict(await emu.client.call("describe_training_job", TrainingJobName=name))


async def _jobs_behind(emu: Emulator, executions: tuple[str, ...]) -> dict[str, int]:
    """How many distinct jobs of each kind the executions' steps ran (every attempt, cache hits' too)."""
    arns: set[str] = set()
    for execution in executions:
        reply = await emu.client.call("list_pipeline_execution_steps", PipelineExecutionArn=execution)
        for step in reply["PipelineExecutionSteps"]:
            arns.update(m["Arn"] for m in step.get("Metadata", {}).values() if "Arn" in m)
    kinds = {"training-job": "DescribeTrainingJob", "processing-job": "DescribeProcessingJob"}
    counts = dict.fromkeys(DESCRIBES, 0)
    for arn in arns:
        kind = arn.split(":")[5].split("/")[0]
        if kind in kinds:
            counts[kinds[kind]] += 1
    return counts


async def test_compare_shows_what_differs_the_best_metric_and_the_cost(emu: Emulator) -> None:
    first, second, third = await _runs(emu)
    jobs = [await _training_job(emu, arn) for arn in (second, first)]
    expected = await _jobs_behind(emu, (first, second, third))
    before = _calls(emu, DESCRIBES)
    async with tui(emu, size=(160, 60)) as (app, pilot):
        compare = await _open_compare(app, pilot, 3)
        ids = [arn.rsplit("/", 1)[-1] for arn in (third, second, first)]  # newest first, as marked
        assert all(i in _line(app, "execution") for i in ids)
        assert "3 executions" in text_of(compare.info)
        # Parameters: Epochs differs (3, 5; the other pipeline has none); InstanceType is equal in the two
        # runs that have it, and not in the third: it differs too. cf-other's own parameters differ.
        epochs = _line(app, "Epochs")
        assert epochs.lstrip().startswith("≠") and "3" in epochs and "5" in epochs and "(none)" in epochs
        # Steps aligned by name: a cache hit, a retried step, a ForEach's iterations, the other pipeline's.
        preprocess = _line(app, "Preprocess")
        assert preprocess.count("⚡") == 1 and preprocess.lstrip().startswith("≠")
        train = _line(app, "Train ")
        assert train.count("×2") == 2 and "(none)" in train
        assert "✔" in _line(app, "Score-0") and "✔" in _line(app, "Score-1")
        assert "(none)" in _line(app, "CheckAccuracy")
        # Final metrics, the best one starred; billable instance-seconds from the jobs.
        finals = [{m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]} for job in jobs]
        loss = _line(app, "Train validation:loss")
        assert loss.lstrip().startswith("↓")  # lower is better: the name says loss
        best = min(range(2), key=lambda i: finals[i]["validation:loss"])
        assert loss.count("★") == 1 and f"{finals[best]['validation:loss']:g} ★" in loss
        accuracy = _line(app, "Train validation:accuracy")
        assert accuracy.lstrip().startswith("↑")
        best_accuracy = max(range(2), key=lambda i: finals[i]["validation:accuracy"])
        assert f"{finals[best_accuracy]['validation:accuracy']:g} ★" in accuracy
        billed = [f"{job['BillableTimeInSeconds'] * 2:,}" for job in jobs]  # InstanceCount 2
        lines = screen_text(app)
        billing = lines[next(i for i, line in enumerate(lines) if "Billable" in line) :]
        train_billed = next(line for line in billing if line.strip().startswith("Train"))
        assert all(b in train_billed for b in billed)
        preprocess_billed = next(line for line in billing if line.strip().startswith("Preprocess"))
        assert " 0 " in preprocess_billed + " "  # the cache hit costs nothing again
        assert "total" in "\n".join(billing)

        # `m` on the loss row: higher is better now, the star moves to the other run.
        rows = compare.table
        row = next(i for i, key in enumerate(rows.row_keys) if "validation:loss" in key)
        rows.action_cursor(row - rows.cursor_row, 0)
        await pilot.press("m")
        await until(lambda: "↑ Train validation:loss" in "\n".join(screen_text(app)), pilot=pilot)
        loss = _line(app, "Train validation:loss")
        assert f"{finals[1 - best]['validation:loss']:g} ★" in loss

        # Every job described once; drawing again (a fold, a re-open) reads nothing more.
        reads = _calls(emu, READS)
        assert {k: reads[k] - before[k] for k in DESCRIBES} == expected
        assert expected["DescribeTrainingJob"] >= 2 and expected["DescribeProcessingJob"] >= 4
        await pilot.press("f")
        await until(lambda: "InstanceType" in "\n".join(screen_text(app)), pilot=pilot)
        await pilot.press("escape", "d")
        again = await until(lambda: isinstance(app.screen, CompareScreen) and app.screen, pilot=pilot)
        await until(lambda: "loading" not in text_of(again.info), pilot=pilot)
        await pilot.pause(1.0)
        assert _calls(emu, READS) == reads


async def test_equal_parameters_fold_behind_a_count(emu: Emulator) -> None:
    await emu.create_pipeline("retry-eq", COMPARE)
    arns = [await emu.start("retry-eq", Epochs=e) for e in ("3", "4")]
    for arn in arns:
        await _finish(emu, arn)
    async with tui(emu, size=(120, 40)) as (app, pilot):
        await _open_compare(app, pilot, 2)
        text = "\n".join(screen_text(app))
        assert "Parameters: 1 differ" in text and "1 equal parameter" in text
        assert "InstanceType" not in text
        await pilot.press("f")
        await until(lambda: "InstanceType" in "\n".join(screen_text(app)), pilot=pilot, what="unfolded")
        instance = _line(app, "InstanceType")
        assert instance.count("ml.m5.xlarge") == 2 and "≠" not in instance


async def test_narrow_terminal_scrolls_columns_under_fixed_labels(emu: Emulator) -> None:
    first, *_ = await _runs(emu)
    await _finish(emu, await emu.start("cf-other"))
    async with tui(emu, size=(80, 24), toasts=True) as (app, pilot):
        compare = await _open_compare(app, pilot, 4)
        assert all(len(line) <= 80 for line in screen_text(app))
        first_id = first.rsplit("/", 1)[-1]
        assert first_id not in "\n".join(screen_text(app))  # the fourth column is off to the right
        await pilot.press("right", "right", "right")
        await until(lambda: compare.table.cursor_arn == first, pilot=pilot)
        await until(lambda: first_id in _line(app, "execution"), pilot=pilot, what="scrolled right")
        assert _line(app, "pipeline").lstrip().startswith("pipeline")  # the labels stayed
        # Enter opens the execution of the column under the cursor; Escape comes back.
        await pilot.press("enter")
        opened = await until(lambda: isinstance(app.screen, ExecutionScreen) and app.screen, pilot=pilot)
        assert opened.arn == first
        await pilot.press("escape")
        await until(lambda: app.screen is compare, pilot=pilot)
        # `x` drops that column; with two left, it says why it does not drop another.
        await pilot.press("x")
        await until(lambda: "Comparing 3 executions" in text_of(compare.info), pilot=pilot)
        assert first_id not in "\n".join(screen_text(app))
        await pilot.press("x")
        await until(lambda: "Comparing 2 executions" in text_of(compare.info), pilot=pilot)
        await pilot.press("x")
        said = "A comparison needs 2 executions: Esc goes back"
        await until(lambda: any(said in t for t in toasts_shown(app)), pilot=pilot, what="the toast")
        assert "Comparing 2 executions" in text_of(compare.info) and app.screen is compare


@pytest.mark.parametrize("count", [1, 9])
async def test_compare_wants_two_to_eight_marked(emu: Emulator, count: int) -> None:
    await emu.create_pipeline("alpha")
    for _ in range(9):
        await emu.start("alpha")
    async with tui(emu, toasts=True) as (app, pilot):
        screen = app.screen
        await until(lambda: screen.table.row_count == 9, pilot=pilot)
        await pilot.press(*["space"] * count, "d")
        expected = f"Mark 2 to 8 executions to compare (space marks): {count} marked"
        await until(lambda: any(expected in t for t in toasts_shown(app)), pilot=pilot, what="the toast")
        assert app.screen is screen


async def test_keys_palette_and_footer_offer_compare(emu: Emulator) -> None:
    await _runs(emu)
    async with tui(emu) as (app, pilot):
        screen = app.screen
        await until(lambda: screen.table.row_count == 3, pilot=pilot)
        await pilot.press("space")
        await until(lambda: "1 marked (d compares)" in text_of(screen.info), pilot=pilot, what="the hint")
        await pilot.press("up", "space", "up")  # unmarked again
        titles = [c.title for c in app.get_system_commands(screen)]
        assert "executions: compare" in titles
        await pilot.press("question_mark")
        keys = await until(lambda: isinstance(app.screen, KeysScreen) and app.screen, pilot=pilot)
        assert "Compare marked" in text_of(keys.query_one("#keys-table"))
        await pilot.press("escape")
        compare = await _open_compare(app, pilot, 2)
        footer = screen_text(app)[-1]
        assert all(key in footer for key in ("Open", "Drop column", "Lower/higher better"))
        titles = [c.title for c in app.get_system_commands(compare)]
        assert {"compare: drop column", "compare: toggle direction"} <= set(titles)
        await pilot.press("question_mark")
        keys = await until(lambda: isinstance(app.screen, KeysScreen) and app.screen, pilot=pilot)
        table = text_of(keys.query_one("#keys-table"))
        assert "Drop column" in table and "compare.direction" in table and "Equal parameters" in table
