"""TUI benchmark: first paint of the demo, key press → repaint with 5,000 executions while polling, idle CPU.

    uv run --no-sync python benchmarks/tui_bench.py [--executions 5000] [--idle 10] [--presses 200]

Phases (each prints its figures):
1. Demo first paint: as `smtui demo` does it (the emulator with demo traffic started in a child process
   first, then the app, headless here) — time from launch to the first frame, and to the first execution
   rows on screen. Imports are counted.
2. A table of N executions: an emulator *in a subprocess* (so its CPU is not counted) backfilled with N
   finished executions plus live demo traffic; the app loads them all, then key presses are timed while the
   monitor keeps polling (p50/p95/max of press → processed and repainted).
3. Idle: nobody touches the keyboard for `--idle` seconds; the TUI process's CPU time over wall time (and,
   apart, the emulator's), and how many rows were added or rebuilt meanwhile (a refresh must only update
   cells).

The app runs with the garbage collector tuned as `smtui` tunes it (`launch.quiet_gc`).
"""

from __future__ import annotations

import time

T0 = time.perf_counter()  # before the heavy imports: they are part of the first paint

import argparse  # noqa: E402
import asyncio  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

EMULATOR_SCRIPT = """
import asyncio, sys
from smtui.emulator.cli import EmulatorOptions, start_emulator
from smtui.emulator.demo import run_demo_traffic, seed_demo

async def main():
    running = await start_emulator(EmulatorOptions(time_scale=30, seed=11))
    b = running.backend
    seed_demo(b.engine, b.store, b.clock, history=int(sys.argv[1]))
    task = asyncio.ensure_future(run_demo_traffic(b.engine, b.store, b.clock))
    print(running.url, flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


_frames: list[float] = []


def record_frames(app: Any) -> None:
    """Note the time of every frame the compositor produces (headless: rendered, not written out)."""
    display = app._display

    def timed(screen: Any, renderable: Any) -> None:
        if renderable is not None:
            _frames.append(time.perf_counter())
        display(screen, renderable)

    app._display = timed


async def time_key(app: Any, key: str, state: Any) -> float:
    """Milliseconds from the key event reaching the app to the first frame painted after it took effect.

    (Pilot's `press` waits for the whole process to go idle, which with polling on measures the polls.)
    """
    from textual import events

    before = state()
    start = time.perf_counter()
    app._driver.send_message(events.Key(key, key if len(key) == 1 else None))
    # Polling is the point: the state belongs to the app, which offers no event for "this key landed".
    while state() == before:  # noqa: ASYNC110
        await asyncio.sleep(0.0005)
    applied = time.perf_counter()
    while not _frames or _frames[-1] < applied:  # noqa: ASYNC110
        await asyncio.sleep(0.0005)
    return (_frames[-1] - start) * 1000


async def time_keys(app: Any, table: Any, presses: int) -> list[float]:
    keys = ["down"] * (presses // 2) + ["pagedown", "pageup"] * 5 + ["up"] * (presses // 2 - 10)
    out = []
    for key in keys:
        out.append(await time_key(app, key, lambda: table.cursor_coordinate))
        await asyncio.sleep(0.02)  # a person types slower than this
    return out


async def demo_first_paint() -> None:
    """As `smtui demo` does it: the emulator's process first, the app at once on a placeholder, the data
    behind it."""
    from smtui.tui.demo_emulator import DemoEmulator

    emulator = await DemoEmulator.start(time_scale=30, seed=7)
    from smtui.config import Settings
    from smtui.tui.app import SmtuiApp
    from smtui.tui.launch import demo_session, quiet_gc
    from smtui.tui.screens.executions import ExecutionsScreen
    from smtui.tui.session import placeholder_session

    settings = Settings()
    app = SmtuiApp(
        placeholder_session("starting the demo emulator…"),
        connect=lambda: demo_session(time_scale=30, seed=7, settings=settings, emulator=emulator),
    )
    record_frames(app)
    quiet_gc()
    async with app.run_test(size=(120, 40)) as pilot:
        while not isinstance(app.screen, ExecutionsScreen) or not _frames:
            await pilot.pause(0.01)
        first_frame = _frames[0] - T0
        screen = app.screen
        while screen.table.row_count == 0:
            await pilot.pause(0.01)
        first_rows = time.perf_counter() - T0
        running_rows = sum(1 for r in screen.table.rows_shown.values() if r.status.is_active)
    _frames.clear()
    await emulator.stop()
    print("== demo first paint (as `smtui demo`: emulator in a child process; imports included)")
    print(f"   first frame (header, empty table) {first_frame:6.2f} s")
    print(f"   first execution rows              {first_rows:6.2f} s  ({running_rows} running on screen)")


async def big_table(executions: int, presses: int, idle: float, settle: float) -> None:
    from smtui.tui.app import SmtuiApp
    from smtui.tui.launch import quiet_gc
    from smtui.tui.screens.executions import ExecutionsScreen
    from smtui.tui.session import open_session
    from smtui.tui.widgets.execution_table import ExecutionTable

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", EMULATOR_SCRIPT, str(executions), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        url = (await proc.stdout.readline()).decode().strip()
        pages = executions // 100 + 2  # let the monitor load the whole history, not just the newest page
        options = {"history_pages": pages}
        async with open_session(endpoint_url=url, region="us-east-1", monitor_options=options) as session:
            app = SmtuiApp(session)
            record_frames(app)
            quiet_gc()
            async with app.run_test(size=(160, 50)) as pilot:
                t = time.perf_counter()
                while not isinstance(app.screen, ExecutionsScreen):
                    await pilot.pause(0.01)
                screen = app.screen
                while screen.table.row_count < executions:
                    await pilot.pause(0.05)
                    if time.perf_counter() - t > 120:
                        break
                loaded = time.perf_counter() - t
                rows = screen.table.row_count
                print(f"== {rows} executions in the table")
                print(f"   all rows loaded after            {loaded:6.2f} s")

                # Let the first loading (history, definitions of the rows on screen) finish: what is
                # measured is the steady state someone who leaves it open all day gets.
                await asyncio.sleep(settle)
                latencies = await time_keys(app, screen.table, presses)
                latencies.sort()
                p95 = latencies[int(len(latencies) * 0.95) - 1]
                print(f"   key press → repaint ({len(latencies)} presses of up/down/page keys, polling on)")
                p50 = statistics.median(latencies)
                print(f"     p50 {p50:5.1f} ms   p95 {p95:5.1f} ms   max {latencies[-1]:5.1f} ms")
                for key in ("S", "T"):  # a re-sort of every row
                    ms = await time_key(
                        app, key, lambda: (screen.table.sort_column, screen.table.sort_reverse)
                    )
                    print(f"   sort key {key!r} → repaint           {ms:6.1f} ms")

                counts = {"clear": 0, "add_row": 0, "_update_rows": 0}
                originals: dict[str, Any] = {}
                for name in counts:
                    original = getattr(ExecutionTable, name)
                    originals[name] = original

                    def counting(
                        self: Any, *a: Any, _name: str = name, _orig: Any = original, **k: Any
                    ) -> Any:
                        counts[_name] += 1
                        return _orig(self, *a, **k)

                    setattr(ExecutionTable, name, counting)
                cpu0, wall0, emulator0 = time.process_time(), time.perf_counter(), cpu_of(proc.pid)
                await asyncio.sleep(idle)
                cpu = time.process_time() - cpu0
                wall = time.perf_counter() - wall0
                emulator_cpu = cpu_of(proc.pid) - emulator0
                for name, original in originals.items():
                    setattr(ExecutionTable, name, original)
                print(f"== idle {wall:.0f} s with {rows} rows, live traffic, polling on")
                print(f"   TUI process CPU                  {100 * cpu / wall:6.2f} % of a core")
                print(f"   (emulator process CPU, apart     {100 * emulator_cpu / wall:6.2f} % of a core)")
                print(
                    f"   table: {counts['clear']} rebuilds, {counts['add_row']} rows added, "
                    f"{counts['_update_rows']} in-place row updates"
                )
                print(f"   API calls/s (monitor)            {session.monitor.health.calls_per_s:6.2f}")
    finally:
        proc.terminate()
        await proc.wait()


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) another process has used so far (Linux; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--executions", type=int, default=5000)
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--settle", type=float, default=10.0, help="seconds to wait after loading")
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    asyncio.run(demo_first_paint())
    asyncio.run(big_table(args.executions, args.presses, args.idle, args.settle))


if __name__ == "__main__":
    main()
