"""The emulator at scale: the figures its tests used to assert as wall-clock bounds (tests now check only what
is observable: every page answered in order, no replay of idle executions).

    uv run --no-sync python benchmarks/emulator_scale_bench.py [--executions 10000] [--idle 2000]

Prints, one line each:
- seeding the demo (five pipelines and their backfilled history), in process;
- start-up of `smtui emulator --state` over a state file of `--executions` finished executions;
- paging through all of them 100 at a time (ListPipelineExecutions): the slowest page and the total;
- StartPipelineExecution with that history stored (mean of 5): a change writes only the rows it touches;
- 20 rounds of advancing `--idle` executions that all wait for a callback (nothing is due).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import CREDS, ROLE, ROOT, die_with_parent

from smtui.emulator.clock import Clock
from smtui.emulator.demo import traffic as demo
from smtui.emulator.engine.engine import Engine
from smtui.emulator.engine.scenario import Scenario
from smtui.emulator.store.records import ExecutionRecord, PipelineRecord, PipelineVersion, StepRecord
from smtui.emulator.store.store import Store

T0 = 1_767_225_600.0
DEFINITION = json.dumps(
    {
        "Version": "2020-12-01",
        "Metadata": {},
        "Parameters": [],
        "Steps": [{"Name": "Prepare", "Type": "Processing", "Arguments": {}}],
    }
)


def _engine(scenario: str = "") -> tuple[Engine, Store, Clock]:
    clock, store = Clock(start=T0, time_scale=0), Store()
    engine = Engine(
        store, clock, Scenario.from_toml(scenario, seed=0), region="us-east-1", account="123456789012"
    )
    return engine, store, clock


def seed_seconds() -> float:
    engine, store, clock = _engine()
    began = time.perf_counter()
    demo.seed_demo(engine, store, clock)
    return time.perf_counter() - began


def write_state(path: Path, count: int) -> None:
    """One pipeline and `count` finished executions, written through the store."""
    store = Store(path)
    arn = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/history"
    version = PipelineVersion(version_id=1, created=T0, definition=DEFINITION)
    store.add_pipeline(
        PipelineRecord(
            name="History",
            arn=arn,
            definition=DEFINITION,
            role_arn=ROLE,
            created=T0,
            modified=T0,
            versions=[version],
        )
    )
    for index in range(count):
        created = T0 + 60 * index
        execution_id = f"{index:012d}"
        store.add_execution(
            ExecutionRecord(
                arn=f"{arn}/execution/{execution_id}",
                execution_id=execution_id,
                pipeline_name="History",
                pipeline_arn=arn,
                status="Succeeded",
                created=created,
                modified=created + 50,
                definition=DEFINITION,
                parameters=[],
                steps=[StepRecord(name="Prepare", status="Succeeded", start=created + 1, end=created + 50)],
            )
        )
    store.set_meta("clock", T0 + 60 * count)
    store.close()


def state_figures(count: int) -> None:
    import boto3

    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "history.db"
        write_state(state, count)
        command = [sys.executable, "-m", "smtui", "emulator", "--port", "0", "--time-scale", "1"]
        began = time.perf_counter()
        process = subprocess.Popen(
            [*command, "--state", str(state)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            preexec_fn=die_with_parent,
        )
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            print(f"start-up with {count:,} executions stored: {time.perf_counter() - began:.2f} s")
            sm = boto3.client("sagemaker", endpoint_url=url, region_name="us-east-1", **_creds())
            pages, slowest, token = 0, 0.0, None
            began = time.perf_counter()
            while True:
                kwargs = {"NextToken": token} if token else {}
                call = time.perf_counter()
                page = sm.list_pipeline_executions(PipelineName="History", MaxResults=100, **kwargs)
                slowest = max(slowest, time.perf_counter() - call)
                pages += 1
                token = page.get("NextToken")
                if token is None:
                    break
            total = time.perf_counter() - began
            print(f"{pages} pages of 100: {total:.2f} s, slowest page {slowest * 1000:.0f} ms")
            began = time.perf_counter()
            for _ in range(5):
                sm.start_pipeline_execution(PipelineName="History")
            each = (time.perf_counter() - began) / 5
            print(f"StartPipelineExecution with {count:,} stored: {each * 1000:.0f} ms")
        finally:
            process.terminate()
            process.wait(timeout=15)


def _creds() -> dict[str, str]:
    return {
        "aws_access_key_id": CREDS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CREDS["AWS_SECRET_ACCESS_KEY"],
    }


def idle_advance_seconds(count: int) -> float:
    engine, store, clock = _engine("[pipelines.p.steps.Wait]\nduration = 1\n")
    steps = [
        {"Name": "A", "Type": "Processing", "Arguments": {}},
        {"Name": "Wait", "Type": "Callback", "Arguments": {}, "SqsQueueUrl": "https://q", "DependsOn": ["A"]},
    ]
    text = json.dumps({"Version": "2020-12-01", "Metadata": {}, "Parameters": [], "Steps": steps})
    engine.validate_definition(text)
    pipeline = PipelineRecord(
        name="p",
        arn="arn:aws:sagemaker:us-east-1:123456789012:pipeline/p",
        definition=text,
        role_arn=ROLE,
        created=T0,
        modified=T0,
        versions=[PipelineVersion(version_id=1, created=T0, definition=text)],
    )
    store.add_pipeline(pipeline)
    none = dict.fromkeys(
        ("parameters", "display_name", "description", "parallelism", "selective_config", "version_id")
    )
    for _ in range(count):
        engine.start_execution(pipeline, client_token=None, **none)
    clock.advance(3600)
    engine.advance_all()  # every execution now waits for its callback
    began = time.perf_counter()
    for _ in range(20):
        engine.advance_all()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=10_000)
    parser.add_argument("--idle", type=int, default=2000)
    args = parser.parse_args()
    print(f"seeding the demo: {seed_seconds():.2f} s")
    state_figures(args.executions)
    print(f"20 rounds of advancing {args.idle:,} idle executions: {idle_advance_seconds(args.idle):.3f} s")


if __name__ == "__main__":
    main()
