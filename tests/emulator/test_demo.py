"""The demo: pipelines, a backfilled history that is fast to create, and traffic that keeps runs going."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

from engine_harness import Harness
from wire_harness import EmulatorProcess, make_sm

from smtui.emulator.demo import traffic as demo
from smtui.emulator.joblogs import metrics
from smtui.emulator.store.records import ModelPackageRecord


def test_seed_creates_five_pipelines_and_a_history() -> None:
    h = Harness()
    created = demo.seed_demo(h.engine, h.store, h.clock)  # how fast: benchmarks/emulator_scale_bench.py
    assert len(created) >= 5
    executions = list(h.store.executions())
    statuses = Counter(e.status for e in executions)
    assert statuses["Succeeded"] + statuses["Failed"] >= 250
    assert statuses["Executing"] >= 10
    by_pipeline = Counter((e.pipeline_name, e.status) for e in executions)
    for pipeline in created:
        assert by_pipeline[(pipeline.name, "Succeeded")] > 0, pipeline.name
        assert pipeline.last_run is not None
    # The flaky pipeline fails sometimes, and some failures were retried (same ARN, attempt 2).
    assert by_pipeline[("feature-store-sync", "Failed")] > 0
    retried = [
        s for e in executions if e.pipeline_name == "feature-store-sync" for s in e.steps if s.attempt > 1
    ]
    assert retried
    # Callback steps of the ETL were answered, so its runs finish on their own.
    etl = [e for e in executions if e.pipeline_name == "nightly-etl" and e.status == "Succeeded"]
    assert etl and all(
        "OutputParameters" in {s.name: s for s in e.steps}["DataQualityApproval"].metadata["Callback"]
        for e in etl
    )
    # History spreads over days, newest runs still going.
    starts = sorted(e.created for e in executions)
    assert h.clock.now() - starts[0] > 5 * 86400
    # Seeding again (a restart with --state) adds nothing.
    assert demo.seed_demo(h.engine, h.store, h.clock) == []
    assert len(list(h.store.executions())) == len(executions)


async def test_traffic_keeps_a_few_dozen_executions_running() -> None:
    h = Harness()
    demo.seed_demo(h.engine, h.store, h.clock, history=20)
    stop = asyncio.Event()
    task = asyncio.create_task(demo.run_demo_traffic(h.engine, h.store, h.clock, stop_event=stop, tick=0.001))
    for _ in range(40):
        await asyncio.sleep(0.005)
        h.clock.advance(60)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    active = h.store.active_executions()
    assert len(active) >= demo.RUNNING_TARGET - 3
    assert len(list(h.store.executions())) > 20 + demo.RUNNING_TARGET


def test_emulator_demo_flag_serves_the_demo_pipelines(
    emulator_factory: Callable[..., EmulatorProcess],
) -> None:
    process = emulator_factory("--demo", "--time-scale", "0")
    client = make_sm(process)
    names = {p["PipelineName"] for p in client.list_pipelines(MaxResults=100)["PipelineSummaries"]}
    assert {
        "churn-model-training",
        "batch-scoring",
        "nightly-etl",
        "feature-store-sync",
        "llm-finetune",
    } <= names
    executions = client.list_pipeline_executions(PipelineName="batch-scoring", MaxResults=100)
    assert len(executions["PipelineExecutionSummaries"]) > 10


def test_demo_trains_with_metric_definitions_and_leaves_models_to_approve() -> None:
    h = Harness()
    demo.seed_demo(h.engine, h.store, h.clock)
    trained = [j for j in h.store.jobs("TrainingJob") if j.status == "Completed"]
    churn = [j for j in trained if "-Train-" in j.name]
    assert churn and all(
        [d.name for d in metrics.definitions(j.arguments)] == ["validation:auc", "train:logloss"]
        for j in churn
    )
    # Read back from the log by the definitions' regexes, as SageMaker does.
    assert all(set(j.metrics) == {"validation:auc", "train:logloss"} for j in churn)
    finetunes = [j for j in trained if "-FineTune-" in j.name]
    assert finetunes and all(set(j.metrics) == {"train:loss", "eval:loss"} for j in finetunes)
    packages = h.store.resources(ModelPackageRecord)
    assert {p.group for p in packages} == {"churn-models", "llm-finetunes"}
    statuses = Counter(p.approval_status for p in packages)
    assert statuses["Approved"] and statuses["Rejected"] and statuses["PendingManualApproval"]
    newest = max(packages, key=lambda p: p.created)
    assert newest.approval_status == "PendingManualApproval"  # recent models wait for someone to review
