"""Monitor benchmark, in two parts, each against an emulator in a subprocess:

    uv run --no-sync python benchmarks/monitor_bench.py            # small: 10 pipelines, 200 runs, 20 active
    uv run --no-sync python benchmarks/monitor_bench.py --full     # the issue's: 50 / 2,000 / 100
    ... --only monitor | --only compare                            # one of the two parts

Part 1, the monitor under load (phases 1 and 2). P pipelines (a chain of 20 Processing steps of 20–60
simulated seconds each: far busier than real jobs); N−A executions run to the end (history); A started; then
the clock runs at real time so the A stay active while steps start and end. Phase 1 runs the monitor in its
own process as the TUI does (budget 10 calls/s, default intervals, one execution watched, 30 rows visible)
for `--window` seconds while the bench stops a tenth of the active executions at random moments. Phase 2
runs one article process per still-active execution for the same window and stops another tenth.

Part 2, the article's use case (phases 3 and 4, `article_compare.py`): a sweep of 100 executions with the
bundled scenario's step durations, followed by the article's 100 processes, then by one `smtui wait`.

Figures: API calls by operation (from `/_emulator/stats`, per minute and per 5-s monitor cycle), staleness
(from a change in the emulator to the client knowing it: watched steps, every step, execution status),
client CPU seconds per minute of wall time, and peak RSS (sum over the article's processes).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import article_compare
from common import CREDS, ROLE, Emulator, percentiles, run_article, spawn_role, stop_some

SCENARIO = """
[defaults]
start_delay = 1
duration = [20, 60]
[types.Processing]
duration = [20, 60]
"""
STEPS = 20


def chain_definition() -> str:
    steps = []
    for i in range(STEPS):
        step: dict[str, Any] = {
            "Name": f"Step{i:02d}",
            "Type": "Processing",
            "Arguments": {
                "ProcessingResources": {
                    "ClusterConfig": {
                        "InstanceType": "ml.m5.xlarge",
                        "InstanceCount": 1,
                        "VolumeSizeInGB": 30,
                    }
                },
                "AppSpecification": {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/proc:latest"},
                "RoleArn": ROLE,
            },
        }
        if i:
            step["DependsOn"] = [f"Step{i - 1:02d}"]
        steps.append(step)
    return json.dumps({"Version": "2020-12-01", "Metadata": {}, "Parameters": [], "Steps": steps})


def setup(emu: Emulator, pipelines: int, executions: int, active: int) -> tuple[list[str], float]:
    sm = emu.sm
    names = [f"bench-{i:03d}" for i in range(pipelines)]
    definition = chain_definition()
    for name in names:
        sm.create_pipeline(PipelineName=name, PipelineDefinition=definition, RoleArn=ROLE)
    for i in range(executions - active):
        sm.start_pipeline_execution(PipelineName=names[i % pipelines])
        if i % 200 == 199:
            emu.control("clock", {"advance": 3600})  # keep the number running at once small
    emu.control("clock", {"advance": 7200})
    arns = [
        sm.start_pipeline_execution(PipelineName=names[i % pipelines])["PipelineExecutionArn"]
        for i in range(active)
    ]
    emu.control("clock", {"advance": 2})
    clock = emu.control("clock", {"time_scale": 1})
    offset = float(clock["now"]) - time.time()  # simulated = wall + offset from now on
    return arns, offset


# -- phase 1: the monitor, in its own process --------------------------------------------------------------


def monitor_role(config: dict[str, Any]) -> None:
    import asyncio

    from smtui.core.client import AwsTarget, SageMakerClient
    from smtui.core.events import ExecutionsChanged, StepsChanged
    from smtui.core.monitor import Monitor

    offset: float = config["offset"]
    active: list[str] = config["active"]
    watched = active[0]

    async def main() -> dict[str, Any]:
        target = AwsTarget(region="us-east-1", endpoint_url=config["url"])
        async with SageMakerClient.create(target, max_attempts=1) as client:
            monitor = Monitor(client, rate=config["rate"])
            seen: set[tuple[str, str, int, str]] = set()
            measuring = {"on": False, "since": 0.0}
            steps_watched: list[float] = []
            steps_all: list[float] = []
            status_seen: dict[str, float] = {}

            def on_event(event: Any) -> None:
                now = time.time()
                if isinstance(event, StepsChanged):
                    for run in monitor.runs(event.execution_arn):
                        for kind, at in (("start", run.started), ("end", run.ended)):
                            key = (event.execution_arn, run.name, run.attempt, kind)
                            if at is None or key in seen:
                                continue
                            seen.add(key)
                            changed = at.timestamp() - offset
                            if measuring["on"] and changed >= measuring["since"]:
                                lag = max(0.0, now - changed)
                                steps_all.append(lag)
                                if event.execution_arn == watched:
                                    steps_watched.append(lag)
                elif isinstance(event, ExecutionsChanged) and measuring["on"]:
                    for arn in event.arns:
                        execution = monitor.executions.get(arn)
                        if (execution is not None and not execution.is_active) or (
                            execution is not None and execution.status.value == "Stopping"
                        ):
                            status_seen.setdefault(arn, now)

            monitor.subscribe(on_event)
            monitor.set_visible(active[:30])  # as the TUI does on its first paint
            await monitor.start()
            loop = asyncio.get_running_loop()
            while not all(monitor.progress(a) is not None for a in active):  # noqa: ASYNC110
                await asyncio.sleep(0.2)
            monitor.watch(watched)
            # Measure the steady state: the one-off fetches (end times of earlier runs for the estimates of
            # the rows in view, parameters) done first, or 150 s at most.
            warm_until = loop.time() + 150
            while loop.time() < warm_until and {"describe", "params", "definition"} & set(  # noqa: ASYNC110
                monitor.backlog()
            ):
                await asyncio.sleep(0.5)
            await asyncio.sleep(5)  # let the watched and visible rows get their first fast polls
            measuring.update(on=True, since=time.time())
            print(json.dumps({"ready": time.time()}), flush=True)
            cpu0 = time.process_time()
            t0 = loop.time()
            await asyncio.sleep(config["window"])
            cpu = time.process_time() - cpu0
            wall = loop.time() - t0
            await monitor.stop()
            return {
                "steps_watched": steps_watched,
                "steps_all": steps_all,
                "status_seen": status_seen,
                "cpu_s_per_min": cpu / wall * 60,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "health": {"throttled": monitor.health.throttled, "calls_per_s": monitor.health.calls_per_s},
            }

    print(json.dumps(asyncio.run(main())), flush=True)


def run_monitor(
    emu: Emulator, arns: list[str], offset: float, window: float, rng: random.Random, rate: float
) -> dict[str, Any]:
    config = {"url": emu.url, "active": arns, "offset": offset, "window": window, "rate": rate}
    proc = spawn_role(__file__)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(config))
    proc.stdin.close()
    ready = json.loads(proc.stdout.readline())["ready"]
    before = emu.stats()
    to_stop = rng.sample(arns[1:], max(1, len(arns) // 10))
    stopped = stop_some(emu, to_stop, window, rng)
    after = emu.stats()
    result: dict[str, Any] = json.loads(proc.stdout.readline())
    proc.wait(60)
    result["calls"] = {
        op: after.get(op, 0) - before.get(op, 0) for op in after if op != "StopPipelineExecution"
    }
    result["status_lag"] = [
        result["status_seen"][a] - t for a, t in stopped.items() if a in result["status_seen"]
    ]
    result["status_missed"] = len([a for a in stopped if a not in result["status_seen"]])
    result["stopped"] = list(stopped)
    result["ready_after_s"] = ready
    return result


def report(
    args: argparse.Namespace, mon: dict[str, Any], art: dict[str, Any], active: int, active_pipelines: int
) -> None:
    per_min = 60.0 / args.window
    cycles = args.window / 5.0
    floor = active_pipelines + active
    ops = sorted(set(mon["calls"]) | set(art["calls"]))
    print(
        f"\nP={args.pipelines} pipelines, N={args.executions} executions, A={active} active "
        f"({active_pipelines} pipelines with activity), window {args.window:.0f}s each, "
        f"monitor budget {args.rate:g} calls/s, article delay {args.article_delay:.0f}s\n"
    )
    print(f"{'calls by operation':<42}{'monitor /min':>14}{'/5s cycle':>11}{'article /min':>14}")
    for op in ops:
        m, a = mon["calls"].get(op, 0), art["calls"].get(op, 0)
        if m or a:
            print(f"  {op:<40}{m * per_min:>14.1f}{m / cycles:>11.1f}{a * per_min:>14.1f}")
    m_total, a_total = sum(mon["calls"].values()), sum(art["calls"].values())
    print(f"  {'total':<40}{m_total * per_min:>14.1f}{m_total / cycles:>11.1f}{a_total * per_min:>14.1f}")
    print(
        f"  monitor calls per 5-s cycle / floor (pipelines with activity + active = {floor}): "
        f"{m_total / cycles / floor:.2f}"
    )
    print(f"\n{'staleness, seconds (median / p95)':<42}{'monitor':>22}{'article':>22}")
    print(f"  {'watched execution steps':<40}{percentiles(mon['steps_watched']):>22}{'unknown':>22}")
    print(f"  {'every step of every active execution':<40}{percentiles(mon['steps_all']):>22}{'unknown':>22}")
    print(
        f"  {'execution status (stops)':<40}{percentiles(mon['status_lag']):>22}"
        f"{percentiles(art['status_lag']):>22}"
    )
    print(f"  {'  stops not seen within the window':<40}{mon['status_missed']:>22}{art['status_missed']:>22}")
    print(f"\n{'resources':<42}{'monitor':>16}{'article':>16}")
    print(f"  {'client CPU s per minute':<40}{mon['cpu_s_per_min']:>16.2f}{art['cpu_s_per_min']:>16.2f}")
    print(f"  {'peak RSS MB':<40}{mon['peak_rss_mb']:>16.1f}{art['peak_rss_mb']:>16.1f}")
    print(f"  {'processes':<40}{1:>16}{art['processes']:>16}")
    print(
        f"\nratios (article / monitor): memory {art['peak_rss_mb'] / mon['peak_rss_mb']:.1f}x, "
        f"CPU {art['cpu_s_per_min'] / max(mon['cpu_s_per_min'], 1e-9):.1f}x, "
        f"calls {a_total / max(m_total, 1):.2f}x (the monitor also knows every step)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--role", choices=["bench", "monitor"], default="bench", help=argparse.SUPPRESS)
    parser.add_argument("--full", action="store_true", help="2,000 executions, 50 pipelines, 100 active")
    parser.add_argument("--pipelines", type=int, default=10)
    parser.add_argument("--executions", type=int, default=200)
    parser.add_argument("--active", type=int, default=20)
    parser.add_argument("--window", type=float, default=45.0, help="seconds measured per approach")
    parser.add_argument("--article-delay", type=float, default=30.0, help="the SDK's wait() delay")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, default=10.0, help="the monitor's call budget (calls/s)")
    parser.add_argument("--compare-pipelines", type=int, default=10, help="the article's sweep: pipelines")
    parser.add_argument("--compare-executions", type=int, default=100, help="the article's sweep: executions")
    parser.add_argument("--compare-window", type=float, default=120.0, help="seconds measured per approach")
    parser.add_argument("--only", choices=["monitor", "compare"], help="run just one of the two parts")
    args = parser.parse_args()
    os.environ.update(CREDS)  # the emulator takes any credentials; never use the caller's real ones
    if args.role == "monitor":
        monitor_role(json.loads(sys.stdin.read()))
        return
    if args.full:
        args.pipelines, args.executions, args.active, args.window = 50, 2000, 100, 90.0
        args.compare_window = max(args.compare_window, 300.0)  # steps last minutes: more of them end
    if args.only != "compare":
        stress(args)
    if args.only != "monitor":
        article_compare.compare(args)


def stress(args: argparse.Namespace) -> None:
    """Phases 1 and 2: the monitor (a TUI's settings) and the article on the issue's 2,000 executions."""
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "bench.toml"
        scenario.write_text(SCENARIO)
        emu = Emulator(scenario)
        try:
            print(
                f"emulator {emu.url}; {args.pipelines} pipelines, {args.executions} executions...",
                flush=True,
            )
            arns, offset = setup(emu, args.pipelines, args.executions, args.active)
            print("phase 1: the monitor", flush=True)
            mon = run_monitor(emu, arns, offset, args.window, rng, args.rate)
            remaining = [a for a in arns if a not in set(mon["stopped"])]
            print(f"phase 2: the article's way, {len(remaining)} processes", flush=True)
            art = run_article(emu, remaining, args.window, args.article_delay, rng)
        finally:
            emu.stop()
    report(args, mon, art, len(arns), min(args.pipelines, len(arns)))


if __name__ == "__main__":
    main()
