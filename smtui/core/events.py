"""What the monitor publishes: health, and change events (small frozen dataclasses).

`MonitorEvent` is the union of them: a subscriber (`Monitor.subscribe`) matches on its members.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from smtui.core.model import Execution


@dataclass(frozen=True, slots=True)
class Health:
    """How the connection to SageMaker is doing, for the header."""

    connected: bool = True
    throttled: bool = False
    last_refresh: datetime | None = None  # the last successful call
    error: str | None = None  # the last failure, one line; None once calls succeed again
    calls_per_s: float = 0.0


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


MonitorEvent = ExecutionsChanged | StepsChanged | PipelinesChanged | ExecutionEnded | HealthChanged
