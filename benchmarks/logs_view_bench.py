"""Log view benchmark: how long a key press takes to repaint with 100,000 lines in the view.

    uv run --no-sync python benchmarks/logs_view_bench.py            # 100,000 lines, 20 presses per key

The view (`smtui.tui.widgets.log_view.LogView`) on a ring buffer of synthetic lines of ~90 characters over
4 streams, in a Textual app under Pilot at 160x40. Each figure is from the key press to the app being idle
again (the screen repainted): cursor moves, paging, head/tail, `n`/`N` on a search, wrap and timestamps.
`x` does nothing: its figure is Pilot's own cost of a key press, to subtract.
Follow latency and Logs calls per second while following one step are measured on the same followers by
`benchmarks/logs_bench.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any, ClassVar

from common import percentiles
from textual.app import App, ComposeResult
from textual.binding import Binding

from smtui.core.log_buffer import LogBuffer
from smtui.core.logs import LogLine, LogSource
from smtui.tui.widgets.log_view import LogView

KEYS = ["x", "up", "down", "pageup", "pagedown", "home", "end", "n", "N", "w", "t"]


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

    def on_mount(self) -> None:
        self.view.focus()
        self.view.reset()
        self.view.set_search("ERROR")

    def action_next(self, forward: bool) -> None:
        self.view.move_to(self.view.next_match(forward), center=True)

    def action_wrap(self) -> None:
        self.view.wrap = not self.view.wrap
        self.view.reset()

    def action_stamps(self) -> None:
        self.view.timestamps = not self.view.timestamps
        self.view.reset()


async def measure(lines: int, presses: int) -> dict[str, list[float]]:
    app = Bench(synthetic(lines))
    times: dict[str, list[float]] = {key: [] for key in KEYS}
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.pause(0.2)
        for _ in range(presses):
            for key in KEYS:
                began = time.perf_counter()
                await pilot.press(key)
                await pilot.pause()
                times[key].append((time.perf_counter() - began) * 1000)
    return times


def main(argv: Any = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--presses", type=int, default=20)
    args = parser.parse_args(argv)
    times = asyncio.run(measure(args.lines, args.presses))
    everything = [t for values in times.values() for t in values]
    print(f"log view, {args.lines:,} lines: key press → repainted, ms p50 / p95")
    for key, values in times.items():
        print(f"  {key:10} {percentiles(values)}")
    print(f"  {'all keys':10} {percentiles(everything)}")


if __name__ == "__main__":
    main()
