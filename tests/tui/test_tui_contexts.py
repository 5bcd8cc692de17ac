"""Several contexts in the TUI: two in-process emulators on two ports, two accounts, one merged table."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    FAST_LOGS,
    FAST_MONITOR,
    ROLE,
    Emulator,
    KeyPilot,
    definition,
    from_palette,
    screen_text,
    type_text,
    until,
)

from smtui.core.client import AwsTarget, SageMakerClient

ALPHA, BETA = "111111111111", "222222222222"


@asynccontextmanager
async def emulator(account: str, seed: int) -> AsyncIterator[Emulator]:
    from smtui.emulator.cli import EmulatorOptions, start_emulator

    running = await start_emulator(EmulatorOptions(time_scale=0, seed=seed, account=account))
    try:
        async with SageMakerClient.create(AwsTarget(region="us-east-1", endpoint_url=running.url)) as client:
            yield Emulator(url=running.url, running=running, client=client)
    finally:
        await running.stop()


@pytest.fixture
async def two() -> AsyncIterator[tuple[Emulator, Emulator]]:
    async with emulator(ALPHA, 3) as alpha, emulator(BETA, 4) as beta:
        yield alpha, beta


@asynccontextmanager
async def tui(alpha: Emulator, beta: Emulator, size: tuple[int, int] = (160, 30)) -> AsyncIterator[Any]:
    from smtui.tui.app import SmtuiApp
    from smtui.tui.session import open_contexts_session

    contexts = [("alpha", None, "us-east-1", alpha.url, None), ("beta", None, "us-east-1", beta.url, None)]
    async with open_contexts_session(
        contexts, now=alpha.now, monitor_options=FAST_MONITOR, logs_options=FAST_LOGS
    ) as session:
        app = SmtuiApp(session, tick_interval=0.2)
        async with app.run_test(size=size):
            yield app, KeyPilot(app)


async def started(emu: Emulator, pipeline: str) -> str:
    await emu.client.call(
        "create_pipeline",
        PipelineName=pipeline,
        PipelineDefinition=definition(),
        RoleArn=ROLE,
        ClientRequestToken=f"create-{pipeline}-token-0123456789abcdef",
    )
    return await emu.start(pipeline)


def row_of(app: Any, execution_id: str) -> str:
    return next((line for line in screen_text(app) if execution_id in line), "")


def header(app: Any) -> str:
    return screen_text(app)[0]


async def test_the_table_merges_the_contexts_and_marks_only_the_one_whose_credentials_expire(
    two: tuple[Emulator, Emulator],
) -> None:
    alpha, beta = two
    a_arn = await started(alpha, "alpha-train")
    b_arn = await started(beta, "beta-train")
    a_id, b_id = a_arn.rsplit("/", 1)[1], b_arn.rsplit("/", 1)[1]
    async with tui(alpha, beta) as (app, pilot):
        await until(lambda: row_of(app, a_id) and row_of(app, b_id), pilot=pilot, what="both rows")
        assert row_of(app, a_id).split()[2:4] == ["alpha", "alpha-train"]
        assert row_of(app, b_id).split()[2:4] == ["beta", "beta-train"]
        assert "alpha ● beta ●" in header(app)

        beta.running.protocol.faults.configure({"expired_token": True})
        await until(lambda: "beta ⚠" in header(app), pilot=pilot, what="beta marked in the header")
        assert "alpha ●" in header(app)
        assert "ExpiredToken" in header(app) or "expired" in header(app).lower()
        await until(lambda: "⚠ beta" in row_of(app, b_id), pilot=pilot, what="beta's rows marked")
        assert "⚠" not in row_of(app, a_id)
        # The other context goes on: a run started there now shows up.
        later = await alpha.start("alpha-train")
        await until(lambda: row_of(app, later.rsplit("/", 1)[1]), pilot=pilot, what="alpha still polled")

        # Logged in again (the fault lifted): the context recovers in the same session, no restart.
        beta.running.protocol.faults.configure({})
        await app.session.contexts.retry_now("beta")
        await until(lambda: "beta ●" in header(app), pilot=pilot, what="beta recovered")
        await until(lambda: "⚠" not in row_of(app, b_id), pilot=pilot, what="beta's rows unmarked")


async def test_ctx_filter_and_the_palette_switch_to_one_context(two: tuple[Emulator, Emulator]) -> None:
    alpha, beta = two
    a_id = (await started(alpha, "alpha-etl")).rsplit("/", 1)[1]
    b_id = (await started(beta, "beta-etl")).rsplit("/", 1)[1]
    async with tui(alpha, beta) as (app, pilot):
        await until(lambda: row_of(app, a_id) and row_of(app, b_id), pilot=pilot, what="both rows")
        await pilot.press("/")
        await type_text(pilot, "ctx:beta", "enter")
        await until(lambda: not row_of(app, a_id), pilot=pilot, what="alpha filtered out")
        assert row_of(app, b_id)
        await pilot.press("escape")
        await until(lambda: row_of(app, a_id), pilot=pilot, what="filter cleared")

        await from_palette(pilot, "context alpha")
        await until(lambda: not row_of(app, b_id), pilot=pilot, what="switched to alpha")
        assert row_of(app, a_id) and "context alpha" in screen_text(app)[1]

        await from_palette(pilot, "all contexts")
        await until(lambda: row_of(app, b_id), pilot=pilot, what="back to every context")
        assert row_of(app, a_id)


async def test_an_action_on_a_row_goes_to_its_context(two: tuple[Emulator, Emulator]) -> None:
    from smtui.tui.screens.confirm import ConfirmScreen

    alpha, beta = two
    await started(alpha, "alpha-old")
    alpha.advance(5)
    beta.advance(5)
    b_arn = await started(beta, "beta-new")  # the newest: the cursor's row
    async with tui(alpha, beta) as (app, pilot):
        screen = app.screen
        await until(lambda: screen.table.cursor_arn == b_arn, pilot=pilot, what="beta's row under the cursor")
        await pilot.press("x")
        await until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot, what="confirmation")
        await pilot.press("y")
        await until(lambda: "Stopping" in row_of(app, b_arn.rsplit("/", 1)[1]), pilot=pilot, what="Stopping")
        assert await beta.status(b_arn) == "Stopping"
        assert "SageMaker.StopPipelineExecution" not in alpha.mutating_calls()


async def test_a_pipeline_of_the_same_name_in_two_contexts_is_two_pipelines(
    two: tuple[Emulator, Emulator],
) -> None:
    from wire_harness import simple_definition

    from smtui.core.contexts import pipeline_key
    from smtui.tui.screens.definition import DefinitionScreen
    from smtui.tui.screens.executions import ExecutionsScreen
    from smtui.tui.screens.pipelines import PipelinesScreen

    alpha, beta = two
    a_ids = [(await started(alpha, "train")).rsplit("/", 1)[1]]
    a_ids.append((await alpha.start("train")).rsplit("/", 1)[1])
    # Beta's "train" is another pipeline: other steps, another parameter.
    parameter = {"Name": "BetaOnly", "Type": "String", "DefaultValue": "b"}
    await beta.create_pipeline("train", simple_definition(parameters=[parameter]))
    b_id = (await beta.start("train")).rsplit("/", 1)[1]
    async with tui(alpha, beta) as (app, pilot):
        await until(lambda: len(app.session.monitor.pipelines) == 2, pilot=pilot, what="both pipelines")
        await until(
            lambda: row_of(app, b_id) and all(row_of(app, i) for i in a_ids), pilot=pilot, what="rows"
        )
        await pilot.press("p")
        await until(lambda: isinstance(app.screen, PipelinesScreen), pilot=pilot, what="the pipelines view")

        def rows() -> list[list[str]]:
            return [line.split() for line in screen_text(app) if line.split()[:1] == ["train"]]

        await until(lambda: len(rows()) == 2, pilot=pilot, what="a row per context")
        # Each row is its context's pipeline, with its context's runs: two active in alpha, one in beta.
        assert sorted(row[1:4] for row in rows()) == [["alpha", "▶", "2"], ["beta", "▶", "1"]]
        assert "2 pipelines" in screen_text(app)[1]

        table = app.screen.table
        table.move_cursor(row=table.get_row_index(pipeline_key("beta", "train")))
        await pilot.press("s")
        await until(lambda: isinstance(app.screen, DefinitionScreen), pilot=pilot, what="the step graph")
        await until(lambda: "Prepare" in "\n".join(screen_text(app)), pilot=pilot, what="beta's definition")
        assert "train · beta" in screen_text(app)[1] and "Preprocess" not in "\n".join(screen_text(app))

        await pilot.press("escape", "enter")  # the executions of beta's train only
        await until(lambda: isinstance(app.screen, ExecutionsScreen), pilot=pilot, what="the executions")
        await until(lambda: not row_of(app, a_ids[0]), pilot=pilot, what="alpha's train filtered out")
        assert row_of(app, b_id) and "pipeline:=train ctx:=beta" in "\n".join(screen_text(app))

        # The start form lists both, and starts the one picked in its own context, with its parameters.
        await pilot.press("escape", "n")
        await until(lambda: "train  beta" in "\n".join(screen_text(app)), pilot=pilot, what="the start form")
        assert "train  alpha" in "\n".join(screen_text(app))
        await pilot.press("down", "enter")
        await until(lambda: "BetaOnly" in "\n".join(screen_text(app)), pilot=pilot, what="beta's parameters")
        await pilot.press("ctrl+s")
        started_calls = "SageMaker.StartPipelineExecution"
        await until(lambda: beta.calls().get(started_calls) == 2, pilot=pilot, what="started in beta")
        assert alpha.calls().get(started_calls) == 2  # the test's own two


async def test_at_80_columns_the_progress_stays_in_view_beside_the_context(
    two: tuple[Emulator, Emulator],
) -> None:
    alpha, beta = two
    a_id = (await started(alpha, "alpha-train")).rsplit("/", 1)[1]
    b_id = (await started(beta, "beta-train")).rsplit("/", 1)[1]
    async with tui(alpha, beta, size=(80, 24)) as (app, pilot):
        await until(
            lambda: re.search(r"\d+/\d+", row_of(app, a_id)) and re.search(r"\d+/\d+", row_of(app, b_id)),
            pilot=pilot,
            what="both rows with their progress",
        )
        labels = next(line for line in screen_text(app) if "Status" in line).split()
        assert labels[:6] == ["Status", "Context", "Pipeline", "Execution", "Elapsed", "Progress"]
        assert row_of(app, a_id).split()[2] == "alpha" and row_of(app, b_id).split()[2] == "beta"


def json_files(directory: Path) -> list[Path]:
    return list(directory.glob("*.json"))


async def test_an_export_of_the_merged_table_says_each_rows_context(
    two: tuple[Emulator, Emulator], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    alpha, beta = two
    a_arn = await started(alpha, "alpha-etl")
    b_arn = await started(beta, "beta-etl")
    async with tui(alpha, beta) as (app, pilot):
        await until(lambda: row_of(app, a_arn[-12:]) and row_of(app, b_arn[-12:]), pilot=pilot, what="rows")
        await from_palette(pilot, "export JSON")
        [path] = await until(lambda: json_files(tmp_path), pilot=pilot, what="the JSON file")
        where = {d["arn"]: (d["context"], d["account"], d["region"]) for d in json.loads(path.read_text())}
        assert where == {a_arn: ("alpha", ALPHA, "us-east-1"), b_arn: ("beta", BETA, "us-east-1")}
