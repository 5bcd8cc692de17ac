"""The execution screen's Gantt view (`t`) and the time left of running steps, against the emulator: a
cache hit, a ForEach's iterations, the critical path, a retried step, a running bar growing as the clock
moves, at 80×24 with scrolling; and `~… left` / `no history` / `longer than any earlier run` in the tree
and the timeline."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from conftest import DEFINITIONS, Emulator, screen_text, text_of, tui, until
from textual.widgets import Static

from smtui.core.format import format_duration
from smtui.tui.screens.execution import ExecutionScreen
from smtui.tui.screens.executions import ExecutionsScreen
from smtui.tui.screens.keys import KeysScreen
from smtui.tui.screens.logs import LogsScreen


def _compare(items: int, concurrency: int) -> str:
    """Preprocess (cached) → Train → Shards, a ForEach of `items` Score iterations, `concurrency` at once."""
    doc = json.loads((DEFINITIONS / "compare.json").read_text())
    shards = doc["Steps"][2]["Arguments"]
    shards["IterableItems"] = [f"s{i}" for i in range(items)]
    shards["MaxConcurrency"] = concurrency
    return json.dumps(doc)


async def _open(app: Any, pilot: Any, arn: str) -> ExecutionScreen:
    table = app.screen
    assert isinstance(table, ExecutionsScreen)
    await until(lambda: arn in table.table.rows_shown, pilot=pilot, what="the row")
    table.table.select_arn(arn)
    await pilot.press("enter")
    await until(lambda: isinstance(app.screen, ExecutionScreen), pilot=pilot, what="the execution")
    screen = app.screen
    await until(lambda: screen.tree_view.step_tree is not None, pilot=pilot, what="the tree")
    return screen  # type: ignore[no-any-return]


def _bar(app: Any, name: str) -> str:
    """The timeline's line of step `name` as the terminal shows it ('' if not on screen)."""
    for line in screen_text(app):
        if line[1:].lstrip().startswith(name + " "):
            return line
    return ""


async def _steps(emu: Emulator, arn: str) -> dict[str, dict[str, Any]]:
    reply = await emu.client.call("list_pipeline_execution_steps", PipelineExecutionArn=arn)
    return {s["StepName"]: s for s in reply["PipelineExecutionSteps"]}


async def _until_training(emu: Emulator, arn: str) -> None:
    while (await _steps(emu, arn)).get("Train", {}).get("StepStatus") != "Executing":
        emu.advance(5)
    emu.advance(20)


