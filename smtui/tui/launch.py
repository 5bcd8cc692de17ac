"""Entry points: `smtui` (the TUI against AWS) and `smtui demo` (the TUI on an emulator it starts)."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from textual.strip import Strip

    from smtui.tui.demo_emulator import DemoEmulator
    from smtui.tui.session import Session

log = logging.getLogger(__name__)

DEMO_TIME_SCALE = 10.0  # simulated seconds per real second: a 40-minute training step takes 4 minutes


def _settings(**flags: Any) -> Any:
    """Config file, then `SMTUI_*` environment, then these flags (see `smtui.config`)."""
    from smtui.config import load_settings

    try:
        return load_settings(**flags)
    except ValueError as error:
        raise _failure(str(error), usage=True) from error


class _BadInput(click.ClickException):
    """A failure only the user can fix (settings, region, endpoint, credentials): exit 2, as every command."""

    exit_code = 2


def _failure(message: str, *, usage: bool) -> click.ClickException:
    return _BadInput(message) if usage else click.ClickException(message)


def _monitor_options(settings: Any) -> dict[str, Any]:
    return {
        "events_queue": settings.events_queue,
        "rate": settings.rate,
        "active_interval": settings.active_interval,
        "watched_interval": settings.watched_interval,
        "discovery_interval": settings.discovery_interval,
        "history": settings.history,
        # The first load reads as many finished executions as a pipeline keeps (pages of 100).
        "history_pages": -(-settings.history // 100),
    }


def _logs_options(settings: Any) -> dict[str, Any]:
    return {"rate": settings.logs_rate, "lines": settings.logs_lines}


def quiet_gc() -> None:
    """Fewer and shorter garbage collections, for a process that stays open for days.

    With Python's defaults a full collection of a 5,000-execution session (hundreds of milliseconds on a
    busy machine) landed on a key press every few seconds. What is loaded by now (Textual, botocore's
    service models) lives as long as the process: frozen, the full collections no longer walk it. A
    young generation of 20,000 objects (not 700) lets the short-lived objects of a poll or a repaint die
    before a collection promotes them.
    """
    uncycled_strips()
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)


# The Textual release `uncycled_strips` was written for and checked against.
STRIP_DIVIDE_WRITTEN_FOR = "8.2.8"


def uncycled_strips() -> bool:
    """Stop every line that reaches the screen whole from becoming cyclic garbage; True if patched.

    Textual's compositor cuts each line it paints with `Strip.divide`, which caches its result in the
    strip; when there is nothing to cut it caches `[self]`, a strip that refers to itself. Every table line
    is such a strip (the table draws its own scrollbar), so each repainted line, with its caches, waited
    for the cycle collector: ~23,000 objects a minute over the demo. An uncut strip is now returned
    uncached (it cost nothing to compute). Reported upstream: docs/upstream/textual-strip-divide.md (with
    a reproduction and the figures). Applied only to the Textual release it was written for: another
    one may have fixed it, or changed `Strip.divide`.
    """
    import textual
    from textual.strip import Strip

    if textual.__version__ != STRIP_DIVIDE_WRITTEN_FOR:
        log.warning(
            "smtui: Textual %s, not %s: Strip.divide not patched (docs/upstream/textual-strip-divide.md)",
            textual.__version__,
            STRIP_DIVIDE_WRITTEN_FOR,
        )
        return False
    divide = Strip.divide
    if getattr(divide, "uncycled", False):
        return True

    def uncut_or_divide(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
        cuts = [cut for cut in cuts if cut <= self.cell_length]
        if cuts == [self.cell_length]:
            return [self]
        return divide(self, cuts)

    uncut_or_divide.uncycled = True  # type: ignore[attr-defined]
    Strip.divide = uncut_or_divide  # type: ignore[method-assign]
    return True


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
    logs_options: Mapping[str, Any] | None = None,
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
        logs_options=logs_options,
    ) as session:
        app = SmtuiApp(session, keymap=keymap, bell=bell)
        quiet_gc()
        await app.run_async()


def run_tui(
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    read_only: bool,
    events_queue: str | None = None,
) -> None:
    """`smtui` with no subcommand: the monitor against AWS (or `--endpoint-url`)."""
    from smtui.core.errors import AwsError

    settings = _settings(
        profile=profile,
        region=region,
        endpoint_url=endpoint_url,
        read_only=read_only or None,
        events_queue=events_queue,
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
                logs_options=_logs_options(settings),
            )
        )
    except AwsError as error:
        # Exit 2, as every command, for what only the user can fix (no region, a malformed endpoint, ...).
        raise _failure(str(error), usage=error.is_usage) from error


@asynccontextmanager
async def demo_session(
    *, time_scale: float, seed: int, settings: Any, emulator: DemoEmulator | None = None
) -> AsyncIterator[Session]:
    """The demo emulator (a child process, started here unless given) and a session on it; both closed
    on exit."""
    from smtui.tui.demo_emulator import DemoEmulator, simulated_clock
    from smtui.tui.session import open_session

    if emulator is None:
        emulator = await DemoEmulator.start(time_scale=time_scale, seed=seed)
    try:
        url = await emulator.ready()
        async with open_session(
            endpoint_url=url,
            region="us-east-1",
            read_only=settings.read_only,
            # Elapsed times on the emulator's simulated clock, so they agree with what it reports.
            now=await simulated_clock(url),
            # The demo runs faster than life: the execution on screen is polled faster; the rest at
            # the normal pace (a step of the demo lasts minutes of simulated time, i.e. many polls).
            monitor_options={**_monitor_options(settings), "watched_interval": 0.5, "events_queue": None},
            logs_options=_logs_options(settings),
        ) as session:
            yield session
    finally:
        await emulator.stop()


async def run_demo(*, time_scale: float, seed: int, settings: Any) -> None:
    """The app at once on a placeholder, then the demo's data as soon as the emulator is up."""
    from smtui.tui.demo_emulator import DemoEmulator

    # Before Textual is imported: the emulator starts while the screen is being built.
    emulator = await DemoEmulator.start(time_scale=time_scale, seed=seed)
    from smtui.tui.app import SmtuiApp
    from smtui.tui.session import placeholder_session

    app = SmtuiApp(
        placeholder_session("starting the demo emulator…", read_only=settings.read_only),
        keymap=dict(settings.keys),
        bell=settings.bell,
        connect=lambda: demo_session(time_scale=time_scale, seed=seed, settings=settings, emulator=emulator),
    )
    quiet_gc()
    try:
        await app.run_async()
    finally:
        await emulator.stop()


@click.command("demo")
@click.option(
    "--time-scale", default=DEMO_TIME_SCALE, show_default=True, help="Simulated seconds per second."
)
@click.option("--seed", default=7, show_default=True, help="Seed of the demo traffic (same seed, same runs).")
@click.pass_context
def demo_command(ctx: click.Context, time_scale: float, seed: int) -> None:
    """Open the monitor on an emulator with demo pipelines and live traffic: no AWS needed."""
    import os

    # The demo's emulator accepts any credentials; set dummies so botocore never looks for real ones.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "demo")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "demo")
    settings = _settings(read_only=bool((ctx.obj or {}).get("read_only")) or None)
    asyncio.run(run_demo(time_scale=time_scale, seed=seed, settings=settings))
