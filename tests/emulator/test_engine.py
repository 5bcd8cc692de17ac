"""The engine's behaviour, driven in-process on a paused clock (the HTTP tests cover the wire)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from engine_harness import Harness, definition, step

from smtui.emulator import joblogs
from smtui.emulator.errors import ServiceError
from smtui.emulator.store.records import ExecutionRecord, StepRecord

FIXTURES = Path(__file__).parent.parent / "definitions"
CONDITION_FOREACH = (FIXTURES / "condition-foreach.json").read_text()


def _ordered(execution: ExecutionRecord) -> list[StepRecord]:
    return sorted(execution.steps, key=lambda s: (s.start, s.name))


def test_condition_true_runs_if_branch_and_never_lists_else_branch() -> None:
    h = Harness("[pipelines.cf.steps.Evaluate]\noutputs = {accuracy = 0.93}\n")
    execution = h.start(h.pipeline(CONDITION_FOREACH, name="cf"))
    assert h.run(execution) == "Succeeded"
    steps = h.steps(execution)
    assert steps["CheckAccuracy"].metadata == {"Condition": {"Outcome": "True"}}
    assert "TooInaccurate" not in steps
    assert {"ScoreShard-0", "ScoreShard-1", "ScoreShard-2"} <= set(steps)
    # Order follows the graph: each step starts when what it reads has ended.
    assert steps["Evaluate"].start == steps["Preprocess"].end
    assert steps["CheckAccuracy"].start == steps["Evaluate"].end
    assert steps["ScoreAll"].start == steps["CheckAccuracy"].end


def test_condition_false_runs_fail_step_which_fails_the_execution_with_its_message() -> None:
    h = Harness("[pipelines.cf.steps.Evaluate]\noutputs = {accuracy = 0.5}\n")
    execution = h.start(h.pipeline(CONDITION_FOREACH, name="cf"))
    assert h.run(execution) == "Failed"
    steps = h.steps(execution)
    assert steps["CheckAccuracy"].metadata == {"Condition": {"Outcome": "False"}}
    assert "ScoreAll" not in steps and not any(name.startswith("ScoreShard") for name in steps)
    assert steps["TooInaccurate"].status == "Failed"
    assert steps["TooInaccurate"].metadata == {"Fail": {"ErrorMessage": "accuracy below threshold"}}
    assert execution.failure_reason == "accuracy below threshold"
    # The documented rule: an execution that a Fail step ended cannot be retried.
    with pytest.raises(ServiceError, match="Fail step"):
        h.engine.retry_execution(execution, None)


def test_fail_step_renders_its_message_and_waits_for_running_siblings() -> None:
    message = {"Std:Join": {"On": " ", "Values": ["mode", {"Get": "Parameters.Mode"}, "is not supported"]}}
    h = Harness("[pipelines.p.steps.Slow]\nduration = 500\n")
    pipeline = h.pipeline(
        definition(
            step("Slow"),
            step("Stop", "Fail", Arguments={"ErrorMessage": message}),
            step("After", DependsOn=["Slow"]),
            parameters=[{"Name": "Mode", "Type": "String", "DefaultValue": "turbo"}],
        )
    )
    execution = h.start(pipeline)
    h.advance(60)
    assert execution.status == "Executing"  # Slow still runs: the Fail step waits for it
    assert h.run(execution) == "Failed"
    steps = h.steps(execution)
    assert execution.failure_reason == "mode turbo is not supported"
    assert steps["Slow"].status == "Succeeded"
    assert "After" not in steps  # nothing new starts once a step failed
    assert execution.modified == steps["Slow"].end


def test_foreach_children_counts_and_max_concurrency() -> None:
    h = Harness("[pipelines.p.steps.Score]\nduration = [100, 400]\n")
    loop = step(
        "Fan",
        "ForEach",
        Arguments={
            "IterableItems": ["a", {"k": 1}, "c", "d", "e"],
            "MaxConcurrency": 2,
            "ForEachBody": [
                step("Score", Arguments={"Environment": {"Item": {"Get": "ForEach.CurrentItem"}}})
            ],
        },
    )
    execution = h.start(h.pipeline(definition(loop)))
    assert h.run(execution, tick=50) == "Succeeded"
    steps = h.steps(execution)
    children = [steps[f"Score-{i}"] for i in range(5)]
    assert [c.iteration for c in children] == [
        {"ParentStepName": "Fan", "Index": 0, "Item": "a"},
        {"ParentStepName": "Fan", "Index": 1, "Item": '{"k": 1}'},
        {"ParentStepName": "Fan", "Index": 2, "Item": "c"},
        {"ParentStepName": "Fan", "Index": 3, "Item": "d"},
        {"ParentStepName": "Fan", "Index": 4, "Item": "e"},
    ]
    # Never more than MaxConcurrency children at once, and a slot is reused as soon as it frees.
    for moment in [c.start for c in children]:
        assert sum(1 for c in children if c.start <= moment < (c.end or 0)) <= 2
    assert children[2].start in {children[0].end, children[1].end}
    assert steps["Fan"].metadata == {
        "ForEach": {
            "Status": "Succeeded",
            "InputItemCount": 5,
            "TotalStepCount": 5,
            "SucceededStepCount": 5,
            "FailedStepCount": 0,
            "StoppedStepCount": 0,
        }
    }
    jobs = {job.step_name: job for job in h.store.jobs("ProcessingJob")}
    assert jobs["Score-1"].arguments == {"Environment": {"Item": {"k": 1}}}


def test_foreach_failed_child_fails_the_foreach_and_the_execution() -> None:
    h = Harness("[pipelines.p.steps.Score]\nduration = 100\nfail_attempts = 1\n")
    loop = step(
        "Fan",
        "ForEach",
        Arguments={"IterableItems": [1, 2, 3], "MaxConcurrency": 3, "ForEachBody": [step("Score")]},
    )
    execution = h.start(h.pipeline(definition(loop, step("Next", DependsOn=["Fan"]))))
    assert h.run(execution) == "Failed"
    steps = h.steps(execution)
    assert steps["Fan"].status == "Failed"
    assert steps["Fan"].metadata["ForEach"]["FailedStepCount"] == 3
    assert "Next" not in steps
    assert execution.failure_reason == "Step failure: One or multiple steps failed."
    # Retry reruns the failed children (attempt 2 succeeds), keeps the ForEach entry, then runs Next.
    h.engine.retry_execution(execution, None)
    assert h.run(execution) == "Succeeded"
    steps = h.steps(execution)
    assert [steps[f"Score-{i}"].attempt for i in range(3)] == [2, 2, 2]
    assert steps["Fan"].metadata["ForEach"]["SucceededStepCount"] == 3
    assert steps["Next"].status == "Succeeded"


def test_retry_policy_retries_matching_failures_with_backoff() -> None:
    h = Harness(
        """
