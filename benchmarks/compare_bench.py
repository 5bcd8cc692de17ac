"""Compare benchmark: 8 executions of a 50-step pipeline side by side (`d` on the executions screen).

    uv run --no-sync python benchmarks/compare_bench.py [--executions 8] [--pairs 25] [--repeat 20]

An emulator in a subprocess (its CPU is not counted) holds a pipeline of `--pairs` Processing → Training
pairs (50 steps), run `--executions` times with different parameters, all finished. The app (headless,
160×50) marks them and presses `d`. Printed:

1. First open: from `d` to the screen complete (every execution's steps and parameters read, every job
   described: 400 DescribeXJob calls through the monitor's budget), and the figure of the issue: from the
   last answer's arrival to the complete screen painted.
2. Reopen: Escape, `d` again. Everything is known (finished jobs are never described again): `d` → the
   complete screen painted, and the calls it made (none).
3. The cost of a refresh of the comparison (build + table diff) with nothing changed, and of a rebuild
   (`f` shows the equal parameters: the rows change), p50 / max.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROLE, Emulator

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/{}:latest"


def definition(pairs: int) -> dict[str, Any]:
    steps: list[dict[str, Any]] = []
    for i in range(pairs):
        steps.append(
            {
                "Name": f"Prep-{i:02d}",
                "Type": "Processing",
                "Arguments": {
                    "ProcessingResources": {
                        "ClusterConfig": {
                            "InstanceType": "ml.m5.xlarge",
                            "InstanceCount": 2,
                            "VolumeSizeInGB": 30,
                        }
                    },
                    "AppSpecification": {"ImageUri": IMAGE.format("proc")},
                    "RoleArn": ROLE,
                },
            }
        )
        steps.append(
            {
                "Name": f"Train-{i:02d}",
                "Type": "Training",
                "DependsOn": [f"Prep-{i:02d}"],
                "Arguments": {
                    "AlgorithmSpecification": {
                        "TrainingImage": IMAGE.format("train"),
                        "TrainingInputMode": "File",
                    },
                    "ResourceConfig": {
                        "InstanceType": "ml.m5.xlarge",
                        "InstanceCount": 1,
                        "VolumeSizeInGB": 30,
                    },
                    "HyperParameters": {"lr": {"Get": "Parameters.LearningRate"}},
                    "OutputDataConfig": {"S3OutputPath": "s3://bucket/model"},
                    "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
                    "RoleArn": ROLE,
                },
            }
        )
    return {
        "Version": "2020-12-01",
        "Parameters": [
            {"Name": "LearningRate", "Type": "String", "DefaultValue": "0.1"},
            {"Name": "Epochs", "Type": "Integer", "DefaultValue": 3},
        ],
        "Steps": steps,
    }


def prepare(emu: Emulator, executions: int, pairs: int) -> list[str]:
    sm = emu.sm
    sm.create_pipeline(
        PipelineName="bench-compare", PipelineDefinition=json.dumps(definition(pairs)), RoleArn=ROLE
    )
    arns = [
        sm.start_pipeline_execution(
            PipelineName="bench-compare",
            PipelineParameters=[{"Name": "LearningRate", "Value": f"0.{i + 1:02d}"}],
        )["PipelineExecutionArn"]
        for i in range(executions)
    ]
    for _ in range(50):
        emu.control("clock", {"advance": 3600})
        statuses = {
            sm.describe_pipeline_execution(PipelineExecutionArn=a)["PipelineExecutionStatus"] for a in arns
        }
        if statuses == {"Succeeded"}:
            return arns
    raise SystemExit(f"the executions did not finish: {statuses}")


def p50_max(values: list[float]) -> str:
    return f"p50 {statistics.median(values) * 1000:6.1f} ms   max {max(values) * 1000:6.1f} ms"


async def painted(app: Any) -> float:
    """The time the next frame has been painted (`call_after_refresh`: after the screen's refresh)."""
    done = asyncio.get_running_loop().create_future()
    app.call_after_refresh(lambda: done.set_result(time.perf_counter()))
    return float(await done)


async def complete(app: Any, screen_type: type) -> Any:
    """Wait for the compare screen to have every answer in (checked every half millisecond)."""
    # Polling is the point: the app offers no event for "the screen has everything".
    while not (  # noqa: ASYNC110
        isinstance(app.screen, screen_type) and app.screen.waiting.complete and app.screen.table.row_count
    ):
        await asyncio.sleep(0.0005)
    return app.screen


async def bench(emu: Emulator, arns: list[str], repeat: int) -> None:
    from textual import events

    from smtui.core.events import ExecutionsChanged, JobDescribed, StepsChanged
    from smtui.tui.app import SmtuiApp
    from smtui.tui.launch import quiet_gc
    from smtui.tui.screens.compare import CompareScreen
    from smtui.tui.screens.executions import ExecutionsScreen
    from smtui.tui.session import open_session

    compared = set(arns)
    last_answer = [0.0]

    def answered(event: Any) -> None:
        if (
            isinstance(event, JobDescribed)
            or (isinstance(event, StepsChanged) and event.execution_arn in compared)
            or (isinstance(event, ExecutionsChanged) and not event.arns.isdisjoint(compared))
        ):
            last_answer[0] = time.perf_counter()

    options = {"rate": 100.0, "max_in_flight": 16}
    async with open_session(endpoint_url=emu.url, region="us-east-1", monitor_options=options) as session:
        session.monitor.subscribe(answered)
        app = SmtuiApp(session, tick_interval=1.0)
        quiet_gc()
        async with app.run_test(size=(160, 50)) as pilot:
            screen = app.screen
            assert isinstance(screen, ExecutionsScreen)
            while screen.table.row_count < len(arns):
                await pilot.pause(0.05)
            await session.monitor.settle()
            await pilot.press(*["space"] * len(arns))
            before = emu.stats()
            start = time.perf_counter()
            app.post_message(events.Key("d", "d"))  # not Pilot's press: it waits for the app to go idle
            compare = await complete(app, CompareScreen)
            shown = await painted(app)
            calls = {k: v - before.get(k, 0) for k, v in emu.stats().items() if v != before.get(k, 0)}
            rows = compare.table.row_count
            print(f"1. first open: {len(arns)} executions, {rows} rows; calls {calls}")
            rate = options["rate"]
            print(f"   d → complete screen painted: {shown - start:.2f} s (the reads at {rate:.0f} calls/s)")
            print(
                f"   last answer arrived → complete screen painted: {(shown - last_answer[0]) * 1000:.0f} ms"
            )

            await pilot.press("escape")
            await pilot.pause(0.5)
            before = emu.stats()
            start = time.perf_counter()
            app.post_message(events.Key("d", "d"))
            compare = await complete(app, CompareScreen)
            shown = await painted(app)
            await pilot.pause(1.0)
            calls = {k: v - before.get(k, 0) for k, v in emu.stats().items() if v != before.get(k, 0)}
            took = (shown - start) * 1000
            print(f"2. reopen: d → complete screen painted: {took:.0f} ms; calls {calls or 'none'}")

            refreshes, rebuilds = [], []
            for _ in range(repeat):
                t = time.perf_counter()
                compare.refresh_comparison()
                refreshes.append(time.perf_counter() - t)
                t = time.perf_counter()
                compare.action_toggle_equal()
                rebuilds.append(time.perf_counter() - t)
                await pilot.pause(0.01)
            print(f"3. refresh, nothing changed: {p50_max(refreshes)}")
            print(f"   rebuild (f: rows change):  {p50_max(rebuilds)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--executions", type=int, default=8)
    parser.add_argument("--pairs", type=int, default=25, help="Processing → Training pairs (2 steps each)")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    emu = Emulator(None)
    try:
        arns = prepare(emu, args.executions, args.pairs)
        asyncio.run(bench(emu, arns, args.repeat))
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
