"""Entry points: `smtui` (the TUI against AWS) and `smtui demo` (the TUI on an emulator it starts)."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
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


async def run_app(opening: AbstractAsyncContextManager[Session], settings: Any) -> None:
    """Open the session and run the app until the user quits."""
    from smtui.tui.app import SmtuiApp

    async with opening as session:
        app = SmtuiApp(session, keymap=dict(settings.keys), bell=settings.bell)
        quiet_gc()
        await app.run_async()


def tui_settings(
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    read_only: bool,
    events_queue: str | None = None,
    contexts: Sequence[str] = (),
    all_contexts: bool = False,
) -> tuple[Any, list[tuple[str, Any]]]:
    """The settings `smtui` runs with, and the contexts `--context`/`--all-contexts` chose (none: the flags'
    target). A single context stands in for `profile`/`region`/`endpoint_url`/`events_queue`: the TUI is
    then the one of a single account, with no Context column."""
    import msgspec

    from smtui.config import pick_contexts

    settings = _settings(
        profile=profile,
        region=region,
        endpoint_url=endpoint_url,
        read_only=read_only or None,
        events_queue=events_queue,
    )
    try:
        chosen = pick_contexts(settings, contexts, all_contexts)
    except ValueError as error:
        raise _failure(str(error), usage=True) from error
    if len(chosen) == 1:
        _, context = chosen[0]
        settings = msgspec.structs.replace(
            settings,
            profile=context.profile,
            region=context.region,
            endpoint_url=context.endpoint_url,
            events_queue=context.events_queue,  # a queue is one account's, one region's
        )
    return settings, chosen


def tui_session(settings: Any, chosen: Sequence[tuple[str, Any]]) -> AbstractAsyncContextManager[Session]:
    """The session `smtui` opens: one monitor (no context, or a single one), or one per context, merged."""
    from smtui.tui.session import open_contexts_session, open_session

    if len(chosen) > 1:
        contexts = [(name, c.profile, c.region, c.endpoint_url, c.events_queue) for name, c in chosen]
        return open_contexts_session(
            contexts,
            read_only=settings.read_only,
            monitor_options=_monitor_options(settings),
            logs_options=_logs_options(settings),
        )
    return open_session(
        profile=settings.profile,
        region=settings.region,
        endpoint_url=settings.endpoint_url,
        read_only=settings.read_only,
        monitor_options=_monitor_options(settings),
        logs_options=_logs_options(settings),
    )


def run_tui(
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    read_only: bool,
    events_queue: str | None = None,
    contexts: Sequence[str] = (),
    all_contexts: bool = False,
) -> None:
    """`smtui` with no subcommand: the monitor against AWS (or `--endpoint-url`), or `--context`s."""
    from smtui.core.errors import AwsError

    settings, chosen = tui_settings(
        profile, region, endpoint_url, read_only, events_queue, contexts, all_contexts
    )
    try:
        asyncio.run(run_app(tui_session(settings, chosen), settings))
    except AwsError as error:
        # Exit 2, as every command, for what only the user can fix (no region, a malformed endpoint, ...).
        raise _failure(str(error), usage=error.is_usage) from error


# The accounts of `smtui demo --contexts N`: one emulator each, seeded differently.
DEMO_ACCOUNTS = ("111111111111", "222222222222", "333333333333", "444444444444")


@asynccontextmanager
async def demo_contexts_session(
    *, time_scale: float, seed: int, settings: Any, emulators: Sequence[DemoEmulator]
) -> AsyncIterator[Session]:
    """A session over the demo's emulators, one context each (`demo-1`, `demo-2`, ...)."""
    from smtui.tui.demo_emulator import simulated_clock
    from smtui.tui.session import open_contexts_session

    urls = [await emulator.ready() for emulator in emulators]
    contexts = [(f"demo-{i}", None, "us-east-1", url, None) for i, url in enumerate(urls, 1)]
    async with open_contexts_session(
        contexts,
        read_only=settings.read_only,
        now=await simulated_clock(urls[0]),
        monitor_options={**_monitor_options(settings), "watched_interval": 0.5},
        logs_options=_logs_options(settings),
    ) as session:
        yield session


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


async def run_demo(*, time_scale: float, seed: int, settings: Any, contexts: int = 1) -> None:
    """The app at once on a placeholder, then the demo's data as soon as the emulator is up (with
    `contexts` > 1: that many emulators, each its own account and seed, in one merged table)."""
    from smtui.tui.demo_emulator import DemoEmulator

    # Before Textual is imported: the emulator starts while the screen is being built.
    if contexts > 1:
        emulators = [
            await DemoEmulator.start(time_scale=time_scale, seed=seed + i, account=DEMO_ACCOUNTS[i])
            for i in range(contexts)
        ]
    else:
        emulators = [await DemoEmulator.start(time_scale=time_scale, seed=seed)]
    from smtui.tui.app import SmtuiApp
    from smtui.tui.session import placeholder_session

    def connect() -> AbstractAsyncContextManager[Session]:
        if contexts > 1:
            return demo_contexts_session(
                time_scale=time_scale, seed=seed, settings=settings, emulators=emulators
            )
        return demo_session(time_scale=time_scale, seed=seed, settings=settings, emulator=emulators[0])

    app = SmtuiApp(
        placeholder_session("starting the demo emulator…", read_only=settings.read_only),
        keymap=dict(settings.keys),
        bell=settings.bell,
        connect=connect,
    )
    quiet_gc()
    try:
        await app.run_async()
    finally:
        for emulator in emulators:
            await emulator.stop()
    if app.return_code:  # the emulator did not start: the app said why on its way out
        raise SystemExit(app.return_code)


@click.command("demo")
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0),
    default=DEMO_TIME_SCALE,
    show_default=True,
    help="Simulated seconds per second.",
)
@click.option("--seed", default=7, show_default=True, help="Seed of the demo traffic (same seed, same runs).")
@click.option(
    "--contexts",
    type=click.IntRange(1, len(DEMO_ACCOUNTS)),
    default=1,
    show_default=True,
    help="Emulators, one account each, shown as contexts in one table.",
)
@click.pass_context
def demo_command(ctx: click.Context, time_scale: float, seed: int, contexts: int) -> None:
    """Open the monitor on an emulator with demo pipelines and live traffic: no AWS needed."""
    import os

    # The demo's emulator accepts any credentials; set dummies so botocore never looks for real ones.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "demo")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "demo")
    settings = _settings(read_only=bool((ctx.obj or {}).get("read_only")) or None)
    asyncio.run(run_demo(time_scale=time_scale, seed=seed, settings=settings, contexts=contexts))
