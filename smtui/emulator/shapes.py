"""Request validation and response trimming, both driven by botocore's service model.

The operations layer then only deals with behaviour: it receives a request that satisfies every constraint
of the model (required members, types, enums, lengths, ranges, patterns) and returns a plain dict that
`trim_output` cuts down to exactly the members the output shape has, in the wire types the service uses.

Validation errors read as the service writes them (camelCase member paths, 1-based list indexes):
`1 validation error detected: Value 'a_b' at 'pipelineName' failed to satisfy constraint: Member must satisfy
regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}`. A value of the wrong JSON type is a
`SerializationException`, as the service's deserializer rejects it before validating.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
from collections.abc import Callable
from typing import Any

from smtui.emulator.errors import ServiceError

# (value, path, errors) -> None; appends "Value ... at ... failed to satisfy constraint: ..." texts.
Checker = Callable[[Any, str, list[str]], None]

# Java regex constructs used in the model that Python's `re` lacks, with close equivalents. Inside a character
# class `\w` stands in for letters, marks and digits (it also admits "_": slightly lenient).
_PATTERN_FIXES = [
    (r"\p{L}", r"\w"),
    (r"\p{M}", r"\w"),
    (r"\p{N}", r"\w"),
    (r"\p{Z}", r"\s"),
    (r"\p{S}", r"!-/:-@\[-`{-~\u00a1-\u00bf"),
    (r"\p{P}", r"!-/:-@\[-`{-~\u00a1-\u00bf"),
    (r"\p{Alnum}", r"a-zA-Z0-9"),
    (r"\uD800\uDC00-\uDBFF\uDFFF", r"\U00010000-\U0010FFFF"),
    (r"[\w-_]", r"[\w\-_]"),
]
# `(...)${1,256}`: a quantified end anchor, a typo in the model that Java tolerates.
_QUANTIFIED_ANCHOR = re.compile(r"\$\{\d+(,\d*)?\}")


@functools.cache
def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """The model's Java-flavoured pattern as a Python regex (used with fullmatch); None if untranslatable."""
    translated = pattern
    for java, python in _PATTERN_FIXES:
        translated = translated.replace(java, python)
    translated = _QUANTIFIED_ANCHOR.sub("", translated)
    try:
        return re.compile(translated, re.DOTALL)
    except re.error:
        return None


def camel(name: str) -> str:
    """`PipelineName` → `pipelineName`: the member path style of the service's validation messages."""
    return name[:1].lower() + name[1:]


def _java_repr(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_java_repr(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_repr(v)}" for k, v in value.items()) + "}"
    return str(value)


def _fail(value: Any, path: str, constraint: str) -> str:
    shown = "null" if value is None else f"'{_java_repr(value)}'"
    return f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"


def _serialization(path: str, expected: str) -> ServiceError:
    return ServiceError("SerializationException", f"Unexpected value type at '{path}': expected {expected}")


