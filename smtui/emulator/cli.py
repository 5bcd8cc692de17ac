"""`smtui emulator`, and the API that embeds the emulator in a running asyncio loop (`smtui demo`).

options = EmulatorOptions(port=0, time_scale=10, demo=True)
running = await start_emulator(options)   # listening once this returns
... running.url ...
await running.stop()                      # state flushed
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

# How long a stop waits for the requests in progress (long polls are answered at once: `Queues.close`).
# aiohttp waits 60 s by default, and once stopping it reads nothing more from a connection: a request whose
# body was still on its way when SIGTERM came (botocore sends it after the headers) could never finish and
# held the exit for that whole minute.
STOP_GRACE = 1.0

if TYPE_CHECKING:
    from aiohttp import web

    from smtui.emulator.ops.common import Backend
    from smtui.emulator.wire.server import Protocol


@dataclass(frozen=True)
class EmulatorOptions:
    """How to run an emulator."""

    host: str = "127.0.0.1"
    """Interface to bind; loopback unless told otherwise."""
    port: int = 0
    """TCP port; 0 picks a free one (read it from `RunningEmulator.url`)."""
    time_scale: float = 1.0
    """Simulated seconds per real second; 0 stands the clock still until `/_emulator/clock` advances it."""
    seed: int = 0
    """Seeds the scenario's draws and the fault injection: the same seed gives the same run."""
    scenario: str | None = None
    """A scenario TOML file layered over the bundled default."""
    demo: bool = False
    """Create the demo pipelines and keep traffic going."""
    state: str | None = None
    """SQLite file: load state from it at start, persist every change to it."""
    region: str = "us-east-1"
    """Region for ARNs when a request is not SigV4-signed with one."""
    account: str = "123456789012"
    """Account id in every ARN."""


@dataclass
class RunningEmulator:
    """A started emulator: its URL, its backend (for in-process use) and `stop()`."""

    url: str
    protocol: Protocol
    _runner: web.AppRunner
    _tasks: list[asyncio.Task[Any]]

    @property
    def backend(self) -> Backend:
        """The moving parts now (`/_emulator/reset` replaces them)."""
        return self.protocol.backend

    async def stop(self) -> None:
        """Stop serving, end background traffic, flush and close the state."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.backend.bus.queues.close()  # a consumer's long poll would hold the shutdown for up to 20 s
        await self._runner.cleanup()
        self.backend.store.close()


async def start_emulator(options: EmulatorOptions) -> RunningEmulator:
    """Build the emulator and start listening; returns once it accepts connections."""
    from aiohttp import web

    from smtui.emulator.shapes import service_shapes
    from smtui.emulator.wire.app import build_app
    from smtui.emulator.wire.server import Protocol

    backend = _backend(options)
    # Load both service models now, not on the first request (botocore takes a moment to parse them).
    for service in ("sagemaker", "logs", "sqs", "events"):
        service_shapes(service)
    # `/_emulator/reset` builds the backend again; not over a state file (it would empty it) nor the demo's
    # traffic (its task drives the backend it started with).
    fresh = None if options.state or options.demo else lambda: _backend(options)
    protocol = Protocol(backend, seed=options.seed, fresh=fresh)
    runner = web.AppRunner(
        build_app(protocol), access_log=None, handle_signals=False, shutdown_timeout=STOP_GRACE
    )
    await runner.setup()
    site = web.TCPSite(runner, options.host, options.port)
    await site.start()
    # The bound address, from aiohttp's public API: with `port=0` the OS picked the port.
    addresses = runner.addresses
    port = int(addresses[0][1]) if addresses else options.port
    host = options.host if ":" not in options.host else f"[{options.host}]"
    tasks: list[asyncio.Task[Any]] = []
    if options.demo:
        tasks.extend(_start_demo(backend))
    return RunningEmulator(url=f"http://{host}:{port}", protocol=protocol, _runner=runner, _tasks=tasks)


def _backend(options: EmulatorOptions) -> Backend:
    """The emulator's moving parts as `options` start them: state, clock, scenario, engine, bus."""
    from smtui.emulator.bus.bus import Bus
    from smtui.emulator.clock import Clock
    from smtui.emulator.engine.engine import Engine
    from smtui.emulator.engine.scenario import Scenario
    from smtui.emulator.ops.common import Backend
    from smtui.emulator.store.store import Store

    store = Store(options.state)
    # A restart resumes the simulated clock where the state left it, so running executions carry on.
    saved_now = store.meta.get("clock")
    clock = Clock(start=float(saved_now) if saved_now is not None else None, time_scale=options.time_scale)
    store.now_source = clock.now
    if options.scenario:
        scenario = Scenario.load(options.scenario, seed=options.seed)
    else:
        scenario = Scenario.default(seed=options.seed)
    engine = Engine(store, clock, scenario, region=options.region, account=options.account)
    bus = Bus(engine, clock, account=options.account, region=options.region, seed=options.seed)
    return Backend(
        store=store, engine=engine, clock=clock, account=options.account, region=options.region, bus=bus
    )


