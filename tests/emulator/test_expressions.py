"""Expression and condition evaluation: the pure functions Condition steps and arguments run on."""

from __future__ import annotations

from typing import Any

import pytest

from smtui.emulator.definition.expressions import (
    ExpressionError,
    PathPart,
    drill,
    evaluate_condition,
    parse_path,
    resolve,
)


class FakeScope:
    """A scope with fixed answers (a test double of the run's state, not of any AWS client)."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {"Threshold": 0.8, "Mode": "fast", "Count": 3, "Flag": True}
        self.props: dict[str, Any] = {
            "Train": {
                "ModelArtifacts": {"S3ModelArtifacts": "s3://b/model.tar.gz"},
                "FinalMetricDataList": [{"MetricName": "validation:accuracy", "Value": 0.91}],
            },
            "Proc": {
                "ProcessingOutputConfig": {
                    "Outputs": [{"OutputName": "train", "S3Output": {"S3Uri": "s3://b/t"}}]
                }
            },
            "Eval": {"OutputParameters": {"acc": 0.75}},
            "Cond": {"Outcome": True},
        }
        self.files = {"Report": {"metrics": {"mse": {"value": 4.5}}, "list": [10, 20]}}
        self.item: Any = {"shard": "s-3", "weights": [1, 2]}

    def parameter(self, name: str) -> Any:
        return self.params[name]

    def execution_variable(self, name: str) -> Any:
        return {"PipelineExecutionId": "abc123def456", "PipelineName": "p"}[name]

    def step_property(self, step: str, path: list[PathPart]) -> Any:
        return drill(self.props[step], path, step)

    def current_item(self) -> Any:
        return self.item

    def property_file(self, step: str, file_name: str, json_path: str) -> Any:
        from smtui.emulator.definition.expressions import json_path as read

        return read(self.files[file_name], json_path, file_name)


def test_parse_path_handles_members_indexes_and_quoted_keys() -> None:
    assert parse_path("Train.FinalMetricDataList['validation:accuracy'].Value") == [
        "Train",
        "FinalMetricDataList",
        "validation:accuracy",
        "Value",
    ]
    assert parse_path("Proc.Outputs[0].S3Output") == ["Proc", "Outputs", 0, "S3Output"]
    with pytest.raises(ExpressionError):
        parse_path("Proc..Outputs")


def test_resolve_gets_joins_and_jsonget() -> None:
    scope = FakeScope()
    value = {
        "Uri": {"Get": "Steps.Proc.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"},
        "Model": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"},
        "Acc": {"Get": "Steps.Train.FinalMetricDataList['validation:accuracy'].Value"},
        "Name": {
            "Std:Join": {
                "On": "-",
                "Values": ["run", {"Get": "Execution.PipelineExecutionId"}, {"Get": "Parameters.Count"}],
            }
        },
        "Mse": {
            "Std:JsonGet": {
                "PropertyFile": {"Get": "Steps.Eval.PropertyFiles.Report"},
                "Path": "metrics.mse.value",
            }
        },
        "Second": {"Std:JsonGet": {"PropertyFile": "Report", "Path": "list[1]"}},
        "Shard": {"Get": "ForEach.CurrentItem.shard"},
        "Weight": {"Get": "ForEach.CurrentItem['weights'][1]"},
        "Literal": [1, "two", {"Three": 3}],
    }
    assert resolve(value, scope) == {
        "Uri": "s3://b/t",
        "Model": "s3://b/model.tar.gz",
        "Acc": 0.91,
        "Name": "run-abc123def456-3",
        "Mse": 4.5,
        "Second": 20,
        "Shard": "s-3",
        "Weight": 2,
        "Literal": [1, "two", {"Three": 3}],
    }


def test_current_item_as_json_string_can_be_drilled() -> None:
    scope = FakeScope()
    scope.item = '{"shard": "s-9"}'
    assert resolve({"Get": "ForEach.CurrentItem.shard"}, scope) == "s-9"
    assert resolve({"Get": "ForEach.CurrentItem"}, scope) == '{"shard": "s-9"}'


def test_missing_property_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError, match="Nope"):
        resolve({"Get": "Steps.Train.ModelArtifacts.Nope"}, FakeScope())
    with pytest.raises(ExpressionError, match="missing"):
        resolve({"Get": "Steps.Proc.ProcessingOutputConfig.Outputs['missing']"}, FakeScope())


def _cmp(kind: str, left: Any, right: Any) -> bool:
    return evaluate_condition({"Type": kind, "LeftValue": left, "RightValue": right}, FakeScope())


@pytest.mark.parametrize(
    ("kind", "left", "right", "expected"),
    [
        ("Equals", {"Get": "Parameters.Mode"}, "fast", True),
        ("Equals", {"Get": "Parameters.Mode"}, "slow", False),
        ("Equals", {"Get": "Parameters.Count"}, 3.0, True),
        ("GreaterThan", {"Get": "Steps.Eval.OutputParameters['acc']"}, 0.7, True),
        ("GreaterThan", {"Get": "Steps.Eval.OutputParameters['acc']"}, 0.75, False),
        ("GreaterThanOrEqualTo", {"Get": "Steps.Eval.OutputParameters['acc']"}, 0.75, True),
        ("LessThan", {"Get": "Steps.Eval.OutputParameters['acc']"}, {"Get": "Parameters.Threshold"}, True),
        ("LessThanOrEqualTo", 3.0, 6.0, True),
        ("LessThanOrEqualTo", 6.0, 3.0, False),
        # A string operand that reads as a number compares as one (output parameters arrive as strings).
        ("GreaterThan", "0.9", 0.8, True),
        ("Equals", {"Get": "Steps.Cond.Outcome"}, "True", True),
        ("Equals", {"Get": "Parameters.Flag"}, False, False),
    ],
)
def test_binary_conditions(kind: str, left: Any, right: Any, expected: bool) -> None:
    assert _cmp(kind, left, right) is expected


def test_in_not_or_conditions() -> None:
    scope = FakeScope()
    is_in = {"Type": "In", "QueryValue": {"Get": "Parameters.Mode"}, "Values": ["slow", "fast"]}
    not_in = {"Type": "In", "QueryValue": {"Get": "Parameters.Mode"}, "Values": ["slow"]}
    assert evaluate_condition(is_in, scope) is True
    assert evaluate_condition(not_in, scope) is False
    # SDK v2 writes Not's operand as Expression, SDK v3 as Condition: both work.
    assert evaluate_condition({"Type": "Not", "Expression": not_in}, scope) is True
    assert evaluate_condition({"Type": "Not", "Condition": is_in}, scope) is False
    assert evaluate_condition({"Type": "Or", "Conditions": [not_in, is_in]}, scope) is True
    assert evaluate_condition({"Type": "Or", "Conditions": [not_in, not_in]}, scope) is False


def test_comparing_incomparable_values_is_an_error() -> None:
    with pytest.raises(ExpressionError, match="Cannot compare"):
        _cmp("GreaterThan", "fast", [1])
