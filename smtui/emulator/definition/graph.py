"""Pipeline definitions: parsing into a flat step graph, and the checks Create/UpdatePipeline make.

Every step (top level, inside Condition branches, inside ForEach bodies) becomes one `StepDef` with its
dependencies: explicit `DependsOn`, plus implicit edges from `{"Get": "Steps.X..."}` references anywhere in
the step (property-file references included). Branch steps carry the Condition that gates them; body steps
carry their ForEach parent and never run at the top level.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from smtui.emulator.definition.arguments import check_arguments
from smtui.emulator.definition.expressions import CONDITION_TYPES, gets, property_file_names, referenced_step
from smtui.emulator.errors import ServiceError, validation

# The service's prefix for every definition it refuses (aws/sagemaker-python-sdk#2345, #3472).
_UNPARSABLE = "Unable to parse pipeline definition."

STEP_TYPES = frozenset(
    [
        "Training",
        "Processing",
        "Transform",
        "Tuning",
        "Model",
        "CreateModel",
        "RegisterModel",
        "Condition",
        "Callback",
        "Lambda",
        "QualityCheck",
        "ClarifyCheck",
        "EMR",
        "EMRServerless",
        "Fail",
        "AutoML",
        "EndpointConfig",
        "Endpoint",
        "InferenceComponent",
        "Lineage",
        "Job",
        "Cleanup",
        "ForEach",
        "BedrockCustomModel",
        "BedrockCustomModelDeployment",
        "BedrockModelImport",
        "BedrockProvisionedModelThroughput",
    ]
)
PARAMETER_TYPES = frozenset({"String", "Integer", "Float", "Boolean"})
# Keys holding nested steps: their references belong to the nested steps, not to the holder.
_NESTED = ("IfSteps", "ElseSteps", "ForEachBody")
_NAME = re.compile(r"^[A-Za-z0-9\-_]{1,64}$")
_EXECUTION_VARIABLES = frozenset(
    [
        "StartDateTime",
        "CurrentDateTime",
        "PipelineName",
        "PipelineArn",
        "PipelineExecutionId",
        "PipelineExecutionArn",
        "TrainingJobName",
        "ProcessingJobName",
    ]
)


@dataclass(frozen=True)
class ParameterDef:
    """A pipeline parameter as declared in the definition."""

    name: str
    type: str
    default: Any = None
    enum: tuple[str, ...] | None = None


@dataclass(frozen=True)
class StepDef:
    """One step of the definition, wherever it is nested."""

    name: str
    type: str
    raw: dict[str, Any]
    deps: frozenset[str]  # DependsOn + steps referenced by `Get` (outside nested step lists)
    order: int  # position in a depth-first walk of the definition: ties start in this order
    gate: tuple[str, bool] | None = None  # (Condition step, branch): runs only if that outcome was taken
    foreach: str | None = None  # the ForEach step whose body holds this step

    @property
    def arguments(self) -> Any:
        return self.raw.get("Arguments", {})


@dataclass(frozen=True)
class Definition:
    """A parsed, validated pipeline definition."""

    parameters: dict[str, ParameterDef]
    steps: dict[str, StepDef]
    top: tuple[str, ...]  # steps scheduled by the execution itself (not ForEach body steps), in order
    bodies: dict[str, tuple[str, ...]] = field(default_factory=dict)  # ForEach step -> its body steps
    property_files: dict[str, str] = field(default_factory=dict)  # property file name -> its step


def coerce(kind: str, text: str) -> Any:
    """A parameter's string value as its declared type; ValueError when it does not parse."""
    if kind == "Integer":
        return int(text)
    if kind == "Float":
        return float(text)
    if kind == "Boolean":
        if text.lower() not in ("true", "false"):
            raise ValueError(text)
        return text.lower() == "true"
    return text


