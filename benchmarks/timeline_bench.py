"""Timeline benchmark: the execution screen's Gantt view (`t`) of a 500-step execution (a wide ForEach).

    uv run --no-sync python benchmarks/timeline_bench.py [--items 497] [--presses 200]

An emulator in this process (its clock stands still: nothing but the monitor's polls runs beside the app)
holds one execution of Preprocess → Train → a ForEach of `--items` iterations, 50 at a time, caught half
way: iterations done, running and waiting. The app (120×40, headless) opens it and presses `t`. Then:
- key press → repaint: `--presses` presses (down, page down/up, up), each from the key reaching the app to
  the first frame painted after the cursor moved (p50/p95/max), while the monitor keeps polling the steps;
- a new model: what a tick under running steps costs (the model built again from the monitor's state,
  every line on screen drawn again), p50/p95/max over 50 ticks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from tui_bench import print_latencies, record_frames, time_key

ROOT = Path(__file__).resolve().parent.parent
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def definition(items: int) -> str:
    doc = json.loads((ROOT / "tests" / "definitions" / "compare.json").read_text())
    shards = doc["Steps"][2]["Arguments"]
    shards["IterableItems"] = [f"shard-{i:03d}" for i in range(items)]
    shards["MaxConcurrency"] = 50
    return json.dumps(doc)


async def run(items: int, presses: int) -> None:
    from smtui.core.client import AwsTarget, SageMakerClient
    from smtui.emulator.cli import EmulatorOptions, start_emulator
    from smtui.tui.app import SmtuiApp
    from smtui.tui.screens.execution import ExecutionScreen
    from smtui.tui.screens.executions import ExecutionsScreen
    from smtui.tui.session import open_session
    from smtui.tui.widgets.timeline_view import TimelineView

    running = await start_emulator(EmulatorOptions(time_scale=0, seed=5))
    clock = running.backend.clock  # type: ignore[attr-defined]
    try:
        target = AwsTarget(region="us-east-1", endpoint_url=running.url)
        async with SageMakerClient.create(target) as client:
            await client.call(
                "create_pipeline",
                PipelineName="wide",
                PipelineDefinition=definition(items),
                RoleArn=ROLE,
                ClientRequestToken="create-wide-token-0123456789abcdef",
            )
            reply = await client.call("start_pipeline_execution", PipelineName="wide")
            arn = str(reply["PipelineExecutionArn"])
            for _ in range(400):  # until the ForEach is half way through its iterations
                clock.advance(60)
                steps = await client.call("list_pipeline_execution_steps", PipelineExecutionArn=arn)
                done = [s for s in steps["PipelineExecutionSteps"] if s["StepStatus"] == "Succeeded"]
                if len(done) >= items // 2:
                    break
        async with open_session(endpoint_url=running.url, region="us-east-1") as session:
            app = SmtuiApp(session, tick_interval=1.0)
            async with app.run_test(size=(120, 40)) as pilot:
                while not isinstance(app.screen, ExecutionsScreen):
                    await pilot.pause(0.05)
                table = app.screen.table
                while not table.select_arn(arn):
                    await pilot.pause(0.05)
                await pilot.press("enter")
                while not isinstance(app.screen, ExecutionScreen):
                    await pilot.pause(0.05)
                screen: Any = app.screen
                await pilot.press("t")
                view = screen.query_one(TimelineView)
                while len(view.bars) < items + 3:
                    await pilot.pause(0.05)
                await session.monitor.settle()
                await pilot.pause(0.5)
                print(f"timeline of {len(view.bars)} bars, {app.size.width}×{app.size.height}")
                record_frames(app)
                keys = ["down"] * (presses // 2) + ["pagedown", "pageup"] * 5
                keys += ["up"] * max(0, presses - len(keys))
                latencies = []
                for key in keys:
                    latencies.append(await time_key(app, key, lambda: view.cursor))
                    await asyncio.sleep(0.02)  # a person types slower than this
                print_latencies(f"{len(keys)} presses, the monitor polling", latencies)

                rebuilds = []
                for _ in range(50):
                    start = time.perf_counter()
                    screen._timeline()  # what each tick does under running steps
                    view.text_lines()  # every line on screen drawn again
                    rebuilds.append((time.perf_counter() - start) * 1000)
                    view.timeline = None  # the next one is a new model, as after a tick
                rebuilds.sort()
                p95 = rebuilds[max(0, int(len(rebuilds) * 0.95) - 1)]
                print("   a new model (a tick under running steps: built, every line on screen drawn)")
                print(
                    f"     p50 {statistics.median(rebuilds):5.1f} ms   p95 {p95:5.1f} ms"
                    f"   max {rebuilds[-1]:5.1f} ms"
                )
    finally:
        await running.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=497, help="ForEach iterations (+3 steps = the bars)")
    parser.add_argument("--presses", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    asyncio.run(run(args.items, args.presses))


if __name__ == "__main__":
    main()
