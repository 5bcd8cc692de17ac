"""Execution lifecycle in the engine: start (parameters, idempotency, limits), stop, retry, callbacks,
parallelism, selective runs and carrying on after a restart — in-process on a paused clock."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from engine_harness import Harness, definition, step

from smtui.emulator.definition import graph as definitions
from smtui.emulator.engine.run import Run
from smtui.emulator.errors import ServiceError
from smtui.emulator.store.records import ExecutionRecord, StepRecord


def _ordered(execution: ExecutionRecord) -> list[StepRecord]:
    return sorted(execution.steps, key=lambda s: (s.start, s.name))


def test_callback_waits_for_success_and_its_outputs_feed_later_steps() -> None:
    h = Harness()
    callback = step(
        "Approve",
        "Callback",
        SqsQueueUrl="https://sqs.us-east-1.amazonaws.com/123456789012/q",
        OutputParameters=[{"OutputName": "rows", "OutputType": "Integer"}],
    )
    use = step("Load", Arguments={"Environment": {"Rows": {"Get": "Steps.Approve.OutputParameters['rows']"}}})
    execution = h.start(h.pipeline(definition(callback, use)))
    h.advance(100_000)
    approve = h.steps(execution)["Approve"]
    assert execution.status == "Executing" and approve.status == "Executing"
    token = approve.metadata["Callback"]["CallbackToken"]
    assert len(token) == 10 and token.isalnum()
    with pytest.raises(ServiceError, match="not declared"):
        h.engine.send_step_success(token, [{"Name": "other", "Value": "1"}])
    with pytest.raises(ServiceError, match="not a valid Integer"):
        h.engine.send_step_success(token, [{"Name": "rows", "Value": "many"}])
    h.engine.send_step_success(token, [{"Name": "rows", "Value": "42"}])
    assert approve.status == "Succeeded"
    assert approve.metadata["Callback"]["OutputParameters"] == [{"Name": "rows", "Value": "42"}]
    assert h.run(execution) == "Succeeded"
    (job,) = h.store.jobs("ProcessingJob")
    assert job.arguments == {"Environment": {"Rows": 42}}
    with pytest.raises(ServiceError, match="not valid"):
        h.engine.send_step_success(token, [])  # a used token is gone


def test_callback_failure_fails_the_step_and_execution() -> None:
    h = Harness()
    execution = h.start(h.pipeline(definition(step("Approve", "Callback", SqsQueueUrl="https://q"))))
    h.advance(30)
    token = h.steps(execution)["Approve"].metadata["Callback"]["CallbackToken"]
    h.engine.send_step_failure(token, "rejected by reviewer")
    assert h.run(execution) == "Failed"
    assert h.steps(execution)["Approve"].failure_reason == "rejected by reviewer"


def test_stop_moves_through_stopping_and_nothing_new_starts() -> None:
    h = Harness("[pipelines.p.steps.A]\nduration = 1000\n")
    execution = h.start(h.pipeline(definition(step("A", "Training"), step("B", DependsOn=["A"]))))
    h.advance(100)
    h.engine.stop_execution(execution)
    assert execution.status == "Stopping"
    assert h.steps(execution)["A"].status == "Stopping"
    (job,) = h.store.jobs("TrainingJob")
    assert job.status == "Stopping"
    assert h.run(execution, tick=1) == "Stopped"
    assert h.steps(execution)["A"].status == "Stopped"
    assert "B" not in h.steps(execution)
    assert job.status == "Stopped" and job.end is not None and job.end < execution.created + 1000
    with pytest.raises(ServiceError, match="Only pipelines with 'Executing' status can be stopped"):
        h.engine.stop_execution(execution)
    with pytest.raises(ServiceError, match="only Failed executions can be retried"):
        h.engine.retry_execution(execution, None)


def test_retry_reruns_failed_and_unstarted_steps_keeping_succeeded_ones() -> None:
    h = Harness("[pipelines.p.steps.B]\nfail_attempts = 1\n")
    pipeline = h.pipeline(definition(step("A"), step("B", DependsOn=["A"]), step("C", DependsOn=["B"])))
    execution = h.start(pipeline)
    assert h.run(execution) == "Failed"
    a_before = h.steps(execution)["A"].end
    assert "C" not in h.steps(execution)
    with pytest.raises(ServiceError, match="only Failed executions can be retried"):
        h.engine.retry_execution(h.start(pipeline), None)
    h.engine.retry_execution(execution, None)
    assert execution.status == "Executing" and execution.failure_reason is None
    assert h.steps(execution)["B"].attempt == 2
    assert h.run(execution) == "Succeeded"
    steps = h.steps(execution)
    assert (steps["A"].attempt, steps["A"].end) == (1, a_before)
    assert (steps["B"].attempt, steps["B"].status) == (2, "Succeeded")
    assert (steps["C"].attempt, steps["C"].status) == (1, "Succeeded")
    assert len(execution.steps) == 3  # same entries, no duplicates


def test_parallelism_execution_override_beats_the_pipeline_setting() -> None:
    h = Harness()
    pipeline = h.pipeline(definition(step("A"), step("B"), step("C"), step("D")), parallelism=2)

    def peak(execution: ExecutionRecord) -> int:
        steps = execution.steps
        return max(sum(1 for s in steps if s.start <= t.start < (s.end or 0)) for t in steps)

    by_pipeline = h.start(pipeline)
    assert h.run(by_pipeline) == "Succeeded" and peak(by_pipeline) == 2
    serial = h.start(pipeline, parallelism=1)
    assert h.run(serial) == "Succeeded" and peak(serial) == 1
    free = h.pipeline(definition(step("A"), step("B"), step("C"), step("D")), name="free")
    unlimited = h.start(free)
    assert h.run(unlimited) == "Succeeded" and peak(unlimited) == 4


def test_start_validates_parameters_and_starts_nothing_on_error() -> None:
    h = Harness()
    pipeline = h.pipeline(
        definition(step("A"), parameters=[{"Name": "N", "Type": "Integer", "DefaultValue": 1}])
    )
    for bad in ([{"Name": "M", "Value": "1"}], [{"Name": "N", "Value": "one"}]):
        with pytest.raises(ServiceError) as caught:
            h.start(pipeline, parameters=bad)
        assert caught.value.code == "ValidationException"
    assert list(h.store.executions()) == []
    execution = h.start(pipeline, parameters=[{"Name": "N", "Value": "5"}])
    assert execution.parameters == [{"Name": "N", "Value": "5"}]
    assert execution.display_name and execution.display_name.startswith("execution-")


def test_start_is_idempotent_on_client_token() -> None:
    h = Harness()
    pipeline = h.pipeline(definition(step("A")))
    first = h.start(pipeline, client_token="t" * 32)
    again = h.start(pipeline, client_token="t" * 32)
    other = h.start(pipeline, client_token="u" * 32)
    assert again is first and other.arn != first.arn
    assert len(list(h.store.executions())) == 2
    assert pipeline.last_run == first.created


def test_running_execution_carries_on_after_a_restart(tmp_path: Path) -> None:
    from smtui.emulator.store.store import Store

    state = tmp_path / "state.sqlite"
    scenario = "[pipelines.p.steps.Wait]\ncallback_reply_after = 900\n"
    steps = definition(
        step("A"),
        step("Wait", "Callback", SqsQueueUrl="https://q", DependsOn=["A"]),
        step("B", DependsOn=["Wait"]),
    )
    reference = Harness(scenario)
    ref_execution = reference.start(reference.pipeline(steps))
    reference.run(ref_execution)

    first = Harness(scenario, store=Store(state))
    execution = first.start(first.pipeline(steps))
    first.advance(400)
    assert execution.status == "Executing"
    now = first.clock.now()
    first.store.close()

    second = Harness(scenario, store=Store(state), start=now)
    (loaded,) = second.store.executions()
    assert second.run(loaded) == "Succeeded"
    assert [(s.name, s.start, s.end) for s in _ordered(loaded)] == [
        (s.name, s.start, s.end) for s in _ordered(ref_execution)
    ]


def test_selective_execution_reuses_upstream_results() -> None:
    h = Harness()
    pipeline = h.pipeline(definition(step("A"), step("B", DependsOn=["A"]), step("C", DependsOn=["B"])))
    source = h.start(pipeline)
    assert h.run(source) == "Succeeded"
    config = {"SourcePipelineExecutionArn": source.arn, "SelectedSteps": [{"StepName": "B"}]}
    selective = h.start(pipeline, selective_config=config)
    assert h.run(selective) == "Succeeded"
    steps = h.steps(selective)
    assert steps["A"].selective_source_arn == source.arn and steps["A"].status == "Succeeded"
    assert steps["B"].selective_source_arn is None
    assert "C" not in steps
    with pytest.raises(ServiceError, match=r"Invalid SourcePipelineExecutionArn: null"):
        h.start(pipeline, selective_config={"SelectedSteps": [{"StepName": "C"}]})


def test_stop_waits_for_a_running_callback_to_be_answered() -> None:
    h = Harness()
    execution = h.start(h.pipeline(definition(step("Approve", "Callback", SqsQueueUrl="https://q"))))
    h.advance(30)
    token = h.steps(execution)["Approve"].metadata["Callback"]["CallbackToken"]
    h.engine.stop_execution(execution)
    h.advance(3600)
    assert execution.status == "Stopping" and h.steps(execution)["Approve"].status == "Stopping"
    h.engine.send_step_failure(token, "cancelled")
    assert h.run(execution) == "Stopped"


def test_concurrency_limit_is_a_scenario_knob() -> None:
    h = Harness("max_concurrent_executions = 2\n")
    pipeline = h.pipeline(definition(step("A")))
    h.start(pipeline)
    h.start(pipeline)
    with pytest.raises(ServiceError) as caught:
        h.start(pipeline)
    assert caught.value.code == "ResourceLimitExceeded"
    h.advance(100_000)
    h.start(pipeline)  # the first two have finished: room again


def test_the_concurrency_limit_counts_only_executions_still_running_now() -> None:
    """Executions run lazily (when read); ones that ended while nobody looked must not hold the limit."""
    h = Harness("max_concurrent_executions = 1\n")
    pipeline = h.pipeline(definition(step("A")))
    h.start(pipeline)
    h.clock.advance(100_000)  # the clock moves on its own; nothing reads the execution meanwhile
    h.start(pipeline)


def test_a_recreated_pipeline_never_reuses_execution_arns() -> None:
    h = Harness()
    pipeline = h.pipeline(definition(step("A")), name="again")
    first = h.start(pipeline)
    h.store.delete_pipeline(pipeline)
    second = h.start(h.pipeline(definition(step("A")), name="again"))
    assert second.arn != first.arn


def test_step_status_moves_starting_executing_succeeded_and_unstarted_steps_are_not_listed() -> None:
    h = Harness("[pipelines.p.steps.A]\nstart_delay = 5\nduration = 100\n")
    execution = h.start(h.pipeline(definition(step("A"), step("B", DependsOn=["A"]))))
    assert [(s.name, s.status) for s in execution.steps] == [("A", "Starting")]
    h.advance(5)
    assert [(s.name, s.status) for s in execution.steps] == [("A", "Executing")]
    h.advance(100)
    steps = h.steps(execution)
    assert steps["A"].status == "Succeeded" and steps["A"].end == execution.created + 105
    assert steps["B"].status == "Starting" and steps["B"].start == steps["A"].end


def test_stop_during_foreach_stops_running_children_and_starts_no_more() -> None:
    h = Harness("[pipelines.p.steps.Score]\nduration = 1000\n")
    loop = step(
        "Fan",
        "ForEach",
        Arguments={"IterableItems": [1, 2, 3, 4], "MaxConcurrency": 2, "ForEachBody": [step("Score")]},
    )
    execution = h.start(h.pipeline(definition(loop)))
    h.advance(200)
    h.engine.stop_execution(execution)
    assert h.run(execution, tick=1) == "Stopped"
    steps = h.steps(execution)
    assert {name for name in steps if name.startswith("Score-")} == {"Score-0", "Score-1"}
    assert steps["Score-0"].status == steps["Score-1"].status == "Stopped"
    assert steps["Fan"].status == "Stopped"
    assert steps["Fan"].metadata["ForEach"]["StoppedStepCount"] == 2
    assert steps["Fan"].metadata["ForEach"]["Status"] == "Stopped"


def test_a_running_lambda_is_not_stopped_but_the_execution_ends_stopped() -> None:
    h = Harness("[pipelines.p.steps.Fn]\nduration = 300\n")
    fn = step("Fn", "Lambda", FunctionArn="arn:aws:lambda:us-east-1:123456789012:function:f")
    execution = h.start(h.pipeline(definition(fn, step("After", DependsOn=["Fn"]))))
    h.advance(60)
    h.engine.stop_execution(execution)
    h.advance(60)
    assert execution.status == "Stopping" and h.steps(execution)["Fn"].status == "Executing"
    assert h.run(execution, tick=10) == "Stopped"
    assert h.steps(execution)["Fn"].status == "Succeeded"
    assert "After" not in h.steps(execution)


def test_retry_policy_expire_after_min_bounds_the_retries() -> None:
    h = Harness(
        """
