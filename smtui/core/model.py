"""Frozen domain objects. Nothing above `smtui.core` sees a raw boto dict.

This module is the contract between the core, the headless commands and the TUI.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class ExecutionStatus(enum.StrEnum):
    """`PipelineExecutionStatus` as the API sends it."""

    EXECUTING = "Executing"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    FAILED = "Failed"
    SUCCEEDED = "Succeeded"
    COMPLETED_WITH_FAILURES = "CompletedWithFailures"

    @property
    def is_active(self) -> bool:
        return self in (ExecutionStatus.EXECUTING, ExecutionStatus.STOPPING)

    @property
    def is_terminal(self) -> bool:
        return not self.is_active

    @property
    def is_retryable(self) -> bool:
        """Finished, yet RetryPipelineExecution may run it again under the same ARN: anything but Succeeded.

        Retry is known to work on Failed runs (the emulator allows only those); nothing documents which
        statuses it accepts, so Stopped and CompletedWithFailures count too: a retry that the monitor
        misses leaves a row wrong for good, while counting them costs little (the signal is a list per
        pipeline, not a call per execution).
        """
        return self.is_terminal and self is not ExecutionStatus.SUCCEEDED


class StepStatus(enum.StrEnum):
    """A step's state: the API's `StepStatus` values plus the two the API never lists.

    PENDING: in the definition, not started yet. SKIPPED: will never run (branch not taken, or
    the execution ended before it could start); `StepNode.skip_reason` says why.
    """

    STARTING = "Starting"
    EXECUTING = "Executing"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    FAILED = "Failed"
    SUCCEEDED = "Succeeded"
    PENDING = "Pending"
    SKIPPED = "Skipped"

    @property
    def is_active(self) -> bool:
        return self in (StepStatus.STARTING, StepStatus.EXECUTING, StepStatus.STOPPING)

    @property
    def is_done(self) -> bool:
        """Finished, whatever the outcome (skipped counts: it will not run)."""
        return self in (StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.STOPPED, StepStatus.SKIPPED)


@dataclass(frozen=True, slots=True)
class Parameter:
    """A pipeline parameter as declared in the definition."""

    name: str
    type: str  # "String" | "Integer" | "Float" | "Boolean"
    default: str | int | float | bool | None = None
    enum_values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Pipeline:
    """A pipeline, from ListPipelines."""

    arn: str
    name: str
    display_name: str | None = None
    description: str | None = None
    created: datetime | None = None
    last_modified: datetime | None = None
    last_execution: datetime | None = None


@dataclass(frozen=True, slots=True)
class PipelineVersion:
    """A version of a pipeline's definition, from ListPipelineVersions (CreatePipeline makes version 1, each
    UpdatePipeline the next)."""

    version_id: int
    created: datetime | None = None
    last_execution_arn: str | None = None  # the latest execution started from this version


@dataclass(frozen=True, slots=True)
class Execution:
    """A pipeline execution, from ListPipelineExecutions (+ DescribePipelineExecution once it ends)."""

    arn: str
    pipeline_name: str
    execution_id: str
    status: ExecutionStatus
    started: datetime | None
    display_name: str | None = None
    description: str | None = None
    failure_reason: str | None = None
    ended: datetime | None = None  # LastModifiedTime once terminal
    parameters: tuple[tuple[str, str], ...] | None = None  # None until fetched

    @property
    def is_active(self) -> bool:
        return self.status.is_active


@dataclass(frozen=True, slots=True)
class ForEachInfo:
    """`Metadata.ForEach` and `IterationContext` of a ForEach step or one of its iterations."""

    item_count: int | None = None
    total: int | None = None
    succeeded: int | None = None
    failed: int | None = None
    stopped: int | None = None


@dataclass(frozen=True, slots=True)
class StepRun:
    """One entry of ListPipelineExecutionSteps: a step that started (or an attempt of it)."""

    name: str
    status: StepStatus
    started: datetime | None
    ended: datetime | None = None
    display_name: str | None = None
    failure_reason: str | None = None
    attempt: int = 1
    cache_source_arn: str | None = None  # CacheHitResult.SourcePipelineExecutionArn
    # SelectiveExecutionResult.SourcePipelineExecutionArn: not run, its results reused from that execution
    selective_source_arn: str | None = None
    metadata_kind: str | None = None  # the key of Metadata: "TrainingJob", "Condition", ...
    job_arn: str | None = None  # Metadata.<Kind>.Arn where there is one
    condition_outcome: bool | None = None
    callback_token: str | None = None
    outputs: tuple[tuple[str, str], ...] = ()  # Lambda/Callback OutputParameters
    fail_message: str | None = None
    parent_step: str | None = None  # IterationContext.ParentStepName
    iteration_index: int | None = None
    iteration_item: str | None = None
    foreach: ForEachInfo | None = None


@dataclass(frozen=True, slots=True)
class ModelPackage:
    """A model package, from DescribeModelPackage: what a RegisterModel step registered, and its approval."""

    arn: str
    group: str | None = None
    version: int | None = None
    approval_status: str | None = None  # "Approved" | "Rejected" | "PendingManualApproval"
    approval_description: str | None = None
    status: str | None = None  # ModelPackageStatus: "Pending" | "InProgress" | "Completed" | ...


@dataclass(frozen=True, slots=True)
class StepNode:
    """One node of the step tree: a step of the definition merged with what the API says of it.

    Children are Condition branch steps (`branch` is "if"/"else") or ForEach iterations.
    """

    name: str
    type: str  # "Training", "Processing", "Condition", "ForEach", ... (from the definition)
    status: StepStatus
    run: StepRun | None = None
    depends_on: tuple[str, ...] = ()
    branch: str | None = None  # "if" | "else" for steps inside a Condition
    skip_reason: str | None = None
    children: tuple[StepNode, ...] = ()
    display_name: str | None = None
    # The run will never run it: in the Condition branch not taken, needing a step that is, or left out
    # by a run that succeeded. Unlike a step a failed or stopped run never reached, it is not progress due.
    not_taken: bool = False
    # Set on a step last read running under an execution that has ended since: its final state is being
    # read, and meanwhile its duration stops here (the execution's end, or when its steps were read).
    clock_end: datetime | None = None


@dataclass(frozen=True, slots=True)
class StepTree:
    """The full tree of an execution's steps, in definition order (roots first, then nested)."""

    execution_arn: str
    roots: tuple[StepNode, ...] = field(default_factory=tuple)

    def walk(self) -> list[tuple[int, StepNode]]:
        """Every node with its depth, depth-first in display order."""
        out: list[tuple[int, StepNode]] = []

        def visit(node: StepNode, depth: int) -> None:
            out.append((depth, node))
            for child in node.children:
                visit(child, depth + 1)

        for root in self.roots:
            visit(root, 0)
        return out

    @property
    def progress(self) -> tuple[int, int]:
        """(done, total) over the leaf-level steps: `total` is every step the run would run, the ones a
        failed or stopped run never reached included, without the Condition branch not taken (once it is
        decided); `done` is the steps that ran and ended, whatever their outcome. A run stopped in its first
        of six steps is `1/6`, not `1/1`."""
        done = total = 0
        for _, node in self.walk():
            if node.children or node.not_taken:
                continue
            total += 1
            if node.status.is_done and node.status is not StepStatus.SKIPPED:
                done += 1
        return done, total
