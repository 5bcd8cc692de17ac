"""The article's use case, both ways: a sweep of executions, each followed to its end.

The article (shared/reference) starts one process per execution and blocks each in the SDK's
`execution.wait(delay=30)`: one DescribePipelineExecution per execution every 30 s, and it knows only the
status. smtui's replacement is one `smtui wait --interval 30 ARN...` for all of them, which also knows every
step. Both follow the same executions, one after the other, for the same window, on an emulator with the
bundled scenario's step durations (Processing 3-15 min, Training 10-40 min: what real jobs take), at real
time. The executions were started a few seconds of simulated time apart, so they are spread over their
steps. A tenth of them is stopped at random moments in each window.

Figures: calls per minute by operation, status staleness (stop → the client shows Stopping/Stopped), for
`smtui wait` also step staleness (a step's end → the progress line that counts it), CPU and peak RSS.
"""

from __future__ import annotations

import json
import os
import queue
import random
import subprocess
import sys
import threading
import time
from datetime import datetime
from typing import Any

from common import (
    CREDS,
    ROLE,
    ROOT,
    Emulator,
    die_with_parent,
    percentiles,
    proc_stats,
    run_article,
    stop_some,
)

PROCESSING = {
    "ProcessingResources": {
        "ClusterConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30}
    },
    "AppSpecification": {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/proc:latest"},
    "RoleArn": ROLE,
}
TRAINING = {
    "AlgorithmSpecification": {
        "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:latest",
        "TrainingInputMode": "File",
    },
    "HyperParameters": {
        "learning_rate": {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.LearningRate"}]}}
    },
    "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
    "OutputDataConfig": {"S3OutputPath": "s3://bucket/model"},
    "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
    "RoleArn": ROLE,
}


def sweep_definition() -> str:
    """Preprocess → Train → Evaluate → Register: the shape of the article's pipelines."""
    steps: list[dict[str, Any]] = [
        {"Name": "Preprocess", "Type": "Processing", "Arguments": PROCESSING},
        {"Name": "Train", "Type": "Training", "Arguments": TRAINING, "DependsOn": ["Preprocess"]},
        {"Name": "Evaluate", "Type": "Processing", "Arguments": PROCESSING, "DependsOn": ["Train"]},
        {
            "Name": "Register",
            "Type": "RegisterModel",
            "DependsOn": ["Evaluate"],
            "Arguments": {
                "ModelPackageGroupName": "models",
                "InferenceSpecification": {
                    "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:latest"}],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["text/csv"],
                },
                "ModelApprovalStatus": "PendingManualApproval",
            },
        },
    ]
    parameters = [{"Name": "LearningRate", "Type": "Float", "DefaultValue": 0.1}]
    return json.dumps({"Version": "2020-12-01", "Metadata": {}, "Parameters": parameters, "Steps": steps})


def setup(emu: Emulator, pipelines: int, executions: int) -> tuple[list[str], float]:
    sm = emu.sm
    names = [f"sweep-{i:02d}" for i in range(pipelines)]
    for name in names:
        sm.create_pipeline(PipelineName=name, PipelineDefinition=sweep_definition(), RoleArn=ROLE)
    arns = []
    for i in range(executions):
        rate = round(0.001 * (1 + i), 4)
        arns.append(
            sm.start_pipeline_execution(
                PipelineName=names[i % pipelines],
                PipelineParameters=[{"Name": "LearningRate", "Value": str(rate)}],
            )["PipelineExecutionArn"]
        )
        emu.control("clock", {"advance": 15})  # a sweep launched over 25 minutes: runs at every step
    clock = emu.control("clock", {"time_scale": 1})
    return arns, float(clock["now"]) - time.time()


def _read_lines(stream: Any, out: queue.Queue[tuple[float, dict[str, Any]]]) -> None:
    for line in stream:
        if line.startswith("{"):
            out.put((time.time(), json.loads(line)))


