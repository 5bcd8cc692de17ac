"""Entry points: `smtui` (the TUI against AWS) and `smtui demo` (the TUI on an embedded emulator)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from smtui.tui.session import Session

DEMO_TIME_SCALE = 30.0  # simulated seconds per real second: a 40-minute training step takes 80 s


def _settings(**flags: Any) -> Any:
    """Config file, then `SMTUI_*` environment, then these flags (see `smtui.config`)."""
    from smtui.config import load_settings

    try:
        return load_settings(**flags)
    except ValueError as error:
        raise click.ClickException(str(error)) from error


def _monitor_options(settings: Any) -> dict[str, float]:
    return {
        "rate": settings.rate,
        "active_interval": settings.active_interval,
        "watched_interval": settings.watched_interval,
        "discovery_interval": settings.discovery_interval,
    }


async def run_app(
    *,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    read_only: bool = False,
    now: Callable[[], datetime] | None = None,
    keymap: Mapping[str, str] | None = None,
    bell: bool = False,
    monitor_options: Mapping[str, Any] | None = None,
) -> None:
    """Open a session and run the app until the user quits."""
    from smtui.tui.app import SmtuiApp
    from smtui.tui.session import open_session

    async with open_session(
        profile=profile,
        region=region,
        endpoint_url=endpoint_url,
        read_only=read_only,
        now=now,
        monitor_options=monitor_options,
    ) as session:
        app = SmtuiApp(session, keymap=keymap, bell=bell)
        await app.run_async()


def run_tui(profile: str | None, region: str | None, endpoint_url: str | None, read_only: bool) -> None:
    """`smtui` with no subcommand: the monitor against AWS (or `--endpoint-url`)."""
    from smtui.core.errors import AwsError

    settings = _settings(
        profile=profile, region=region, endpoint_url=endpoint_url, read_only=read_only or None
    )
    try:
        asyncio.run(
            run_app(
                profile=settings.profile,
                region=settings.region,
                endpoint_url=settings.endpoint_url,
                read_only=settings.read_only,
                keymap=dict(settings.keys),
                bell=settings.bell,
                monitor_options=_monitor_options(settings),
            )
        )
    except AwsError as error:
        raise click.ClickException(str(error)) from error


def emulator_clock(running: Any) -> Callable[[], datetime]:
    """`now` on the emulator's simulated clock, so elapsed times agree with what it reports."""
    clock = running.backend.clock
    return lambda: datetime.fromtimestamp(clock.now(), UTC)


@asynccontextmanager
async def demo_session(*, time_scale: float, seed: int, settings: Any) -> AsyncIterator[Session]:
    """The embedded emulator with demo traffic, and a session on it; both closed on exit."""
    from smtui.emulator.cli import EmulatorOptions, start_emulator
    from smtui.tui.session import open_session

    running = await start_emulator(EmulatorOptions(demo=True, time_scale=time_scale, seed=seed))
    try:
        async with open_session(
            endpoint_url=running.url,
            region="us-east-1",
            read_only=settings.read_only,
            now=emulator_clock(running),
            # The demo runs 30x faster than life: the execution on screen is polled faster; the rest at
            # the normal pace (a step of the demo lasts minutes of simulated time, i.e. many polls).
            monitor_options={**_monitor_options(settings), "watched_interval": 0.5},
        ) as session:
            yield session
    finally:
        await running.stop()


async def run_demo(*, time_scale: float, seed: int, settings: Any) -> None:
    """The app at once on a placeholder, then the demo's data as soon as the emulator is up."""
    from smtui.tui.app import SmtuiApp
    from smtui.tui.session import placeholder_session

    app = SmtuiApp(
        placeholder_session("starting the demo emulator…", read_only=settings.read_only),
        keymap=dict(settings.keys),
        bell=settings.bell,
        connect=lambda: demo_session(time_scale=time_scale, seed=seed, settings=settings),
    )
    await app.run_async()


@click.command("demo")
@click.option(
    "--time-scale", default=DEMO_TIME_SCALE, show_default=True, help="Simulated seconds per second."
)
@click.option("--seed", default=7, show_default=True, help="Seed of the demo traffic (same seed, same runs).")
@click.pass_context
def demo_command(ctx: click.Context, time_scale: float, seed: int) -> None:
    """Open the monitor on an embedded emulator with demo pipelines and live traffic: no AWS needed."""
    import os

    # The embedded emulator accepts any credentials; set dummies so botocore never looks for real ones.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "demo")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "demo")
    settings = _settings(read_only=bool((ctx.obj or {}).get("read_only")) or None)
    asyncio.run(run_demo(time_scale=time_scale, seed=seed, settings=settings))
