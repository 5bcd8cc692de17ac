"""Pipeline expressions: `{"Get": ...}`, `Std:Join`, `Std:JsonGet`, and condition evaluation.

Pure functions over a `Scope` that answers the lookups (parameters, execution variables, step properties,
the ForEach item, property files). Definition validation uses `references()` to find implicit edges.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Protocol

PathPart = str | int


class ExpressionError(Exception):
    """An expression could not be evaluated (unknown property, missing output, bad JSON path)."""


class Scope(Protocol):
    """What an expression can read while a step runs."""

    def parameter(self, name: str) -> Any: ...

    def execution_variable(self, name: str) -> Any: ...

    def step_property(self, step: str, path: list[PathPart]) -> Any: ...

    def current_item(self) -> Any: ...

    def property_file(self, step: str, file_name: str, json_path: str) -> Any: ...


_SEGMENT = re.compile(r"""\.([A-Za-z0-9_\-:]+)|\[(\d+)\]|\[(['"])(.*?)\3\]""")
_HEAD = re.compile(r"[A-Za-z0-9_\-]+")


def parse_path(text: str) -> list[PathPart]:
    """`Train.FinalMetricDataList['acc'].Value` -> ["Train", "FinalMetricDataList", "acc", "Value"].

    Integers are list indexes; strings are members or map keys (the service writes both as `['k']`).
    """
    head = _HEAD.match(text)
    if head is None:
        raise ExpressionError(f"Invalid property reference: {text}")
    parts: list[PathPart] = [head.group(0)]
    pos = head.end()
    while pos < len(text):
        match = _SEGMENT.match(text, pos)
        if match is None:
            raise ExpressionError(f"Invalid property reference: {text}")
        if match.group(1) is not None:
            parts.append(match.group(1))
        elif match.group(2) is not None:
            parts.append(int(match.group(2)))
        else:
            parts.append(match.group(4))
        pos = match.end()
    return parts


def drill(value: Any, path: list[PathPart], label: str) -> Any:
    """Follow a path into a Describe*-shaped value.

    A string key applied to a list picks the element whose `...Name` member equals it: that is how
    `ProcessingOutputConfig.Outputs['train']` and `FinalMetricDataList['acc']` address API lists.
    """
    for part in path:
        if isinstance(part, int):
            if not isinstance(value, list) or part >= len(value):
                raise ExpressionError(f"Index [{part}] is out of range in {label}")
            value = value[part]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list):
            found = [v for v in value if isinstance(v, dict) and _named(v, part)]
            if not found:
                raise ExpressionError(f"No element named '{part}' in {label}")
            value = found[0]
        else:
            raise ExpressionError(f"Property '{part}' is not available in {label}")
    return value


def _named(item: dict[str, Any], name: str) -> bool:
    return any(k.endswith("Name") and v == name for k, v in item.items())


def json_path(document: Any, path: str, label: str) -> Any:
    """The JsonGet path dialect: `a.b[0].c` (dots and list indexes)."""
    value = document
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if token.startswith("["):
            index = int(token[1:-1])
            if not isinstance(value, list) or index >= len(value):
                raise ExpressionError(f"Path {path} not found in {label}")
            value = value[index]
        elif isinstance(value, dict) and token in value:
            value = value[token]
        else:
            raise ExpressionError(f"Path {path} not found in {label}")
    return value


def resolve(value: Any, scope: Scope) -> Any:
    """Evaluate every expression inside `value` (recursively), leaving literals as they are."""
    if isinstance(value, list):
        return [resolve(v, scope) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Get" and isinstance(arg, str):
            return get(arg, scope)
        if key == "Std:Join":
            return join(arg, scope)
        if key == "Std:JsonGet":
            return json_get(arg, scope)
    return {k: resolve(v, scope) for k, v in value.items()}


def get(reference: str, scope: Scope) -> Any:
    """One `{"Get": reference}`."""
    root, _, rest = reference.partition(".")
    if root == "Parameters":
        return scope.parameter(rest)
    if root == "Execution":
        return scope.execution_variable(rest)
    if root == "Steps":
        path = parse_path(rest)
        return scope.step_property(str(path[0]), path[1:])
    if reference == "ForEach.CurrentItem" or reference.startswith(
        ("ForEach.CurrentItem.", "ForEach.CurrentItem[")
    ):
        item = scope.current_item()
        tail = reference[len("ForEach.CurrentItem") :]
        if not tail:
            return item
        if isinstance(item, str):
            # Items are often JSON-object strings whose fields the body drills into.
            try:
                item = json.loads(item)
            except ValueError:
                raise ExpressionError(f"ForEach.CurrentItem is not a JSON object: {item}") from None
        return drill(item, parse_path("x" + tail)[1:], "ForEach.CurrentItem")
    raise ExpressionError(f"Unsupported expression: {reference}")


def to_text(value: Any) -> str:
    """How a value reads when joined into a string (JSON spelling for booleans and containers)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def join(arg: Any, scope: Scope) -> str:
    if not isinstance(arg, dict) or not isinstance(arg.get("Values"), list):
        raise ExpressionError("Std:Join needs On and Values")
    separator = to_text(resolve(arg.get("On", ""), scope))
    return separator.join(to_text(resolve(v, scope)) for v in arg["Values"])


def json_get(arg: Any, scope: Scope) -> Any:
    if not isinstance(arg, dict) or "Path" not in arg:
        raise ExpressionError("Std:JsonGet needs PropertyFile (or S3Uri) and Path")
    path = to_text(resolve(arg["Path"], scope))
    ref = arg.get("PropertyFile")
    if isinstance(ref, dict) and isinstance(ref.get("Get"), str):
        parts = parse_path(ref["Get"].removeprefix("Steps."))
        if len(parts) != 3 or parts[1] != "PropertyFiles":
            raise ExpressionError(f"Invalid property file reference: {ref['Get']}")
        return scope.property_file(str(parts[0]), str(parts[2]), path)
    if isinstance(ref, str):
        return scope.property_file("", ref, path)
    if "S3Uri" in arg:
        # `@step` outputs live in S3, which the emulator does not have: the scenario answers by URI.
        return scope.property_file("", to_text(resolve(arg["S3Uri"], scope)), path)
    raise ExpressionError("Std:JsonGet needs PropertyFile (or S3Uri) and Path")


# ---- conditions ----------------------------------------------------------------------------------

_COMPARISONS = {
    "Equals": lambda a, b: a == b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanOrEqualTo": lambda a, b: a >= b,
    "LessThan": lambda a, b: a < b,
    "LessThanOrEqualTo": lambda a, b: a <= b,
}
CONDITION_TYPES = frozenset([*_COMPARISONS, "In", "Not", "Or"])


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    """Bring two operands to one type: a string that reads as a number compares as a number."""
    if isinstance(left, str) and isinstance(right, (int, float)) and not isinstance(right, bool):
        return _number(left), right
    if isinstance(right, str) and isinstance(left, (int, float)) and not isinstance(left, bool):
        return left, _number(right)
    if isinstance(left, bool) and isinstance(right, str):
        return left, right.lower() == "true"
    if isinstance(right, bool) and isinstance(left, str):
        return left.lower() == "true", right
    return left, right


def _number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def evaluate_condition(condition: dict[str, Any], scope: Scope) -> bool:
    """One condition of a Condition step (a list of them is ANDed by the caller)."""
    kind = condition.get("Type")
    if kind in _COMPARISONS:
        left, right = _comparable(
            resolve(condition.get("LeftValue"), scope), resolve(condition.get("RightValue"), scope)
        )
        try:
            return bool(_COMPARISONS[kind](left, right))
        except TypeError as exc:
            raise ExpressionError(f"Cannot compare {left!r} with {right!r} in a {kind} condition") from exc
    if kind == "In":
        query = resolve(condition.get("QueryValue"), scope)
        values = resolve(condition.get("Values", []), scope)
        return any(a == b for a, b in (_comparable(query, v) for v in values))
    if kind == "Not":
        inner = condition.get("Expression", condition.get("Condition"))
        if not isinstance(inner, dict):
            raise ExpressionError("A Not condition needs an Expression")
        return not evaluate_condition(inner, scope)
    if kind == "Or":
        return any(evaluate_condition(c, scope) for c in condition.get("Conditions", []))
    raise ExpressionError(f"Unsupported condition type: {kind}")


# ---- static analysis -----------------------------------------------------------------------------


def gets(value: Any) -> Iterator[str]:
    """Every `Get` reference string inside a value (nested step lists are the caller's to exclude)."""
    if isinstance(value, dict):
        ref = value.get("Get")
        if len(value) == 1 and isinstance(ref, str):
            yield ref
            return
        for item in value.values():
            yield from gets(item)
    elif isinstance(value, list):
        for item in value:
            yield from gets(item)


def property_file_names(value: Any) -> Iterator[str]:
    """Property files named by a bare string in `Std:JsonGet.PropertyFile` (older SDKs write that)."""
    if isinstance(value, dict):
        arg = value.get("Std:JsonGet")
        if isinstance(arg, dict) and isinstance(arg.get("PropertyFile"), str):
            yield arg["PropertyFile"]
        for item in value.values():
            yield from property_file_names(item)
    elif isinstance(value, list):
        for item in value:
            yield from property_file_names(item)


def referenced_step(reference: str) -> str | None:
    """The step a `Steps.X...` reference points at, or None for other references."""
    if not reference.startswith("Steps."):
        return None
    head = _HEAD.match(reference, len("Steps."))
    return head.group(0) if head else None
