"""What the pipelines view computes: a pipeline's recent runs summed up, the step graph's edges by kind."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from smtui.core.definition import parse_definition
from smtui.core.model import Execution, ExecutionStatus
from smtui.core.pipeline_stats import percentile, summarise, untimed_runs

T0 = datetime(2026, 11, 1, tzinfo=UTC)
OK, FAILED, RUNNING = ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.EXECUTING


def _run(i: int, status: ExecutionStatus, minutes: float | None) -> Execution:
    started = T0 + timedelta(hours=i)
    ended = None if minutes is None else started + timedelta(minutes=minutes)
    return Execution(f"arn:x/{i}", "p", str(i), status, started, ended=ended)


def test_percentiles_are_nearest_rank_values_of_runs() -> None:
    assert percentile([5.0], 0.95) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert percentile([float(v) for v in range(1, 21)], 0.95) == 19.0
    assert percentile([float(v) for v in range(1, 21)], 0.5) == 10.0


def test_the_window_is_the_last_finished_runs_and_durations_only_the_known_successful_ones() -> None:
    runs = [_run(i, OK, 10 + i) for i in range(25)]  # 0..24, the oldest five fall out of a window of 20
    runs[20] = _run(20, FAILED, 1)
    runs[21] = _run(21, OK, None)  # its end not read yet
    runs.append(_run(30, RUNNING, None))
    summary = summarise("p", runs, runs=20)
    assert summary.active == 1 and summary.last is not None and summary.last.arn == "arn:x/30"
    assert len(summary.recent) == 20 and summary.recent[0].seconds == 15 * 60  # run 5, oldest first
    assert summary.succeeded == 19 and summary.rate == 19 / 20
    assert (summary.timed, summary.untimed) == (18, 1)
    timed = sorted([10.0 + i for i in range(5, 25) if i not in (20, 21)])
    assert summary.p50 == 60 * timed[8] and summary.p95 == 60 * timed[17]
    assert [e.arn for e in untimed_runs(runs, runs=20)] == ["arn:x/21"]  # a failed run needs no end time


def test_no_finished_run_no_figures() -> None:
    summary = summarise("p", [_run(0, RUNNING, None)])
    assert summary.rate is None and summary.p50 is None and summary.recent == ()


DEFINITION = {
    "Version": "2020-12-01",
    "Parameters": [{"Name": "Shards", "Type": "String", "DefaultValue": "[1,2]"}],
    "Steps": [
        {"Name": "Prep", "Type": "Processing", "Arguments": {}},
        {
            "Name": "Train",
            "Type": "Training",
            "DependsOn": ["Prep"],
            "Arguments": {
                "Out": {
                    "Std:Join": {"On": "/", "Values": ["s3:/", {"Get": "Steps.Prep.ProcessingOutputConfig"}]}
                }
            },
        },
        {
            "Name": "Check",
            "Type": "Condition",
            "Arguments": {
                "Conditions": [
                    {
                        "Type": "LessThan",
                        "LeftValue": {
                            "Std:JsonGet": {"PropertyFile": {"Get": "Steps.Train.X"}, "Path": "loss"}
                        },
                        "RightValue": 0.5,
                    }
                ],
                "IfSteps": [
                    {
                        "Name": "Fan",
                        "Type": "ForEach",
                        "Arguments": {"IterableItems": {"Get": "Parameters.Shards"}, "ForEachBody": []},
                    }
                ],
                "ElseSteps": [],
            },
        },
    ],
}


def test_the_graph_tells_a_declared_dependency_from_a_data_one_and_renders_conditions() -> None:
    graph = parse_definition(json.dumps(DEFINITION))
    assert graph["Train"].depends_on == ("Prep",) and graph["Train"].references == ()  # declared as well
    assert graph["Check"].references == ("Train",)  # only through the JsonGet's property file
    assert graph["Check"].condition == 'JsonGet(Steps.Train.X, "loss") < 0.5'
    assert graph["Fan"].foreach_source == "Parameters.Shards" and graph["Fan"].foreach_items is None