[pipelines.p.steps.Train]
duration = 60
outcome = "Failed"
failures = [{ reason = "InternalServerError: try again", exception = "Step.SERVICE_FAULT" }]
"""
    )
    policy = {
        "ExceptionType": ["Step.SERVICE_FAULT"],
        "IntervalSeconds": 60,
        "BackoffRate": 1.0,
        "ExpireAfterMin": 5,
    }
    execution = h.start(h.pipeline(definition(step("Train", "Training", RetryPolicies=[policy]))))
    assert h.run(execution, tick=30) == "Failed"
    train = h.steps(execution)["Train"]
    jobs = sorted(h.store.jobs("TrainingJob"), key=lambda j: j.created)
    assert train.attempt == len(jobs) >= 3
    assert train.failure_reason == "InternalServerError: try again"
    # A failure within 5 minutes of the first start is retried 60 s later; the first one after is final.
    for failed, retried in pairwise(jobs):
        assert (failed.end or 0) - execution.created < 300
        assert retried.created == pytest.approx((failed.end or 0) + 60)
    assert (jobs[-1].end or 0) - execution.created >= 300


def test_idle_executions_cost_nothing_to_advance(monkeypatch: pytest.MonkeyPatch) -> None:
    h = Harness("[pipelines.p.steps.Wait]\nduration = 1\n")
    pipeline = h.pipeline(
        definition(step("A"), step("Wait", "Callback", SqsQueueUrl="https://q", DependsOn=["A"]))
    )
    executions = [h.start(pipeline) for _ in range(2000)]
    h.advance(3600)  # every execution now waits for its callback: nothing is due, ever
    assert all(e.status == "Executing" for e in executions)
    work: list[str] = []  # what advancing did beyond comparing due times (their speed: benchmarks/)
    parse, process = definitions.parse, Run.process
    monkeypatch.setattr(definitions, "parse", lambda *a, **k: (work.append("parse"), parse(*a, **k))[1])
    monkeypatch.setattr(Run, "process", lambda *a, **k: (work.append("replay"), process(*a, **k))[1])
    for _ in range(20):
        h.engine.advance_all()
    # 40,000 advance calls: each only compares its next due time with now (no parsing, no replay).
    assert work == []
    assert all(e.status == "Executing" for e in executions)
