"""Soak benchmark: a week-long session of smtui, in a few minutes.

    ./scripts/uv run --no-sync python benchmarks/soak_bench.py        # 7 days at 2,400x (~5 min)
    ... --days 7 --time-scale 2400 --history 100 --rows 40 --rate 40
    ... --history 1000000                                               # as before: nothing forgotten

`smtui emulator --demo` runs in a subprocess with its clock at `--time-scale` simulated seconds a second: the
demo's five pipelines, a week of history and its traffic. That traffic decides every 2 real seconds, so at
this scale it starts only a run or two per tick; the bench starts the missing ones through the API, at the
demo's rate (a run every 30–150 simulated seconds: ~960 a day, spread evenly over the pipelines). At 2,400x
they arrive some 25 a real second, so most start and end between two looks of the monitor: a harsher churn
than life.

The monitor runs in this process as the TUI drives it, headless: the TUI's intervals (5 / 1 / 30 s) and
`history`, the newest `--rows` rows across pipelines in view (a terminal of that height sorted newest
first, updated once a second like the TUI's tick), the newest running execution open (the next one when it
ends: someone following the latest run), and the oldest finished execution loaded at the start marked for the
whole week. Its budget is 40 calls/s, not the TUI's 10: a week of arrivals pressed into minutes needs more
calls a second than the TUI's budget gives (with 10 the monitor falls behind, and the lists of some
pipelines wait behind the definitions of new runs, so fewer executions reach the store).

At the start and after each simulated day it prints this process's resident memory (after a full garbage
collection), what the monitor holds (executions, unfinished ones, finished ones per pipeline, step runs,
definitions, refresh stamps), the executions in the account (counted through the emulator's API), and the
monitor's calls per second since the previous line. No assertion: figures to read. Memory should be flat
after the first day (the store fills each pipeline's history during it).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from common import CREDS, ROOT, control, die_with_parent

DAY = 86400.0


def rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")) / 1024


def start_emulator(time_scale: float, seed: int) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "smtui", "emulator", "--port", "0", "--demo"]
    cmd += ["--time-scale", str(time_scale), "--seed", str(seed)]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, **CREDS},
        preexec_fn=die_with_parent,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def call(url: str, operation: str, body: dict[str, Any]) -> Any:
    """One SageMaker call, straight over HTTP (the emulator checks no signature): the bench's own calls stay
    out of this process's memory and out of the monitor's counts (another User-Agent)."""
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"X-Amz-Target": f"SageMaker.{operation}", "Content-Type": "application/x-amz-json-1.1"},
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def account_executions(url: str) -> int:
    """Executions in the account: every page of every pipeline's list (a page at a time)."""
    total = 0
    for pipeline in call(url, "ListPipelines", {"MaxResults": 100})["PipelineSummaries"]:
        token = None
        while True:
            body: dict[str, Any] = {"PipelineName": pipeline["PipelineName"], "MaxResults": 100}
            if token:
                body["NextToken"] = token
            page = call(url, "ListPipelineExecutions", body)
            total += len(page["PipelineExecutionSummaries"])
            token = page.get("NextToken")
            if not token:
                break
    return total


def start_runs(url: str, pipelines: list[str]) -> None:
    """Start one run of each of `pipelines` (through the API, as a scheduler would)."""
    for pipeline in pipelines:
        token = uuid.uuid4().hex  # botocore fills it in; a raw call must send one
        call(url, "StartPipelineExecution", {"PipelineName": pipeline, "ClientRequestToken": token})


def monitor_calls(url: str) -> int:
    """Calls the monitor made (botocore's User-Agent; the bench's own counting uses urllib's)."""
    agents: dict[str, int] = control(url, "stats")["agents"]
    return sum(n for agent, n in agents.items() if "botocore" in agent)


