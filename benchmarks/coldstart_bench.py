"""Cold start at scale (issue 15): the monitor opened on P pipelines with A running executions, at the default
budget (10 calls/s).

    uv run --no-sync python benchmarks/coldstart_bench.py [--pipelines 20] [--active 1000] [--rows 30]

An emulator in a subprocess; P pipelines, each a chain of 20 Processing steps of 20–60 simulated seconds (one
version each: CreatePipeline's); A executions started round-robin over them, so the newest rows span every
pipeline; then the clock runs at real time and the monitor starts, in this process, as the TUI runs it: the
default budget and intervals, and after every change of the executions known, `set_visible` with the `--rows`
newest (the table's default order, newest first; before the first list everything counts as visible, as in the
TUI).

Figures, in wall seconds after `start()`: when the first row in view shows progress (its definition and its
steps read: `Monitor.progress` is not None), when every row in view does, when every execution does; then
definition calls (DescribePipelineDefinitionForExecution + ListPipelineVersions) per pipeline version, and
the calls by operation until every row showed progress (from `/_emulator/stats`).

To measure older code, run this file with that code first on the path, e.g.
`git worktree add /tmp/old-cold main; PYTHONPATH=/tmp/old-cold uv run --no-sync python
benchmarks/coldstart_bench.py` (the emulator subprocess inherits the path).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from typing import Any

from common import CREDS, Emulator
from monitor_bench import chain_definition

SCENARIO = """
[defaults]
start_delay = 1
duration = [20, 60]
[types.Processing]
duration = [20, 60]
"""


def setup(emu: Emulator, pipelines: int, active: int) -> list[str]:
    """P pipelines, A executions started round-robin (oldest first); returns the ARNs, newest first."""
    sm = emu.sm
    names = [f"cold-{i:03d}" for i in range(pipelines)]
    definition = chain_definition()
    for name in names:
        sm.create_pipeline(
            PipelineName=name, PipelineDefinition=definition, RoleArn="arn:aws:iam::123456789012:role/R"
        )
    emu.control("clock", {"advance": 60})
    arns = []
    for i in range(active):
        arns.append(sm.start_pipeline_execution(PipelineName=names[i % pipelines])["PipelineExecutionArn"])
        emu.control("clock", {"advance": 0.01})  # distinct start times: a stable "newest first"
    emu.control("clock", {"advance": 10})
    emu.control("clock", {"time_scale": 1})
    return arns[::-1]


async def measure(url: str, newest: list[str], rows: int, limit: float) -> dict[str, Any]:
    from smtui.core.client import AwsTarget, SageMakerClient
    from smtui.core.events import ExecutionsChanged, MonitorEvent, StepsChanged
    from smtui.core.monitor import Monitor

    order = {arn: i for i, arn in enumerate(newest)}
    target = AwsTarget(region="us-east-1", endpoint_url=url)
    async with SageMakerClient.create(target, max_attempts=1) as client:
        monitor = Monitor(client)  # the TUI's defaults: 10 calls/s, 5 s active interval
        shown: dict[str, float] = {}  # ARN → seconds after start when it first showed progress
        visible: list[str] = []
        done = asyncio.Event()
        start = 0.0

        def on_event(event: MonitorEvent) -> None:
            nonlocal visible
            if isinstance(event, ExecutionsChanged):
                # The table: newest first; the rows in view are its top ones.
                known = sorted((a for a in monitor.executions if a in order), key=lambda a: order[a])
                if known[:rows] != visible:
                    visible = known[:rows]
                    monitor.set_visible(visible)
            arns = [event.execution_arn] if isinstance(event, StepsChanged) else []
            for arn in arns:
                if arn not in shown and monitor.progress(arn) is not None:
                    shown[arn] = time.perf_counter() - start
            if len(shown) >= len(order):
                done.set()

        monitor.subscribe(on_event)
        start = time.perf_counter()
        await monitor.start()
        with_all_visible: float | None = None
        while not done.is_set() and time.perf_counter() - start < limit:
            # Progress can also appear without an event for that ARN (a shared definition arriving names
            # each execution it reached; a step read with nothing new names none): look every 0.1 s too.
            for arn in order:
                if arn not in shown and monitor.progress(arn) is not None:
                    shown[arn] = time.perf_counter() - start
            if with_all_visible is None and visible and all(a in shown for a in visible):
                with_all_visible = time.perf_counter() - start
            await asyncio.sleep(0.1)
        await monitor.stop()
    in_view = [shown.get(a) for a in newest[:rows]]
    return {
        "first_in_view_s": min((t for t in in_view if t is not None), default=None),
        "all_in_view_s": None if None in in_view else max(t for t in in_view if t is not None),
        "all_rows_s": max(shown.values()) if len(shown) == len(order) else None,
        "rows_with_progress": len(shown),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--pipelines", type=int, default=20)
    parser.add_argument("--active", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=30, help="rows in view (the TUI at 160x40 shows ~30)")
    parser.add_argument("--limit", type=float, default=300.0, help="give up after this many seconds")
    args = parser.parse_args()
    os.environ.update(CREDS)  # the emulator accepts any; boto3 and the monitor's client need some

    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "scenario.toml"
        scenario.write_text(SCENARIO)
        emu = Emulator(scenario)
        try:
            t = time.perf_counter()
            newest = setup(emu, args.pipelines, args.active)
            print(
                f"setup: {args.pipelines} pipelines, {args.active} running ({time.perf_counter() - t:.1f} s)"
            )
            before = emu.stats()
            figures = asyncio.run(measure(emu.url, newest, args.rows, args.limit))
            after = emu.stats()
        finally:
            emu.stop()
    calls = {op: n - before.get(op, 0) for op, n in sorted(after.items()) if n - before.get(op, 0)}
    definition_calls = calls.get("DescribePipelineDefinitionForExecution", 0) + calls.get(
        "ListPipelineVersions", 0
    )
    versions = args.pipelines  # one version each
    figures["definition_calls_per_version"] = round(definition_calls / versions, 2)
    figures["calls_by_operation"] = calls
    for key, value in figures.items():
        shown = f"{value:.1f}" if isinstance(value, float) else json.dumps(value)
        print(f"{key}: {shown}")


if __name__ == "__main__":
    main()
