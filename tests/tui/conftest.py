"""Fixtures for the TUI tests: an emulator embedded in the test's loop, pipelines on it, the app on both.

The emulator runs on a paused clock (`time_scale=0`); tests move it with `advance()` instead of sleeping.
The monitor, its log followers and the app's tick run on a `ManualClock` of their own (`TuiClock`): it moves
only while a test waits (`until`, `idle`), one poll or tick at a time, so a wait takes the time of the calls
and the drawing it needs, not seconds of polling interval. Its `now` is the emulator's time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from smtui.core.client import AwsTarget, SageMakerClient
from smtui.core.clock import ManualClock
from smtui.tui.launch import uncycled_strips

# The app paints as under `smtui` and `smtui demo`, which patch Strip.divide at start (`uncycled_strips`):
# its repainted lines are freed at once, not left to the cycle collector.
uncycled_strips()

DEFINITIONS = Path(__file__).parent.parent / "definitions"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
# The log followers read at test speed too (a read every 0.1 s of the test's clock; the emulator's is still).
FAST_LOGS = {"options": {"interval": 0.1, "max_interval": 0.3, "quiet_after": 1.0}}
FAST_MONITOR = {"active_interval": 0.2, "watched_interval": 0.1, "discovery_interval": 0.3, "rate": 200.0}
TICK = 0.2  # the app's tick, in seconds of the test's clock
IDLE_LOOK = 0.004  # KeyPilot's look at the process: idle when it used under 5 % of a CPU meanwhile
STEP = 0.1  # how far a wait moves the test's clock between two looks at the screen (the fastest poll)


def definition(**defaults: Any) -> str:
    """The SDK-generated Condition/ForEach definition, with parameter defaults overridden."""
    doc = json.loads((DEFINITIONS / "condition-foreach.json").read_text())
    for parameter in doc["Parameters"]:
        if parameter["Name"] in defaults:
            parameter["DefaultValue"] = defaults[parameter["Name"]]
    return json.dumps(doc)


@dataclass
class Emulator:
    """An in-process emulator: its URL, its clock, and a client for set-up and for checking what it got."""

    url: str
    running: Any
    client: SageMakerClient

    def advance(self, seconds: float) -> None:
        self.running.backend.clock.advance(seconds)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.running.backend.clock.now(), UTC)

    def calls(self) -> dict[str, int]:
        return dict(self.running.protocol.calls)

    def mutating_calls(self) -> dict[str, int]:
        verbs = ("StartPipelineExecution", "StopPipelineExecution", "RetryPipelineExecution")
        return {k: v for k, v in self.calls().items() if k.split(".")[-1] in verbs}

    async def create_pipeline(self, name: str, definition_json: str | None = None) -> None:
        await self.client.call(
            "create_pipeline",
            PipelineName=name,
            PipelineDefinition=definition_json or definition(),
            RoleArn=ROLE,
            ClientRequestToken=f"create-{name}-token-0123456789abcdef",
        )

    async def start(self, pipeline: str, **parameters: str) -> str:
        reply = await self.client.call(
            "start_pipeline_execution",
            PipelineName=pipeline,
            PipelineParameters=[{"Name": k, "Value": v} for k, v in parameters.items()],
        )
        return str(reply["PipelineExecutionArn"])

    async def status(self, arn: str) -> str:
        reply = await self.client.call("describe_pipeline_execution", PipelineExecutionArn=arn)
        return str(reply["PipelineExecutionStatus"])

    async def parameters(self, arn: str) -> dict[str, str]:
        reply = await self.client.call("list_pipeline_parameters_for_execution", PipelineExecutionArn=arn)
        return {p["Name"]: p["Value"] for p in reply["PipelineParameters"]}

    async def executions(self, pipeline: str) -> list[dict[str, Any]]:
        reply = await self.client.call("list_pipeline_executions", PipelineName=pipeline)
        return list(reply["PipelineExecutionSummaries"])


@pytest.fixture(autouse=True)
def _dummy_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    yield


# The "flaky" pipelines fail their first Preprocess attempt (then succeed): a retry has work to do.
SCENARIO = """
[pipelines."flaky*".steps."Preprocess"]
fail_attempts = 1
failures = [{ reason = "AlgorithmError: disk full", exception = "" }]
"""


@pytest.fixture
async def emu(tmp_path: Path) -> AsyncIterator[Emulator]:
    from smtui.emulator.cli import EmulatorOptions, start_emulator

    scenario = tmp_path / "scenario.toml"
    scenario.write_text(SCENARIO)
    running = await start_emulator(EmulatorOptions(time_scale=0, seed=3, scenario=str(scenario)))
    try:
        async with SageMakerClient.create(AwsTarget(region="us-east-1", endpoint_url=running.url)) as client:
            yield Emulator(url=running.url, running=running, client=client)
    finally:
        await running.stop()


class TuiClock(ManualClock):
    """The monitor's clock in a TUI test: its monotonic time moves only when the test waits; its `now` is
    the emulator's time (which moves only when the test calls `emu.advance`)."""

    def __init__(self, emu: Emulator) -> None:
        super().__init__(emu.now())
        self._emu = emu

    def now(self) -> datetime:
        return self._emu.now()