async def test_timeline_at_80x24_cache_hit_foreach_critical_path_and_a_growing_bar(emu: Emulator) -> None:
    pipeline = f"cmp-{uuid.uuid4().hex[:6]}"
    await emu.create_pipeline(pipeline, _compare(items=30, concurrency=10))
    first = await emu.start(pipeline)
    await _until_training(emu, first)
    async with tui(emu, size=(80, 24)) as (app, pilot):
        screen = await _open(app, pilot, first)
        await pilot.press("t")
        await until(lambda: "Train" in _bar(app, "Train"), pilot=pilot, what="the Gantt view")
        lines = screen_text(app)
        assert all(len(line) <= 80 for line in lines)
        legend = "\n".join(lines[-4:])
        assert "◆ cache hit" in legend and "▓ running" in legend and "· waiting" in legend
        pre, train = _bar(app, "Preprocess"), _bar(app, "Train")
        assert "█" in pre and "▓" in train and pre.index("█") < train.index("▓")
        assert pre.startswith("*") and train.startswith("*")  # what decided the total so far
        assert "no history" in train  # the pipeline's first run

        # The clock moves: the running bar grows, its duration with it.
        cells, tail = train.count("▓"), train.split()[-3:]
        emu.advance(120)
        await until(lambda: _bar(app, "Train").count("▓") > cells, pilot=pilot, what="the bar to grow")
        assert _bar(app, "Train").split()[-3:] != tail
        emu.advance(3 * 3600)
        assert await emu.status(first) == "Succeeded"

        second = await emu.start(pipeline)  # the same parameters: Preprocess hits the cache
        await _until_training(emu, second)
        await pilot.press("escape")
        screen = await _open(app, pilot, second)
        assert screen.timeline_shown is False  # each execution opens on its tree
        await pilot.press("t")
        await until(lambda: "◆" in _bar(app, "Preprocess"), pilot=pilot, what="the cache hit")
        assert "cached" in _bar(app, "Preprocess")
        # The first run's Train took longer than this one has run so far: an estimate, not `no history`.
        await until(lambda: "left" in _bar(app, "Train"), pilot=pilot, what="the estimate")

        # The ForEach runs ten iterations at a time: the others wait for a slot, until now.
        while (await _steps(emu, second)).get("Shards", {}).get("StepStatus") != "Executing":
            emu.advance(10)
        emu.advance(5)
        await until(lambda: "waiting" in _bar(app, "Score-12"), pilot=pilot, what="a queued iteration")
        assert "·" in _bar(app, "Score-12") and "▓" in _bar(app, "Score-0")

        # The run ends: the ForEach's iterations under it, the last of them on the critical path.
        emu.advance(3 * 3600)
        await until(lambda: "█" in _bar(app, "Shards"), pilot=pilot, wait=15, what="the run's end")
        assert _bar(app, "Shards").startswith("*") and "  Score-0 " in _bar(app, "Score-0")
        assert "Score-29" not in "\n".join(screen_text(app))  # 33 bars: not all fit in 24 lines
        await pilot.press("end")
        await until(lambda: "█" in _bar(app, "Score-29"), pilot=pilot, what="the view to scroll")
        assert _bar(app, "Preprocess") == ""
        on_path = [i for i in range(30) if _bar_of(app, screen, f"Score-{i}").startswith("*")]
        assert len(on_path) == 1

        # The cursor on an iteration: Enter shows it in the tree, its details beside it.
        await pilot.press("home", "end", "up", "enter")
        await until(lambda: not screen.timeline_shown, pilot=pilot, what="the tree")
        node = screen.tree_view.selected_step()
        assert node is not None and node.name == "Score-28"
        assert any(line.split()[:2] == ["Step", "Score-28"] for line in screen_text(app))  # its details


def _bar_of(app: Any, screen: ExecutionScreen, name: str) -> str:
    """The line of `name` in the timeline, scrolled into view first (its cursor moves there)."""
    from smtui.tui.widgets.timeline_view import TimelineView

    view = screen.query_one(TimelineView)
    index = next(i for i, bar in enumerate(view.bars) if bar.name == name)
    view.move_to(index)
    lines = view.text_lines()
    return next(line for line in lines if line[1:].lstrip().startswith(name + " "))


async def test_a_retried_step_draws_its_earlier_attempt_apart(emu: Emulator) -> None:
    pipeline = f"flaky-{uuid.uuid4().hex[:6]}"  # its first Preprocess attempt fails
    await emu.create_pipeline(pipeline, (DEFINITIONS / "train-retry-cache.json").read_text())
    arn = await emu.start(pipeline)
    emu.advance(3600)
    assert await emu.status(arn) == "Failed"
    emu.advance(120)
    await emu.client.call(
        "retry_pipeline_execution", PipelineExecutionArn=arn, ClientRequestToken=uuid.uuid4().hex
    )
    emu.advance(3600)
    assert await emu.status(arn) == "Succeeded"
    async with tui(emu, size=(120, 30)) as (app, pilot):
        screen = await _open(app, pilot, arn)
        await pilot.press("t")
        await until(lambda: "█" in _bar(app, "Preprocess"), pilot=pilot, what="the Gantt view")
        pre = _bar(app, "Preprocess")
        assert "░" in pre and pre.rindex("░") < pre.index("█") and "×2" in pre
        assert "░ earlier attempts" in "\n".join(screen_text(app)[-5:])
        await pilot.press("down", "l")  # the step under the timeline's cursor: its logs
        await until(lambda: isinstance(app.screen, LogsScreen), pilot=pilot, what="the logs")
        assert app.screen.step == "Train"
        await pilot.press("escape")
        await until(lambda: app.screen is screen, pilot=pilot, what="the execution again")
        assert screen.timeline_shown  # as it was left
        await pilot.press("t")  # and back to the tree
        await until(lambda: not screen.timeline_shown, pilot=pilot, what="the tree")
        assert any("Preprocess" in line and "attempt 2" in line for line in screen_text(app))
        assert "t Timeline" in screen_text(app)[-1]  # the footer
        await pilot.press("question_mark")
        await until(lambda: isinstance(app.screen, KeysScreen), pilot=pilot, what="the keys")
        keys = text_of(app.screen.query_one("#keys-table", Static))
        assert any(
            line.split()[:2] == ["t", "Timeline"] and "execution.timeline" in line
            for line in keys.splitlines()
        )