[pipelines.p.steps.Train]
duration = 100
fail_attempts = 2
failures = [{ reason = "InternalServerError: try again", exception = "SageMaker.JOB_INTERNAL_ERROR" }]
"""
    )
    policy = {
        "ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR"],
        "IntervalSeconds": 10,
        "BackoffRate": 3.0,
        "MaxAttempts": 3,
    }
    execution = h.start(h.pipeline(definition(step("Train", "Training", RetryPolicies=[policy]))))
    assert h.run(execution, tick=5) == "Succeeded"
    train = h.steps(execution)["Train"]
    assert train.attempt == 3
    jobs = sorted(h.store.jobs("TrainingJob"), key=lambda j: j.created)
    assert [j.status for j in jobs] == ["Failed", "Failed", "Completed"]
    # Waits of IntervalSeconds x BackoffRate^n between attempts: 10 s, then 30 s.
    assert jobs[1].created - (jobs[0].end or 0) == pytest.approx(10)
    assert jobs[2].created - (jobs[1].end or 0) == pytest.approx(30)
    assert train.metadata["TrainingJob"]["Arn"].endswith(jobs[2].name.lower())


def test_failure_not_covered_by_a_retry_policy_fails_at_once() -> None:
    h = Harness(
        """
[pipelines.p.steps.Train]
outcome = "Failed"
failures = [{ reason = "AlgorithmError: bad input", exception = "" }]
"""
    )
    policy = {
        "ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR"],
        "IntervalSeconds": 1,
        "BackoffRate": 2.0,
        "MaxAttempts": 5,
    }
    execution = h.start(h.pipeline(definition(step("Train", "Training", RetryPolicies=[policy]))))
    assert h.run(execution) == "Failed"
    train = h.steps(execution)["Train"]
    assert (train.attempt, train.failure_reason) == (1, "AlgorithmError: bad input")
    (job,) = h.store.jobs("TrainingJob")
    assert job.status == "Failed" and job.failure_reason == "AlgorithmError: bad input"


def test_lambda_outputs_typed_from_the_scenario_and_property_files_drive_conditions() -> None:
    h = Harness(
        """