def _start_demo(backend: Backend) -> list[asyncio.Task[Any]]:
    """Seed the demo pipelines and start the traffic task (the engine's `demo` module does the work)."""
    # Imported by name: the demo module belongs to the engine side and may be absent in a trimmed build.
    demo: Any = importlib.import_module("smtui.emulator.demo")
    started = demo.start(backend)
    return [asyncio.ensure_future(started)] if started is not None else []


async def _serve(options: EmulatorOptions, *, exit_on_eof: bool = False) -> None:
    # A child inherits its parent's blocked signals: started by a process that blocks SIGTERM (a library's
    # thread, a test worker that imported one), the emulator could not be stopped but killed.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    running = await start_emulator(options)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if exit_on_eof:
        _stop_on_eof(loop, stop)
    # The first line on stdout is the URL, printed only once the socket accepts connections.
    print(running.url, flush=True)
    try:
        await stop.wait()
    finally:
        await running.stop()


def _stop_on_eof(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Stop when stdin reaches its end: the parent that holds the other end of the pipe has gone, even
    if it was killed with SIGKILL and could not stop us itself (`smtui demo` runs the emulator so)."""
    fd = sys.stdin.fileno()

    def readable() -> None:
        if not os.read(fd, 4096):
            loop.remove_reader(fd)
            stop.set()

    loop.add_reader(fd, readable)


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port",
    default=0,
    type=click.IntRange(0, 65535),
    show_default=True,
    help="TCP port; 0 picks a free one.",
)
@click.option(
    "--time-scale", default=1.0, type=float, show_default=True, help="Simulated seconds per second."
)
@click.option(
    "--seed", default=0, type=int, show_default=True, help="Seed: the same seed gives the same run."
)
@click.option("--scenario", type=click.Path(exists=True, dir_okay=False), help="Scenario TOML file.")
@click.option("--demo", is_flag=True, help="Create demo pipelines and keep live traffic going.")
@click.option(
    "--state", type=click.Path(dir_okay=False), help="SQLite file to load state from and persist to."
)
@click.option("--region", default="us-east-1", show_default=True, help="Region for unsigned requests' ARNs.")
@click.option("--account", default="123456789012", show_default=True, help="Account id in ARNs.")
@click.option("--exit-on-eof", is_flag=True, hidden=True, help="Stop when stdin closes (run by a parent).")
@click.option("--nice", default=0, type=int, hidden=True, help="Lower the process's CPU priority by this.")
def emulator_command(
    host: str,
    port: int,
    time_scale: float,
    seed: int,
    scenario: str | None,
    demo: bool,
    state: str | None,
    region: str,
    account: str,
    exit_on_eof: bool,
    nice: int,
) -> None:
    """Run the local SageMaker Pipelines endpoint (SageMaker + CloudWatch Logs on one port).

    Prints its URL as the first line on stdout once it accepts connections; stops on SIGINT/SIGTERM.
    Point any AWS client at it with --endpoint-url and any credentials.
    """
    if time_scale < 0:
        raise click.BadParameter("must be >= 0", param_hint="--time-scale")
    if nice > 0:
        os.nice(nice)  # `smtui demo`'s emulator yields the CPU to the screen
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    options = EmulatorOptions(
        host=host,
        port=port,
        time_scale=time_scale,
        seed=seed,
        scenario=scenario,
        demo=demo,
        state=state,
        region=region,
        account=account,
    )
    import sqlite3

    from smtui.emulator.engine.scenario import ScenarioError

    try:
        asyncio.run(_serve(options, exit_on_eof=exit_on_eof))
    except ScenarioError as exc:
        raise click.ClickException(f"invalid scenario {scenario}: {exc}") from exc
    except sqlite3.Error as exc:
        raise click.ClickException(f"cannot use the state file {state}: {exc}") from exc
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from exc
