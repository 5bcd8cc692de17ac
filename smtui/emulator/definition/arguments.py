"""A job step's `Arguments` checked against the Create* request they become, as CreatePipeline does.

The service parses each job step's Arguments into the request model of the job it will create, and refuses
the whole definition when a member is unknown or has the wrong JSON kind: `Unable to parse pipeline
definition. Unknown Argument member 'ModelPackageName'.` (aws/sagemaker-python-sdk#3472) and `... Expecting
start of Json Array.` (#2345). Expressions (`Get`, `Std:Join`, `Std:JsonGet`) stand in for scalar values
only, so a parameter where a list belongs is refused too. Required members are not checked: the job name
and the like are filled in when the step runs.
"""

from __future__ import annotations

from typing import Any

from smtui.emulator.errors import validation

# Step type -> the SageMaker operation whose request its Arguments are (SDK3 step classes' `arguments`).
REQUESTS = {
    "Processing": "CreateProcessingJob",
    "Training": "CreateTrainingJob",
    "Transform": "CreateTransformJob",
    "Tuning": "CreateHyperParameterTuningJob",
    "Model": "CreateModel",
    "RegisterModel": "CreateModelPackage",
}
_EXPRESSIONS = frozenset({"Get", "Std:Join", "Std:JsonGet"})
_PREFIX = "Unable to parse pipeline definition."


def check_arguments(step_name: str, step_type: str, arguments: Any) -> None:
    """Raise ValidationException when a job step's Arguments do not fit its Create* request."""
    operation = REQUESTS.get(step_type)
    if operation is None:
        return
    from smtui.emulator.shapes import service_shapes  # botocore's model: loaded only when needed

    shape = service_shapes("sagemaker").model.operation_model(operation).input_shape
    _walk(shape, arguments, step_name)


def _is_expression(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _EXPRESSIONS


def _walk(shape: Any, value: Any, step: str) -> None:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict) or _is_expression(value):
            raise validation(f"{_PREFIX} Expecting start of Json Object (step '{step}').")
        for member, item in value.items():
            if member not in shape.members:
                raise validation(f"{_PREFIX} Unknown Argument member '{member}' (step '{step}').")
            if item is not None:
                _walk(shape.members[member], item, step)
    elif kind == "list":
        if not isinstance(value, list):
            raise validation(f"{_PREFIX} Expecting start of Json Array (step '{step}').")
        for item in value:
            if item is not None:
                _walk(shape.member, item, step)
    elif kind == "map":
        if not isinstance(value, dict) or _is_expression(value):
            raise validation(f"{_PREFIX} Expecting start of Json Object (step '{step}').")
        for item in value.values():
            if item is not None:
                _walk(shape.value, item, step)
    elif isinstance(value, list) or (isinstance(value, dict) and not _is_expression(value)):
        # A scalar member holds a value or an expression that resolves to one, never a list or an object.
        found = "Array" if isinstance(value, list) else "Object"
        raise validation(f"{_PREFIX} Expecting a scalar value, not a Json {found} (step '{step}').")
