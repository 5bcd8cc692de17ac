"""A pipeline definition (the JSON of DescribePipelineDefinitionForExecution) parsed into a step graph.

The graph holds *every* step of the definition, including the steps nested in Condition branches
(`IfSteps`/`ElseSteps`) and ForEach bodies, with their edges: explicit `DependsOn` plus the implicit ones
from `{"Get": "Steps.X..."}` references anywhere in a step. ListPipelineExecutionSteps only lists steps that
started and gives no type, so this graph is what lets the tree show pending and skipped steps with a type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from smtui.core.model import Parameter

# `Steps.<Name>` at the start of a Get path; step names are `[A-Za-z0-9\-_]{1,64}`.
_STEP_REF = re.compile(r"^Steps\.([A-Za-z0-9\-_]+)")


@dataclass(frozen=True, slots=True)
class OutputDecl:
    """An output parameter a Callback or Lambda step declares: `{"OutputName", "OutputType"}`."""

    name: str
    type: str = "String"  # "String" | "Integer" | "Float" | "Boolean" (the SDK's default is String)


@dataclass(frozen=True, slots=True)
class StepDef:
    """One step of the definition, wherever it is nested."""

    name: str
    type: str
    depends_on: tuple[str, ...] = ()  # explicit DependsOn + implicit property references, known steps only
    # The steps of `depends_on` that only a property reference (`Get`, in `Std:Join` or `Std:JsonGet` too)
    # names, not DependsOn: a data dependency, as the definition view tells them apart.
    references: tuple[str, ...] = ()
    display_name: str | None = None
    parent: str | None = None  # the Condition or ForEach step this one is nested in
    branch: str | None = None  # "if" | "else" (Condition) or "body" (ForEach)
    if_steps: tuple[str, ...] = ()
    else_steps: tuple[str, ...] = ()
    body: tuple[str, ...] = ()  # ForEach body step names
    foreach_items: tuple[str, ...] | None = None  # literal IterableItems, rendered as strings
    foreach_source: str | None = None  # IterableItems that are not literal: the reference, as text
    cache_enabled: bool = False
    max_attempts: int | None = None  # the largest MaxAttempts of its RetryPolicies
    error_message: str | None = None  # a Fail step's literal ErrorMessage
    condition: str | None = None  # a Condition step's Conditions, as text: `Steps.A.X >= Parameters.Y`
    outputs: tuple[OutputDecl, ...] = ()  # a Callback or Lambda step's declared OutputParameters


@dataclass(frozen=True, slots=True)
class StepGraph:
    """Every step of a definition by name, the top-level order, and the declared parameters."""

    steps: Mapping[str, StepDef] = field(default_factory=dict)
    roots: tuple[str, ...] = ()  # top-level steps, dependencies first, definition order otherwise
    parameters: tuple[Parameter, ...] = ()

    def __getitem__(self, name: str) -> StepDef:
        return self.steps[name]

    def __contains__(self, name: object) -> bool:
        return name in self.steps

    def children(self, name: str) -> tuple[str, ...]:
        """Nested steps of a Condition (if then else) or a ForEach (its body)."""
        step = self.steps[name]
        return step.if_steps + step.else_steps + step.body


class DefinitionError(ValueError):
    """The definition is not JSON or not shaped like a pipeline definition."""


def parse_definition(definition_json: str) -> StepGraph:
    """Parse a pipeline definition into a `StepGraph`."""
    try:
        doc = json.loads(definition_json)
    except json.JSONDecodeError as exc:
        raise DefinitionError(f"pipeline definition is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("Steps", []), list):
        raise DefinitionError("pipeline definition has no Steps list")
    parameters = tuple(_parameter(p) for p in doc.get("Parameters") or [] if isinstance(p, dict))

    raw: dict[str, tuple[dict[str, Any], str | None, str | None]] = {}
    top: list[str] = []
    _collect(doc.get("Steps") or [], None, None, raw, top)

    known = set(raw)
    steps: dict[str, StepDef] = {}
    for name, (obj, parent, branch) in raw.items():
        steps[name] = _step_def(obj, parent, branch, known)
    return StepGraph(steps=steps, roots=_stable_topo(top, steps), parameters=parameters)


def _collect(
    objs: list[Any],
    parent: str | None,
    branch: str | None,
    raw: dict[str, tuple[dict[str, Any], str | None, str | None]],
    order: list[str],
) -> None:
    for obj in objs:
        if not isinstance(obj, dict) or not isinstance(obj.get("Name"), str):
            continue
        name = obj["Name"]
        raw[name] = (obj, parent, branch)
        order.append(name)
        args = obj.get("Arguments") if isinstance(obj.get("Arguments"), dict) else {}
        assert isinstance(args, dict)
        if obj.get("Type") == "Condition":
            _collect(args.get("IfSteps") or [], name, "if", raw, [])
            _collect(args.get("ElseSteps") or [], name, "else", raw, [])
        elif obj.get("Type") == "ForEach":
            _collect(args.get("ForEachBody") or [], name, "body", raw, [])


def _names(objs: Any) -> tuple[str, ...]:
    if not isinstance(objs, list):
        return ()
    return tuple(o["Name"] for o in objs if isinstance(o, dict) and isinstance(o.get("Name"), str))


def _step_def(obj: dict[str, Any], parent: str | None, branch: str | None, known: set[str]) -> StepDef:
    name: str = obj["Name"]
    stype = str(obj.get("Type", "Unknown"))
    args = obj.get("Arguments") if isinstance(obj.get("Arguments"), dict) else {}
    assert isinstance(args, dict)
    declared = obj.get("DependsOn")
    deps: list[str] = [d for d in declared if isinstance(d, str)] if isinstance(declared, list) else []
    explicit = set(deps)
    # Implicit edges: references inside this step's own arguments; for Condition/ForEach only the parts
    # that are not nested steps (those carry their own edges).
    own = {k: v for k, v in obj.items() if k not in ("Arguments", "Name", "DependsOn")}
    if stype == "Condition":
        own["Arguments"] = {"Conditions": args.get("Conditions")}
    elif stype == "ForEach":
        own["Arguments"] = {k: v for k, v in args.items() if k != "ForEachBody"}
    else:
        own["Arguments"] = args
    for ref in _step_refs(own):
        if ref != name and ref in known and ref not in deps:
            deps.append(ref)
    items = args.get("IterableItems") if stype == "ForEach" else None
    policies = obj.get("RetryPolicies")
    retry: list[Any] = policies if isinstance(policies, list) else []
    attempts = [int(p["MaxAttempts"]) for p in retry if isinstance(p, dict) and _is_int(p.get("MaxAttempts"))]
    cache = obj.get("CacheConfig") if isinstance(obj.get("CacheConfig"), dict) else {}
    message = args.get("ErrorMessage") if stype == "Fail" else None
    output_params = obj.get("OutputParameters") if stype in ("Callback", "Lambda") else None
    return StepDef(
        name=name,
        type=stype,
        depends_on=tuple(d for d in deps if d in known),
        references=tuple(d for d in deps if d in known and d not in explicit),
        display_name=obj.get("DisplayName") if isinstance(obj.get("DisplayName"), str) else None,
        parent=parent,
        branch=branch,
        if_steps=_names(args.get("IfSteps")) if stype == "Condition" else (),
        else_steps=_names(args.get("ElseSteps")) if stype == "Condition" else (),
        body=_names(args.get("ForEachBody")) if stype == "ForEach" else (),
        foreach_items=tuple(_render(i) for i in items) if isinstance(items, list) else None,
        foreach_source=_operand(items) if items is not None and not isinstance(items, list) else None,
        cache_enabled=bool(cache.get("Enabled")) if isinstance(cache, dict) else False,
        max_attempts=max(attempts) if attempts else None,
        error_message=message if isinstance(message, str) else None,
        condition=_conditions(args.get("Conditions")) if stype == "Condition" else None,
        outputs=_outputs(output_params),
    )


def _outputs(declared: Any) -> tuple[OutputDecl, ...]:
    """`OutputParameters` of a Callback/Lambda step (top-level keys of the step, not Arguments)."""
    if not isinstance(declared, list):
        return ()
    return tuple(
        OutputDecl(d["OutputName"], str(d.get("OutputType") or "String"))
        for d in declared
        if isinstance(d, dict) and isinstance(d.get("OutputName"), str)
    )


_OPERATORS = {
    "Equals": "==",
    "GreaterThan": ">",
    "GreaterThanOrEqualTo": ">=",
    "LessThan": "<",
    "LessThanOrEqualTo": "<=",
}


def _conditions(conditions: Any) -> str | None:
    """A Condition step's `Conditions` (all must hold) as one line of text; None when there are none."""
    if not isinstance(conditions, list) or not conditions:
        return None
    return " and ".join(_condition(c) for c in conditions)