[pipelines.p.steps.Score]
outputs = { n = "7", label = "ok" }
[pipelines.p.steps.Eval]
property_files = { Report = { metrics = { mse = { value = 2.5 } } } }
"""
    )
    lam = step(
        "Score",
        "Lambda",
        FunctionArn="arn:aws:lambda:us-east-1:123456789012:function:f",
        OutputParameters=[
            {"OutputName": "n", "OutputType": "Integer"},
            {"OutputName": "label", "OutputType": "String"},
        ],
    )
    proc = step(
        "Eval", PropertyFiles=[{"PropertyFileName": "Report", "OutputName": "e", "FilePath": "r.json"}]
    )
    mse = {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Eval.PropertyFiles.Report"},
            "Path": "metrics.mse.value",
        }
    }
    conditions = [
        {"Type": "LessThan", "LeftValue": mse, "RightValue": 3.0},
        {"Type": "GreaterThan", "LeftValue": {"Get": "Steps.Score.OutputParameters['n']"}, "RightValue": 5},
    ]
    cond = step(
        "Check",
        "Condition",
        Arguments={"Conditions": conditions, "IfSteps": [step("Good")], "ElseSteps": [step("Bad")]},
    )
    execution = h.start(h.pipeline(definition(lam, proc, cond)))
    assert h.run(execution) == "Succeeded"
    steps = h.steps(execution)
    assert steps["Score"].metadata["Lambda"]["OutputParameters"] == [
        {"Name": "n", "Value": "7"},
        {"Name": "label", "Value": "ok"},
    ]
    assert steps["Check"].metadata == {"Condition": {"Outcome": "True"}}
    assert "Good" in steps and "Bad" not in steps


def _timeline(seed: int) -> list[tuple[str, str, float, float | None, int]]:
    h = Harness("[defaults]\nfailure_probability = 0.3\n", seed=seed)
    pipeline = h.pipeline(CONDITION_FOREACH, name="cf")
    execution = h.start(pipeline)
    h.run(execution)
    return [(execution.arn, s.name, s.start, s.end, s.attempt) for s in _ordered(execution)] + [
        (execution.status, execution.failure_reason or "", 0.0, None, 0)
    ]


def test_same_seed_same_run_other_seed_other_run() -> None:
    assert _timeline(7) == _timeline(7)
    assert _timeline(7) != _timeline(8)


def test_lazy_advance_gives_exact_times_however_rarely_called() -> None:
    def run(tick: float) -> list[tuple[str, float, float | None]]:
        h = Harness("[pipelines.cf.steps.Evaluate]\noutputs = {accuracy = 0.93}\n")
        execution = h.start(h.pipeline(CONDITION_FOREACH, name="cf"))
        h.run(execution, tick=tick)
        return [(s.name, s.start, s.end) for s in _ordered(execution)]

    assert run(7) == run(100_000)


def test_jobs_carry_instance_type_metrics_and_timed_logs() -> None:
    h = Harness(
        "[pipelines.p.steps.Train]\nduration = 1000\nstart_delay = 10\nmetrics = { 'validation:auc' = 0.9 }\n"
    )
    train = step(
        "Train",
        "Training",
        Arguments={"ResourceConfig": {"InstanceType": {"Get": "Parameters.Type"}, "InstanceCount": 2}},
    )
    execution = h.start(
        h.pipeline(
            definition(train, parameters=[{"Name": "Type", "Type": "String", "DefaultValue": "ml.g5.xlarge"}])
        )
    )
    (job,) = h.store.jobs("TrainingJob")
    assert job.name.startswith(f"pipelines-{execution.execution_id}-Train-") and len(job.name) <= 63
    assert (job.instance_type, job.instance_count, job.status) == ("ml.g5.xlarge", 2, "InProgress")
    assert job.start == execution.created + 10
    assert job.duration == 1000
    assert job.metrics == {}  # final metrics exist only once the job completes
    h.run(execution)
    assert job.status == "Completed" and job.metrics == {"validation:auc": 0.9}  # as its log reports them
    assert job.end == h.steps(execution)["Train"].end
    streams = joblogs.job_streams(job)  # one per instance, all within the job's run
    assert [s.name.split("/")[1].rsplit("-", 1)[0] for s in streams] == ["algo-1", "algo-2"]
    assert all(s.timeline.time(len(s.timeline) - 1) <= job.end * 1000 for s in streams)


def test_foreach_items_from_a_parameter_feed_iteration_outputs_and_the_selector() -> None:
    h = Harness("[pipelines.p.steps.Score]\noutputs = {}\n")
    body = step(
        "Score",
        "Lambda",
        FunctionArn="arn:aws:lambda:us-east-1:123456789012:function:score",
        Arguments={"region": {"Get": "ForEach.CurrentItem.region"}},
        OutputParameters=[{"OutputName": "auc", "OutputType": "Float"}],
    )
    loop = step(
        "Fan",
        "ForEach",
        Arguments={
            "IterableItems": {"Get": "Parameters.Items"},
            "MaxConcurrency": 5,
            "ForEachBody": [body],
            "Selector": {"Pick": "MaxBy", "Field": {"Get": "IterationOutput.Score.OutputParameters['auc']"}},
        },
    )
    use = step(
        "Report",
        Arguments={
            "Environment": {
                "first": {"Get": "Steps.Fan.IterationOutputs[0].Score.OutputParameters['auc']"},
                "best": {"Get": "Steps.Fan.Selected.OutputParameters['auc']"},
                "count": {"Get": "Steps.Fan.SucceededStepCount"},
            }
        },
    )
    items = '[{"region": "us"}, {"region": "eu"}, {"region": "apac"}]'
    pipeline = h.pipeline(
        definition(loop, use, parameters=[{"Name": "Items", "Type": "String", "DefaultValue": items}])
    )
    execution = h.start(pipeline)
    assert h.run(execution) == "Succeeded"
    steps = h.steps(execution)
    aucs = [float(steps[f"Score-{i}"].metadata["Lambda"]["OutputParameters"][0]["Value"]) for i in range(3)]
    best = max(range(3), key=lambda i: aucs[i])
    assert steps["Fan"].metadata["ForEach"]["Selector"] == {"StepName": "Score", "Index": best}
    (job,) = h.store.jobs("ProcessingJob")
    assert job.arguments == {"Environment": {"first": aucs[0], "best": aucs[best], "count": 3}}


def test_values_the_scenario_does_not_give_are_synthesized_stably() -> None:
    def outcome(seed: int) -> tuple[str, str]:
        h = Harness(seed=seed)
        proc = step(
            "Eval", PropertyFiles=[{"PropertyFileName": "R", "OutputName": "o", "FilePath": "r.json"}]
        )
        value = {
            "Std:JsonGet": {
                "PropertyFile": {"Get": "Steps.Eval.PropertyFiles.R"},
                "Path": "metrics.auc.value",
            }
        }
        cond = step(
            "Check",
            "Condition",
            Arguments={
                "Conditions": [{"Type": "GreaterThanOrEqualTo", "LeftValue": value, "RightValue": 0.5}]
            },
        )
        lam = step(
            "Fn",
            "Lambda",
            FunctionArn="arn:aws:lambda:us-east-1:123456789012:function:f",
            OutputParameters=[{"OutputName": "n", "OutputType": "Integer"}],
        )
        execution = h.start(h.pipeline(definition(proc, cond, lam)))
        h.run(execution)
        steps = h.steps(execution)
        return steps["Check"].metadata["Condition"]["Outcome"], steps["Fn"].metadata["Lambda"][
            "OutputParameters"
        ][0]["Value"]

    outcome_value, number = outcome(1)
    assert outcome_value == "True"  # synthesized property-file numbers lie in [0.5, 1)
    assert number.isdigit()
    assert outcome(1) == (outcome_value, number)


def test_sdk_definition_with_every_condition_type_and_execution_variables() -> None:
    # From the SDK's own unit test (test_pipeline_condition_step_interpolated): Equals on two Integer
    # parameters is False for 1 vs 2, so the ANDed conditions are False and the else branch runs.
    h = Harness()
    pipeline = h.pipeline((FIXTURES / "sdk-condition-interpolated.json").read_text(), name="interp")
    given = [
        {"Name": "MyInt1", "Value": "1"},
        {"Name": "MyInt2", "Value": "2"},
        {"Name": "MyStr", "Value": "abc"},
    ]
    with pytest.raises(ServiceError, match="no default"):
        h.start(pipeline, parameters=given[:2])
    execution = h.start(pipeline, parameters=given)
    assert h.run(execution) == "Succeeded"
    steps = h.steps(execution)
    assert steps["MyConditionStep"].start == steps["MyStep0"].end  # it reads MyStep0's job name
    assert steps["MyConditionStep"].metadata == {"Condition": {"Outcome": "False"}}
    assert "MyStep2" in steps and "MyStep1" not in steps


def test_thirty_deep_nested_conditions_run_in_order() -> None:
    # The shape of Airflow's system-test pipeline: each Condition's only branch holds the next one.
    inner: dict[str, Any] = step("Leaf")
    for depth in reversed(range(30)):
        check = {"Type": "LessThanOrEqualTo", "LeftValue": 3.0, "RightValue": 6.0}
        inner = step(
            f"Cond{depth}",
            "Condition",
            Arguments={"Conditions": [check], "IfSteps": [inner], "ElseSteps": []},
        )
    h = Harness()
    execution = h.start(h.pipeline(definition(inner)))
    assert h.run(execution) == "Succeeded"
    ordered = [s.name for s in _ordered(execution)]
    assert ordered == [f"Cond{i}" for i in range(30)] + ["Leaf"]
