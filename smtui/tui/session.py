"""What the TUI needs from the core, and how a session is opened.

The screens read a `MonitorView` (the core's `Monitor` satisfies it) and act through the core's
`Actions`. The protocol exists so that snapshot tests can show a fixed, hand-made state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from smtui.core.model import Execution, Parameter, Pipeline, StepTree

if TYPE_CHECKING:
    from smtui.core.actions import Actions
    from smtui.core.monitor import Health


class MonitorView(Protocol):
    """The read side of `smtui.core.monitor.Monitor` that the screens use."""

    @property
    def executions(self) -> Mapping[str, Execution]: ...
    @property
    def pipelines(self) -> Mapping[str, Pipeline]: ...
    @property
    def health(self) -> Health: ...
    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]: ...
    async def refresh_now(self) -> None: ...
    def tree(self, execution_arn: str) -> StepTree | None: ...
    def progress(self, execution_arn: str) -> tuple[int, int] | None: ...
    def running_steps(self, execution_arn: str) -> tuple[str, ...]: ...
    def watch(self, execution_arn: str) -> None: ...
    def unwatch(self, execution_arn: str) -> None: ...
    def set_visible(self, arns: Iterable[str]) -> None: ...
    def keep(self, arns: Iterable[str]) -> None: ...
    def want_parameters(self, arns: Iterable[str]) -> None: ...
    def drop_parameter_wants(self) -> None: ...


class Catalog(Protocol):
    """Facts the screens fetch on demand in workers: a pipeline's parameters (the start form), and one
    call at a time for `smtui.core.jobs.describe_job` (the selected step's job)."""

    async def pipeline_parameters(self, pipeline_name: str) -> list[Parameter]: ...
    async def call(self, operation: str, **params: Any) -> dict[str, Any]: ...


@dataclass
class Session:
    """Everything a running TUI talks to. `actions` is None in read-only mode: nothing can mutate."""

    monitor: MonitorView
    catalog: Catalog
    actions: Actions | None
    endpoint_label: str
    now: Callable[[], datetime]
    read_only: bool = False

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
) -> AsyncIterator[Session]:
    """A client, a started monitor and (unless read-only) the actions, closed on exit."""
    # Imported here: aiobotocore is heavy and `smtui --help` must stay fast.
    from smtui.core.actions import Actions
    from smtui.core.client import AwsTarget, SageMakerClient
    from smtui.core.monitor import Monitor

    target = AwsTarget(profile=profile, region=region, endpoint_url=endpoint_url)
    async with SageMakerClient.create(target) as client:
        # The server's time unless told otherwise: elapsed times then agree with the timestamps it sends.
        clock = now or client.now
        monitor = Monitor(client, clock=clock, **dict(monitor_options or {}))
        await monitor.start()
        try:
            yield Session(
                monitor=monitor,
                catalog=client,
                actions=None if read_only else Actions(client, monitor),
                endpoint_label=client.endpoint_label,
                now=clock,
                read_only=read_only,
            )
        finally:
            await monitor.stop()


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

    def running_steps(self, execution_arn: str) -> tuple[str, ...]:
        return ()

    def watch(self, execution_arn: str) -> None:
        return None

    def unwatch(self, execution_arn: str) -> None:
        return None

    def set_visible(self, arns: Iterable[str]) -> None:
        return None

    def keep(self, arns: Iterable[str]) -> None:
        return None

    def want_parameters(self, arns: Iterable[str]) -> None:
        return None

    def drop_parameter_wants(self) -> None:
        return None


class _NoCatalog:
    async def pipeline_parameters(self, pipeline_name: str) -> list[Parameter]:
        return []

    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        raise RuntimeError("not connected yet")


def placeholder_session(label: str, *, read_only: bool = False) -> Session:
    """A session with no data and no actions, labelled with what is being opened."""
    from smtui.core.timing import utcnow

    return Session(
        monitor=EmptyMonitor(),
        catalog=_NoCatalog(),
        actions=None,
        endpoint_label=label,
        now=utcnow,
        read_only=read_only,
    )
