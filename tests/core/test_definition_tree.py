"""The step graph and tree built from a real SDK-generated definition plus listed runs (no server needed)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smtui.core.definition import DefinitionError, parse_definition
from smtui.core.format import format_duration, tree_lines
from smtui.core.model import Execution, ExecutionStatus, ForEachInfo, StepRun, StepStatus
from smtui.core.timing import estimate_remaining, execution_elapsed, step_elapsed
from smtui.core.tree import build_tree

DEFINITIONS = Path(__file__).parent.parent / "definitions"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/abcdefabcdef"


@pytest.fixture
def graph_json() -> str:
    return (DEFINITIONS / "condition-foreach.json").read_text()


def execution(status: ExecutionStatus = ExecutionStatus.EXECUTING) -> Execution:
    return Execution(arn=ARN, pipeline_name="p", execution_id="abcdefabcdef", status=status, started=T0)


def run(name: str, status: StepStatus, minute: int, **kw: object) -> StepRun:
    ended = T0 + timedelta(minutes=minute + 1) if status.is_done else None
    return StepRun(name=name, status=status, started=T0 + timedelta(minutes=minute), ended=ended, **kw)  # type: ignore[arg-type]


def test_graph_has_every_nested_step_with_edges(graph_json: str) -> None:
    graph = parse_definition(graph_json)
    assert graph.roots == ("Preprocess", "Evaluate", "CheckAccuracy")
    assert set(graph.steps) == {
        "Preprocess",
        "Evaluate",
        "CheckAccuracy",
        "ScoreAll",
        "ScoreShard",
        "TooInaccurate",
    }
    # The Condition reads Steps.Evaluate.OutputParameters: an implicit edge.
    assert graph["CheckAccuracy"].depends_on == ("Evaluate",)
    assert graph["CheckAccuracy"].if_steps == ("ScoreAll",)
    assert graph["TooInaccurate"].branch == "else"
    assert graph["ScoreAll"].foreach_items == ("a", "b", "c")
    assert [p.name for p in graph.parameters] == [
        "ProcessingInstanceType",
        "InstanceCount",
        "AccuracyThreshold",
    ]


def test_implicit_edges_order_roots_dependencies_first() -> None:
    doc = {
        "Version": "2020-12-01",
        "Steps": [
            {
                "Name": "B",
                "Type": "Training",
                "Arguments": {"S": {"Get": "Steps.A.ModelArtifacts.S3ModelArtifacts"}},
            },
            {
                "Name": "A",
                "Type": "Processing",
                "Arguments": {},
                "RetryPolicies": [{"MaxAttempts": 3}],
                "CacheConfig": {"Enabled": True, "ExpireAfter": "PT1H"},
            },
        ],
    }
    graph = parse_definition(json.dumps(doc))
    assert graph.roots == ("A", "B")
    assert graph["A"].max_attempts == 3 and graph["A"].cache_enabled


def test_bad_definition_is_a_clear_error() -> None:
    with pytest.raises(DefinitionError, match="not valid JSON"):
        parse_definition("{nope")


def test_running_pipeline_shows_pending_steps_with_what_they_wait_for(graph_json: str) -> None:
    graph = parse_definition(graph_json)
    runs = [run("Preprocess", StepStatus.EXECUTING, 0)]
    tree = build_tree(graph, execution(), runs, now=T0 + timedelta(minutes=3))
    status = {n.name: n.status for _, n in tree.walk()}
    assert status["Preprocess"] is StepStatus.EXECUTING
    assert status["Evaluate"] is StepStatus.PENDING
    assert status["ScoreShard-0"] is StepStatus.PENDING  # iterations known from the literal items
    lines = tree_lines(tree, T0 + timedelta(minutes=3))
    assert lines[0] == "├─ ▶ Preprocess  Processing  Executing  3m00s"
    assert "waiting for Preprocess" in lines[1]
    assert tree.progress == (0, 6)  # leaves: Condition and ForEach count through their children


def test_condition_true_skips_else_branch_and_nests_foreach_iterations(graph_json: str) -> None:
    graph = parse_definition(graph_json)
    runs = [
        run("Preprocess", StepStatus.SUCCEEDED, 0),
        run("Evaluate", StepStatus.SUCCEEDED, 1),
        run("CheckAccuracy", StepStatus.SUCCEEDED, 2, condition_outcome=True),
        run("ScoreAll", StepStatus.EXECUTING, 3, foreach=ForEachInfo(item_count=3)),
        run(
            "ScoreShard-0",
            StepStatus.SUCCEEDED,
            3,
            parent_step="ScoreAll",
            iteration_index=0,
            iteration_item="a",
        ),
        run(
            "ScoreShard-1",
            StepStatus.FAILED,
            3,
            parent_step="ScoreAll",
            iteration_index=1,
            iteration_item="b",
            failure_reason="ClientError: boom",
            attempt=2,
        ),
    ]
    tree = build_tree(graph, execution(), runs, now=T0 + timedelta(minutes=10))
    nodes = {n.name: n for _, n in tree.walk()}
    assert nodes["TooInaccurate"].status is StepStatus.SKIPPED
    assert nodes["TooInaccurate"].skip_reason == "branch not taken (CheckAccuracy was True)"
    assert [c.name for c in nodes["ScoreAll"].children] == ["ScoreShard-0", "ScoreShard-1", "ScoreShard-2"]
    assert nodes["ScoreShard-2"].status is StepStatus.PENDING
    text = "\n".join(tree_lines(tree, T0 + timedelta(minutes=10)))
    assert (
        "   │  ├─ ✘ ScoreShard-1  Processing  Failed  1m00s  attempt 2  item b  reason: ClientError: boom"
        in text
    )
    assert (
        "   └─ ⊘ TooInaccurate  Fail  Skipped  else-branch  "
        "skipped: branch not taken (CheckAccuracy was True)" in text
    )


def test_failed_execution_skips_steps_never_started(graph_json: str) -> None:
    graph = parse_definition(graph_json)
    runs = [run("Preprocess", StepStatus.FAILED, 0, failure_reason="OOM")]
    tree = build_tree(graph, execution(ExecutionStatus.FAILED), runs, now=T0)
    nodes = {n.name: n for _, n in tree.walk()}
    assert nodes["Evaluate"].status is StepStatus.SKIPPED
    assert nodes["Evaluate"].skip_reason == "execution failed before it ran (Preprocess failed)"
    assert nodes["ScoreShard-1"].status is StepStatus.SKIPPED
    # The steps it never reached are still the run's: 1 of 6, not 1/1 (a full bar on a failed run).
    assert tree.progress == (1, 6)


def test_progress_counts_steps_never_reached_and_not_the_branch_not_taken(graph_json: str) -> None:
    graph = parse_definition(graph_json)
    stopped = [run("Preprocess", StepStatus.STOPPED, 0)]
    assert build_tree(graph, execution(ExecutionStatus.STOPPED), stopped, now=T0).progress == (1, 6)
    failed = [run("Preprocess", StepStatus.SUCCEEDED, 0), run("Evaluate", StepStatus.FAILED, 1)]
    assert build_tree(graph, execution(ExecutionStatus.FAILED), failed, now=T0).progress == (2, 6)
    # Once CheckAccuracy is decided, the else branch (TooInaccurate) is out of the total for good; the
    # iterations the failed run never reached stay in it.
    decided = [
        run("Preprocess", StepStatus.SUCCEEDED, 0),
        run("Evaluate", StepStatus.SUCCEEDED, 1),
        run("CheckAccuracy", StepStatus.SUCCEEDED, 2, condition_outcome=True),
        run("ScoreAll", StepStatus.FAILED, 3, foreach=ForEachInfo(item_count=3)),
        run("ScoreShard-0", StepStatus.FAILED, 3, parent_step="ScoreAll", iteration_index=0),
    ]
    tree = build_tree(graph, execution(ExecutionStatus.FAILED), decided, now=T0)
    nodes = {n.name: n for _, n in tree.walk()}
    assert nodes["TooInaccurate"].not_taken and not nodes["ScoreShard-2"].not_taken
    assert tree.progress == (3, 5)
    running = build_tree(graph, execution(), decided[:3], now=T0)
    assert running.progress == (2, 5)  # the Condition step counts through its branch


def test_a_step_that_needs_the_branch_not_taken_is_not_due() -> None:
    step = {"Type": "Processing", "Arguments": {}}
    doc = {
        "Version": "2020-12-01",
        "Steps": [
            {"Name": "A", **step},
            {
                "Name": "Gate",
                "Type": "Condition",
                "DependsOn": ["A"],
                "Arguments": {
                    "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}],
                    "IfSteps": [{"Name": "Yes", **step}],
                    "ElseSteps": [{"Name": "No", **step}],
                },
            },
            {"Name": "AfterNo", "DependsOn": ["No"], **step},
            {"Name": "Last", "DependsOn": ["Yes"], **step},
        ],
    }
    graph = parse_definition(json.dumps(doc))
    runs = [
        run("A", StepStatus.SUCCEEDED, 0),
        run("Gate", StepStatus.SUCCEEDED, 1, condition_outcome=True),
        run("Yes", StepStatus.STOPPED, 2),
    ]
    tree = build_tree(graph, execution(ExecutionStatus.STOPPED), runs, now=T0)
    # A, Yes and Last are the run's (Last never reached); No and AfterNo, which needs it, are not.
    assert tree.progress == (2, 3)
    # A run that succeeded ran every step it was going to (a selective execution runs only some): what it
    # did not reach was never due, and its bar is full.
    done = [*runs[:2], run("Yes", StepStatus.SUCCEEDED, 2)]
    assert build_tree(graph, execution(ExecutionStatus.SUCCEEDED), done, now=T0).progress == (2, 2)


def test_cache_hit_and_latest_attempt_shown(graph_json: str) -> None:
    graph = parse_definition(graph_json)
    source = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/oldoldoldold"
    runs = [
        run("Preprocess", StepStatus.FAILED, 0, attempt=1),
        run("Preprocess", StepStatus.SUCCEEDED, 5, attempt=2, cache_source_arn=source),
    ]
    tree = build_tree(graph, execution(), runs, now=T0 + timedelta(minutes=7))
    line = tree_lines(tree, T0)[0]
    assert "Succeeded" in line and "attempt 2" in line and "cache hit from oldoldoldold" in line


def test_elapsed_ticks_and_estimate_from_history() -> None:
    now = T0 + timedelta(minutes=4)
    active = execution()
    history = [
        Execution(
            arn=f"{ARN}{i}",
            pipeline_name="p",
            execution_id=str(i),
            status=ExecutionStatus.SUCCEEDED,
            started=T0 - timedelta(hours=i + 1),
            ended=T0 - timedelta(hours=i + 1) + timedelta(minutes=m),
        )
        for i, m in enumerate([10, 12, 50])
    ]
    assert execution_elapsed(active, now) == timedelta(minutes=4)
    assert estimate_remaining(active, history, now) == timedelta(minutes=8)  # median 12 - 4 elapsed
    assert format_duration(timedelta(hours=1, minutes=2, seconds=5)) == "1h02m"


def test_no_step_ticks_under_an_execution_that_has_ended(graph_json: str) -> None:
    # The execution was seen Failed before its steps were read again: Evaluate was last read running.
    graph = parse_definition(graph_json)
    runs = [run("Preprocess", StepStatus.SUCCEEDED, 0), run("Evaluate", StepStatus.EXECUTING, 1)]
    read_at = T0 + timedelta(minutes=3)
    later = T0 + timedelta(hours=5)
    ended = dataclasses.replace(execution(ExecutionStatus.FAILED), ended=T0 + timedelta(minutes=4))
    for finished, stops_at in ((ended, ended.ended), (dataclasses.replace(ended, ended=None), read_at)):
        tree = build_tree(graph, finished, runs, now=read_at)
        evaluate = next(n for _, n in tree.walk() if n.name == "Evaluate")
        assert evaluate.status is StepStatus.EXECUTING  # what the API said last; its final read follows
        assert evaluate.run is not None and stops_at is not None
        assert step_elapsed(evaluate, later) == stops_at - evaluate.run.started  # type: ignore[operator]
        assert tree_lines(tree, later) == tree_lines(tree, later + timedelta(hours=1))
    running = build_tree(graph, execution(), runs, now=read_at)  # while it runs, it ticks
    assert "Evaluate  Lambda  Executing  2m00s" in "\n".join(tree_lines(running, read_at))