_CLOCK: ContextVar[TuiClock | None] = ContextVar("tui_clock", default=None)


@asynccontextmanager
async def tui(
    emu: Emulator,
    *,
    read_only: bool = False,
    size: tuple[int, int] = (140, 36),
    keymap: dict[str, str] | None = None,
    bell: bool = False,
    monitor: dict[str, float] | None = None,
    toasts: bool = False,
) -> AsyncIterator[Any]:
    """The app on the emulator, running under Pilot; yields `(app, pilot)`. `monitor`: options of the
    monitor over `FAST_MONITOR`. With `toasts`, toasts are drawn (`run_test` leaves them out unless asked):
    see `toasts_shown()`. The monitor, the log followers and the app's tick run on a `TuiClock`."""
    from smtui.tui.app import SmtuiApp
    from smtui.tui.session import open_session

    clock = TuiClock(emu)
    token = _CLOCK.set(clock)
    try:
        async with open_session(
            endpoint_url=emu.url,
            region="us-east-1",
            read_only=read_only,
            monitor_options={**FAST_MONITOR, **(monitor or {})},
            logs_options=FAST_LOGS,
            clock=clock,
        ) as session:
            app = SmtuiApp(session, tick_interval=0, keymap=keymap, bell=bell)
            async with app.run_test(size=size, notifications=toasts):
                ticks = asyncio.ensure_future(_tick(app, clock))
                try:
                    yield app, KeyPilot(app)
                finally:
                    ticks.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await ticks
    finally:
        _CLOCK.reset(token)


def _key_name(char: str) -> str:
    """A character's key name, as Textual's drivers name it: `a`, `slash`, `colon`, `minus`, `space`."""
    import unicodedata

    from textual.keys import KEY_NAME_REPLACEMENTS

    if char.isalnum():
        return char
    name = unicodedata.name(char).lower().replace("-", "_").replace(" ", "_")
    return KEY_NAME_REPLACEMENTS.get(name, name)


_PRINTABLE = {_key_name(chr(code)): chr(code) for code in range(32, 127)}


def key_event(key: str) -> Any:
    """The `Key` event a terminal's driver makes of `key`: a key name (`enter`, `ctrl+p`, `slash`) or one
    character (`/` is named as the drivers name it, `slash`)."""
    from textual import events
    from textual.keys import key_to_character

    if len(key) == 1:
        return events.Key(_key_name(key), key)
    return events.Key(key, _PRINTABLE.get(key) or key_to_character(key))


