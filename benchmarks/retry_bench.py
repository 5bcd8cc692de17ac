"""What it costs to see a retry made elsewhere (RetryPipelineExecution: a Failed run Executing again, same
ARN), and how soon it is seen:

    uv run --no-sync python benchmarks/retry_bench.py     # 20 pipelines x 20 runs, ~6 min

Two accounts (emulators on a paused clock, so nothing changes but what the bench does), each with P
pipelines of H finished runs, and the monitor as the TUI runs it (default intervals, budget 10 calls/s,
the newest 30 rows in view, as in a 40-line terminal):
- A: every run Succeeded: nothing can change; what the monitor costs idle.
- B: the same, but each pipeline holds one Failed run: the newest run for half the pipelines (so in view),
  a run halfway down for the others (out of view). Measured idle, then with one Failed run open, then
  while a separate boto3 client retries runs at random moments: in view, out of view, and open.
Figures: calls per minute by operation (from `/_emulator/stats`), and the time from a retry to the monitor
knowing the run is Executing (median / p95).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from common import CREDS, ROLE, Emulator, percentiles

SCENARIO = """
[defaults]
start_delay = 1
duration = 60
failure_probability = 0
[types.Processing]
duration = 60
failure_probability = 0
[pipelines."*".steps."WorkFlaky"]
fail_attempts = 1
failures = [{ reason = "AlgorithmError: bench", exception = "" }]
"""


def definition(step: str) -> str:
    work = {
        "Name": step,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30}
            },
            "AppSpecification": {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/proc:latest"},
            "RoleArn": ROLE,
        },
    }
    return json.dumps({"Version": "2020-12-01", "Metadata": {}, "Parameters": [], "Steps": [work]})


def setup(emu: Emulator, pipelines: int, history: int, retryable: bool) -> dict[str, list[str]]:
    """P pipelines x H finished runs. With `retryable`, one run of each Failed: the newest for the even
    pipelines, the one halfway down for the odd ones. Returns the Failed runs, "in view" / "out of view"."""
    sm = emu.sm
    names = [f"bench-{i:03d}" for i in range(pipelines)]
    good, flaky = definition("Work"), definition("WorkFlaky")
    for name in names:
        sm.create_pipeline(PipelineName=name, PipelineDefinition=good, RoleArn=ROLE)
    failing = {"in view": [], "out of view": []}  # type: dict[str, list[str]]
    for round_ in range(history):
        for i, name in enumerate(names):
            fails = retryable and round_ == (history - 1 if i % 2 == 0 else history // 2)
            if fails:
                sm.update_pipeline(PipelineName=name, PipelineDefinition=flaky)
            arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
            if fails:
                sm.update_pipeline(PipelineName=name, PipelineDefinition=good)
                failing["in view" if i % 2 == 0 else "out of view"].append(arn)
            emu.control("clock", {"advance": 1})  # distinct start times: the table's order is known
        emu.control("clock", {"advance": 300})
    return failing


async def measure(emu: Emulator, failing: dict[str, list[str]], args: argparse.Namespace) -> dict[str, Any]:
    from smtui.core.client import AwsTarget, SageMakerClient
    from smtui.core.events import ExecutionsChanged
    from smtui.core.model import ExecutionStatus
    from smtui.core.monitor import Monitor

    target = AwsTarget(region="us-east-1", endpoint_url=emu.url)
    out: dict[str, Any] = {}
    async with SageMakerClient.create(target) as client:
        monitor = Monitor(client, rate=args.rate)
        retried: dict[str, float] = {}
        seen: dict[str, float] = {}

        def on_event(event: Any) -> None:
            if isinstance(event, ExecutionsChanged):
                for arn in event.arns & retried.keys():
                    if monitor.executions[arn].status is ExecutionStatus.EXECUTING:
                        seen.setdefault(arn, time.time())

        monitor.subscribe(on_event)
        await monitor.start()
        total = args.pipelines * args.history
        while len(monitor.executions) < total:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        newest = sorted(monitor.executions.values(), key=lambda e: e.started or 0, reverse=True)  # type: ignore[arg-type, return-value]
        view = [e.arn for e in newest[: args.rows]]
        monitor.set_visible(view)  # as the table does on its first paint
        assert set(failing["in view"]) <= set(view) and not set(failing["out of view"]) & set(view)
        await asyncio.sleep(args.warm)  # the one-off reads of the rows in view (steps, end times) done

        async def window(label: str, seconds: float) -> None:
            before = emu.stats()
            await asyncio.sleep(seconds)
            after = emu.stats()
            out[label] = {op: (after.get(op, 0) - before.get(op, 0)) * 60 / seconds for op in after}

        await window("idle", args.window)
        if failing["out of view"]:
            opened = failing["out of view"][-1]
            monitor.watch(opened)
            await asyncio.sleep(3)
            await window("one Failed run open", args.window / 2)
            monitor.unwatch(opened)

            rng = random.Random(args.seed)
            sm = emu.sm

            async def retry(arn: str) -> None:
                retried[arn] = time.time()
                await asyncio.to_thread(sm.retry_pipeline_execution, PipelineExecutionArn=arn)

            for arn in failing["out of view"][:3]:  # open, then retried a moment later
                monitor.watch(arn)
                await asyncio.sleep(rng.uniform(2, 5))
                await retry(arn)
                for _ in range(100):
                    if arn in seen:
                        break
                    await asyncio.sleep(0.1)
                monitor.unwatch(arn)
            plan = [
                (rng.uniform(0, args.window), a) for a in failing["in view"][:5] + failing["out of view"][3:8]
            ]
            start = time.time()
            for at, arn in sorted(plan):
                await asyncio.sleep(max(0.0, start + at - time.time()))
                await retry(arn)
            deadline = time.time() + 90
            while time.time() < deadline and not retried.keys() <= seen.keys():  # noqa: ASYNC110
                await asyncio.sleep(0.2)
            for label, arns in (
                ("open", failing["out of view"][:3]),
                ("in view", failing["in view"][:5]),
                ("out of view", failing["out of view"][3:8]),
            ):
                out[f"lag {label}"] = [seen[a] - retried[a] for a in arns if a in seen]
                out[f"missed {label}"] = len([a for a in arns if a not in seen])
        await monitor.stop()
    return out


def report(args: argparse.Namespace, a: dict[str, Any], b: dict[str, Any]) -> None:
    columns = [("A: no retryable run", a["idle"]), ("B: retryable runs", b["idle"])]
    columns.append(("B, one Failed run open", b["one Failed run open"]))
    ops = sorted({op for _, calls in columns for op, n in calls.items() if n})
    print(
        f"\n{args.pipelines} pipelines x {args.history} finished runs, {args.rows} rows in view, budget "
        f"{args.rate:g} calls/s; B: {args.pipelines // 2} Failed runs in view, "
        f"{args.pipelines - args.pipelines // 2} out of view\n"
    )
    print(f"{'calls per minute':<40}" + "".join(f"{label:>26}" for label, _ in columns))
    for op in ops:
        print(f"  {op:<38}" + "".join(f"{calls.get(op, 0):>26.1f}" for _, calls in columns))
    print(f"  {'total':<38}" + "".join(f"{sum(calls.values()):>26.1f}" for _, calls in columns))
    print(f"\n{'a retry seen after, s (median / p95)':<40}{'':>26}")
    for label in ("open", "in view", "out of view"):
        print(f"  {label:<38}{percentiles(b[f'lag {label}']):>26}   missed {b[f'missed {label}']}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pipelines", type=int, default=20)
    parser.add_argument("--history", type=int, default=20, help="finished runs per pipeline")
    parser.add_argument("--window", type=float, default=90.0, help="seconds measured idle")
    parser.add_argument("--warm", type=float, default=20.0)
    parser.add_argument("--rows", type=int, default=30, help="rows in view (at least --pipelines)")
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    os.environ.update(CREDS)  # the emulator takes any credentials; never use the caller's real ones
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "bench.toml"
        scenario.write_text(SCENARIO)
        for retryable in (False, True):
            emu = Emulator(scenario)
            try:
                print(f"emulator {emu.url}: {'B' if retryable else 'A'}...", flush=True)
                failing = setup(emu, args.pipelines, args.history, retryable)
                results.append(asyncio.run(measure(emu, failing, args)))
            finally:
                emu.stop()
    report(args, results[0], results[1])


if __name__ == "__main__":
    main()
