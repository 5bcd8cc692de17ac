"""`smtui --context NAME` as the command line opens it (`launch.tui_settings` and `tui_session`, what
`run_tui` runs): the contexts of a config file, each its own emulator (its endpoint, its account)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from conftest import Emulator, screen_text, until
from test_tui_contexts import ALPHA, BETA, emulator, header, row_of, started

# As the tests' FAST_MONITOR, written as a user would write it.
FAST = "rate = 200\nactive_interval = 0.2\nwatched_interval = 0.1\ndiscovery_interval = 0.3\n"


def write_config(contexts: dict[str, Emulator]) -> None:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "smtui" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    tables = "".join(
        f'\n[contexts.{name}]\nregion = "us-east-1"\nendpoint_url = "{emu.url}"\n'
        for name, emu in contexts.items()
    )
    path.write_text(FAST + tables)


@asynccontextmanager
async def smtui(*names: str, every: bool = False) -> AsyncIterator[Any]:
    """The app as `smtui --context NAME...` (or `--all-contexts`) opens it, under Pilot."""
    from smtui.tui.app import SmtuiApp
    from smtui.tui.launch import tui_session, tui_settings

    settings, chosen = tui_settings(None, None, None, False, contexts=names, all_contexts=every)
    async with tui_session(settings, chosen) as session:
        app = SmtuiApp(session, tick_interval=0.2)
        async with app.run_test(size=(160, 30)) as pilot:
            yield app, pilot


def table_labels(app: Any) -> Sequence[str]:
    return next(line for line in screen_text(app) if "Status" in line).split()


async def test_one_context_alone_is_the_table_of_a_single_account() -> None:
    async with emulator(ALPHA, 3) as alpha, emulator(BETA, 4) as beta:
        write_config({"solo": alpha, "other": beta})
        a_id = (await started(alpha, "alpha-train")).rsplit("/", 1)[1]
        b_id = (await started(beta, "beta-train")).rsplit("/", 1)[1]
        async with smtui("solo") as (app, pilot):
            await until(lambda: row_of(app, a_id), pilot=pilot, what="the context's row")
            # The header names the endpoint, as with --endpoint-url; no per-context state, no Context column.
            assert alpha.url in header(app) and "solo" not in header(app)
            assert "Context" not in table_labels(app)
            assert row_of(app, a_id).split()[2] == "alpha-train"
            assert not row_of(app, b_id)  # the other context of the file is not monitored
            assert "SageMaker.ListPipelines" not in beta.calls()


async def test_several_contexts_from_the_command_line_are_merged() -> None:
    async with emulator(ALPHA, 3) as alpha, emulator(BETA, 4) as beta:
        write_config({"alpha": alpha, "beta": beta})
        a_id = (await started(alpha, "alpha-train")).rsplit("/", 1)[1]
        b_id = (await started(beta, "beta-train")).rsplit("/", 1)[1]
        async with smtui("alpha", "beta") as (app, pilot):
            await until(lambda: row_of(app, a_id) and row_of(app, b_id), pilot=pilot, what="both rows")
            assert "alpha ● beta ●" in header(app)
            assert "Context" in table_labels(app)
        async with smtui(every=True) as (app, pilot):
            await until(lambda: row_of(app, a_id) and row_of(app, b_id), pilot=pilot, what="both rows")
            assert row_of(app, b_id).split()[2] == "beta"
