"""Step logs benchmark: what following one step costs, how soon its lines arrive, and the buffer's memory.

    uv run --no-sync python benchmarks/logs_bench.py                      # 10 steps per variant (~1 min)
    uv run --no-sync python benchmarks/logs_bench.py --instances 4        # a stream per instance
    uv run --no-sync python benchmarks/logs_bench.py --instances 4 --log-rate 600   # a busy log

Against an emulator on a paused clock. Each run follows the `Preprocess` step (a processing job of
`--instances` instances running `--duration` simulated seconds) of its own execution on a simulated clock:
every wait of the follower and of its Logs budget advances the emulator's clock instead of sleeping, while a
stand-in for the monitor reads the step whenever that clock moves (SageMaker calls, not counted here). Each
follow starts at a random moment of the job's first two seconds, so reads and lines are not in step.
Variants: FilterLogEvents interleaved (the default), GetLogEvents per stream, and FilterLogEvents without the
quiet back-off (a read every 2 s, always).

Figures:
- Logs calls per second of following (simulated time), by operation, and lines per call;
- follow latency p50/p95: from a line's timestamp (or the start of the follow, for lines written before it)
  to the simulated moment the follower published it;
- CPU: lines/s through page parsing and the ring buffer (in process, synthetic 10,000-event pages);
- memory of the buffer after 1,000,000 lines: at the default capacity (100,000) and at 1,000,000.

The emulator writes a processing job's log as the job would: one stream per instance (`algo-1`…`algo-n`),
each starting when the container starts (12 % into the run: provisioning and download come first), a burst
of start-up lines, a progress line every 20 s (`--log-rate`, lines per minute per host: 3 by default), and
the outputs it wrote at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from common import ROLE, Emulator, control, percentiles

from smtui.core.client import AwsTarget, SageMakerClient
from smtui.core.definition import parse_definition
from smtui.core.log_buffer import LogBuffer
from smtui.core.log_follow import LogFollows
from smtui.core.logs import LogEvent, LogLinesRead, LogState
from smtui.core.logs_client import PAGE_EVENTS, LogsClient, filtered_lines
from smtui.core.model import StepTree
from smtui.core.tree import build_tree

ROOT = Path(__file__).resolve().parent.parent
DEFINITION = (ROOT / "tests" / "definitions" / "condition-foreach.json").read_text()
SCENARIO = """
[defaults]
start_delay = 1
duration = 10
[types.Processing]
duration = {duration}
log_rate = {log_rate}
"""
VARIANTS = [
    ("FilterLogEvents (default)", "filter", 2.0, 10.0),
    ("GetLogEvents per stream", "streams", 2.0, 10.0),
    ("FilterLogEvents, no back-off", "filter", 2.0, 2.0),
]


class SimClock:
    """Simulated seconds: `sleep(s)` advances the emulator's clock by s and returns at once, after
    `after_advance` (the stand-in for the monitor's step polls). Only the follower sleeps on it, so simulated
    time is exactly the sum of its waits."""

    def __init__(self, url: str, after_advance: Callable[[], Awaitable[None]]) -> None:
        self.url = url
        self.t = 0.0
        self.base = float(control(url, "health")["now"])
        self.after_advance = after_advance

    def monotonic(self) -> float:
        return self.t

    def now(self) -> float:
        return self.base + self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds
        control(self.url, "clock", {"advance": seconds})
        await self.after_advance()


async def tree_of(client: SageMakerClient, arn: str) -> StepTree:
    execution = await client.describe_execution(arn)
    graph = parse_definition(await client.definition(arn))
    return build_tree(graph, execution, await client.list_steps(arn), now=client.now())


def logs_calls(emu: Emulator) -> dict[str, int]:
    return {k.split(".", 1)[1]: v for k, v in emu.control("stats")["calls"].items() if k.startswith("Logs_")}


async def follow_one(
    client: SageMakerClient,
    emu: Emulator,
    arn: str,
    mode: str,
    interval: float,
    max_interval: float,
    rng: random.Random,
) -> dict[str, Any]:
    """Follow Preprocess of `arn` from its first second to its end; what it cost and when lines came."""
    sm = emu.sm
    while not any(
        s["StepName"] == "Preprocess" and s["StepStatus"] == "Executing"
        for s in sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    ):
        emu.control("clock", {"advance": 1})
    emu.control("clock", {"advance": rng.uniform(0, 2)})
    follows: LogFollows | None = None

    async def step_poll() -> None:  # the monitor reads the watched execution's steps every second
        if follows is not None:
            follows.tree_changed(arn, await tree_of(client, arn))

    clock = SimClock(emu.url, step_poll)
    start = clock.now()
    latencies: list[float] = []
    lines = 0

    def publish(event: LogEvent) -> None:
        nonlocal lines
        if isinstance(event, LogLinesRead):
            lines += len(event.lines)
            latencies.extend(clock.now() - max(line.timestamp / 1000, start) for line in event.lines)

    before = logs_calls(emu)
    async with LogsClient(client, clock=clock) as logs:
        follows = LogFollows(
            logs, client, publish=publish, interval=interval, max_interval=max_interval, mode=mode
        )
        tree = await tree_of(client, arn)
        node = next(n for _, n in tree.walk() if n.name == "Preprocess")
        follows.follow(arn, node)
        states = await follows.join()
    assert states[(arn, "Preprocess")] is LogState.ENDED, states
    after = logs_calls(emu)
    calls = {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}
    return {"calls": calls, "elapsed": clock.now() - start, "lines": lines, "latencies": latencies}


async def bench_follow(emu: Emulator, steps: int, instances: int, log_rate: float) -> None:
    sm = emu.sm
    name = "logs-bench"
    sm.create_pipeline(PipelineName=name, PipelineDefinition=DEFINITION, RoleArn=ROLE)
    print(
        f"## Following one step: Processing, {instances} instance(s), {log_rate:g} progress lines/min per "
        f"instance, {steps} runs per variant\n"
    )
    print("| reader | Logs calls/s | calls by operation | lines per call | latency p50 / p95 (s) |")
    print("|---|---|---|---|---|")
    target = AwsTarget(region="us-east-1", endpoint_url=emu.url)
    rng = random.Random(7)
    async with SageMakerClient.create(target, max_attempts=1) as client:
        for label, mode, interval, max_interval in VARIANTS:
            total: dict[str, int] = {}
            elapsed = 0.0
            lines = 0
            latencies: list[float] = []
            for _ in range(steps):
                arn = sm.start_pipeline_execution(
                    PipelineName=name, PipelineParameters=[{"Name": "InstanceCount", "Value": str(instances)}]
                )["PipelineExecutionArn"]
                run = await follow_one(client, emu, arn, mode, interval, max_interval, rng)
                for op, n in run["calls"].items():
                    total[op] = total.get(op, 0) + n
                elapsed += run["elapsed"]
                lines += run["lines"]
                latencies += run["latencies"]
                sm.stop_pipeline_execution(PipelineExecutionArn=arn)
            calls = sum(total.values())
            by_op = ", ".join(f"{op} {n / elapsed:.3f}/s" for op, n in sorted(total.items()))
            print(
                f"| {label} | {calls / elapsed:.3f} | {by_op} | {lines / max(calls, 1):.2f} "
                f"| {percentiles(latencies)} |"
            )
    print()


def bench_cpu() -> None:
    """Lines/s through what every page goes through: events → LogLine (one string per stream), buffer."""
    events = [
        {
            "logStreamName": f"job/algo-{i % 4 + 1}-1700000000",
            "timestamp": 1_700_000_000_000 + i,
            "message": f"[{i:08d}] epoch 3 step {i} train:loss=0.1234 validation:accuracy=0.8765\n",
            "ingestionTime": 1_700_000_000_000 + i,
            "eventId": f"{1_700_000_000_000 + i:020d}{i:036d}",
        }
        for i in range(PAGE_EVENTS)
    ]
    streams: dict[str, str] = {}
    buffer = LogBuffer()
    pages = 50
    begin = time.process_time()
    for _ in range(pages):
        lines, _ = filtered_lines(events, lambda s: streams.setdefault(s, s))
        buffer.extend(lines)
    spent = time.process_time() - begin
    print(f"## CPU\n\npage parsing + buffer: {pages * PAGE_EVENTS / spent:,.0f} lines/s (one core)\n")


def bench_memory() -> None:
    print("## Buffer memory after 1,000,000 lines (~90-character messages, 4 streams)\n")
    print("| capacity | lines kept | memory (tracemalloc) | per line kept |")
    print("|---|---|---|---|")
    streams = [f"pipelines-abcdefghijkl-Train-AbCdEfGhIj/algo-{n}-1700000000" for n in range(1, 5)]
    from smtui.core.logs import LogLine

    for capacity in (100_000, 1_000_000):
        gc.collect()
        tracemalloc.start()
        buffer = LogBuffer(capacity)
        for i in range(1_000_000):
            buffer.append(
                LogLine(
                    1_700_000_000_000 + i,
                    streams[i % 4],
                    f"[{i:08d}] epoch 3 step {i} train:loss=0.1234 validation:accuracy=0.8765 lr=0.001",
                )
            )
        current, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"| {capacity:,} | {len(buffer):,} | {current / 2**20:.1f} MB | {current / len(buffer):.0f} B |"
        )
        del buffer
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10, help="runs followed per variant")
    parser.add_argument("--instances", type=int, default=1, help="instances of the followed processing job")
    parser.add_argument("--duration", type=float, default=317, help="simulated seconds the job runs")
    parser.add_argument(
        "--log-rate", type=float, default=3, help="progress lines per minute per instance (the emulator's: 3)"
    )
    args = parser.parse_args()
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"})
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "scenario.toml"
        scenario.write_text(SCENARIO.format(duration=args.duration, log_rate=args.log_rate))
        emu = Emulator(scenario)
        try:
            asyncio.run(bench_follow(emu, args.steps, args.instances, args.log_rate))
        finally:
            emu.stop()
    bench_cpu()
    bench_memory()
    print(f"python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
