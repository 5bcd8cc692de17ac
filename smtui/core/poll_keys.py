"""The scheduler's keys: what kind of poll, of which subject (shared by the planner, its handlers and push
mode's reconciliation)."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class PollKind(StrEnum):
    DISCOVER = "discover"  # ListPipelines
    PIPELINE = "pipeline"  # ListPipelineExecutions: the statuses of a pipeline's runs
    STEPS = "steps"  # ListPipelineExecutionSteps
    DEFINITION = "definition"  # DescribePipelineDefinitionForExecution (once)
    PARAMS = "params"  # ListPipelineParametersForExecution (once)
    DESCRIBE = "describe"  # DescribePipelineExecution: an end time, or the status of the one on screen
    VERSIONS = (
        "versions"  # ListPipelineVersions: which executions share a definition (`smtui.core.definitions`)
    )


# Kinds of poll whose subject is an execution's ARN (the others: a pipeline's name, or nothing).
EXECUTION_KINDS = frozenset({PollKind.STEPS, PollKind.DEFINITION, PollKind.PARAMS, PollKind.DESCRIBE})


class PollKey(NamedTuple):
    """One target of the scheduler: a kind, and a pipeline name or execution ARN ("" for discovery)."""

    kind: PollKind
    subject: str = ""
