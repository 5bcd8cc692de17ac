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
    """A training, processing or transform job a step "ran" (DescribeTrainingJob & co.)."""

    kind: str  # "TrainingJob" | "ProcessingJob" | "TransformJob"
    name: str
    arn: str
    status: str  # InProgress | Completed | Failed | Stopping | Stopped
    created: float
    execution_arn: str
    step_name: str
    arguments: dict[str, Any]  # the step's Arguments with expressions resolved
    start: float | None = None
    end: float | None = None
    failure_reason: str | None = None
    instance_type: str | None = None
    instance_count: int = 1
    metrics: dict[str, float] = field(default_factory=dict)  # final metrics (training)
    # (offset seconds from start, message) log lines; they appear as the simulated clock passes them.
    log_lines: list[tuple[float, str]] = field(default_factory=list)
    log_stream_suffix: str = "algo-1"
