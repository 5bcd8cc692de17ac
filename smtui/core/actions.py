"""Start, stop, retry, rerun; answer a Callback step, approve a registered model, start from chosen steps.

Each call carries its own idempotency token (`ClientRequestToken`; UpdateModelPackage's `ClientToken`). A
caller that may repeat a call (a batch launch, a retried keypress) passes its own `token`: the service then
answers the repeat as the first call instead of acting twice.

The step actions come in two halves so that a caller can ask in between: `find_callback`,
`find_registered_package` and `plan_selection` read what the action needs and check the request (a
ValueError, naming what is wrong, when it cannot be made: nothing was sent); `answer_callback`,
`set_approval` and `start_selection` then act.

With a monitor (the TUI), every call goes through the monitor's budget, ahead of its polls (`Monitor.act`):
counted like any call, and a throttled one slows the polls and shows in the header.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from smtui.core.definition import OutputDecl, StepGraph, parse_definition
from smtui.core.model import ModelPackage, Parameter, StepRun

if TYPE_CHECKING:
    from smtui.core.client import SageMakerClient
    from smtui.core.monitor import Monitor

_BOOLEANS = {"true": "true", "false": "false"}
T = TypeVar("T")


def new_token() -> str:
    """A fresh idempotency token (32 hex chars: inside the API's 32–128 length)."""
    return uuid.uuid4().hex


def typed_value(kind: str, value: str, what: str) -> str:
    """`value` checked as a `kind` (String, Integer, Float, Boolean) and normalised as the API wants it
    (booleans as `true`/`false`). Raises ValueError naming `what` (`parameter 'Epochs'`)."""
    if kind == "Integer":
        try:
            int(value)
        except ValueError:
            raise ValueError(f"{what} is an Integer; got {value!r}") from None
    elif kind == "Float":
        try:
            float(value)
        except ValueError:
            raise ValueError(f"{what} is a Float; got {value!r}") from None
    elif kind == "Boolean":
        lowered = value.lower()
        if lowered not in _BOOLEANS:
            raise ValueError(f"{what} is a Boolean (true/false); got {value!r}")
        return _BOOLEANS[lowered]
    return value


def validate_parameters(params: Sequence[Parameter], values: Mapping[str, str]) -> dict[str, str]:
    """Check `values` against the declared parameters; return them normalised as the API wants (strings).

    Raises ValueError naming the field: unknown name, value of the wrong type, value outside EnumValues.
    """
    declared = {p.name: p for p in params}
    out: dict[str, str] = {}
    for name, raw in values.items():
        param = declared.get(name)
        if param is None:
            known = ", ".join(sorted(declared)) or "none"
            raise ValueError(f"unknown parameter {name!r} (this pipeline declares: {known})")
        value = typed_value(param.type, str(raw), f"parameter {name!r}")
        if param.enum_values and value not in param.enum_values:
            raise ValueError(
                f"parameter {name!r} must be one of {', '.join(param.enum_values)}; got {value!r}"
            )
        out[name] = value
    return out


# The API's limits (botocore's model), checked before sending so that a refusal names the field.
MAX_OUTPUTS = 50  # SendPipelineExecutionStepSuccess.OutputParameters
MAX_OUTPUT_VALUE = 1024
MAX_FAILURE_REASON = 256  # SendPipelineExecutionStepFailure.FailureReason
MAX_APPROVAL_NOTE = 1024  # UpdateModelPackage.ApprovalDescription
MAX_SELECTED_STEPS = 50  # SelectiveExecutionConfig.SelectedSteps


def _steps_of(graph: StepGraph) -> str:
    return ", ".join(sorted(graph.steps)) or "none"


def _require_step(graph: StepGraph, step: str, kind: str) -> None:
    """Raise unless `step` is a step of `kind` in the definition."""
    if step not in graph:
        raise ValueError(f"no step {step!r} in this execution (its steps: {_steps_of(graph)})")
    if graph[step].type != kind:
        raise ValueError(f"step {step!r} is a {graph[step].type} step, not a {kind} step")


@dataclass(frozen=True, slots=True)
class WaitingCallback:
    """A Callback step waiting for its answer, with what answering it needs."""

    execution_arn: str
    step: str
    callback_token: str  # Metadata.Callback.CallbackToken
    outputs: tuple[OutputDecl, ...]  # the OutputParameters the step declares


def waiting_callback(
    execution_arn: str, graph: StepGraph, runs: Sequence[StepRun], step: str
) -> WaitingCallback:
    """The Callback step `step` of an execution, if it is waiting for an answer; else ValueError saying why
    (no such step, not a Callback step, not started, already answered)."""
    _require_step(graph, step, "Callback")
    mine = [r for r in runs if r.name == step]
    if not mine:
        raise ValueError(f"Callback step {step!r} has not started: it is not waiting for an answer")
    # Executing, or Stopping: a stopped execution waits for its Callback steps' answers.
    waiting = [r for r in mine if r.status.is_active and r.callback_token]
    if not waiting:
        latest = mine[0]  # ListPipelineExecutionSteps lists the newest first
        if latest.status.is_active:
            raise ValueError(
                f"Callback step {step!r} is {latest.status.value}: not waiting for an answer yet"
            )
        raise ValueError(f"Callback step {step!r} is {latest.status.value}: it is not waiting for an answer")
    if len(waiting) > 1:  # iterations of a ForEach body: one name, several tokens
        raise ValueError(f"{len(waiting)} runs of Callback step {step!r} are waiting (ForEach iterations)")
    token = waiting[0].callback_token
    assert token is not None
    return WaitingCallback(execution_arn, step, token, graph[step].outputs)


def validate_outputs(declared: Sequence[OutputDecl], values: Mapping[str, str]) -> dict[str, str]:
    """Check output values against a step's declared outputs (name and OutputType); return them as the API
    wants them. Raises ValueError naming the output. Outputs not given are left out, as the API allows."""
    types = {d.name: d.type for d in declared}
    if len(values) > MAX_OUTPUTS:
        raise ValueError(f"{len(values)} outputs given; the API takes at most {MAX_OUTPUTS}")
    out: dict[str, str] = {}
    for name, raw in values.items():
        if name not in types:
            known = ", ".join(f"{d.name} ({d.type})" for d in declared) or "none"
            raise ValueError(f"unknown output {name!r} (this step declares: {known})")
        value = typed_value(types[name], str(raw), f"output {name!r}")
        if len(value) > MAX_OUTPUT_VALUE:
            raise ValueError(f"output {name!r} is {len(value)} characters; the API takes at most 1024")
        out[name] = value
    return out


def check_failure_reason(reason: str) -> str:
    if len(reason) > MAX_FAILURE_REASON:
        raise ValueError(f"the failure reason is {len(reason)} characters; the API takes at most 256")
    return reason


def check_approval_note(note: str | None) -> str | None:
    if note is not None and len(note) > MAX_APPROVAL_NOTE:
        raise ValueError(f"the note is {len(note)} characters; the API takes at most 1024")
    return note


class SeveralSteps(ValueError):
    """The execution has several steps the action could mean: the caller must name one."""


@dataclass(frozen=True, slots=True)
class RegisteredPackage:
    """The model package a RegisterModel step of an execution registered (`Metadata.RegisterModel.Arn`)."""

    execution_arn: str
    step: str
    package: ModelPackage


def registered_package_arn(graph: StepGraph, runs: Sequence[StepRun], step: str | None) -> tuple[str, str]:
    """(step, model package ARN) of the execution's RegisterModel step: `step`, or the only one there is.
    Raises ValueError: no RegisterModel step, several and none picked, or none registered yet."""
    declared = sorted(name for name, d in graph.steps.items() if d.type == "RegisterModel")
    registered = {r.name: r.job_arn for r in runs if r.metadata_kind == "RegisterModel" and r.job_arn}
    if step is None:
        if not declared:
            raise ValueError("this execution has no RegisterModel step")
        if len(declared) > 1:
            listed = ", ".join(f"{n} ({registered.get(n) or 'nothing registered'})" for n in declared)
            raise SeveralSteps(f"this execution has {len(declared)} RegisterModel steps: {listed}")
        step = declared[0]
    else:
        _require_step(graph, step, "RegisterModel")
    arn = registered.get(step)
    if arn is None:
        run = next((r for r in runs if r.name == step), None)
        state = f"is {run.status.value}" if run is not None else "has not started"
        raise ValueError(f"RegisterModel step {step!r} {state} and has registered no model package")
    return step, arn


@dataclass(frozen=True, slots=True)
class SelectionPlan:
    """A selective execution to start: only `steps` run; `reused` steps' results come from `source_arn`."""

    pipeline: str
    source_arn: str
    steps: tuple[str, ...]
    reused: tuple[str, ...]  # what the selected steps need, as far as the definition says
    parameters: Mapping[str, str]


def check_selection(graph: StepGraph, steps: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The selected steps (each once, in the order given) and the unselected steps they need (their
    dependencies and the Condition steps that gate them, transitively). ValueError for an unknown name."""
    selected = tuple(dict.fromkeys(steps))
    if not selected:
        raise ValueError("no step selected")
    if len(selected) > MAX_SELECTED_STEPS:
        raise ValueError(f"{len(selected)} steps selected; the API takes at most {MAX_SELECTED_STEPS}")
    unknown = [name for name in selected if name not in graph]
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        raise ValueError(f"no step {names} in this pipeline (its steps: {_steps_of(graph)})")
    needed: set[str] = set()
    frontier = list(selected)
    while frontier:
        step = graph[frontier.pop()]
        parents = set(step.depends_on) | ({step.parent} if step.parent else set())
        for parent in parents - needed - set(selected):
            needed.add(parent)
            frontier.append(parent)
    return selected, tuple(sorted(needed))


class Actions:
    """Mutating calls. With a monitor, each call is made inside its budget, and the affected pipeline is
    refreshed right after."""

    def __init__(self, client: SageMakerClient, monitor: Monitor | None = None) -> None:
        self.client = client
        self.monitor = monitor

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        return await (call() if self.monitor is None else self.monitor.act(call))

    async def start(
        self,
        pipeline: str,
        parameters: Mapping[str, str],
        *,
        display_name: str | None = None,
        token: str | None = None,
    ) -> str:
        """Validate against the pipeline's current definition, then start; returns the execution ARN."""
        declared = await self._call(lambda: self.client.pipeline_parameters(pipeline))
        values = validate_parameters(declared, parameters)
        request_token = token or new_token()
        arn = await self._call(
            lambda: self.client.start_execution(
                pipeline, values, token=request_token, display_name=display_name
            )
        )
        if self.monitor is not None:
            self.monitor.nudge_pipeline(pipeline)
        return arn

    async def stop(self, execution_arn: str, *, token: str | None = None) -> None:
        request_token = token or new_token()
        await self._call(lambda: self.client.stop_execution(execution_arn, token=request_token))
        if self.monitor is not None:
            self.monitor.nudge_execution(execution_arn)

    async def retry(self, execution_arn: str, *, token: str | None = None) -> None:
        request_token = token or new_token()
        await self._call(lambda: self.client.retry_execution(execution_arn, token=request_token))
        if self.monitor is not None:
            self.monitor.nudge_execution(execution_arn)

    async def rerun(self, execution_arn: str, *, token: str | None = None) -> str:
        """A new execution of the same pipeline with the same parameters and display name."""
        described = await self._call(lambda: self.client.describe_execution(execution_arn))
        pipeline = described.pipeline_name
        if self.monitor is not None and execution_arn in self.monitor.executions:
            pipeline = self.monitor.executions[execution_arn].pipeline_name
        values = dict(await self._call(lambda: self.client.parameters(execution_arn)))
        request_token = token or new_token()
        arn = await self._call(lambda: self.client.start_execution(pipeline, values, token=request_token))
        if self.monitor is not None:
            self.monitor.nudge_pipeline(pipeline)
        return arn

    # -- acting on a step ---------------------------------------------------------------------------

    async def find_callback(self, execution_arn: str, step: str) -> WaitingCallback:
        """The Callback step `step`, waiting for its answer (ValueError otherwise, nothing sent)."""
        graph = parse_definition(await self._call(lambda: self.client.definition(execution_arn)))
        runs = await self._call(lambda: self.client.list_steps(execution_arn))
        return waiting_callback(execution_arn, graph, runs, step)

    async def answer_callback(
        self,
        waiting: WaitingCallback,
        *,
        outputs: Mapping[str, str] | None = None,
        failure: str | None = None,
        token: str | None = None,
    ) -> None:
        """SendPipelineExecutionStepSuccess with `outputs` (checked against the declared ones), or, given a
        `failure` reason, SendPipelineExecutionStepFailure."""
        if failure is not None:
            reason = check_failure_reason(failure)
            request_token = token or new_token()
            await self._call(
                lambda: self.client.send_step_failure(waiting.callback_token, reason, token=request_token)
            )
        else:
            values = validate_outputs(waiting.outputs, outputs or {})
            request_token = token or new_token()
            await self._call(
                lambda: self.client.send_step_success(waiting.callback_token, values, token=request_token)
            )
        if self.monitor is not None:
            self.monitor.nudge_execution(waiting.execution_arn)

    async def find_registered_package(self, execution_arn: str, step: str | None = None) -> RegisteredPackage:
        """The model package the execution's RegisterModel step (`step`, or its only one) registered, as
        DescribeModelPackage describes it now."""
        graph = parse_definition(await self._call(lambda: self.client.definition(execution_arn)))
        runs = await self._call(lambda: self.client.list_steps(execution_arn))
        name, arn = registered_package_arn(graph, runs, step)
        package = await self._call(lambda: self.client.describe_model_package(arn))
        return RegisteredPackage(execution_arn, name, package)

    async def set_approval(
        self, package_arn: str, *, approved: bool, note: str | None = None, token: str | None = None
    ) -> str:
        """UpdateModelPackage: Approved or Rejected, with `note` as its ApprovalDescription (None: the
        package keeps the one it has). Returns the status set."""
        status = "Approved" if approved else "Rejected"
        description = check_approval_note(note)
        request_token = token or new_token()
        await self._call(
            lambda: self.client.set_model_approval(
                package_arn, status, description=description, token=request_token
            )
        )
        return status

    async def plan_selection(
        self,
        pipeline: str,
        source_arn: str,
        steps: Sequence[str],
        parameters: Mapping[str, str] | None = None,
    ) -> SelectionPlan:
        """Check a selective execution against the pipeline's current definition: the steps exist there and
        the source is one of its executions. Parameters are the source's, `parameters` overriding some."""
        described, definition = await self._call(lambda: self.client.describe_pipeline(pipeline))
        graph = parse_definition(definition)
        selected, reused = check_selection(graph, steps)
        if not source_arn.lower().startswith(f"{described.arn.lower()}/execution/"):
            raise ValueError(f"{source_arn} is not an execution of pipeline {described.name}")
        values = dict(await self._call(lambda: self.client.parameters(source_arn)))
        values.update(validate_parameters(graph.parameters, parameters or {}))
        return SelectionPlan(described.name, source_arn, selected, reused, values)

    async def start_selection(
        self, plan: SelectionPlan, *, display_name: str | None = None, token: str | None = None
    ) -> str:
        """StartPipelineExecution with `SelectiveExecutionConfig`; returns the new execution's ARN."""
        request_token = token or new_token()
        arn = await self._call(
            lambda: self.client.start_execution(
                plan.pipeline,
                plan.parameters,
                token=request_token,
                display_name=display_name,
                source_execution_arn=plan.source_arn,
                selected_steps=plan.steps,
            )
        )
        if self.monitor is not None:
            self.monitor.nudge_pipeline(plan.pipeline)
        return arn
