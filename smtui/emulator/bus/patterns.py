"""EventBridge event patterns: parsing (InvalidEventPatternException) and matching.

The documented subset (EventBridge User Guide, "Event patterns" and "Content filtering"): a pattern is a JSON
object whose leaves are arrays; an event matches when every field of the pattern matches. A leaf array
matches when the event's value (or, for an array value such as `resources`, any of its elements) equals one
of its items, or satisfies one of its filters: `prefix`, `suffix`, `equals-ignore-case`, `wildcard`,
`anything-but` (a value, a list, or `{"prefix": ...}`), `exists`, `numeric`. A nested object matches the
event's nested object (`detail`). Missing fields match nothing but `{"exists": false}`.
"""

from __future__ import annotations

import fnmatch
import json
import operator
from collections.abc import Callable
from typing import Any

from smtui.emulator.errors import ServiceError

_MISSING = object()
_FILTERS = frozenset(
    {"prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "exists", "numeric"}
)
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def invalid(reason: str) -> ServiceError:
    return ServiceError("InvalidEventPatternException", f"Event pattern is not valid. Reason: {reason}")


def parse(text: str) -> dict[str, Any]:
    """The pattern of PutRule's `EventPattern`, checked; InvalidEventPatternException if malformed."""
    try:
        pattern = json.loads(text)
    except ValueError as exc:
        raise invalid(f"Filter is not valid JSON: {exc}") from None
    if not isinstance(pattern, dict) or not pattern:
        raise invalid("Filter is not an object")
    _check(pattern, "")
    return pattern


def _check(pattern: dict[str, Any], path: str) -> None:
    for key, value in pattern.items():
        where = f"{path}.{key}" if path else key
        if isinstance(value, dict):
            if not value:
                raise invalid(f"Empty objects are not allowed: {where}")
            _check(value, where)
        elif isinstance(value, list):
            if not value:
                raise invalid(f"Empty arrays are not allowed: {where}")
            for item in value:
                if isinstance(item, dict):
                    _check_filter(item, where)
                elif isinstance(item, list):
                    raise invalid(f"Match value must be String, number, true, false, or null: {where}")
        else:
            raise invalid(f'"{where}" must be an object or an array')


def _check_filter(item: dict[str, Any], where: str) -> None:
    if len(item) != 1 or next(iter(item)) not in _FILTERS:
        raise invalid(f"Unrecognized match type {', '.join(item) or '{}'} at {where}")
    name, argument = next(iter(item.items()))
    if name in ("prefix", "suffix", "equals-ignore-case", "wildcard") and not isinstance(argument, str):
        raise invalid(f"{name} match pattern must be a string at {where}")
    if name == "exists" and not isinstance(argument, bool):
        raise invalid(f"exists match pattern must be either true or false at {where}")
    if name == "numeric":
        if not isinstance(argument, list) or len(argument) % 2 or not argument:
            raise invalid(f"Value of numeric must be an array of operator/number pairs at {where}")
        for op, number in zip(argument[::2], argument[1::2], strict=True):
            if op not in _COMPARE or isinstance(number, bool) or not isinstance(number, int | float):
                raise invalid(f"Unrecognized numeric range operator: {op} at {where}")


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """Whether `event` matches the (parsed) pattern."""
    for key, wanted in pattern.items():
        value = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(wanted, dict):
            if not isinstance(value, dict) or not matches(wanted, value):
                return False
        elif not _leaf(wanted, value):
            return False
    return True


def _leaf(wanted: list[Any], value: Any) -> bool:
    if value is _MISSING:
        return any(isinstance(item, dict) and item.get("exists") is False for item in wanted)
    values = value if isinstance(value, list) else [value]
    return any(_one(item, v) for item in wanted for v in values)


def _one(item: Any, value: Any) -> bool:
    if not isinstance(item, dict):
        return _equal(item, value)
    name, argument = next(iter(item.items()))
    if name == "exists":
        return bool(argument)
    if name == "anything-but":
        if isinstance(argument, dict):
            return isinstance(value, str) and not value.startswith(str(argument.get("prefix", "")))
        excluded = argument if isinstance(argument, list) else [argument]
        return not any(_equal(e, value) for e in excluded)
    if name == "numeric":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        pairs = zip(argument[::2], argument[1::2], strict=True)
        return all(_COMPARE[op](float(value), float(number)) for op, number in pairs)
    if not isinstance(value, str):
        return False
    if name == "prefix":
        return value.startswith(argument)
    if name == "suffix":
        return value.endswith(argument)
    if name == "equals-ignore-case":
        return value.lower() == str(argument).lower()
    text = str(argument).replace("[", "[[]").replace("?", "[?]")  # wildcard: only `*` is special
    return fnmatch.fnmatchcase(value, text)


def _equal(expected: Any, value: Any) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool) or expected is None or value is None:
        return expected is value
    if isinstance(expected, int | float) and isinstance(value, int | float):
        return float(expected) == float(value)
    return bool(expected == value)
