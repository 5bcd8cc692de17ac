"""What expressions see while a step of an execution runs, and the value helpers steps share."""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

from smtui.emulator.definition.expressions import ExpressionError, PathPart, drill, json_path
from smtui.emulator.definition.graph import coerce
from smtui.emulator.engine.view import RunView

# Properties whose absence is a real error: declared outputs, and what Condition/ForEach steps define.
_AUTHORITATIVE = frozenset({"OutputParameters", "Outcome", "IterationOutputs", "Selected"})


def iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def typed_output(kind: str, value: Any, name: str) -> Any:
    """An output parameter value as its declared OutputType; ValueError when it does not parse."""
    text = value if isinstance(value, str) else json.dumps(value)
    if kind in ("Integer", "Float", "Boolean"):
        try:
            return coerce(kind, text)
        except ValueError:
            raise ValueError(f"Output parameter '{name}' value '{text}' is not a valid {kind}") from None
    return text


def synthesized_output(kind: str, rng: random.Random, name: str) -> Any:
    """A plausible output when the scenario names none."""
    if kind == "Integer":
        return rng.randint(0, 100)
    if kind == "Float":
        return round(rng.uniform(0.5, 1.0), 4)
    if kind == "Boolean":
        return True
    return f"{name}-value"


def output_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


class StepScope:
    """The `Scope` of one step entry (a ForEach child knows its iteration)."""

    def __init__(
        self, run: RunView, entry_name: str, step: str, index: int | None, now: float, job: str | None
    ):
        self.run = run
        self.entry_name = entry_name
        self.step = step
        self.index = index
        self.now = now
        self.job = job

    def parameter(self, name: str) -> Any:
        definition = self.run.definition.parameters.get(name)
        if definition is None:
            raise ExpressionError(f"Unknown parameter {name}")
        value = self.run.parameter_values.get(name)
        if value is None:
            raise ExpressionError(f"Parameter {name} has no value")
        return coerce(definition.type, value)

    def execution_variable(self, name: str) -> Any:
        ex = self.run.execution
        values = {
            "StartDateTime": iso(ex.created),
            "CurrentDateTime": iso(self.now),
            "PipelineName": ex.pipeline_name,
            "PipelineArn": ex.pipeline_arn,
            "PipelineExecutionId": ex.execution_id,
            "PipelineExecutionArn": ex.arn,
            "TrainingJobName": self.job or "",
            "ProcessingJobName": self.job or "",
        }
        if name not in values:
            raise ExpressionError(f"Unknown execution variable {name}")
        return values[name]

    def step_property(self, step: str, path: list[PathPart]) -> Any:
        steps = self.run.definition.steps
        if step not in steps:
            raise ExpressionError(f"Unknown step {step}")
        entry_name = step
        if steps[step].foreach is not None and self.index is not None:
            entry_name = f"{step}-{self.index}"
        entry = self.run.entries.get(entry_name)
        if entry is None or not entry.succeeded or entry.props is None:
            raise ExpressionError(f"Step {step} has not succeeded: its properties are not available")
        try:
            return drill(entry.props, path, f"step {step}")
        except ExpressionError:
            if not path or path[0] in _AUTHORITATIVE or steps[step].type in ("Condition", "ForEach"):
                raise
            return self._synthesized_property(step, path)

    def _synthesized_property(self, step: str, path: list[PathPart]) -> Any:
        """A plausible value for a Describe* member the emulator does not model (tuning summaries, ...).

        The emulator's step properties are a subset of the real Describe* responses; a definition that
        reads another member should still run, as it would on the service, rather than fail the step.
        """
        last = str(path[-1])
        text = ".".join(str(p) for p in path)
        if last == "Value" or last.endswith(("Count", "Seconds", "Value")):
            rng = random.Random(f"{self.run.seed_key}/prop/{step}/{text}")
            return round(rng.uniform(0.5, 1.0), 4)
        if last.endswith(("Uri", "Path", "Artifacts", "S3Uri")):
            return f"s3://sagemaker-bucket/{self.run.execution.execution_id}/{step}/{text}"
        return f"{step}-{last}"

    def current_item(self) -> Any:
        parent = self.run.definition.steps[self.step].foreach
        if parent is None or self.index is None:
            raise ExpressionError("ForEach.CurrentItem is only available inside a ForEach body")
        return self.run.entries[parent].items[self.index]

    def property_file(self, step: str, file_name: str, path: str) -> Any:
        owner = step or self.run.definition.property_files.get(file_name, "")
        if owner:
            entry = self.run.entries.get(owner)
            if entry is None or not entry.succeeded:
                raise ExpressionError(
                    f"Step {owner} has not succeeded: property file {file_name} is not available"
                )
        plan = self.run.plan_for(owner or self.step)
        document = plan.property_files.get(file_name)
        if document is None:
            # Not in the scenario: any path reads as a stable number in [0.5, 1), so JsonGet-driven
            # conditions of arbitrary definitions still evaluate (and the same seed decides the same way).
            rng = random.Random(f"{self.run.seed_key}/pf/{file_name}/{path}")
            return round(rng.uniform(0.5, 1.0), 4)
        return json_path(document, path, f"property file {file_name}")