def parameter_text(value: Any) -> str:
    """A default value as the API lists it (strings; booleans spelled as JSON)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def parse(text: str) -> Definition:
    """Parse and validate a definition; raises ServiceError(ValidationException) with a clear message."""
    return _parse_cached(text)


@lru_cache(maxsize=256)
def _parse_cached(text: str) -> Definition:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise validation(f"{_UNPARSABLE} The definition is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise validation(_UNPARSABLE + " the definition must be a JSON object")
    parameters = _parameters(document.get("Parameters") or [])
    steps_doc = document.get("Steps")
    if not isinstance(steps_doc, list):
        raise validation(_UNPARSABLE + " 'Steps' is required and must be a list")
    builder = _Builder(parameters)
    builder.walk(steps_doc, gate=None, foreach=None)
    return builder.finish()


def _parameters(doc: Any) -> dict[str, ParameterDef]:
    if not isinstance(doc, list):
        raise validation(_UNPARSABLE + " 'Parameters' must be a list")
    result: dict[str, ParameterDef] = {}
    for item in doc:
        if not isinstance(item, dict) or not isinstance(item.get("Name"), str):
            raise validation(_UNPARSABLE + " every parameter needs a Name")
        name, kind = item["Name"], item.get("Type", "String")
        if kind not in PARAMETER_TYPES:
            raise validation(f"{_UNPARSABLE} parameter '{name}' has unknown type '{kind}'")
        if name in result:
            raise validation(f"{_UNPARSABLE} duplicate parameter name '{name}'")
        enum = item.get("EnumValues")
        result[name] = ParameterDef(name, kind, item.get("DefaultValue"), tuple(enum) if enum else None)
    return result


class _Builder:
    def __init__(self, parameters: dict[str, ParameterDef]) -> None:
        self.parameters = parameters
        self.raw: dict[str, dict[str, Any]] = {}
        self.meta: dict[str, tuple[tuple[str, bool] | None, str | None]] = {}
        self.top: list[str] = []
        self.bodies: dict[str, list[str]] = {}
        self.property_files: dict[str, str] = {}

    def walk(self, steps: Any, gate: tuple[str, bool] | None, foreach: str | None) -> None:
        if not isinstance(steps, list):
            raise validation(_UNPARSABLE + " a list of steps was expected")
        for step in steps:
            self.add(step, gate, foreach)

    def add(self, step: Any, gate: tuple[str, bool] | None, foreach: str | None) -> None:
        if not isinstance(step, dict) or not isinstance(step.get("Name"), str):
            raise validation(_UNPARSABLE + " every step needs a Name")
        name, kind = step["Name"], step.get("Type")
        if not _NAME.match(name):
            raise validation(f"{_UNPARSABLE} step name '{name}' must match [A-Za-z0-9-_]{{1,64}}")
        if name in self.raw:
            raise validation(f"{_UNPARSABLE} duplicate step name '{name}'")
        if kind not in STEP_TYPES:
            raise validation(f"{_UNPARSABLE} step '{name}' has unknown type '{kind}'")
        if foreach is not None and kind in ("Condition", "Fail", "ForEach"):
            raise validation(f"{_UNPARSABLE} ForEach step '{foreach}' cannot contain {kind} step '{name}'")
        self.raw[name] = step
        self.meta[name] = (gate, foreach)
        if foreach is None:
            self.top.append(name)
        else:
            self.bodies[foreach].append(name)
        for pf in step.get("PropertyFiles") or []:
            if isinstance(pf, dict) and isinstance(pf.get("PropertyFileName"), str):
                self.property_files[pf["PropertyFileName"]] = name
        args = step.get("Arguments") or {}
        if kind == "Condition":
            if not isinstance(args, dict) or not isinstance(args.get("Conditions"), list):
                raise validation(f"{_UNPARSABLE} Condition step '{name}' needs Conditions")
            for condition in args["Conditions"]:
                _check_condition(name, condition)
            self.walk(args.get("IfSteps") or [], (name, True), foreach)
            self.walk(args.get("ElseSteps") or [], (name, False), foreach)
        elif kind == "ForEach":
            if not isinstance(args, dict) or not args.get("ForEachBody"):
                raise validation(f"{_UNPARSABLE} ForEach step '{name}' needs a ForEachBody")
            if "IterableItems" not in args:
                raise validation(f"{_UNPARSABLE} ForEach step '{name}' needs IterableItems")
            limit = args.get("MaxConcurrency", 1)
            if isinstance(limit, int) and not 1 <= limit <= 50:
                raise validation(f"{_UNPARSABLE} MaxConcurrency of ForEach step '{name}' must be 1-50")
            self.bodies[name] = []
            self.walk(args["ForEachBody"], None, name)

    def finish(self) -> Definition:
        for body in self.bodies.values():
            for body_step in body:
                child = re.compile(rf"{re.escape(body_step)}-\d+")
                for other in self.raw:
                    if child.fullmatch(other):
                        raise validation(
                            f"{_UNPARSABLE} step name '{other}' collides with the child steps"
                            f" of ForEach body step '{body_step}'"
                        )
        deps = {name: set(self._deps(name, raw)) for name, raw in self.raw.items()}
        for parent, body in self.bodies.items():
            # A body step that reads an outer step makes its whole ForEach wait for that step.
            deps[parent] |= {d for b in body for d in deps[b] if d not in body}
        steps: dict[str, StepDef] = {}
        for order, (name, raw) in enumerate(self.raw.items()):
            gate, foreach = self.meta[name]
            steps[name] = StepDef(name, raw["Type"], raw, frozenset(deps[name]), order, gate, foreach)
        self._check_fail_references(steps)
        _check_cycles(steps)
        return Definition(
            self.parameters,
            steps,
            tuple(self.top),
            {k: tuple(v) for k, v in self.bodies.items()},
            dict(self.property_files),
        )

    def _deps(self, name: str, raw: dict[str, Any]) -> frozenset[str]:
        deps: set[str] = set()
        depends_on = raw.get("DependsOn") or []
        if not isinstance(depends_on, list) or not all(isinstance(d, str) for d in depends_on):
            raise validation(f"{_UNPARSABLE} DependsOn of step '{name}' must be a list of names")
        for dep in depends_on:
            if dep not in self.raw:
                raise validation(f"{_UNPARSABLE} step '{name}' depends on unknown step '{dep}'")
            deps.add(dep)
        shallow = {k: v for k, v in raw.items() if k not in ("Name", "DependsOn")}
        args = shallow.get("Arguments")
        if isinstance(args, dict):
            shallow["Arguments"] = {k: v for k, v in args.items() if k not in _NESTED}
        for ref in gets(shallow):
            deps |= self._reference(name, ref)
        for file_name in property_file_names(shallow):
            if file_name not in self.property_files:
                raise validation(f"{_UNPARSABLE} step '{name}' reads unknown property file '{file_name}'")
            deps.add(self.property_files[file_name])
        deps.discard(name)
        return frozenset(deps)

    def _reference(self, name: str, ref: str) -> set[str]:
        root, _, rest = ref.partition(".")
        if root == "Parameters":
            if rest not in self.parameters:
                raise validation(f"{_UNPARSABLE} step '{name}' references unknown parameter '{rest}'")
        elif root == "Execution":
            if rest not in _EXECUTION_VARIABLES:
                raise validation(
                    f"{_UNPARSABLE} step '{name}' references unknown execution variable '{rest}'"
                )
        elif root == "Steps":
            target = referenced_step(ref)
            if target is None or target not in self.raw:
                raise validation(f"{_UNPARSABLE} step '{name}' references unknown step '{target}'")
            if target == name:
                raise validation(f"{_UNPARSABLE} step '{name}' references itself")
            return {target}
        elif ref.startswith("ForEach.CurrentItem"):
            if self.meta[name][1] is None:
                raise validation(f"{_UNPARSABLE} step '{name}' reads ForEach.CurrentItem outside a ForEach")
        elif root != "IterationOutput":
            raise validation(f"{_UNPARSABLE} step '{name}' has an unsupported reference '{ref}'")
        return set()

    def _check_fail_references(self, steps: dict[str, StepDef]) -> None:
        for step in steps.values():
            for dep in step.deps:
                inner = steps[dep].foreach
                if inner is not None and inner != step.foreach:
                    raise validation(
                        f"{_UNPARSABLE} step '{step.name}' references step '{dep}' of ForEach"
                        f" '{inner}' from outside it; read Steps.{inner}.IterationOutputs[i].{dep} instead"
                    )
                if steps[dep].type == "Fail":
                    raise validation(f"{_UNPARSABLE} step '{step.name}' cannot depend on Fail step '{dep}'")


def _check_condition(step: str, condition: Any) -> None:
    if not isinstance(condition, dict) or condition.get("Type") not in CONDITION_TYPES:
        kind = condition.get("Type") if isinstance(condition, dict) else condition
        raise validation(f"{_UNPARSABLE} Condition step '{step}' has unknown condition type '{kind}'")
    if condition["Type"] == "Not":
        _check_condition(step, condition.get("Expression", condition.get("Condition")))
    elif condition["Type"] == "Or":
        for inner in condition.get("Conditions") or []:
            _check_condition(step, inner)


def _check_cycles(steps: dict[str, StepDef]) -> None:
    """Kahn's algorithm over data/DependsOn edges, gate edges and body-to-ForEach edges."""
    edges: dict[str, set[str]] = {name: set(step.deps) for name, step in steps.items()}
    for name, step in steps.items():
        if step.gate is not None:
            edges[name].add(step.gate[0])
    remaining = {name: len(deps) for name, deps in edges.items()}
    users: dict[str, list[str]] = {name: [] for name in steps}
    for name, deps in edges.items():
        for dep in deps:
            users[dep].append(name)
    ready = [name for name, count in remaining.items() if count == 0]
    while ready:
        for user in users[ready.pop()]:
            remaining[user] -= 1
            if remaining[user] == 0:
                ready.append(user)
    cyclic = sorted(name for name, count in remaining.items() if count > 0)
    if cyclic:
        raise validation(f"{_UNPARSABLE} cyclic dependency between steps {', '.join(cyclic)}")


def check(text: str) -> None:
    """Validate a definition (the entry point of Create/UpdatePipeline)."""
    try:
        parsed = parse(text)
        for step in parsed.steps.values():
            check_arguments(step.name, step.type, step.arguments)
    except ServiceError:
        raise
    except (TypeError, AttributeError, KeyError) as exc:
        raise validation(f"{_UNPARSABLE} {exc}") from None