class ServiceShapes:
    """One service's model (`sagemaker` or `logs`): input validation and output trimming per operation."""

    def __init__(self, service: str, *, validation_code: str = "ValidationException") -> None:
        from botocore.model import ServiceModel  # loaded here: the CLI's --help must not pay for it

        self.service = service
        # The model as botocore's session would load it, without the session: that import brings botocore's
        # client, waiters and docs (~0.1 s of each emulator's start) for nothing the emulator uses.
        self.model = ServiceModel(_loader().load_service_model(service, "service-2"), service_name=service)
        self.validation_code = validation_code
        self._operations = set(self.model.operation_names)
        self._checkers: dict[str, Checker] = {}

    def has_operation(self, name: str) -> bool:
        return name in self._operations

    # ---- input ------------------------------------------------------------------------------------------

    def validate_input(self, operation: str, body: dict[str, Any]) -> None:
        """Raise ValidationException (or the service's equivalent) naming each field that breaks the model."""
        shape = self.model.operation_model(operation).input_shape
        if shape is None:
            return
        errors: list[str] = []
        self._checker(shape)(body, "", errors)
        if errors:
            count = len(errors)
            noun = "error" if count == 1 else "errors"
            raise ServiceError(
                self.validation_code, f"{count} validation {noun} detected: " + "; ".join(errors)
            )

    def _checker(self, shape: Any) -> Checker:
        cached = self._checkers.get(shape.name)
        if cached is not None:
            return cached

        # Recursive shapes: register an indirection first, so a member referring back finds it.
        def late(value: Any, path: str, errors: list[str]) -> None:
            self._checkers[shape.name](value, path, errors)

        self._checkers[shape.name] = late
        compiled = self._compile(shape)
        self._checkers[shape.name] = compiled
        return compiled

    def _compile(self, shape: Any) -> Checker:
        kind = shape.type_name
        meta = shape.metadata
        low, high = meta.get("min"), meta.get("max")
        if kind == "structure":
            members = {name: self._checker(member) for name, member in shape.members.items()}
            required = list(shape.required_members)

            def check_structure(value: Any, path: str, errors: list[str]) -> None:
                if not isinstance(value, dict):
                    raise _serialization(path or "body", "an object")
                for name in required:
                    if value.get(name) is None:
                        errors.append(_fail(None, _join(path, camel(name)), "Member must not be null"))
                for name, item in value.items():
                    checker = members.get(name)
                    # Unknown members are ignored, as AWS's JSON services do (clients newer than the model).
                    if checker is not None and item is not None:
                        checker(item, _join(path, camel(name)), errors)

            return check_structure
        if kind == "list":
            member = self._checker(shape.member)

            def check_list(value: Any, path: str, errors: list[str]) -> None:
                if not isinstance(value, list):
                    raise _serialization(path, "a list")
                _check_length(value, len(value), low, high, path, errors)
                for index, item in enumerate(value, start=1):
                    if item is not None:
                        member(item, f"{path}.{index}.member", errors)

            return check_list
        if kind == "map":
            key_checker, value_checker = self._checker(shape.key), self._checker(shape.value)

            def check_map(value: Any, path: str, errors: list[str]) -> None:
                if not isinstance(value, dict):
                    raise _serialization(path, "an object")
                _check_length(value, len(value), low, high, path, errors)
                for key, item in value.items():
                    key_checker(key, f"{path}.{key}.key", errors)
                    if item is not None:
                        value_checker(item, f"{path}.{key}.value", errors)

            return check_map
        if kind == "string":
            enum = meta.get("enum")
            pattern = compile_pattern(meta["pattern"]) if "pattern" in meta else None
            pattern_text = meta.get("pattern", "")

            def check_string(value: Any, path: str, errors: list[str]) -> None:
                if not isinstance(value, str):
                    raise _serialization(path, "a string")
                _check_length(value, len(value), low, high, path, errors)
                if enum and value not in enum:
                    errors.append(
                        _fail(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]")
                    )
                if pattern is not None and not pattern.fullmatch(value):
                    constraint = f"Member must satisfy regular expression pattern: {pattern_text}"
                    errors.append(_fail(value, path, constraint))

            return check_string
        if kind in ("integer", "long", "float", "double"):
            integral = kind in ("integer", "long")

            def check_number(value: Any, path: str, errors: list[str]) -> None:
                ok = isinstance(value, int) if integral else isinstance(value, int | float)
                if isinstance(value, bool) or not ok:
                    raise _serialization(path, "an integer" if integral else "a number")
                if low is not None and value < low:
                    errors.append(
                        _fail(value, path, f"Member must have value greater than or equal to {low}")
                    )
                if high is not None and value > high:
                    errors.append(_fail(value, path, f"Member must have value less than or equal to {high}"))

            return check_number
        if kind == "boolean":

            def check_boolean(value: Any, path: str, errors: list[str]) -> None:
                if not isinstance(value, bool):
                    raise _serialization(path, "a boolean")

            return check_boolean
        if kind == "timestamp":

            def check_timestamp(value: Any, path: str, errors: list[str]) -> None:
                if parse_timestamp(value) is None:
                    raise _serialization(path, "a timestamp")

            return check_timestamp
        return lambda value, path, errors: None  # blobs and documents: nothing in our operations uses them

    # ---- output -----------------------------------------------------------------------------------------

    def trim_output(self, operation: str, data: dict[str, Any]) -> dict[str, Any]:
        """Only the members the output shape has, None dropped, timestamps and numbers in wire types.

        A required member missing is an emulator bug: it raises, and the client sees InternalFailure.
        """
        shape = self.model.operation_model(operation).output_shape
        if shape is None:
            return {}
        trimmed = self._trim(shape, data, operation)
        assert isinstance(trimmed, dict)
        return trimmed

    def _trim(self, shape: Any, value: Any, path: str) -> Any:
        kind = shape.type_name
        if kind == "structure":
            if not isinstance(value, dict):
                return None  # e.g. a step argument of the wrong shape passed through: dropped, not a crash
            out: dict[str, Any] = {}
            for name, member in shape.members.items():
                item = value.get(name)
                if item is not None:
                    trimmed = self._trim(member, item, f"{path}.{name}")
                    if trimmed is not None:
                        out[name] = trimmed
            missing = [name for name in shape.required_members if name not in out]
            if missing:
                raise RuntimeError(f"emulator bug: {path} lacks required {', '.join(missing)}")
            return out
        if kind == "list":
            if not isinstance(value, list):
                return None
            items = (self._trim(shape.member, item, path) for item in value if item is not None)
            return [item for item in items if item is not None]
        if kind == "map":
            if not isinstance(value, dict):
                return None
            pairs = ((str(k), self._trim(shape.value, v, path)) for k, v in value.items() if v is not None)
            return {k: v for k, v in pairs if v is not None}
        if kind == "timestamp":
            seconds = parse_timestamp(value)
            if seconds is None:
                raise RuntimeError(f"emulator bug: {path} is not a timestamp: {value!r}")
            # The service's timestamps have millisecond precision (`1632260141.95`, `...22:20:11.852000`).
            return round(seconds, 3)
        try:
            if kind in ("integer", "long"):
                return int(value)
            if kind in ("float", "double"):
                return float(value)
        except (TypeError, ValueError):
            return None
        if kind == "string":
            return (
                value
                if isinstance(value, str)
                else json.dumps(value)
                if isinstance(value, dict | list)
                else str(value)
            )
        if kind == "boolean":
            return value if isinstance(value, bool) else str(value).lower() == "true"
        return value