PREP = {
    "Name": "Prep",
    "Type": "Processing",
    "Arguments": {
        "ProcessingResources": {
            "ClusterConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30}
        },
        "AppSpecification": {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/proc:latest"},
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
    },
}
# A Callback step runs until it is answered: the test decides how long each run of it takes.
REVIEW = {
    "Name": "Review",
    "Type": "Callback",
    "DependsOn": ["Prep"],
    "Arguments": {},
    "SqsQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/reviews",
}


async def _review_running(emu: Emulator, arn: str) -> datetime:
    """Advance until Review waits for its answer; when it started."""
    while (step := (await _steps(emu, arn)).get("Review", {})).get("StepStatus") != "Executing":
        emu.advance(10)
    started: datetime = step["StartTime"]
    return started


async def _answer(emu: Emulator, arn: str) -> None:
    token = (await _steps(emu, arn))["Review"]["Metadata"]["Callback"]["CallbackToken"]
    await emu.client.call("send_pipeline_execution_step_success", CallbackToken=token)


def _line(app: Any, name: str) -> str:
    """The tree's or the timeline's line of step `name`."""
    return next((line for line in screen_text(app) if f" {name} " in line or f"*{name} " in line), "")


async def test_time_left_of_a_running_step_in_the_tree_and_the_timeline(emu: Emulator) -> None:
    pipeline = f"review-{uuid.uuid4().hex[:6]}"
    doc = {"Version": "2020-12-01", "Parameters": [], "Steps": [PREP, REVIEW]}
    await emu.create_pipeline(pipeline, json.dumps(doc))
    first = await emu.start(pipeline)
    first_review = await _review_running(emu, first)
    async with tui(emu, size=(140, 30)) as (app, pilot):
        screen = await _open(app, pilot, first)
        await until(lambda: "no history" in _line(app, "Review"), pilot=pilot, what="no history")

        emu.advance(600)  # this run's Review takes ten minutes (and a little)
        await _answer(emu, first)
        emu.advance(60)
        assert await emu.status(first) == "Succeeded"
        took = (await _steps(emu, first))["Review"]["EndTime"] - first_review
        await pilot.press("escape")

        second = await emu.start(pipeline)
        second_review = await _review_running(emu, second)
        emu.advance(60)
        screen = await _open(app, pilot, second)
        running = emu.now() - second_review
        expected = {format_duration(took - running + timedelta(seconds=d)) for d in (-1, 0, 1)}
        await until(lambda: "left" in _line(app, "Review"), pilot=pilot, what="the estimate")
        assert any(f"~{text} left" in _line(app, "Review") for text in expected), _line(app, "Review")
        await pilot.press("t")
        await until(lambda: "▓" in _line(app, "Review"), pilot=pilot, what="the Gantt view")
        assert any(f"~{text} left" in _line(app, "Review") for text in expected), _line(app, "Review")

        emu.advance(took.total_seconds())  # now longer than the only earlier run of it
        await until(
            lambda: "longer than any earlier run" in _line(app, "Review"), pilot=pilot, what="the timeline"
        )
        await pilot.press("t")
        await until(lambda: not screen.timeline_shown, pilot=pilot, what="the tree")
        await until(
            lambda: "longer than any earlier run" in _line(app, "Review"), pilot=pilot, what="the tree"
        )
