"""What the monitor publishes: health, change events, and the answers to what screens ask for (small frozen
dataclasses).

`MonitorEvent` is the union of them: a subscriber (`Monitor.subscribe`) matches on its members.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from smtui.core.definition import StepGraph
from smtui.core.jobs import MetricHistory, StepResource
from smtui.core.model import Execution, Parameter


@dataclass(frozen=True, slots=True)
class Health:
    """How the connection to SageMaker is doing, for the header."""

    connected: bool = True
    throttled: bool = False
    last_refresh: datetime | None = None  # the last successful call
    error: str | None = None  # the last failure, one line; None once calls succeed again
    calls_per_s: float = 0.0
    # How changes are learned with an events queue (`Monitor(events_queue=...)`): `push`, or
    # `polling (events: reason)`; None without a queue.
    updates: str | None = None


@dataclass(frozen=True, slots=True)
class ExecutionsChanged:
    """Executions added or changed (status, display name, failure reason, end time, parameters)."""

    arns: frozenset[str]


@dataclass(frozen=True, slots=True)
class StepsChanged:
    """The step tree (or its runs) of one execution changed."""

    execution_arn: str


@dataclass(frozen=True, slots=True)
class PipelinesChanged:
    """Pipelines added, removed or changed (last execution time)."""

    names: frozenset[str]


@dataclass(frozen=True, slots=True)
class ExecutionEnded:
    """A followed execution (the monitor's `executions=`, or one it was told to `track`) has ended, and its
    end is read: its end time and failure reason (DescribePipelineExecution) and its steps since it ended.
    Published again if a retry runs it again and it ends again."""

    arn: str
    execution: Execution  # as it ended


@dataclass(frozen=True, slots=True)
class HealthChanged:
    """The connection's health changed (connected, throttled, error)."""

    health: Health


class RequestKind(StrEnum):
    JOB = "job"  # `Monitor.want_job`: the subject is the job's ARN
    # `Monitor.want_pipeline_parameters`: the pipeline's name (its `pipelines` key, with several contexts)
    PIPELINE_PARAMETERS = "pipeline-parameters"
    METRIC_HISTORY = "metric-history"  # `Monitor.want_metric_history`: the job's ARN
    PIPELINE_DEFINITION = "pipeline-definition"  # `Monitor.want_pipeline_definition`: as PIPELINE_PARAMETERS


@dataclass(frozen=True, slots=True)
class Request:
    """Something a screen asked the monitor for, named in the events that answer it."""

    kind: RequestKind
    subject: str


@dataclass(frozen=True, slots=True)
class JobDescribed:
    """The answer to `want_job`: the job as DescribeTrainingJob (or Processing, Transform) just told it, or
    the model package a RegisterModel step registered, as DescribeModelPackage told it."""

    job: StepResource


@dataclass(frozen=True, slots=True)
class MetricHistoryRead:
    """The answer to `want_metric_history`: a training job's metric values, as its log lines gave them."""

    history: MetricHistory


@dataclass(frozen=True, slots=True)
class PipelineParametersRead:
    """The answer to `want_pipeline_parameters`: the parameters of the pipeline's current definition."""

    pipeline: str
    parameters: tuple[Parameter, ...]


@dataclass(frozen=True, slots=True)
class PipelineDefinitionRead:
    """The answer to `want_pipeline_definition`: the pipeline's current definition as a step graph (its
    steps, their dependencies, its parameters with their defaults)."""

    pipeline: str
    graph: StepGraph


@dataclass(frozen=True, slots=True)
class RequestWaiting:
    """A request not answered yet, and why: the call budget is spent, or AWS throttled it (it is tried
    again). Its answer follows."""

    request: Request
    reason: str


@dataclass(frozen=True, slots=True)
class RequestFailed:
    """A request that could not be answered: what AWS said (or why the reply could not be read)."""

    request: Request
    message: str


MonitorEvent = (
    ExecutionsChanged
    | StepsChanged
    | PipelinesChanged
    | ExecutionEnded
    | HealthChanged
    | JobDescribed
    | PipelineParametersRead
    | PipelineDefinitionRead
    | MetricHistoryRead
    | RequestWaiting
    | RequestFailed
)
