"""StartPipelineExecution's parameters, checked against the definition they start."""

from __future__ import annotations

from smtui.emulator.definition.graph import Definition, coerce, parameter_text
from smtui.emulator.errors import validation


def execution_parameters(definition: Definition, given: list[dict[str, str]]) -> list[dict[str, str]]:
    """StartPipelineExecution's parameters checked against the definition, defaults filled, as strings."""
    values: dict[str, str] = {}
    for item in given:
        name, value = item.get("Name", ""), item.get("Value", "")
        declared = definition.parameters.get(name)
        if declared is None:
            known = ", ".join(definition.parameters) or "none"
            raise validation(
                f"Parameter '{name}' is not defined in the pipeline definition (defined: {known})"
            )
        try:
            coerce(declared.type, value)
        except ValueError:
            raise validation(
                f"Value '{value}' of parameter '{name}' is not a valid {declared.type}"
            ) from None
        if declared.enum and value not in declared.enum:
            raise validation(
                f"Value '{value}' of parameter '{name}' is not one of {', '.join(declared.enum)}"
            )
        values[name] = value
    result = []
    for name, declared in definition.parameters.items():
        if name in values:
            result.append({"Name": name, "Value": values[name]})
        elif declared.default is not None:
            result.append({"Name": name, "Value": parameter_text(declared.default)})
        else:
            raise validation(f"Parameter '{name}' has no default value and must be given a value")
    return result
