"""The emulator's state: plain mutable records, owned by the store, changed by the engine, read by the
operations layer (which turns them into API responses) and persisted by the store (`--state`).

Times are simulated epoch seconds (floats). Every record is JSON-serialisable with `dataclasses.asdict`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class PipelineVersion:
    version_id: int
    created: float
    definition: str
    display_name: str | None = None
    description: str | None = None
    last_execution_arn: str | None = None


@dataclass
class PipelineRecord:
    name: str
    arn: str
    definition: str  # the current version's definition JSON, as sent
    role_arn: str
    created: float
    modified: float
    display_name: str | None = None
    description: str | None = None
    parallelism: int | None = None  # ParallelismConfiguration.MaxParallelExecutionSteps
    last_run: float | None = None  # LastExecutionTime / LastRunTime
    versions: list[PipelineVersion] = field(default_factory=list)
    tags: list[dict[str, str]] = field(default_factory=list)
    client_token: str | None = None
    created_by: dict[str, Any] | None = None  # API-shaped UserContext (CreatedBy)
    modified_by: dict[str, Any] | None = None  # API-shaped UserContext (LastModifiedBy)


@dataclass
class StepRecord:
    """One entry of ListPipelineExecutionSteps (one per step, or per ForEach iteration child)."""

    name: str
    status: str  # StepStatus
    start: float
    end: float | None = None
    display_name: str | None = None
    description: str | None = None
    failure_reason: str | None = None
    attempt: int = 1
    cache_source_arn: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # API-shaped PipelineExecutionStepMetadata
    iteration: dict[str, Any] | None = None  # API-shaped IterationContext{ParentStepName, Index, Item}
    selective_source_arn: str | None = None


@dataclass
class ExecutionRecord:
    arn: str
    execution_id: str
    pipeline_name: str
    pipeline_arn: str
    status: str  # PipelineExecutionStatus
    created: float
    modified: float
    definition: str  # the definition this execution runs (never changes)
    parameters: list[dict[str, str]]  # every parameter, defaults included, values as strings
    display_name: str | None = None
    description: str | None = None
    failure_reason: str | None = None
    pipeline_version_id: int | None = None
    parallelism: int | None = None
    selective_config: dict[str, Any] | None = None
    client_token: str | None = None
    created_by: dict[str, Any] | None = None  # API-shaped UserContext (CreatedBy)
    modified_by: dict[str, Any] | None = None  # API-shaped UserContext (LastModifiedBy)
    steps: list[StepRecord] = field(default_factory=list)
    # The engine's own typed state (schedule, seeds, pending events), opaque to every other layer: the store
    # persists it as JSON (`dataclasses.asdict`) and loads that JSON back, which the engine reads again.
    engine_state: object = None


@dataclass
class JobRecord:
    """Work a step ran that writes logs: a training, processing or transform job (DescribeTrainingJob & co.),
    or one invocation of a Lambda step's function (kind "LambdaInvocation", named by its request id).

    What it logs is not stored: it is generated on demand from these fields (`joblogs`), deterministic from
    `log_seed`, and shows as the simulated clock passes each line.
    """

    kind: str  # "TrainingJob" | "ProcessingJob" | "TransformJob" | "LambdaInvocation"
    name: str  # the job name; a Lambda invocation's request id
    arn: str  # the job's ARN; a Lambda invocation's function ARN
    status: str  # InProgress | Completed | Failed | Stopping | Stopped
    created: float
    execution_arn: str
    step_name: str
    arguments: dict[str, Any]  # the step's Arguments with expressions resolved (a Lambda's event)
    start: float | None = None  # when the step's attempt left Starting (the job runs `duration` from here)
    end: float | None = None
    failure_reason: str | None = None
    instance_type: str | None = None
    instance_count: int = 1
    metrics: dict[str, float] = field(default_factory=dict)  # final metrics, read from the log at the end
    duration: float = 0.0  # planned run time from `start` (0: unknown, an older state file)
    planned_failure: str | None = None  # the FailureReason the attempt was drawn to end with
    target_metrics: dict[str, float] = field(default_factory=dict)  # final values its log works towards
    log_seed: str = ""  # keys every draw of the generated log
    log_rate: float | None = None  # progress lines per simulated minute (None: the kind's default)
    stopping: float | None = None  # when StopPipelineExecution reached it
    outputs: dict[str, Any] = field(default_factory=dict)  # what a Lambda invocation returned


@dataclass
class ModelRecord:
    """A model a Model step created (DescribeModel)."""

    name: str
    arn: str
    created: float
    arguments: dict[str, Any]  # the CreateModel request: PrimaryContainer, ExecutionRoleArn, ...
    execution_arn: str
    step_name: str


@dataclass
class ModelPackageGroupRecord:
    """A model package group (DescribeModelPackageGroup), created by the first RegisterModel into it."""

    name: str
    arn: str
    created: float
    description: str | None = None
    created_by: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModelPackageRecord:
    """A model package a RegisterModel step registered (DescribeModelPackage, UpdateModelPackage)."""

    name: str  # the group name (versioned), or the package's own name (unversioned)
    arn: str
    created: float
    modified: float
    arguments: dict[str, Any]  # the CreateModelPackage request, kept up to date by UpdateModelPackage
    group: str | None = None  # None: an unversioned package
    version: int | None = None
    approval_status: str | None = None  # ModelApprovalStatus (versioned packages only)
    approval_description: str | None = None
    execution_arn: str = ""
    step_name: str = ""
    created_by: dict[str, Any] = field(default_factory=dict)
    modified_by: dict[str, Any] = field(default_factory=dict)
