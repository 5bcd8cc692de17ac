"""What the TUI needs from the core, and how a session is opened.

The screens read a `MonitorView` (the core's `Monitor` satisfies it), ask it for what they show on demand
(a step's job, a pipeline's parameters: answered by events), and act through the core's `Actions`. They
never hold a client: the core opens it (`smtui.core.session.open_monitor`), so every call is inside the
monitor's budget. The protocol exists so that snapshot tests can show a fixed, hand-made state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from smtui.core.model import Execution, Pipeline, StepRun, StepTree

if TYPE_CHECKING:
    from smtui.core.actions import Actions
    from smtui.core.clock import Clock
    from smtui.core.jobs import MetricHistory, StepResource
    from smtui.core.monitor import Health
    from smtui.core.step_logs import StepLogs


class MonitorView(Protocol):
    """The read side of `smtui.core.monitor.Monitor` that the screens use."""

    @property
    def executions(self) -> Mapping[str, Execution]: ...
    @property
    def pipelines(self) -> Mapping[str, Pipeline]: ...
    def pipeline_key(self, execution: Execution) -> str: ...
    @property
    def health(self) -> Health: ...
    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]: ...
    async def refresh_now(self) -> None: ...
    def tree(self, execution_arn: str) -> StepTree | None: ...
    def progress(self, execution_arn: str) -> tuple[int, int] | None: ...
    def runs(self, execution_arn: str) -> tuple[StepRun, ...]: ...
    def step_durations(self, execution_arn: str) -> Mapping[str, list[float]]: ...
    def running_steps(self, execution_arn: str) -> tuple[str, ...]: ...
    def watch(self, execution_arn: str) -> None: ...
    def unwatch(self, execution_arn: str) -> None: ...
    def compare(self, execution_arns: Iterable[str]) -> None: ...
    def set_visible(self, arns: Iterable[str]) -> None: ...
    def keep(self, arns: Iterable[str]) -> None: ...
    def want_parameters(self, arns: Iterable[str]) -> None: ...
    def drop_parameter_wants(self) -> None: ...
    def job(self, job_arn: str) -> StepResource | None: ...
    def want_job(self, job_arn: str, *, fresh: bool = False) -> None: ...
    def metric_history(self, job_arn: str) -> MetricHistory | None: ...
    def want_metric_history(self, job_arn: str) -> None: ...
    def want_pipeline_parameters(self, pipeline_name: str) -> None: ...
    def success_durations(self, pipeline_name: str) -> list[float] | None: ...
    def executions_of(self, pipeline_name: str) -> Iterable[Execution]: ...
    def want_end_times(self, pipeline_names: Iterable[str], *, runs: int = ...) -> None: ...
    def want_pipeline_definition(self, pipeline_name: str) -> None: ...


class ContextsView(Protocol):
    """Several contexts (`smtui.core.contexts.MultiMonitor`): which one an execution is in, and how each
    is doing."""

    @property
    def names(self) -> tuple[str, ...]: ...
    @property
    def healths(self) -> Mapping[str, Health]: ...
    def context_of(self, arn: str) -> str | None: ...
    def pipeline_context(self, key: str) -> str: ...
    def profile_of(self, name: str) -> str | None: ...
    async def retry_now(self, name: str) -> None: ...


class SessionFailed(RuntimeError):
    """The real session could not open (e.g. the demo's emulator did not start): the app ends, exit 1,
    with the message as its one line."""


@dataclass
class Session:
    """Everything a running TUI talks to. `actions` is None in read-only mode: nothing can mutate."""

    monitor: MonitorView
    actions: Actions | None
    endpoint_label: str
    now: Callable[[], datetime]
    read_only: bool = False
    logs: StepLogs | None = None  # None until connected (the demo's placeholder): no log can be read
    contexts: ContextsView | None = None  # several contexts; None with one (the table as it always was)

    @property
    def can_mutate(self) -> bool:
        return not self.read_only and self.actions is not None


@asynccontextmanager
async def open_session(
    *,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    read_only: bool = False,
    now: Callable[[], datetime] | None = None,
    monitor_options: Mapping[str, Any] | None = None,
    logs_options: Mapping[str, Any] | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[Session]:
    """A started monitor, the step logs and (unless read-only) the actions, closed on exit. `clock`: the
    monitor's (`smtui.core.session.open_monitor`)."""
    # Imported here: the core's client is heavy and `smtui --help` must stay fast.
    from smtui.core.session import AwsTarget, open_monitor

    target = AwsTarget(profile=profile, region=region, endpoint_url=endpoint_url)
    async with open_monitor(
        target,
        read_only=read_only,
        now=now,
        monitor_options=monitor_options,
        logs_options=logs_options,
        clock=clock,
    ) as opened:
        yield Session(
            monitor=opened.monitor,
            actions=opened.actions,
            endpoint_label=opened.endpoint_label,
            now=opened.now,
            read_only=read_only,
            logs=opened.logs,
        )


@asynccontextmanager
async def open_contexts_session(
    contexts: Sequence[tuple[str, str | None, str | None, str | None, str | None]],
    *,
    read_only: bool = False,
    now: Callable[[], datetime] | None = None,
    monitor_options: Mapping[str, Any] | None = None,
    logs_options: Mapping[str, Any] | None = None,
) -> AsyncIterator[Session]:
    """A session over several contexts, each `(name, profile, region, endpoint_url, events_queue)`: one
    monitor each, merged (`smtui.core.contexts`)."""
    from smtui.core.contexts import NamedTarget, open_contexts
    from smtui.core.session import AwsTarget

    targets = [
        NamedTarget(name, AwsTarget(profile, region, endpoint), queue)
        for name, profile, region, endpoint, queue in contexts
    ]
    async with open_contexts(
        targets, read_only=read_only, now=now, monitor_options=monitor_options, logs_options=logs_options
    ) as opened:
        yield Session(
            monitor=opened.monitor,
            actions=opened.actions,
            endpoint_label=" ".join(opened.monitor.names),
            now=opened.now,
            read_only=read_only,
            logs=opened.logs,
            contexts=opened.monitor,
        )


class EmptyMonitor:
    """Knows nothing yet: what the screens read while the real session is being opened."""

    def __init__(self) -> None:
        from smtui.core.events import Health

        self._health = Health(connected=True)

    @property
    def executions(self) -> Mapping[str, Execution]:
        return {}

    @property
    def pipelines(self) -> Mapping[str, Pipeline]:
        return {}

    def pipeline_key(self, execution: Execution) -> str:
        return execution.pipeline_name

    @property
    def health(self) -> Health:
        return self._health

    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        return lambda: None

    async def refresh_now(self) -> None:
        return None

    def tree(self, execution_arn: str) -> StepTree | None:
        return None

    def progress(self, execution_arn: str) -> tuple[int, int] | None:
        return None

    def runs(self, execution_arn: str) -> tuple[StepRun, ...]:
        return ()

    def step_durations(self, execution_arn: str) -> Mapping[str, list[float]]:
        return {}

    def running_steps(self, execution_arn: str) -> tuple[str, ...]:
        return ()

    def watch(self, execution_arn: str) -> None:
        return None

    def unwatch(self, execution_arn: str) -> None:
        return None

    def compare(self, execution_arns: Iterable[str]) -> None:
        return None  # asked again of the real monitor when it comes (`session_changed`)

    def set_visible(self, arns: Iterable[str]) -> None:
        return None

    def keep(self, arns: Iterable[str]) -> None:
        return None

    def want_parameters(self, arns: Iterable[str]) -> None:
        return None

    def drop_parameter_wants(self) -> None:
        return None

    def job(self, job_arn: str) -> StepResource | None:
        return None

    def want_job(self, job_arn: str, *, fresh: bool = False) -> None:
        return None  # asked again of the real monitor when it comes (`session_changed`)

    def metric_history(self, job_arn: str) -> MetricHistory | None:
        return None

    def want_metric_history(self, job_arn: str) -> None:
        return None

    def want_pipeline_parameters(self, pipeline_name: str) -> None:
        return None  # no pipeline to pick before the real monitor comes

    def success_durations(self, pipeline_name: str) -> list[float] | None:
        from smtui.core.timing import success_history

        return success_history(self.executions.values(), pipeline_name)

    def executions_of(self, pipeline_name: str) -> Iterable[Execution]:
        return ()

    def want_end_times(self, pipeline_names: Iterable[str], *, runs: int = 0) -> None:
        return None

    def want_pipeline_definition(self, pipeline_name: str) -> None:
        return None  # asked again of the real monitor when it comes (`session_changed`)


def placeholder_session(label: str, *, read_only: bool = False) -> Session:
    """A session with no data and no actions, labelled with what is being opened."""
    from smtui.core.timing import utcnow

    return Session(
        monitor=EmptyMonitor(),
        actions=None,
        endpoint_label=label,
        now=utcnow,
        read_only=read_only,
    )
