"""What both benchmarks of the article's comparison share: an emulator subprocess, the article's process,
stopping executions at random moments, percentiles, and a process's peak RSS and CPU from /proc."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
CREDS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}

ARTICLE = r"""
import json, sys, time
import boto3
arn, url, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
client = boto3.client("sagemaker", endpoint_url=url)
last = None
print(json.dumps({"ready": time.time()}), flush=True)
while True:
    status = client.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
    if status != last:
        print(json.dumps({"t": time.time(), "status": status}), flush=True)
        last = status
    if status not in ("Executing", "Stopping"):
        break
    time.sleep(delay)
time.sleep(3600)  # stay alive so the bench can read this process's peak RSS and CPU
"""


def die_with_parent() -> None:
    """`preexec_fn` of every child: killed with the bench, even by a signal (Linux; elsewhere a no-op)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def spawn_role(script: str, role: str = "monitor") -> subprocess.Popen[str]:
    """`script --role ROLE` in a subprocess (the monitor apart from the bench's own work), stdin and stdout
    piped for its JSON lines, killed with the bench."""
    return subprocess.Popen(
        [sys.executable, script, "--role", role],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, **CREDS},
        preexec_fn=die_with_parent,
    )


class Emulator:
    """`smtui emulator` in a subprocess on a paused clock; `scenario` None means the bundled one."""

    def __init__(self, scenario: Path | None, seed: int = 3, extra: tuple[str, ...] = ()) -> None:
        cmd = [sys.executable, "-m", "smtui", "emulator", "--port", "0", "--time-scale", "0"]
        cmd += ["--seed", str(seed), *extra]
        if scenario is not None:
            cmd += ["--scenario", str(scenario)]
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, **CREDS},
            preexec_fn=die_with_parent,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()

    @functools.cached_property
    def sm(self) -> Any:
        """One boto3 client of this emulator for the bench's own calls (building one takes ~50 ms)."""
        import boto3

        return boto3.client("sagemaker", endpoint_url=self.url, region_name="us-east-1")

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return control(self.url, path, body)

    def stats(self) -> dict[str, int]:
        return {k.split(".", 1)[1]: v for k, v in self.control("stats")["calls"].items()}

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def stop_some(emu: Emulator, arns: list[str], window: float, rng: random.Random) -> dict[str, float]:
    """Stop each of `arns` at a random moment of the window; returns ARN → wall time of the stop."""
    sm = emu.sm
    plan = sorted((rng.uniform(0.1, 0.8) * window, arn) for arn in arns)
    start = time.time()
    stopped: dict[str, float] = {}
    for at, arn in plan:
        time.sleep(max(0.0, start + at - time.time()))
        at_wall = time.time()
        try:
            sm.stop_pipeline_execution(PipelineExecutionArn=arn)
        except sm.exceptions.ClientError:
            continue  # it ended by itself meanwhile: nothing to stop, nothing to measure
        stopped[arn] = at_wall
    time.sleep(max(0.0, start + window - time.time()))
    return stopped


def percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"{statistics.median(ordered):.2f} / {p95:.2f} (n={len(ordered)})"


def control(url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """A control endpoint of the emulator at `url` (`/_emulator/<path>`): GET, or POST with a JSON body."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{url}/_emulator/{path}", data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read())


def proc_stats(pid: int) -> tuple[float, float]:
    """(peak RSS MB, CPU seconds) of a live process, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    hwm = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return hwm / 1024, (int(fields[11]) + int(fields[12])) / ticks


def run_article(
    emu: Emulator, arns: list[str], window: float, delay: float, rng: random.Random
) -> dict[str, Any]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ARTICLE, arn, emu.url, str(delay)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, **CREDS},
            preexec_fn=die_with_parent,
        )
        for arn in arns
    ]
    for proc in procs:
        assert proc.stdout is not None
        proc.stdout.readline()  # ready
    time.sleep(1.0)
    before = emu.stats()
    start_cpu = [proc_stats(p.pid)[1] for p in procs]
    t0 = time.time()
    to_stop = rng.sample(arns, max(1, len(arns) // 10))
    stopped = stop_some(emu, to_stop, window, rng)
    wall = time.time() - t0
    after = emu.stats()
    rss, cpu = 0.0, 0.0
    for proc, cpu0 in zip(procs, start_cpu, strict=True):
        peak, used = proc_stats(proc.pid)
        rss += peak
        cpu += used - cpu0
        proc.kill()
    lags: list[float] = []
    for proc, arn in zip(procs, arns, strict=True):
        out, _ = proc.communicate()
        if arn in stopped:
            for line in out.splitlines():
                entry = json.loads(line)
                if entry.get("status") in ("Stopping", "Stopped"):
                    lags.append(entry["t"] - stopped[arn])
                    break
    return {
        "calls": {op: after.get(op, 0) - before.get(op, 0) for op in after if op != "StopPipelineExecution"},
        "status_lag": lags,
        "status_missed": len(stopped) - len(lags),
        "cpu_s_per_min": cpu / wall * 60,
        "peak_rss_mb": rss,
        "processes": len(procs),
        "stopped": list(stopped),
    }