def parse_timestamp(value: Any) -> float | None:
    """Epoch seconds from a number, an ISO-8601 string or a datetime; None when it is none of these."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.timestamp()
    return None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _check_length(
    value: Any, length: int, low: int | None, high: int | None, path: str, errors: list[str]
) -> None:
    if low is not None and length < low:
        errors.append(_fail(value, path, f"Member must have length greater than or equal to {low}"))
    if high is not None and length > high:
        errors.append(_fail(value, path, f"Member must have length less than or equal to {high}"))


@functools.cache
def _loader() -> Any:
    """One botocore data loader for every service's model, searching where a botocore session would:
    `AWS_DATA_PATH`, `~/.aws/models`, then botocore's own data."""
    from botocore.loaders import create_loader

    return create_loader(os.environ.get("AWS_DATA_PATH"))


@functools.cache
def service_shapes(service: str) -> ServiceShapes:
    """The shared, lazily built model helper of a service ("sagemaker", "logs", "sqs" or "events")."""
    # CloudWatch Logs reports constraint violations as its modeled InvalidParameterException; SQS as its
    # Query-era InvalidParameterValue.
    codes = {"logs": "InvalidParameterException", "sqs": "InvalidParameterValue"}
    code = codes.get(service, "ValidationException")
    return ServiceShapes(service, validation_code=code)
