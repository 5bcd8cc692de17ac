"""A pipeline's definition as text: its parameters (type, default), then its steps as an indented graph.

Top-level steps come dependencies first (`StepGraph.roots`); a Condition's `if`/`else` steps and a ForEach's
body hang under it. Each step says what it waits for: `after X` for DependsOn, `reads X` for a step whose
properties it uses (`Get`, also inside `Std:Join` and `Std:JsonGet`). Words, not colours, carry the meaning.
"""

from __future__ import annotations

import json

from rich.text import Text

from smtui.core.definition import StepDef, StepGraph
from smtui.core.model import Parameter
from smtui.tui import format as fmt

NOTE_LIMIT = 120  # characters of a Fail step's message or a condition, on one line


def graph_text(graph: StepGraph) -> Text:
    """The parameters, then the step graph."""
    out = Text(no_wrap=True)  # a tree cut in two reads wrong: the screen scrolls sideways instead
    out.append_text(parameters_text(graph.parameters))
    out.append("\n")
    out.append_text(steps_text(graph))
    return out


def parameters_text(parameters: tuple[Parameter, ...]) -> Text:
    out = Text()
    out.append(f" Parameters ({len(parameters)})\n", style="bold")
    if not parameters:
        out.append("   none\n", style=fmt.styled("bright_black"))
        return out
    name_width = max(len("Name"), *(len(p.name) for p in parameters))
    type_width = max(len("Type"), *(len(p.type) for p in parameters))
    out.append(
        f"   {'Name':<{name_width}}  {'Type':<{type_width}}  Default\n", style=fmt.styled("bright_black")
    )
    for parameter in parameters:
        out.append(f"   {parameter.name:<{name_width}}  ", style="bold")
        out.append(f"{parameter.type:<{type_width}}  ")
        if parameter.default is None:
            out.append("(no default)", style=fmt.styled("bright_black"))
        else:
            out.append(_value(parameter.default))
        if parameter.enum_values:
            out.append(f"  one of {', '.join(parameter.enum_values)}", style=fmt.styled("bright_black"))
        out.append("\n")
    return out


def steps_text(graph: StepGraph) -> Text:
    out = Text()
    out.append(f" Steps ({len(graph.steps)})", style="bold")
    out.append("   after X: DependsOn X · reads X: uses X's properties\n", style=fmt.styled("bright_black"))
    if not graph.steps:
        out.append("   none\n", style=fmt.styled("bright_black"))
        return out
    rows: list[tuple[str, StepDef | None, str]] = []  # (tree prefix + label, the step or None, a note)
    _rows(graph, graph.roots, " ", rows)
    width = max(len(label) for label, step, _ in rows if step is not None)
    type_width = max(len(step.type) for _, step, _ in rows if step is not None)
    for label, step, note in rows:
        if step is None:  # a branch's header (`if …`, `else`, `for each …`)
            out.append(label, style=fmt.styled("bright_black"))
            out.append(f"{note}\n", style=fmt.styled("italic"))
            continue
        prefix, name = label[: len(label) - len(step.name)], step.name
        out.append(prefix, style=fmt.styled("bright_black"))
        out.append(name, style="bold")
        out.append(" " * (width - len(label) + 2))
        out.append(f"{step.type:<{type_width}}", style=fmt.styled("cyan"))
        out.append_text(_edges(step))
        out.append_text(_extras(step))
        out.append("\n")
    return out


def _rows(
    graph: StepGraph, names: tuple[str, ...], indent: str, rows: list[tuple[str, StepDef | None, str]]
) -> None:
    for i, name in enumerate(names):
        last = i == len(names) - 1
        step = graph[name]
        rows.append((f"{indent}{'└─' if last else '├─'} {name}", step, ""))
        inner = indent + ("   " if last else "│  ")
        if step.type == "Condition":
            branches = [("if", step.if_steps), ("else", step.else_steps)]
            for j, (word, steps) in enumerate(branches):
                branch_last = j == len(branches) - 1
                head = f"{inner}{'└─' if branch_last else '├─'} "
                note = word
                if word == "if" and step.condition:
                    note = f"if {fmt.shorten(step.condition, NOTE_LIMIT)}"
                if not steps:
                    note += " (no steps)"
                rows.append((head, None, note))
                _rows(graph, steps, inner + ("   " if branch_last else "│  "), rows)
        elif step.type == "ForEach":
            items = step.foreach_items
            note = (
                f"for each of {len(items)}: {fmt.shorten(', '.join(items), NOTE_LIMIT)}"
                if items is not None
                else f"for each of {step.foreach_source or 'its items'}"
            )
            rows.append((f"{inner}└─ ", None, note))
            _rows(graph, step.body, inner + "   ", rows)


def _edges(step: StepDef) -> Text:
    out = Text()
    after = [d for d in step.depends_on if d not in step.references]
    if after:
        out.append(f"  after {', '.join(after)}")
    if step.references:
        out.append(f"  reads {', '.join(step.references)}")
    return out


def _extras(step: StepDef) -> Text:
    out = Text(style=fmt.styled("bright_black"))
    if step.cache_enabled:
        out.append("  cached")
    if step.max_attempts is not None:
        out.append(f"  retries ≤{step.max_attempts}")
    if step.error_message:
        out.append(f'  "{fmt.shorten(step.error_message, NOTE_LIMIT)}"')
    if step.outputs:
        out.append("  outputs " + ", ".join(f"{o.name}:{o.type}" for o in step.outputs))
    return out


def _value(value: str | int | float | bool) -> str:
    return value if isinstance(value, str) else json.dumps(value)
