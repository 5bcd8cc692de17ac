"""Several contexts in the TUI: two in-process emulators on two ports, two accounts, one merged table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from conftest import FAST_LOGS, FAST_MONITOR, ROLE, Emulator, definition, screen_text, type_text, until

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
        async with app.run_test(size=size) as pilot:
            yield app, pilot


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

        await pilot.press("ctrl+p")
        await type_text(pilot, "context alpha")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(lambda: not row_of(app, b_id), pilot=pilot, what="switched to alpha")
        assert row_of(app, a_id) and "context alpha" in screen_text(app)[1]

        await pilot.press("ctrl+p")
        await type_text(pilot, "all contexts")
        await pilot.pause(0.5)
        await pilot.press("enter")
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


async def test_the_pipelines_view_and_the_start_form_list_every_contexts_pipelines(
    two: tuple[Emulator, Emulator],
) -> None:
    from smtui.tui.screens.pipelines import PipelinesScreen

    alpha, beta = two
    await started(alpha, "alpha-train")
    await started(beta, "beta-train")
    async with tui(alpha, beta) as (app, pilot):
        # Each monitor replaces its mapping of pipelines when it lists them: the merged view must follow.
        await until(lambda: len(app.session.monitor.pipelines) == 2, pilot=pilot, what="both pipelines")
        await pilot.press("p")
        await until(lambda: isinstance(app.screen, PipelinesScreen), pilot=pilot, what="the pipelines view")
        await until(
            lambda: (
                any(line.strip().startswith("beta-train") for line in screen_text(app))
                and any(line.strip().startswith("alpha-train") for line in screen_text(app))
            ),
            pilot=pilot,
            what="a row per pipeline of both contexts",
        )
        assert "2 pipelines" in screen_text(app)[1]
        await pilot.press("escape", "n")
        await until(
            lambda: (
                any("alpha-train" in line for line in screen_text(app))
                and any("beta-train" in line for line in screen_text(app))
            ),
            pilot=pilot,
            what="both pipelines in the start form",
        )