def run_smtui_wait(
    emu: Emulator, arns: list[str], offset: float, window: float, interval: float, rng: random.Random
) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "smtui", "wait", "--endpoint-url", emu.url, "--region", "us-east-1"]
    cmd += ["--interval", str(interval), "--json", *arns]
    env = {**os.environ, **CREDS}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env, preexec_fn=die_with_parent
    )
    lines: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
    threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True).start()
    # Ready once every execution printed its first line.
    seen: set[str] = set()
    log: list[tuple[float, dict[str, Any]]] = []
    while len(seen) < len(arns):
        at, entry = lines.get(timeout=120)
        log.append((at, entry))
        seen.add(entry.get("arn", ""))
    time.sleep(2.0)
    before = emu.stats()
    cpu0 = proc_stats(proc.pid)[1]
    t0 = time.time()
    stopped = stop_some(emu, rng.sample(arns, max(1, len(arns) // 10)), window, rng)
    wall = time.time() - t0
    after = emu.stats()
    peak, cpu = proc_stats(proc.pid)
    proc.kill()
    proc.wait()
    while not lines.empty():
        log.append(lines.get())
    by_arn: dict[str, list[tuple[float, dict[str, Any]]]] = {}
    for at, entry in log:
        by_arn.setdefault(entry.get("arn", ""), []).append((at, entry))
    status_lag = []
    for arn, at in stopped.items():
        shown = [t for t, e in by_arn.get(arn, []) if t >= at and e["status"] in ("Stopping", "Stopped")]
        if shown:
            status_lag.append(shown[0] - at)
    return {
        "calls": {op: after.get(op, 0) - before.get(op, 0) for op in after if op != "StopPipelineExecution"},
        "status_lag": status_lag,
        "status_missed": len(stopped) - len(status_lag),
        "step_lag": step_lags(emu, [a for a in arns if a not in stopped], by_arn, offset, t0, t0 + wall),
        "cpu_s_per_min": (cpu - cpu0) / wall * 60,
        "peak_rss_mb": peak,
        "stopped": list(stopped),
    }


def step_lags(
    emu: Emulator,
    arns: list[str],
    by_arn: dict[str, list[tuple[float, dict[str, Any]]]],
    offset: float,
    start: float,
    end: float,
) -> list[float]:
    """For each step that ended in the window (the emulator's EndTime): when a progress line counted it."""
    sm = emu.sm
    lags = []
    for arn in arns:
        steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
        ends = sorted(s["EndTime"].timestamp() - offset for s in steps if s["StepStatus"] == "Succeeded")
        for k, ended in enumerate(ends, start=1):
            if not start <= ended <= end:
                continue
            shown = [t for t, e in by_arn.get(arn, []) if e.get("done", 0) >= k]
            if shown and shown[0] <= end + 60:
                lags.append(max(0.0, shown[0] - ended))
    return lags


def compare(args: Any) -> None:
    """Run both on one emulator and print the table."""
    rng = random.Random(args.seed)
    emu = Emulator(None, seed=args.seed)
    try:
        print(
            f"\nthe article's use case: {args.compare_executions} executions over "
            f"{args.compare_pipelines} pipelines, emulator {emu.url}",
            flush=True,
        )
        arns, offset = setup(emu, args.compare_pipelines, args.compare_executions)
        print(f"phase 3: the article's way, {len(arns)} processes", flush=True)
        art = run_article(emu, arns, args.compare_window, args.article_delay, rng)
        stopped = set(art.pop("stopped", []))
        remaining = [a for a in arns if a not in stopped and status(emu, a) == "Executing"]
        print(f"phase 4: one `smtui wait --interval {args.article_delay:g}` for {len(remaining)}", flush=True)
        mine = run_smtui_wait(emu, remaining, offset, args.compare_window, args.article_delay, rng)
    finally:
        emu.stop()
    report(args, art, mine, len(arns), len(remaining))


def status(emu: Emulator, arn: str) -> str:
    return str(emu.sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"])


def report(args: Any, art: dict[str, Any], mine: dict[str, Any], n_art: int, n_mine: int) -> None:
    per_min = 60.0 / args.compare_window
    print(
        f"\n{args.compare_executions} executions over {args.compare_pipelines} pipelines (bundled scenario's "
        f"durations, real time), window {args.compare_window:.0f}s each, "
        f"{datetime.now().isoformat(timespec='seconds')}\n"
    )
    print(f"{'calls per minute by operation':<42}{'article':>14}{'smtui wait':>14}")
    for op in sorted(set(art["calls"]) | set(mine["calls"])):
        a, m = art["calls"].get(op, 0), mine["calls"].get(op, 0)
        if a or m:
            print(f"  {op:<40}{a * per_min:>14.1f}{m * per_min:>14.1f}")
    a_total, m_total = sum(art["calls"].values()), sum(mine["calls"].values())
    print(f"  {'total':<40}{a_total * per_min:>14.1f}{m_total * per_min:>14.1f}")
    print(f"  {'executions followed':<40}{n_art:>14}{n_mine:>14}")
    a_each, m_each = a_total * per_min / n_art, m_total * per_min / max(n_mine, 1)
    print(f"  {'calls per minute per execution':<40}{a_each:>14.2f}{m_each:>14.2f}")
    print(f"\n{'staleness, seconds (median / p95)':<42}{'article':>22}{'smtui wait':>22}")
    lags = f"{percentiles(art['status_lag']):>22}{percentiles(mine['status_lag']):>22}"
    print(f"  {'execution status (stops)':<40}{lags}")
    missed = f"{art['status_missed']:>22}{mine['status_missed']:>22}"
    print(f"  {'  stops not seen within the window':<40}{missed}")
    print(f"  {'every step end':<40}{'unknown':>22}{percentiles(mine['step_lag']):>22}")
    print(f"\n{'resources':<42}{'article':>16}{'smtui wait':>16}")
    print(f"  {'client CPU s per minute':<40}{art['cpu_s_per_min']:>16.2f}{mine['cpu_s_per_min']:>16.2f}")
    print(f"  {'peak RSS MB':<40}{art['peak_rss_mb']:>16.1f}{mine['peak_rss_mb']:>16.1f}")
    print(
        f"\nratios (article / smtui wait): calls per execution {a_each / max(m_each, 1e-9):.2f}x, "
        f"memory {art['peak_rss_mb'] / mine['peak_rss_mb']:.1f}x, "
        f"CPU {art['cpu_s_per_min'] / max(mine['cpu_s_per_min'], 1e-9):.1f}x"
    )
