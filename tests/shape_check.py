"""An independent, strict check of response bodies against botocore's output shapes.

Written apart from the emulator's own trimmer on purpose: it walks the model itself, so a bug in the trimmer
cannot hide in both places. Attached to every client the fixtures create (botocore's `before-parse` event
gives the raw body), it records each violation; the fixture fails the test that received it.
"""

from __future__ import annotations

import json
from typing import Any


def check_value(shape: Any, value: Any, path: str, problems: list[str]) -> None:
    """Append to `problems` every way `value` breaks `shape` (botocore Shape)."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object, got {type(value).__name__}")
            return
        for name in value:
            if name not in shape.members:
                problems.append(f"{path}.{name}: not a member of {shape.name}")
        for name in shape.required_members:
            if name not in value:
                problems.append(f"{path}.{name}: required member of {shape.name} missing")
        for name, item in value.items():
            if name in shape.members:
                check_value(shape.members[name], item, f"{path}.{name}", problems)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        for index, item in enumerate(value):
            check_value(shape.member, item, f"{path}[{index}]", problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a map, got {type(value).__name__}")
            return
        for key, item in value.items():
            check_value(shape.value, item, f"{path}[{key!r}]", problems)
    elif kind == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string, got {value!r}")
        elif shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} is not one of {shape.name}'s values {shape.enum}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected an integer, got {value!r}")
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{path}: expected a number, got {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected a boolean, got {value!r}")
    elif kind == "timestamp" and (isinstance(value, bool) or not isinstance(value, int | float)):
        # The JSON protocol sends epoch seconds as numbers; botocore would also accept ISO strings, the
        # service never sends them.
        problems.append(f"{path}: expected epoch seconds (a number), got {value!r}")


def check_response(operation_model: Any, status: int, body: bytes) -> list[str]:
    """Every problem with one raw response of `operation_model`."""
    name = operation_model.name
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        return [f"{name}: body is not JSON: {body[:200]!r}"]
    problems: list[str] = []
    if status >= 300:
        if not isinstance(parsed, dict) or not isinstance(parsed.get("__type"), str):
            return [f"{name}: error body without a string __type: {parsed!r}"]
        message = parsed.get("message", parsed.get("Message"))
        if not isinstance(message, str):
            problems.append(f"{name}: error {parsed['__type']} has no message")
        return problems
    if operation_model.output_shape is None:
        if parsed not in ({}, None):
            problems.append(f"{name}: output has no shape but body is {parsed!r}")
        return problems
    check_value(operation_model.output_shape, parsed, name, problems)
    return problems


class ShapeChecker:
    """Collects violations from every response of the clients it is attached to."""

    def __init__(self) -> None:
        self.violations: list[str] = []

    def attach(self, client: Any) -> Any:
        # "before-parse" matches before-parse.<service-id>.<Operation> for every service (sagemaker and
        # cloudwatch-logs), in botocore and aiobotocore alike.
        client.meta.events.register("before-parse", self._on_response)
        return client

    def _on_response(self, operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
        body = response_dict.get("body")
        if isinstance(body, bytes | bytearray):
            self.violations.extend(check_response(operation_model, response_dict["status_code"], bytes(body)))
