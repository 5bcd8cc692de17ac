"""The SVG pictures in screenshots/, from the demo at a fixed clock (run by `scripts/screenshots`).

The demo's emulator is seeded and its simulated clock starts at a fixed instant and stands still, so the same
code gives the same pictures. `python scripts/screenshots.py [NAME ...]` makes only the pictures named.
"""

import asyncio
import sys
import tempfile
from pathlib import Path

import aiohttp

from smtui.emulator.cli import EmulatorOptions, start_emulator
from smtui.emulator.demo import seed_demo
from smtui.emulator.store import Store
from smtui.tui.app import SmtuiApp
from smtui.tui.demo_emulator import simulated_clock
from smtui.tui.screens.executions import ExecutionsScreen
from smtui.tui.screens.start import StartScreen
from smtui.tui.session import open_session

FIXED_NOW = 1_795_680_000.0  # 2026-11-26 07:20:00 UTC
OUT = Path("screenshots")


async def shoot(url: str, out: Path, name: str, size: tuple[int, int], keys: list[str]) -> Path:
    # The emulator throttles nothing: the monitor may read the demo at 200 calls/s, not its default 10 (the
    # same picture once it settles, in a second rather than ten).
    async with open_session(
        endpoint_url=url, region="us-east-1", now=await simulated_clock(url), monitor_options={"rate": 200.0}
    ) as session:
        session.endpoint_label = "demo emulator · us-east-1"  # not the random port
        # Ticking: the screens apply what the monitor found once a tick (the clock stands still, so the
        # elapsed times do not move).
        app = SmtuiApp(session, tick_interval=0.2)
        async with app.run_test(size=size) as pilot:
            while not isinstance(app.screen, ExecutionsScreen):
                await pilot.pause(0.05)
            await session.monitor.settle()
            await pilot.pause(0.5)
            for key in keys:
                if key.startswith("clock+"):  # the simulated clock moves on (the demo's runs with it)
                    async with aiohttp.ClientSession() as http:
                        await http.post(f"{url}/_emulator/clock", json={"advance": float(key[6:])})
                elif key == "start":
                    await app.push_screen(StartScreen(app))
                    await pilot.press("down", "enter")  # the second pipeline's form has more to show
                else:
                    await pilot.press(key)
                await pilot.pause(0.2)
                await session.monitor.settle()
                await pilot.pause(0.6)
            path = out / f"{name}.svg"
            app.save_screenshot(str(path))
            # Rich writes each run of text as its own <text>, often starting with (non-breaking) spaces,
            # which some renderers (librsvg: rsvg-convert, many image viewers) drop unless told to
            # preserve white space: "▶ Running   batch" was drawn "▶ Runningbatch". Browsers keep them.
            svg = path.read_text()
            path.write_text(svg.replace("<svg ", '<svg xml:space="preserve" ', 1))
            return path


SHOTS: list[tuple[str, tuple[int, int], list[str]]] = [
    ("executions", (120, 34), []),
    ("executions-80x24", (80, 24), []),
    ("execution", (120, 34), ["down", "down", "down", "enter"]),
    ("execution-80x24", (80, 24), ["down", "down", "enter"]),
    ("start", (100, 30), ["start"]),
    ("keys", (100, 40), ["question_mark"]),
    ("filter", (120, 24), ["slash", *"churn", "enter", "S"]),
    # A nightly-etl run whose DataQualityApproval step waits; `b` answers it (success: the typed outputs).
    (
        "callback",
        (120, 30),
        ["slash", *"nightly-etl status:executing", "clock+180", "enter", "down", "enter", "b", *"125000"],
    ),
    # The Train step of a failed churn run (its job finished): Info, Input, Output, the metrics' sparklines.
    ("job-details", (160, 50), ["slash", *"churn", "enter", "S", "down", "enter", "down"]),
    # `t` on a running batch-scoring run: its ForEach's iterations (three at a time: the fourth waits), the
    # critical path, each running step's time left from the earlier runs.
    ("timeline", (120, 34), ["slash", *"batch-scoring status:executing", "enter", "enter", "t"]),
    ("timeline-80x24", (80, 24), ["slash", *"batch-scoring status:executing", "enter", "enter", "t"]),
    # `d` on four marked churn runs that succeeded: parameters, steps, metrics, cost (at 80 columns, three of
    # the four columns beside the labels; the cursor's column is always among them).
    ("compare", (120, 34), ["slash", *"churn status:succeeded", "enter", *["space"] * 4, "d"]),
    ("compare-80x24", (80, 24), ["slash", *"churn status:succeeded", "enter", *["space"] * 4, "d"]),
    # `l` on the newest failed execution: its failed step's log, at the end (the traceback).
    ("logs", (120, 34), ["slash", *"status:failed", "enter", "l", "clock+1"]),
    # `p`: the pipelines at a glance; `s` on churn-model-training: its step graph with its parameters.
    ("pipelines", (120, 24), ["p"]),
    ("pipelines-80x24", (80, 24), ["p"]),
    ("definition", (120, 30), ["p", "slash", *"churn", "enter", "s"]),
    ("definition-80x24", (80, 24), ["p", "slash", *"churn", "enter", "s"]),
]


async def make(out: Path, only: list[str] | None = None) -> list[Path]:
    """The pictures (all, or those named in `only`) as SVG files in the folder `out`."""
    made = []
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state.sqlite"
        store = Store(state)
        store.set_meta("clock", FIXED_NOW)  # the emulator resumes its clock from the state: a fixed start
        store.close()
        running = await start_emulator(EmulatorOptions(time_scale=0, seed=7, state=str(state)))
        try:
            backend = running.backend  # type: ignore[attr-defined]
            seed_demo(backend.engine, backend.store, backend.clock)
            for name, size, keys in SHOTS:
                if only is None or name in only:
                    made.append(await shoot(running.url, out, name, size, keys))
        finally:
            await running.stop()
    return made


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for path in asyncio.run(make(OUT, sys.argv[1:] or None)):
        print(path)
