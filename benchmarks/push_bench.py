"""Push updates at scale (issue 15): a large organisation's load, with events and without, then a drill.

    uv run --no-sync python benchmarks/push_bench.py                 # 3 contexts, 200 / 10,000 / 1,000
    ... --contexts 3 --pipelines 200 --executions 10000 --active 1000 --window 120 --drill 120
    ... --only events | --only polling | --only drill

Each context is an emulator in a subprocess with its own `--account` (as separate accounts would be), holding
its share of P pipelines (chains of 60 Processing steps of `--step` simulated seconds each), N executions of
which A are still running; then its clock runs at real time, so steps start and end all the time. Every
emulator gets `smtui events setup` (queue, policy, rule, target).

The monitors — one per context, in ONE process, as the TUI runs them: budget 10 calls/s each, default paces,
the first 30 active executions in view across the contexts, one execution open — start, warm up (every active
execution's steps read once, the one-off fetches done) and then the window is measured:

- staleness of every step start and end: from the simulated moment the step changed (read back afterwards
  from the emulator, to the millisecond: event times are whole seconds) to when the monitor's store shows it;
- SageMaker calls per second (summed over the emulators' `/_emulator/stats`; SQS calls apart);
- the monitor process's peak RSS and CPU (the emulators' are not counted).

Modes: `events` (`--events`: the queue), `polling` (no queue: the same run, to show the difference), and
`drill`: with events, 20 % of events dropped, 10 % duplicated, 10 % reordered; halfway through, one context's
queue is deleted (its monitor must fall back to polling, and say so in `Monitor.updates`). At the end of the
drill every clock stops and the monitors get 120 s to hold exactly the emulators' execution and step statuses.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import monitor_bench
from common import CREDS, ROLE, ROOT, Emulator, percentiles, spawn_role

QUEUE = "smtui-events"
# Chains of 60 steps of 10-30 s: every execution stays active ~1,200 s, through all three modes.
monitor_bench.STEPS = 60
VISIBLE = 30
CONVERGE = 120.0  # seconds the drill gives the monitors to hold every status right


def scenario(step: tuple[float, float]) -> str:
    durations = f"duration = [{step[0]:g}, {step[1]:g}]"
    return f"[defaults]\nstart_delay = 1\n{durations}\n[types.Processing]\n{durations}\n"


class Context:
    """One account: an emulator subprocess with its own `--account`, its queue, its active executions."""

    def __init__(self, index: int, scenario_file: Path, seed: int) -> None:
        self.index = index
        self.account = f"{111111111111 * (index + 1):012d}"[-12:]
        self.emu = Emulator(scenario_file, seed + index, extra=("--account", self.account))
        self.active: list[str] = []
        self.queue_url = ""
        self.offset = 0.0

    def setup(self, pipelines: int, executions: int, active: int) -> None:
        emu, sm = self.emu, self.emu.sm
        names = [f"org{self.index}-{i:03d}" for i in range(pipelines)]
        definition = monitor_bench.chain_definition()
        for name in names:
            sm.create_pipeline(PipelineName=name, PipelineDefinition=definition, RoleArn=ROLE)
        for i in range(executions - active):
            sm.start_pipeline_execution(PipelineName=names[i % pipelines])
            if i % 200 == 199:
                emu.control("clock", {"advance": 3600})  # keep the number running at once small
        emu.control("clock", {"advance": 7200})
        subprocess.run(
            [sys.executable, "-m", "smtui", "events", "setup", "--endpoint-url", emu.url],
            check=True,
            cwd=ROOT,
            env={**os.environ, **CREDS},
            stdout=subprocess.DEVNULL,
        )
        import boto3

        sqs = boto3.client("sqs", endpoint_url=emu.url, region_name="us-east-1")
        self.queue_url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
        self.active = [
            sm.start_pipeline_execution(PipelineName=names[i % pipelines])["PipelineExecutionArn"]
            for i in range(active)
        ]
        # Start them at spread moments so their steps do not change in lockstep.
        emu.control("clock", {"advance": 2})

    def run_clock(self) -> None:
        clock = self.emu.control("clock", {"time_scale": 1})
        self.offset = float(clock["now"]) - time.time()  # simulated = wall + offset from now on

    def fresh_queue(self) -> None:
        """A new, empty queue (`events setup` again): each mode starts without a backlog. Draining the old
        one took minutes after a mode that does not read it (~50 events/s per context pile up)."""
        import boto3

        sqs = boto3.client("sqs", endpoint_url=self.emu.url, region_name="us-east-1")
        with contextlib.suppress(sqs.exceptions.QueueDoesNotExist):
            sqs.delete_queue(QueueUrl=self.queue_url)
        subprocess.run(
            [sys.executable, "-m", "smtui", "events", "setup", "--endpoint-url", self.emu.url],
            check=True,
            cwd=ROOT,
            env={**os.environ, **CREDS},
            stdout=subprocess.DEVNULL,
        )
        self.queue_url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]

    def sagemaker_calls(self) -> dict[str, int]:
        """Calls by `Service.Operation` (SageMaker, SQS, EventBridge, Logs)."""
        return dict(self.emu.control("stats")["calls"])

    def truth(self) -> dict[str, Any]:
        """Every active execution's status and steps as the emulator has them now (the bench's own calls)."""
        sm = self.emu.sm
        out: dict[str, Any] = {}
        for arn in self.active:
            status = sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
            steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn, MaxResults=100)
            out[arn] = {
                "status": status,
                "steps": {
                    s["StepName"]: {
                        "status": s["StepStatus"],
                        "start": s["StartTime"].timestamp() if s.get("StartTime") else None,
                        "end": s["EndTime"].timestamp() if s.get("EndTime") else None,
                    }
                    for s in steps["PipelineExecutionSteps"]
                },
            }
        return out


# -- the monitors, in their own process ------------------------------------------------------------------


def monitor_role(config: dict[str, Any]) -> None:
    import asyncio

    from smtui.core.client import AwsTarget, SageMakerClient
    from smtui.core.events import StepsChanged
    from smtui.core.monitor import Monitor

    contexts: list[dict[str, Any]] = config["contexts"]

    async def main() -> None:
        loop = asyncio.get_running_loop()
        clients, monitors = [], []
        seen: dict[str, float] = {}  # "arn|step|start|end" → wall time the monitor first showed it
        # Only changes from the window on (simulated time, per context): a key for each of the 120,000 step
        # starts and ends since the executions began would add ~30 MiB to the peak RSS measured.
        since = [float("inf")] * len(contexts)
        modes: list[list[tuple[float, str]]] = [[] for _ in contexts]
        for i, ctx in enumerate(contexts):
            target = AwsTarget(region="us-east-1", endpoint_url=ctx["url"])
            client = await SageMakerClient.create(target, max_attempts=1).__aenter__()
            clients.append(client)
            monitor = Monitor(
                client, rate=config["rate"], events_queue=ctx["queue"] if config["events"] else None
            )
            monitors.append(monitor)

            def on_event(event: Any, monitor: Monitor = monitor, i: int = i) -> None:
                now = time.time()
                if isinstance(event, StepsChanged):
                    for run in monitor.runs(event.execution_arn):
                        for kind, at in (("start", run.started), ("end", run.ended)):
                            if at is not None and at.timestamp() >= since[i]:
                                seen.setdefault(f"{event.execution_arn}|{run.name}|{kind}", now)
                label = monitor.health.updates
                if label is not None and (not modes[i] or modes[i][-1][1] != label):
                    modes[i].append((now, label))

            monitor.subscribe(on_event)
        # The merged table's first rows: the first active executions of each context, one open.
        per = max(1, VISIBLE // len(contexts))
        for ctx, monitor in zip(contexts, monitors, strict=True):
            monitor.set_visible(ctx["active"][:per])
            await monitor.start()
        everything = [(m, a) for ctx, m in zip(contexts, monitors, strict=True) for a in ctx["active"]]
        warm_until = loop.time() + config["warmup"]
        while loop.time() < warm_until and not all(m.progress(a) is not None for m, a in everything):  # noqa: ASYNC110
            await asyncio.sleep(0.5)
        monitors[0].watch(contexts[0]["active"][0])
        while loop.time() < warm_until and any(  # noqa: ASYNC110
            {"describe", "params", "definition"} & set(m.backlog()) for m in monitors
        ):
            await asyncio.sleep(0.5)
        await asyncio.sleep(5)
        since[:] = [time.time() - 2 + ctx["offset"] for ctx in contexts]  # event times are whole seconds
        warm = {"all_progress": all(m.progress(a) is not None for m, a in everything)}
        print(json.dumps({"ready": time.time(), **warm}), flush=True)
        cpu0, t0 = time.process_time(), time.time()
        command = await loop.run_in_executor(None, sys.stdin.readline)  # the bench ends the window
        cpu, wall = time.process_time() - cpu0, time.time() - t0
        result: dict[str, Any] = {
            "seen": seen,
            "cpu_s_per_min": cpu / wall * 60,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "modes": modes,
            "updates": [None if m.updates is None else m.updates.label for m in monitors],
            "sqs_calls": [0 if m.push is None else m.push.calls for m in monitors],
            "received": [0 if m.push is None else m.push.received for m in monitors],
        }
        if command.strip() == "converge":
            # The clocks are stopped; the bench sends what the emulators hold: how long until the monitors do?
            truth: dict[str, Any] = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
            start = time.time()
            while True:
                wrong = _wrong(monitors, truth)
                if not wrong or time.time() - start > CONVERGE:
                    break
                await asyncio.sleep(1.0)
            result["converged_after_s"] = time.time() - start if not wrong else None
            result["wrong"] = wrong[:10]
            result["wrong_count"] = len(wrong)
        print(json.dumps(result), flush=True)
        for monitor in monitors:
            await monitor.stop()
        for client in clients:
            await client.__aexit__(None, None, None)

    asyncio.run(main())


def _wrong(monitors: list[Any], truth: dict[str, Any]) -> list[str]:
    """Where a monitor's store differs from the emulator: execution statuses and each step's status."""
    wrong: list[str] = []
    for arn, want in truth.items():
        monitor = next((m for m in monitors if arn in m.executions), None)
        if monitor is None:
            wrong.append(f"{arn}: unknown")
            continue
        if monitor.executions[arn].status.value != want["status"]:
            wrong.append(f"{arn}: {monitor.executions[arn].status.value} != {want['status']}")
        latest: dict[str, Any] = {}
        for run in monitor.runs(arn):
            if run.name not in latest or run.attempt >= latest[run.name].attempt:
                latest[run.name] = run
        for name, step in want["steps"].items():
            got = latest.get(name)
            if got is None or got.status.value != step["status"]:
                wrong.append(f"{arn} {name}: {None if got is None else got.status.value} != {step['status']}")
    return wrong


# -- the bench ------------------------------------------------------------------------------------------


def parallel(method: Any, contexts: list[Context]) -> list[Any]:
    """`method(context)` for every context at once (each has its own emulator), in threads."""
    with concurrent.futures.ThreadPoolExecutor(len(contexts)) as pool:
        return list(pool.map(method, contexts))


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def run_mode(args: argparse.Namespace, contexts: list[Context], mode: str) -> dict[str, Any]:
    config = {
        "contexts": [
            {"url": c.emu.url, "queue": c.queue_url, "active": c.active, "offset": c.offset} for c in contexts
        ],
        "events": mode != "polling",
        "rate": args.rate,
        "warmup": args.warmup,
    }
    for ctx in contexts:
        ctx.emu.control("faults", {})
    parallel(Context.fresh_queue, contexts)
    proc = spawn_role(__file__)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(config) + "\n")
    proc.stdin.flush()
    t_launch = time.time()
    ready = json.loads(proc.stdout.readline())
    window = args.drill if mode == "drill" else args.window
    print(
        f"  {mode}: warm after {ready['ready'] - t_launch:.0f} s "
        f"(every row's progress: {ready['all_progress']}); "
        f"measuring {window:.0f} s, load {load()}",
        flush=True,
    )
    if mode == "drill":
        for ctx in contexts:
            ctx.emu.control("faults", {"events": {"drop": 0.2, "duplicate": 0.1, "reorder": 0.1}})
    before = [c.sagemaker_calls() for c in contexts]
    t0 = time.time()
    deleted_at = None
    if mode == "drill":
        time.sleep(window / 2)
        import boto3

        boto3.client("sqs", endpoint_url=contexts[-1].emu.url, region_name="us-east-1").delete_queue(
            QueueUrl=contexts[-1].queue_url
        )
        deleted_at = time.time()
        time.sleep(max(0.0, t0 + window - time.time()))
    else:
        time.sleep(window)
    after = [c.sagemaker_calls() for c in contexts]
    t1 = time.time()
    load_end = load()
    if mode == "drill":
        for ctx in contexts:
            ctx.emu.control("clock", {"time_scale": 0})
        proc.stdin.write("converge\n")
        truth: dict[str, Any] = {}
        for part in parallel(Context.truth, contexts):
            truth.update(part)
        proc.stdin.write(
            json.dumps({a: {"status": t["status"], "steps": t["steps"]} for a, t in truth.items()}) + "\n"
        )
        proc.stdin.flush()
    else:
        proc.stdin.write("stop\n")
        proc.stdin.flush()
    result: dict[str, Any] = json.loads(proc.stdout.readline())
    proc.wait(60)
    if mode != "drill":
        truth = {}
        for part in parallel(Context.truth, contexts):
            truth.update(part)
    calls: dict[str, int] = {}
    for b, a in zip(before, after, strict=True):
        for op, n in a.items():
            calls[op] = calls.get(op, 0) + n - b.get(op, 0)
    # Staleness: each step start/end inside the window (but its last 5 s, which may not have arrived yet).
    offsets = {arn: c.offset for c in contexts for arn in c.active}
    lags: list[float] = []
    missed = 0
    for arn, want in truth.items():
        for name, step in want["steps"].items():
            for kind in ("start", "end"):
                at = step[kind]
                if at is None:
                    continue
                wall = at - offsets[arn]
                if not t0 <= wall <= t1 - 5:
                    continue
                shown = result["seen"].get(f"{arn}|{name}|{kind}")
                if shown is None or shown > t1:
                    missed += 1
                else:
                    lags.append(max(0.0, shown - wall))
    wall = t1 - t0
    sm_calls = {op.split(".", 1)[1]: n for op, n in calls.items() if op.startswith("SageMaker.")}
    sqs_calls = {op.split(".", 1)[1]: n for op, n in calls.items() if op.startswith("AmazonSQS.")}
    print(
        f"  {mode}: staleness {percentiles(lags)}, not shown {missed}, "
        f"SageMaker {sum(sm_calls.values()) / wall:.2f} calls/s, SQS {sum(sqs_calls.values()) / wall:.2f} "
        f"calls/s, peak RSS {result['peak_rss_mb']:.0f} MiB",
        flush=True,
    )
    return {
        "mode": mode,
        "window": wall,
        "load": load_end,
        "lags": lags,
        "missed": missed,
        "sm_calls": sm_calls,
        "sqs_calls": sqs_calls,
        "sm_per_s": sum(sm_calls.values()) / wall,
        "sqs_per_s": sum(sqs_calls.values()) / wall,
        "cpu_s_per_min": result["cpu_s_per_min"],
        "peak_rss_mb": result["peak_rss_mb"],
        "modes": result["modes"],
        "updates": result["updates"],
        "received": result["received"],
        "deleted_at": deleted_at,
        "converged_after_s": result.get("converged_after_s"),
        "wrong_count": result.get("wrong_count"),
        "wrong": result.get("wrong"),
        "changes": len(lags) + missed,
    }


def report(args: argparse.Namespace, results: list[dict[str, Any]]) -> None:
    print(
        f"\n{args.contexts} contexts (one emulator each), {args.pipelines} pipelines, "
        f"{args.executions} executions, {args.active} active, steps of {args.step[0]:g}-{args.step[1]:g} "
        f"simulated s at real time; monitors "
        f"at {args.rate:g} calls/s each, {VISIBLE} rows in view, one execution open\n"
    )
    print(f"{'':<44}" + "".join(f"{r['mode']:>22}" for r in results))
    rows = [
        ("window, s", lambda r: f"{r['window']:.0f}"),
        ("load average at the end (1/5/15 min)", lambda r: r["load"]),
        ("step changes in the window", lambda r: str(r["changes"])),
        ("staleness s, median / p95", lambda r: percentiles(r["lags"]).split(" (")[0]),
        ("  max", lambda r: f"{max(r['lags'], default=0):.1f}"),
        ("  not shown by the window's end", lambda r: str(r["missed"])),
        ("SageMaker calls/s (all contexts)", lambda r: f"{r['sm_per_s']:.2f}"),
        ("SQS calls/s (all contexts)", lambda r: f"{r['sqs_per_s']:.2f}"),
        ("events received", lambda r: str(sum(r["received"]))),
        ("monitor process peak RSS, MiB", lambda r: f"{r['peak_rss_mb']:.0f}"),
        ("monitor process CPU s per minute", lambda r: f"{r['cpu_s_per_min']:.1f}"),
    ]
    for label, cell in rows:
        print(f"  {label:<42}" + "".join(f"{cell(r):>22}" for r in results))
    for r in results:
        top = sorted(r["sm_calls"].items(), key=lambda kv: -kv[1])[:4]
        print(
            f"  {r['mode']} SageMaker calls by operation /s: "
            + ", ".join(f"{op} {n / r['window']:.2f}" for op, n in top)
        )
    drill = next((r for r in results if r["mode"] == "drill"), None)
    if drill is not None:
        print(
            "\ndrill: 20 % of events dropped, 10 % duplicated, 10 % reordered; "
            "the last context's queue deleted halfway"
        )
        print("  modes per context (s from the window's start): ")
        t0 = drill["deleted_at"] - drill["window"] / 2 if drill["deleted_at"] else 0
        for i, changes in enumerate(drill["modes"]):
            print(
                f"    context {i}: "
                + ", ".join(f"{max(0.0, t - t0):.0f}s {label}" for t, label in changes)
                + f"  → at the end: {drill['updates'][i]}"
            )
        print(f"  queue deleted at {drill['deleted_at'] - t0:.0f} s")
        conv = drill["converged_after_s"]
        after = f"{conv:.1f} s" if conv is not None else f"NOT within {CONVERGE:.0f} s"
        examples = ": " + "; ".join(drill["wrong"]) if drill["wrong"] else ""
        print(
            f"  clocks stopped; every execution and step status right after: {after} "
            f"({drill['wrong_count']} wrong at the end{examples})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--role", choices=["bench", "monitor"], default="bench", help=argparse.SUPPRESS)
    parser.add_argument("--contexts", type=int, default=3)
    parser.add_argument("--pipelines", type=int, default=200, help="in all, split over the contexts")
    parser.add_argument("--executions", type=int, default=10000, help="in all")
    parser.add_argument("--active", type=int, default=1000, help="in all")
    parser.add_argument("--step", type=float, nargs=2, default=(10.0, 30.0), help="step durations, s")
    parser.add_argument("--window", type=float, default=120.0, help="seconds measured per mode")
    parser.add_argument("--drill", type=float, default=120.0, help="seconds of the drill before the check")
    parser.add_argument("--warmup", type=float, default=180.0, help="at most this long to warm up")
    parser.add_argument("--rate", type=float, default=10.0, help="each monitor's SageMaker budget (calls/s)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=["events", "polling", "drill"], action="append")
    args = parser.parse_args()
    os.environ.update(CREDS)
    if args.role == "monitor":
        monitor_role(json.loads(sys.stdin.readline()))
        return
    random.seed(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        scenario_file = Path(tmp) / "push.toml"
        scenario_file.write_text(scenario(args.step))
        contexts = [Context(i, scenario_file, args.seed) for i in range(args.contexts)]
        try:
            t = time.time()
            share = lambda total, i: total // args.contexts + (i < total % args.contexts)  # noqa: E731
            threads = [
                threading.Thread(
                    target=c.setup,
                    args=(share(args.pipelines, i), share(args.executions, i), share(args.active, i)),
                )
                for i, c in enumerate(contexts)
            ]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            for c in contexts:
                c.run_clock()
            print(f"set up in {time.time() - t:.0f} s, load {load()}", flush=True)
            results = [run_mode(args, contexts, mode) for mode in args.only or ["events", "polling", "drill"]]
        finally:
            for c in contexts:
                c.emu.stop()
    report(args, results)


if __name__ == "__main__":
    main()