async def soak(url: str, args: argparse.Namespace) -> None:
    from smtui.core.client import AwsTarget, SageMakerClient
    from smtui.core.monitor import Monitor

    async with SageMakerClient.create(AwsTarget(region="us-east-1", endpoint_url=url)) as client:
        # The TUI's defaults (`smtui.tui.launch`), the history as its setting.
        monitor = Monitor(client, rate=args.rate, history=args.history, history_pages=-(-args.history // 100))
        await monitor.start()
        watched: str | None = None
        marked: str | None = None
        loop = asyncio.get_running_loop()

        def tick() -> None:
            """What the TUI's executions screen and a user do once a second."""
            nonlocal watched
            newest = sorted(
                monitor.executions.values(), key=lambda e: e.started.timestamp() if e.started else 0.0
            )[-args.rows :]
            monitor.set_visible(e.arn for e in newest)
            current = monitor.executions.get(watched) if watched else None
            if current is None or not current.is_active:
                running = [e for e in reversed(newest) if e.is_active]
                if running:
                    if watched:
                        monitor.unwatch(watched)
                    watched = running[0].arn
                    monitor.watch(watched)

        async def line(day: float, since: tuple[float, int]) -> tuple[float, int]:
            gc.collect()
            memory = rss_mb()
            store = monitor.store
            executions = store.executions.values()
            finished: dict[str, int] = {}
            for e in executions:
                if not e.is_active:
                    finished[e.pipeline_name] = finished.get(e.pipeline_name, 0) + 1
            fewest, most = min(finished.values(), default=0), max(finished.values(), default=0)
            held = (
                f"{len(store.executions):>6} {sum(e.is_active for e in executions):>7} {fewest:>4}–{most:<4} "
                f"{sum(map(len, store.runs.values())):>6} {len(store.graphs):>5} {len(store.refreshed):>7}"
            )
            kept = marked in store.executions
            at, calls = time.monotonic(), await loop.run_in_executor(None, monitor_calls, url)
            rate = (calls - since[1]) / max(at - since[0], 1e-9)
            account = await loop.run_in_executor(None, account_executions, url)
            print(
                f"{day:>4.0f} {at - started:>7.0f} {memory:>8.1f} {held} {account:>8} {rate:>8.1f} "
                f"{'yes' if kept else 'NO':>7}",
                flush=True,
            )
            return time.monotonic(), await loop.run_in_executor(None, monitor_calls, url)

        print(
            f"{args.days:g} simulated days at {args.time_scale:g}x, history {args.history}, "
            f"{args.rows} rows in view",
            flush=True,
        )
        print(
            " day    real   RSS MB  execs  active  finished  steps  defs  stamps  account  calls/s  marked",
            flush=True,
        )
        print(
            "  (simulated day, real seconds, this process; the monitor's store: executions, unfinished,"
            " finished per pipeline (fewest–most), step runs, definitions, refresh stamps; executions in the"
            " account; the monitor's calls/s; the marked run still held)",
            flush=True,
        )
        started = time.monotonic()
        origin = float(control(url, "health")["now"])
        # The first load: every pipeline listed, what is in view read.
        while len(monitor.pipelines) == 0 or any(not monitor.store.loaded(p) for p in monitor.pipelines):  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        tick()
        await monitor.settle(limit=20)
        oldest = min(
            (e for e in monitor.executions.values() if not e.is_active and e.started),
            key=lambda e: e.started.timestamp() if e.started else 0.0,
        )
        marked = oldest.arn
        monitor.keep([marked])  # the user marked the oldest run shown at the start, and never unmarks it
        since = await line(0, (started, monitor_calls(url)))
        day = 1
        rng = random.Random(args.seed)
        pipelines = sorted(monitor.pipelines)
        next_arrival = origin
        while day <= args.days:
            await asyncio.sleep(1.0)
            tick()
            now = float((await loop.run_in_executor(None, control, url, "health"))["now"])
            # The demo's arrival rate (a run every 30–150 simulated seconds), which its traffic, deciding
            # every 2 real seconds, cannot keep at this scale: the bench starts the missing runs itself.
            due = []
            while next_arrival <= now:
                due.append(rng.choice(pipelines))
                next_arrival += rng.uniform(30, 150)
            await loop.run_in_executor(None, start_runs, url, due)
            if now - origin >= day * DAY:
                since = await line(day, since)
                day += 1
        await monitor.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=float, default=7)
    parser.add_argument("--time-scale", type=float, default=2400, help="simulated seconds per second")
    parser.add_argument("--history", type=int, default=100, help="finished executions kept per pipeline")
    parser.add_argument("--rows", type=int, default=40, help="rows in view (the terminal's height)")
    parser.add_argument("--rate", type=float, default=40, help="the monitor's calls/s (the TUI's: 10)")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    os.environ.update(CREDS)  # the monitor's client, in this process, signs with the emulator's dummy keys
    proc, url = start_emulator(args.time_scale, args.seed)
    try:
        asyncio.run(soak(url, args))
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
