"""The demo: realistic pipelines, a few hundred finished executions of history, and live traffic.

`seed_demo()` creates the pipelines and backfills history in well under a second: each past execution is
started by an engine whose clock stands at its past start time, then the real engine's lazy `advance`
replays it to now. `run_demo_traffic()` keeps a few dozen executions running; Callback steps are answered
by the scenario (`callback_reply_after`), so every run can finish without anyone's help.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Coroutine
from typing import Any

from smtui.emulator.clock import Clock
from smtui.emulator.demo.pipelines import DEMO_PIPELINES, DEMO_SCENARIO
from smtui.emulator.engine.engine import Engine
from smtui.emulator.errors import ServiceError
from smtui.emulator.store.records import (
    ExecutionRecord,
    ModelPackageRecord,
    PipelineRecord,
    PipelineVersion,
)
from smtui.emulator.store.store import Store

HISTORY = 300  # finished executions backfilled over the past week
HISTORY_SECONDS = 7 * 86400
RUNNING_TARGET = 30  # below this many running executions, the traffic starts more at once
RUNNING_CAP = 50  # steady arrivals stop above this many
_TICK = 2.0  # real seconds between traffic decisions


def demo_parameters(pipeline: str, rng: random.Random) -> list[dict[str, str]]:
    """Plausible parameter overrides for a run (some runs keep every default)."""
    choices: dict[str, dict[str, list[str]]] = {
        "churn-model-training": {
            "TrainInstanceType": ["ml.m5.2xlarge", "ml.g5.xlarge"],
            "AucThreshold": ["0.75", "0.8", "0.85"],
        },
        "batch-scoring": {"Regions": ['["us","eu","apac"]', '["us","eu","apac","latam","mea"]']},
        "nightly-etl": {"RunDate": ["2026-01-01", "2026-01-02", "2026-01-03"]},
        "feature-store-sync": {"Tables": ["users", "events", "payments"]},
        "llm-finetune": {"Epochs": ["2", "3", "4"]},
    }
    picked = []
    for name, values in choices.get(pipeline, {}).items():
        if rng.random() < 0.6:
            picked.append({"Name": name, "Value": rng.choice(values)})
    return picked


def seed_demo(engine: Engine, store: Store, clock: Clock, *, history: int = HISTORY) -> list[PipelineRecord]:
    """Create the demo pipelines and backfill finished history (skipped when they already exist)."""
    engine.scenario = engine.scenario.with_overrides(DEMO_SCENARIO)
    now = clock.now()
    created: list[PipelineRecord] = []
    for name, (description, definition, parallelism) in DEMO_PIPELINES.items():
        existing = store.get_pipeline(name)
        if existing is not None:
            continue
        engine.validate_definition(definition)
        start = now - HISTORY_SECONDS - 86400
        arn = f"arn:aws:sagemaker:{engine.region}:{engine.account}:pipeline/{name.lower()}"
        record = PipelineRecord(
            name=name,
            arn=arn,
            definition=definition,
            role_arn=f"arn:aws:iam::{engine.account}:role/SageMakerPipelinesDemo",
            created=start,
            modified=start,
            display_name=name,  # as CreatePipeline defaults it: the service always returns one
            description=description,
            parallelism=parallelism,
            versions=[
                PipelineVersion(version_id=1, created=start, definition=definition, description=description)
            ],
        )
        store.add_pipeline(record)
        created.append(record)
    if created:
        _backfill(engine, store, created, now, history)
    return created


def _backfill(engine: Engine, store: Store, pipelines: list[PipelineRecord], now: float, count: int) -> None:
    rng = random.Random(f"{engine.scenario.seed}/demo-history")
    weights = [_WEIGHTS.get(p.name, 1.0) for p in pipelines]
    # Most history is old and finished; the last stretch is recent, so some runs are still going.
    offsets = sorted((rng.uniform(2 * 3600, HISTORY_SECONDS) for _ in range(count)), reverse=True)
    offsets += sorted((rng.uniform(0, 1500) for _ in range(RUNNING_TARGET)), reverse=True)
    past = Clock(start=now - HISTORY_SECONDS, time_scale=0)
    past_engine = Engine(store, past, engine.scenario, region=engine.region, account=engine.account)
    started: list[ExecutionRecord] = []
    for offset in offsets:
        pipeline = rng.choices(pipelines, weights)[0]
        past.advance(max(0.0, (now - offset) - past.now()))
        execution = _start(past_engine, pipeline, rng)
        if execution is not None:
            started.append(execution)
    for execution in started:
        engine.advance(execution)
        # A few of the flaky pipeline's failures were retried by someone an hour later.
        if (
            execution.status == "Failed"
            and execution.pipeline_name == "feature-store-sync"
            and rng.random() < 0.5
        ):
            ended = engine.ended_at(execution) or now
            if ended + 3600 < now:
                retry_clock = Clock(start=ended + 3600, time_scale=0)
                Engine(
                    store, retry_clock, engine.scenario, region=engine.region, account=engine.account
                ).retry_execution(execution, None)
                engine.advance(execution)
    _review_packages(store, now, rng)


def _review_packages(store: Store, now: float, rng: random.Random) -> None:
    """Someone reviewed the models registered more than two days ago; newer ones wait for approval."""
    reviewer = {
        "IamIdentity": {"Arn": "arn:aws:iam::123456789012:user/ml-lead", "PrincipalId": "AIDADEMOREVIEWER"}
    }
    for package in store.resources(ModelPackageRecord):
        if package.group is None or package.created > now - 2 * 86400 or rng.random() < 0.15:
            continue
        approved = rng.random() < 0.7
        package.approval_status = "Approved" if approved else "Rejected"
        package.approval_description = "Beats production on the holdout set" if approved else "AUC regressed"
        package.modified = package.created + rng.uniform(3600, 86400)
        package.modified_by = reviewer
        store.touch(package)


_WEIGHTS = {"batch-scoring": 2.0, "nightly-etl": 1.5, "feature-store-sync": 2.0, "llm-finetune": 0.3}


def _start(engine: Engine, pipeline: PipelineRecord, rng: random.Random) -> ExecutionRecord | None:
    try:
        return engine.start_execution(
            pipeline,
            parameters=demo_parameters(pipeline.name, rng),
            display_name=None,
            description=None,
            parallelism=None,
            selective_config=None,
            version_id=None,
            client_token=None,
        )
    except ServiceError:
        return None


async def run_demo_traffic(
    engine: Engine,
    store: Store,
    clock: Clock,
    *,
    stop_event: asyncio.Event | None = None,
    tick: float = _TICK,
) -> None:
    """Keep runs arriving: a new one every minute or two of simulated time (up to RUNNING_CAP running), more
    when fewer than RUNNING_TARGET run; now and then someone retries a failed run of the flaky pipeline."""
    rng = random.Random(f"{engine.scenario.seed}/demo-traffic")
    stop_event = stop_event or asyncio.Event()
    next_arrival = clock.now()
    while not stop_event.is_set():
        engine.advance_all()
        pipelines = [p for p in (store.get_pipeline(name) for name in DEMO_PIPELINES) if p is not None]
        weights = [_WEIGHTS.get(p.name, 1.0) for p in pipelines]
        active = len(store.active_executions())
        wanted = max(0, min(3, RUNNING_TARGET - active))
        now = clock.now()
        while next_arrival <= now:
            # Arrivals follow simulated time, so a faster clock means busier traffic, as in life.
            next_arrival += rng.uniform(30, 150)
            wanted += 1 if active + wanted < RUNNING_CAP else 0
            if (
                now - next_arrival > 3600
            ):  # a long pause (or a clock jump): do not replay every missed arrival
                next_arrival = now
        for _ in range(wanted if pipelines else 0):
            _start(engine, rng.choices(pipelines, weights)[0], rng)
        if rng.random() < 0.05:
            _retry_one(engine, store, rng)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop_event.wait(), timeout=tick)


def _retry_one(engine: Engine, store: Store, rng: random.Random) -> None:
    pipeline = store.get_pipeline("feature-store-sync")
    if pipeline is None:
        return
    failed = [e for e in store.executions_of(pipeline)[-20:] if e.status == "Failed"]
    if failed:
        with contextlib.suppress(ServiceError):
            engine.retry_execution(rng.choice(failed), None)


def start(backend: Any) -> Coroutine[Any, Any, None]:
    """The `--demo` hook: seed pipelines and history now, return the traffic coroutine to schedule."""
    seed_demo(backend.engine, backend.store, backend.clock)
    return run_demo_traffic(backend.engine, backend.store, backend.clock)
