"""Log view benchmark: how long a key press takes to repaint with 100,000 lines in the view.

    uv run --no-sync python benchmarks/logs_view_bench.py            # 100,000 lines, 20 presses per key

The view (`smtui.tui.widgets.log_view.LogView`) on a ring buffer of synthetic lines of ~90 characters over
4 streams, in a Textual app at 160x40, with the garbage collector tuned as `smtui` tunes it. Each figure is
the view's own: from the key event reaching the app to the first frame painted after it took effect, as
`benchmarks/tui_bench.py` times the executions table (Pilot's `press` waits for the app to go idle, which
adds ~65 ms of its own to every key). Keys: cursor moves, paging, head/tail, `n`/`N` on a search, wrap and
timestamps (as the log screen does them: the cursor line kept in view), then a search typed into the search
box a letter at a time (each letter searches every line again).
Follow latency and Logs calls per second while following one step are measured on the same followers by
`benchmarks/logs_bench.py`.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any, ClassVar

from common import percentiles
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Input
from tui_bench import record_frames, time_key

from smtui.core.log_buffer import LogBuffer
from smtui.core.logs import LogLine, LogSource
from smtui.tui.launch import quiet_gc
from smtui.tui.widgets.log_view import LogView

KEYS = ["up", "down", "pageup", "pagedown", "home", "end", "n", "N", "w", "t"]
TYPED = "retrying"  # typed into the search box; matches one line in 5,000


def synthetic(count: int) -> LogBuffer:
    buffer = LogBuffer(count)
    streams = [f"job-1/algo-{i}-1700000000" for i in range(1, 5)]
    start = 1_700_000_000_000
    for i in range(count):
        message = (
            f"2024-01-01 00:00:00,000 INFO  train: epoch {i // 1000} step {i} loss={1 / (i + 1):.6f} acc=0.9"
        )
        if i % 5000 == 0:
            message += " ERROR retrying the shard"
        buffer.append(LogLine(start + i * 10, streams[i % 4], message))
    return buffer


class Bench(App[None]):
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("n", "next(True)", "next"),
        Binding("N", "next(False)", "previous"),
        Binding("w", "wrap", "wrap"),
        Binding("t", "stamps", "stamps"),
    ]

    def __init__(self, buffer: LogBuffer) -> None:
        super().__init__()
        self.view = LogView(buffer)
        self.view.source = LogSource(group="/aws/sagemaker/TrainingJobs", stream_prefix="job-1/", instances=4)

    def compose(self) -> ComposeResult:
        yield self.view
        yield Input(id="search")

    def on_mount(self) -> None:
        self.view.focus()
        self.view.reset()
        self.view.set_search("ERROR")

    def action_next(self, forward: bool) -> None:
        self.view.move_to(self.view.next_match(forward), center=True)

    def action_wrap(self) -> None:  # as LogsScreen does it
        self.view.set_display(wrap=not self.view.wrap)

    def action_stamps(self) -> None:
        self.view.set_display(timestamps=not self.view.timestamps)

    @on(Input.Changed, "#search")
    def _search(self, event: Input.Changed) -> None:
        self.view.set_search(event.value)


async def measure(lines: int, presses: int) -> dict[str, list[float]]:
    app = Bench(synthetic(lines))
    record_frames(app)
    quiet_gc()
    view = app.view
    times: dict[str, list[float]] = {key: [] for key in [*KEYS, "/search"]}

    def state() -> Any:
        return view.cursor_seq(), view.scroll_offset, view.wrap, view.timestamps, view.search

    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause(0.2)
        for _ in range(presses):
            for key in KEYS:  # each of them moves the cursor or changes the display, in this order
                times[key].append(await time_key(app, key, state))
                await asyncio.sleep(0.02)  # a person types slower than this
        box = app.query_one("#search", Input)
        for _ in range(max(1, presses // len(TYPED))):
            box.focus()
            box.value = ""
            await pilot.pause()
            for letter in TYPED:
                times["/search"].append(await time_key(app, letter, state))
                await asyncio.sleep(0.02)
    return times


def main(argv: Any = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--presses", type=int, default=20)
    args = parser.parse_args(argv)
    times = asyncio.run(measure(args.lines, args.presses))
    print(f"log view, {args.lines:,} lines: key press → first frame that shows it, ms p50 / p95")
    for key, values in times.items():
        print(f"  {key:10} {percentiles(values)}")
    everything = [t for key, values in times.items() for t in values if key != "/search"]
    print(f"  {'all keys':10} {percentiles(everything)}")


if __name__ == "__main__":
    main()
