"""`smtui diff`: executions side by side, against the emulator: different parameters, a step a retry policy
ran twice, a cache hit, a ForEach's iterations aligned by index, training metrics with the best marked, and
billable instance-seconds as the jobs the emulator serves add up."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import pytest
from click.testing import Result
from emulator_proc import DEFINITIONS, EmulatorProcess


@pytest.fixture(scope="module")
def runs(emu: EmulatorProcess) -> tuple[str, str, str]:
    """Two runs of a pipeline whose Train fails once on capacity then retries (`retry-*`), the second with
    other parameters and a cache hit on Preprocess; and a run of another pipeline."""
    pipeline = f"retry-cmp-{uuid.uuid4().hex[:6]}"
    emu.create_pipeline(pipeline, (DEFINITIONS / "compare.json").read_text())
    first = emu.start_execution(pipeline)
    assert emu.run_until_done(first) == "Succeeded"
    second = emu.start_execution(pipeline, InstanceType="ml.c5.xlarge", Epochs="5")
    assert emu.run_until_done(second) == "Succeeded"
    other = f"cf-{uuid.uuid4().hex[:6]}"
    emu.create_pipeline(other, (DEFINITIONS / "condition-foreach.json").read_text())
    third = emu.start_execution(other)
    emu.run_until_done(third)
    return first, second, third


def test_diff_json_marks_what_differs_and_the_best_metric(
    smtui: Callable[..., Result], emu: EmulatorProcess, runs: tuple[str, str, str]
) -> None:
    first, second, _ = runs
    result = smtui("diff", first, second, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert [e["arn"] for e in doc["executions"]] == [first, second]
    params = {p["name"]: p for p in doc["parameters"]}
    assert params["Epochs"]["values"] == ["3", "5"] and params["Epochs"]["differs"]
    assert params["InstanceType"]["values"] == ["ml.m5.xlarge", "ml.c5.xlarge"]
    steps = {s["name"]: s for s in doc["steps"]}
    assert [s["name"] for s in doc["steps"]] == ["Preprocess", "Train", "Shards", "Score-0", "Score-1"]
    assert steps["Score-1"]["depth"] == 1
    assert [c["cache_hit"] for c in steps["Preprocess"]["cells"]] == [False, True]
    assert steps["Preprocess"]["differs"]
    assert [c["attempts"] for c in steps["Train"]["cells"]] == [2, 2]  # the retry policy's second attempt

    sm = emu.boto()
    billed = []
    for arn in (first, second):
        listed = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
        train = next(s for s in listed if s["StepName"] == "Train")
        job = sm.describe_training_job(TrainingJobName=train["Metadata"]["TrainingJob"]["Arn"].split("/")[-1])
        billed.append(job["BillableTimeInSeconds"] * 2)  # InstanceCount 2
        metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
        for row in doc["metrics"]:
            assert row["values"][len(billed) - 1] == pytest.approx(metrics[row["metric"]])
    assert [c["billable_instance_s"] for c in steps["Train"]["cells"]] == billed
    assert steps["Preprocess"]["cells"][1]["billable_instance_s"] == 0  # a cache hit is not billed again
    total = sum(c["billable_instance_s"] or 0 for s in doc["steps"] for c in s["cells"][:1])
    assert doc["executions"][0]["billable_instance_s"] == pytest.approx(total)

    rows = {m["metric"]: m for m in doc["metrics"]}
    loss, accuracy = rows["validation:loss"], rows["validation:accuracy"]
    assert loss["lower_is_better"] and not accuracy["lower_is_better"]
    assert loss["best"] == [loss["values"].index(min(loss["values"]))]
    assert accuracy["best"] == [accuracy["values"].index(max(accuracy["values"]))]


def test_diff_table_shows_the_columns_and_marks(
    smtui: Callable[..., Result], runs: tuple[str, str, str]
) -> None:
    first, second, third = runs
    result = smtui("diff", first, second, third)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert all(len(line) <= 120 for line in lines)  # the runner's terminal is 80 wide, or the default 120
    epochs = next(line for line in lines if "Epochs" in line)
    assert epochs.startswith("≠") and "3" in epochs and "5" in epochs
    preprocess = next(line for line in lines if line.lstrip("≠ ").startswith("Preprocess"))
    assert "⚡" in preprocess
    train = next(line for line in lines if line.lstrip("≠ ").startswith("Train "))
    assert "×2" in train
    assert sum("★" in line for line in lines if "validation:" in line) == 2
    assert any("CheckAccuracy" in line for line in lines)  # the other pipeline's steps have rows too


def test_diff_narrow_terminal_splits_columns_into_blocks(
    smtui: Callable[..., Result], runs: tuple[str, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    lines = smtui("diff", *runs).output.splitlines()
    assert all(len(line) <= 60 for line in lines)
    headers = [line for line in lines if line.strip().startswith("execution")]
    assert len(headers) == 2  # two columns, then the third under its own labels
    assert runs[2].rsplit("/", 1)[-1] in headers[1]


@pytest.mark.parametrize("count", [1, 9])
def test_diff_wants_two_to_eight(
    smtui: Callable[..., Result], runs: tuple[str, str, str], count: int
) -> None:
    result = smtui("diff", *([runs[0]] * count))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"smtui: diff compares 2 to 8 executions, got {count}"


def test_diff_unknown_or_repeated_execution_exits_2(
    smtui: Callable[..., Result], runs: tuple[str, str, str], emu: EmulatorProcess
) -> None:
    before = emu.stats().get("DescribeTrainingJob", 0)
    result = smtui("diff", runs[0], "nope/abcdef123456")
    assert result.exit_code == 2
    assert result.stderr.startswith("smtui: ") and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert emu.stats().get("DescribeTrainingJob", 0) == before  # nothing read past the refusal
    result = smtui("diff", runs[0], runs[0])
    assert result.exit_code == 2 and "one execution" in result.stderr