def _condition(condition: Any) -> str:
    if not isinstance(condition, dict):
        return _operand(condition)
    kind = str(condition.get("Type", "?"))
    if kind in _OPERATORS:
        left, right = _operand(condition.get("LeftValue")), _operand(condition.get("RightValue"))
        return f"{left} {_OPERATORS[kind]} {right}"
    if kind == "In":
        values = condition.get("InValues")
        listed = ", ".join(_operand(v) for v in values) if isinstance(values, list) else "?"
        return f"{_operand(condition.get('QueryValue'))} in [{listed}]"
    if kind == "Not":
        return f"not ({_condition(condition.get('Condition'))})"
    if kind == "Or":
        inner = condition.get("Conditions")
        parts = [_condition(c) for c in inner] if isinstance(inner, list) else []
        return "(" + " or ".join(parts) + ")"
    return kind


def _operand(value: Any) -> str:
    """A condition's operand: a property or parameter reference by its path, `Std:Join` and `Std:JsonGet`
    by their arguments, a literal as JSON."""
    if isinstance(value, dict):
        if isinstance(value.get("Get"), str):
            return str(value["Get"])
        join = value.get("Std:Join")
        if isinstance(join, dict):
            values = join.get("Values")
            parts = ", ".join(_operand(v) for v in values) if isinstance(values, list) else ""
            return f"Join({_operand(join.get('On', ''))}, [{parts}])"
        json_get = value.get("Std:JsonGet")
        if isinstance(json_get, dict):
            return f"JsonGet({_operand(json_get.get('PropertyFile'))}, {_operand(json_get.get('Path'))})"
    return json.dumps(value, sort_keys=True)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _render(item: Any) -> str:
    return item if isinstance(item, str) else json.dumps(item, sort_keys=True)


