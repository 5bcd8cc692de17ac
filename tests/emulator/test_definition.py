"""Definition validation at Create/UpdatePipeline: what is rejected, with a message naming the problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from smtui.emulator.definition.graph import parse
from smtui.emulator.engine.params import execution_parameters
from smtui.emulator.errors import ServiceError

FIXTURES = Path(__file__).parent.parent / "definitions"


def _definition(*steps: dict[str, Any], parameters: list[dict[str, Any]] | None = None) -> str:
    return json.dumps({"Version": "2020-12-01", "Parameters": parameters or [], "Steps": list(steps)})


def _step(name: str, kind: str = "Processing", **extra: Any) -> dict[str, Any]:
    return {"Name": name, "Type": kind, "Arguments": extra.pop("Arguments", {}), **extra}


def _rejects(text: str, *fragments: str) -> None:
    with pytest.raises(ServiceError) as caught:
        parse(text)
    assert caught.value.code == "ValidationException"
    for fragment in fragments:
        assert fragment in caught.value.message


def test_sdk_generated_definition_parses_into_a_flat_graph() -> None:
    parsed = parse((FIXTURES / "condition-foreach.json").read_text())
    assert parsed.top == ("Preprocess", "Evaluate", "CheckAccuracy", "ScoreAll", "TooInaccurate")
    assert parsed.bodies == {"ScoreAll": ("ScoreShard",)}
    assert parsed.steps["Evaluate"].deps == {"Preprocess"}
    # The Condition reads the Lambda's output: an implicit edge.
    assert parsed.steps["CheckAccuracy"].deps == {"Evaluate"}
    assert parsed.steps["ScoreAll"].gate == ("CheckAccuracy", True)
    assert parsed.steps["TooInaccurate"].gate == ("CheckAccuracy", False)
    assert parsed.parameters["InstanceCount"].type == "Integer"


def test_property_file_reference_is_an_edge() -> None:
    proc = _step(
        "Eval", PropertyFiles=[{"PropertyFileName": "Report", "OutputName": "o", "FilePath": "r.json"}]
    )
    get = {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Eval.PropertyFiles.Report"}, "Path": "a.b"}}
    cond = _step(
        "Check",
        "Condition",
        Arguments={"Conditions": [{"Type": "Equals", "LeftValue": get, "RightValue": 1}]},
    )
    assert parse(_definition(proc, cond)).steps["Check"].deps == {"Eval"}
    bare = {"Std:JsonGet": {"PropertyFile": "Report", "Path": "a.b"}}
    cond2 = _step(
        "Check",
        "Condition",
        Arguments={"Conditions": [{"Type": "Equals", "LeftValue": bare, "RightValue": 1}]},
    )
    assert parse(_definition(proc, cond2)).steps["Check"].deps == {"Eval"}


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("{not json", ("not valid JSON",)),
        ("[]", ("JSON object",)),
        (json.dumps({"Version": "2020-12-01"}), ("'Steps'",)),
        (_definition(_step("A", "Teleport")), ("unknown type 'Teleport'", "'A'")),
        (_definition(_step("A"), _step("A")), ("duplicate step name 'A'",)),
        (_definition(_step("A", DependsOn=["Ghost"])), ("unknown step 'Ghost'",)),
        (_definition(_step("A", Arguments={"x": {"Get": "Steps.Ghost.Out"}})), ("unknown step 'Ghost'",)),
        (_definition(_step("A", Arguments={"x": {"Get": "Parameters.Nope"}})), ("unknown parameter 'Nope'",)),
        (
            _definition(_step("A", Arguments={"x": {"Get": "Execution.Nope"}})),
            ("unknown execution variable",),
        ),
        (_definition(_step("A", DependsOn=["B"]), _step("B", DependsOn=["A"])), ("cyclic", "A", "B")),
        (
            _definition(_step("F", "Fail", Arguments={"ErrorMessage": "x"}), _step("A", DependsOn=["F"])),
            ("cannot depend on Fail step 'F'",),
        ),
        (_definition(_step("bad name")), ("step name 'bad name'",)),
        (
            _definition(
                _step(
                    "C",
                    "Condition",
                    Arguments={"Conditions": [{"Type": "Sometimes"}], "IfSteps": [], "ElseSteps": []},
                )
            ),
            ("unknown condition type 'Sometimes'",),
        ),
    ],
)
def test_invalid_definitions_are_rejected(text: str, fragments: tuple[str, ...]) -> None:
    _rejects(text, *fragments)


def test_duplicate_names_across_condition_branches_and_foreach_bodies() -> None:
    branches = _step(
        "C", "Condition", Arguments={"Conditions": [], "IfSteps": [_step("X")], "ElseSteps": [_step("X")]}
    )
    _rejects(_definition(branches), "duplicate step name 'X'")
    loop = _step(
        "L", "ForEach", Arguments={"IterableItems": [1], "MaxConcurrency": 1, "ForEachBody": [_step("A")]}
    )
    _rejects(_definition(_step("A"), loop), "duplicate step name 'A'")


@pytest.mark.parametrize("kind", ["Condition", "Fail", "ForEach"])
def test_foreach_body_cannot_hold_condition_fail_or_foreach(kind: str) -> None:
    inner = _step(
        "Inner",
        kind,
        Arguments={"Conditions": [], "ErrorMessage": "x", "IterableItems": [1], "ForEachBody": [_step("Z")]},
    )
    loop = _step(
        "L", "ForEach", Arguments={"IterableItems": [1, 2], "MaxConcurrency": 1, "ForEachBody": [inner]}
    )
    _rejects(_definition(loop), "ForEach step 'L' cannot contain", kind)


def test_top_level_name_colliding_with_a_foreach_child_is_rejected() -> None:
    loop = _step(
        "L",
        "ForEach",
        Arguments={"IterableItems": [1, 2], "MaxConcurrency": 1, "ForEachBody": [_step("Score")]},
    )
    _rejects(_definition(loop, _step("Score-1")), "Score-1")


def test_cycle_through_a_condition_branch_is_found() -> None:
    inner = _step("B", DependsOn=[])
    cond = _step(
        "C",
        "Condition",
        Arguments={
            "Conditions": [{"Type": "Equals", "LeftValue": {"Get": "Steps.B.X"}, "RightValue": 1}],
            "IfSteps": [inner],
        },
    )
    _rejects(_definition(cond), "cyclic")


def test_start_parameters_are_checked_and_defaults_filled() -> None:
    parsed = parse(
        _definition(
            _step("A"),
            parameters=[
                {"Name": "Count", "Type": "Integer", "DefaultValue": 2},
                {"Name": "Rate", "Type": "Float", "DefaultValue": 0.5},
                {"Name": "Flag", "Type": "Boolean", "DefaultValue": False},
                {"Name": "Mode", "Type": "String", "DefaultValue": "fast", "EnumValues": ["fast", "slow"]},
            ],
        )
    )
    values = execution_parameters(
        parsed, [{"Name": "Count", "Value": "7"}, {"Name": "Flag", "Value": "True"}]
    )
    assert values == [
        {"Name": "Count", "Value": "7"},
        {"Name": "Rate", "Value": "0.5"},
        {"Name": "Flag", "Value": "True"},
        {"Name": "Mode", "Value": "fast"},
    ]
    for bad, fragment in [
        ({"Name": "Nope", "Value": "1"}, "'Nope' is not defined"),
        ({"Name": "Count", "Value": "2.5"}, "not a valid Integer"),
        ({"Name": "Rate", "Value": "fast"}, "not a valid Float"),
        ({"Name": "Flag", "Value": "yes"}, "not a valid Boolean"),
        ({"Name": "Mode", "Value": "medium"}, "not one of fast, slow"),
    ]:
        with pytest.raises(ServiceError) as caught:
            execution_parameters(parsed, [bad])
        assert fragment in caught.value.message


def test_reading_a_foreach_body_step_from_outside_is_rejected() -> None:
    loop = _step(
        "L", "ForEach", Arguments={"IterableItems": [1], "MaxConcurrency": 1, "ForEachBody": [_step("Body")]}
    )
    reader = _step("After", Arguments={"x": {"Get": "Steps.Body.ProcessingJobName"}})
    _rejects(_definition(loop, reader), "'Body' of ForEach 'L'", "IterationOutputs")
    downstream = _step(
        "After", Arguments={"x": {"Get": "Steps.L.IterationOutputs[0].Body.ProcessingJobName"}}
    )
    assert parse(_definition(loop, downstream)).steps["After"].deps == {"L"}