class KeyPilot(Pilot[Any]):
    """`run_test`'s Pilot with a `press` that waits for the app as Textual's does (every message handled,
    animations done, the process gone idle), only at a finer grain: Textual's sleeps 20 ms at least twice a
    key to see the process idle, which made key presses half of these tests' time (~2,000 of them). Here the
    process is seen idle for 4 ms, then the screen is brought up to date (`pause(0)`: queues drained,
    layout and repaint done, which Textual leaves to its 60 Hz timer, always met by its longer looks)."""

    async def press(self, *keys: str) -> None:
        for key in keys:
            self.app.post_message(key_event(key))
            await self.settle()

    async def settle(self, limit: float = 1.0) -> None:
        """Until the app is idle: what it was asked handled and drawn, and what that set off (a footer's
        rebuild after the repaint, a worker) done too (`limit` s at most)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while True:
            while not await self._idle_look() and loop.time() < deadline:
                pass
            await self.app.animator.wait_until_complete()
            await self.pause(0)
            if await self._idle_look() or loop.time() > deadline:
                return

    async def _idle_look(self) -> bool:
        cpu = time.process_time()
        await asyncio.sleep(IDLE_LOOK)
        return time.process_time() - cpu < IDLE_LOOK / 20


async def _tick(app: Any, clock: ManualClock) -> None:
    """The app's tick interval, on the test's clock (handled in the app's loop, as its timer's would be)."""
    while True:
        await clock.sleep(TICK)
        app.call_later(app.tick)


async def until(
    condition: Callable[[], Any], *, wait: float = 10.0, pilot: Any = None, what: str = ""
) -> Any:
    """Let the app run until `condition()` is truthy; fail naming `what` otherwise. Inside `tui()` the test's
    clock moves on by `STEP` between two looks; it fails once `wait` seconds have passed on that clock and
    on the real one (what is not on the test's clock, a toast's life, still has its time)."""
    loop = asyncio.get_running_loop()
    clock = _CLOCK.get()
    deadline = loop.time() + wait
    limit = None if clock is None else clock.monotonic() + wait
    while True:
        if pilot is not None:
            await pilot.pause(0)  # the messages posted so far handled, the screen brought up to date
        value = condition()
        if value:
            return value
        if loop.time() > deadline and (clock is None or clock.monotonic() > limit):
            raise AssertionError(f"timed out waiting for {what or condition}")
        if clock is not None:
            await clock.advance(STEP)
        elif pilot is not None:
            await pilot.pause(0.05)
        else:
            await asyncio.sleep(0.05)


async def idle(pilot: Any, seconds: float) -> None:
    """Let the app run for `seconds` of the test's clock (to see that something does NOT happen)."""
    clock = _CLOCK.get()
    assert clock is not None, "idle() is for tests inside tui()"
    end = clock.monotonic() + seconds
    while clock.monotonic() < end:
        await clock.advance(min(STEP, end - clock.monotonic()))
        await pilot.pause(0)


async def type_text(pilot: KeyPilot, text: str, *then: str) -> None:
    """Type `text` into what has the focus, its keys arriving together (as a terminal's driver queues what
    it read at once: a fast typist, a paste), then press the keys `then` one by one. `pilot.press(*text)`
    would wait for the app to go idle after each key."""
    for char in text:
        pilot.app.post_message(key_event(char))
    await pilot.settle()
    if then:
        await pilot.press(*then)


async def from_palette(pilot: KeyPilot, typed: str) -> None:
    """Run a command from the palette as a user does: ctrl+p, type, and Enter once the list has gathered
    its matches and highlights one whose title holds what was typed."""
    from textual.command import CommandList, CommandPalette

    await pilot.press("ctrl+p")
    palette = await until(
        lambda: isinstance(pilot.app.screen, CommandPalette) and pilot.app.screen, pilot=pilot, what="palette"
    )
    await type_text(pilot, typed)

    def offered() -> bool:
        option = palette.query_one(CommandList).highlighted_option
        return option is not None and typed.lower() in str(option.prompt).lower()

    await until(offered, pilot=pilot, what=f"{typed!r} offered in the palette")
    await pilot.press("enter")


def text_of(widget: Any, width: int = 200) -> str:
    """The plain text a Static shows (Rich renderables included), as the terminal would print it."""
    import io

    from rich.console import Console

    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(widget.content)
    return console.export_text()


def toasts_shown(app: Any, severity: str = "") -> list[str]:
    """The text of each toast on screen (title, then message), oldest first; only those of `severity`
    ("error", "warning", "information") if given. Needs `tui(..., toasts=True)`."""
    selector = f"Toast.-{severity}" if severity else "Toast"
    return [str(toast.render()) for toast in app.screen.query(selector)]


def screen_text(app: Any) -> list[str]:
    """The screen's lines as the terminal shows them, read from `export_screenshot()`: its SVG draws each
    run of text at its column (x = column × the width of a cell), and leaves out runs of spaces."""
    import html
    import re

    svg = app.export_screenshot()
    width, height = app.size
    lines = [[" "] * width for _ in range(height)]
    runs = re.finditer(
        r'<text [^>]*?x="([0-9.]+)"[^>]*?textLength="([0-9.]+)"[^>]*?-line-(\d+)\)"[^>]*>(.*?)</text>', svg
    )
    for match in runs:
        text = html.unescape(match[4]).replace("\xa0", " ")
        cell = float(match[2]) / len(text)
        column, line = round(float(match[1]) / cell), int(match[3])
        lines[line][column : column + len(text)] = text
    return ["".join(line) for line in lines]