def _step_refs(value: Any) -> Iterator[str]:
    """Every step named by a `{"Get": "Steps.X..."}` (also inside Std:JsonGet, Std:Join, lists)."""
    if isinstance(value, dict):
        get = value.get("Get")
        if isinstance(get, str):
            match = _STEP_REF.match(get)
            if match:
                yield match.group(1)
        for child in value.values():
            yield from _step_refs(child)
    elif isinstance(value, list):
        for child in value:
            yield from _step_refs(child)


def _parameter(obj: dict[str, Any]) -> Parameter:
    enum = obj.get("EnumValues")
    default = obj.get("DefaultValue")
    return Parameter(
        name=str(obj.get("Name", "")),
        type=str(obj.get("Type", "String")),
        default=default if isinstance(default, str | int | float | bool) else None,
        enum_values=tuple(str(v) for v in enum) if isinstance(enum, list) else (),
    )


def _stable_topo(order: list[str], steps: Mapping[str, StepDef]) -> tuple[str, ...]:
    """Top-level steps with dependencies first; ties (and cycles) keep definition order."""

    # A top-level step that depends on a nested step depends, for ordering, on that step's top ancestor.
    def top_of(name: str) -> str:
        while steps[name].parent is not None:
            parent = steps[name].parent
            assert parent is not None
            name = parent
        return name

    index = {name: i for i, name in enumerate(order)}
    pending = {name: {top_of(d) for d in steps[name].depends_on} - {name} for name in order}
    done: list[str] = []
    remaining = list(order)
    while remaining:
        ready = next((n for n in remaining if not (pending[n] - set(done))), None)
        if ready is None:  # a cycle: the service rejects these, keep definition order
            ready = min(remaining, key=index.__getitem__)
        done.append(ready)
        remaining.remove(ready)
    return tuple(done)
