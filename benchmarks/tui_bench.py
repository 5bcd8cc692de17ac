"""TUI benchmark: first paint of the demo, key press → repaint with 5,000 executions while polling, idle CPU.

    uv run --no-sync python benchmarks/tui_bench.py [--executions 5000] [--idle 10] [--presses 200]

Phases (each prints its figures):
1. Demo first paint: as `smtui demo` does it (the emulator with demo traffic started in a child process
   first, then the app, headless here) — time from launch to the first frame, and to the first execution
   rows on screen. Imports are counted.
2. A table of N executions: an emulator *in a subprocess* (so its CPU is not counted) backfilled with N
   finished executions plus live demo traffic. Key presses (down, up, ...) are timed while the app loads
   them all, then `--presses` more while the monitor keeps polling (p50/p95/max of press → processed and
   repainted), and the worst press of both.
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
from collections.abc import Callable  # noqa: E402
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
_awaited: list[Callable[[], bool]] = []  # what the frame awaited by `time_key` shows
_landed: list[float] = []  # when that frame was painted


def record_frames(app: Any) -> None:
    """Note the time of every frame the compositor produces (headless: rendered, not written out)."""
    display = app._display

    def timed(screen: Any, renderable: Any) -> None:
        if renderable is not None:
            now = time.perf_counter()
            _frames.append(now)
            if _awaited and _awaited[0]():
                _awaited.clear()
                _landed.append(now)
        display(screen, renderable)

    app._display = timed


async def time_key(app: Any, key: str, state: Callable[[], object]) -> float:
    """Milliseconds from the key event reaching the app to the first frame painted after it took effect
    (`state()` changed).

    (Pilot's `press` waits for the whole process to go idle, which with polling on measures the polls.
    Watching the state from here instead missed the frames painted in the same turn of the event loop as
    the key: their time was that of the next frame, up to the next tick a second later.)
    """
    from textual import events

    before = state()
    _landed.clear()
    _awaited[:] = [lambda: state() != before]
    start = time.perf_counter()
    app._driver.send_message(events.Key(key, key if len(key) == 1 else None))
    # Polling is the point: the app offers no event for "this key's effect was painted".
    while not _landed:  # noqa: ASYNC110
        await asyncio.sleep(0.0005)
    return (_landed[0] - start) * 1000


async def time_keys(app: Any, table: Any, presses: int) -> list[float]:
    keys = ["down"] * (presses // 2) + ["pagedown", "pageup"] * 5 + ["up"] * (presses // 2 - 10)
    out = []
    for key in keys:
        out.append(await time_key(app, key, lambda: table.cursor_row))
        await asyncio.sleep(0.02)  # a person types slower than this
    return out


def print_latencies(what: str, latencies: list[float]) -> None:
    if not latencies:
        return
    latencies = sorted(latencies)
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    p50 = statistics.median(latencies)
    print(f"   key press → repaint ({what})")
    print(f"     p50 {p50:5.1f} ms   p95 {p95:5.1f} ms   max {latencies[-1]:5.1f} ms")


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
    from smtui.tui.widgets.shown_rows import ShownRows

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", EMULATOR_SCRIPT, str(executions), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        url = (await proc.stdout.readline()).decode().strip()
        pages = executions // 100 + 2  # let the monitor load the whole history, not just the newest page
        # ... and keep all of it: the store forgets finished runs beyond `history` a pipeline (100 by default)
        options = {"history_pages": pages, "history": executions}
        async with open_session(endpoint_url=url, region="us-east-1", monitor_options=options) as session:
            app = SmtuiApp(session)
            record_frames(app)
            quiet_gc()
            async with app.run_test(size=(160, 50)) as pilot:
                t = time.perf_counter()
                while not isinstance(app.screen, ExecutionsScreen):
                    await pilot.pause(0.01)
                screen = app.screen
                while screen.table.row_count == 0:
                    await pilot.pause(0.01)
                # Someone moving the cursor while the history loads (each page of it is sorted in).
                loading: list[float] = []
                while screen.table.row_count < executions and time.perf_counter() - t < 120:
                    key = ("down", "up")[len(loading) % 2]
                    loading.append(await time_key(app, key, lambda: screen.table.cursor_row))
                    await asyncio.sleep(0.05)
                loaded = time.perf_counter() - t
                rows = screen.table.row_count
                print(f"== {rows} executions in the table")
                print(f"   all rows loaded after            {loaded:6.2f} s")
                print_latencies(f"{len(loading)} presses of up/down while they load", loading)

                # Let the first loading (history, definitions of the rows on screen) finish: what is
                # measured is the steady state someone who leaves it open all day gets.
                await asyncio.sleep(settle)
                latencies = await time_keys(app, screen.table, presses)
                print_latencies(f"{len(latencies)} presses of up/down/page keys, polling on", latencies)
                print(f"   worst key press                  {max(loading + latencies):6.1f} ms")
                for key in ("S", "T"):  # a re-sort of every row
                    ms = await time_key(
                        app, key, lambda: (screen.table.sort_column, screen.table.sort_reverse)
                    )
                    print(f"   sort key {key!r} → repaint           {ms:6.1f} ms")

                counts = {"rebuilds": 0, "added": 0, "updated": 0}
                apply, set_compact = ShownRows.apply, ShownRows.set_compact

                def counting_apply(self: Any, *a: Any, **k: Any) -> Any:
                    change = apply(self, *a, **k)
                    counts["added"] += len(change.added)
                    counts["updated"] += len(change.cells)
                    return change

                def counting_set_compact(self: Any, *a: Any, **k: Any) -> Any:
                    counts["rebuilds"] += 1
                    return set_compact(self, *a, **k)

                ShownRows.apply = counting_apply  # type: ignore[method-assign]
                ShownRows.set_compact = counting_set_compact  # type: ignore[method-assign]
                cpu0, wall0, emulator0 = time.process_time(), time.perf_counter(), cpu_of(proc.pid)
                await asyncio.sleep(idle)
                cpu = time.process_time() - cpu0
                wall = time.perf_counter() - wall0
                emulator_cpu = cpu_of(proc.pid) - emulator0
                ShownRows.apply, ShownRows.set_compact = apply, set_compact  # type: ignore[method-assign]
                print(f"== idle {wall:.0f} s with {rows} rows, live traffic, polling on")
                print(f"   TUI process CPU                  {100 * cpu / wall:6.2f} % of a core")
                print(f"   (emulator process CPU, apart     {100 * emulator_cpu / wall:6.2f} % of a core)")
                print(
                    f"   table: {counts['rebuilds']} rebuilds, {counts['added']} rows added, "
                    f"{counts['updated']} in-place row updates"
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
