"""Several contexts (accounts/regions) at once: one `Monitor` per context, each with its own client and its
own call budget (a throttled account slows only itself), read as one.

`MultiMonitor` presents the monitor's read side over all of them (the executions of every context, keyed by
ARN: an ARN names its account and region, so keys never collide; the pipelines keyed by context and name,
`pipeline_key`, since two accounts often hold a pipeline of the same name) and sends each request to the
context that owns its subject. `MultiActions` does the same for the actions. A context whose credentials
expire fails alone: its monitor backs off and retries (the same as with one context), the others go on, and
`healths` tells the header which one is in trouble.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from smtui.core.context_pipelines import ContextPipelines, keyed, pipeline_key, split_pipeline_key
from smtui.core.context_routing import MultiActions, MultiStepLogs
from smtui.core.events import Health, HealthChanged
from smtui.core.jobs import MetricHistory, StepResource
from smtui.core.model import Execution, Pipeline, StepRun, StepTree
from smtui.core.monitor import Monitor
from smtui.core.pipeline_stats import RECENT_RUNS
from smtui.core.session import AwsTarget, Opened, open_monitor

__all__ = [
    "MultiActions",
    "MultiMonitor",
    "MultiStepLogs",
    "NamedTarget",
    "open_contexts",
    "pipeline_key",
    "split_pipeline_key",
]

V = TypeVar("V")


@dataclass(frozen=True)
class NamedTarget:
    """A context: its name (`[contexts.NAME]`), where it connects, and its events queue if any."""

    name: str
    target: AwsTarget
    events_queue: str | None = None


def _place(arn: str) -> tuple[str, str] | None:
    """(region, account) of an ARN, None for anything else."""
    parts = arn.split(":")
    return (parts[3], parts[4]) if len(parts) > 5 and parts[0] == "arn" else None


class Merged(Mapping[str, V]):
    """Several mappings read as one, the first holding a key winning. No key is in two (ARNs name their
    account and region), so iterating and counting need no set of the keys seen."""

    def __init__(self, maps: Sequence[Mapping[str, V]]) -> None:
        self._maps = maps

    def __getitem__(self, key: str) -> V:
        for mapping in self._maps:
            if key in mapping:
                return mapping[key]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return any(key in mapping for mapping in self._maps)

    def __iter__(self) -> Iterator[str]:
        for mapping in self._maps:
            yield from mapping

    def __len__(self) -> int:
        return sum(len(mapping) for mapping in self._maps)


class MultiMonitor:
    """The monitors of several contexts as one `MonitorView` (see the module's docstring)."""

    def __init__(
        self,
        monitors: Mapping[str, Monitor],
        regions: Mapping[str, str | None],
        profiles: Mapping[str, str | None] | None = None,
    ) -> None:
        self.monitors = dict(monitors)
        self._regions = dict(regions)
        self._profiles = dict(profiles or {})
        # Live views of the monitors' own mappings: nothing is copied on an update.
        self._executions = Merged([m.executions for m in self.monitors.values()])
        self._pipelines = ContextPipelines(self.monitors)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.monitors)

    # -- which context -----------------------------------------------------------------------------------

    def context_of(self, arn: str) -> str | None:
        """The context an ARN (execution, job, model package) belongs to: the one that holds it, else the
        one whose account and region it names (as learned from that context's own ARNs)."""
        for name, monitor in self.monitors.items():
            if arn in monitor.executions:
                return name
        place = _place(arn)
        if place is None:
            return None
        for name, monitor in self.monitors.items():
            known = next(iter(monitor.executions), None) or next(
                (p.arn for p in monitor.pipelines.values()), None
            )
            if known is not None and _place(known) == place:
                return name
        in_region = [name for name, region in self._regions.items() if region == place[0]]
        return in_region[0] if len(in_region) == 1 else None

    def profile_of(self, name: str) -> str | None:
        """The AWS profile of a context (what `aws sso login --profile` needs), None for the default."""
        return self._profiles.get(name)

    async def retry_now(self, name: str) -> None:
        """Call again at once in one context (after a login): its monitor's backoff is cut short. The
        client is kept: botocore reads the SSO cache again when it next refreshes the credentials."""
        await self.monitors[name].refresh_now()

    def monitor_of(self, arn: str) -> Monitor | None:
        name = self.context_of(arn)
        return None if name is None else self.monitors[name]

    def _split(self, arns: Iterable[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {name: [] for name in self.monitors}
        for arn in arns:
            name = self.context_of(arn)
            if name is not None:
                out[name].append(arn)
        return out

    # -- the read side -----------------------------------------------------------------------------------

    @property
    def executions(self) -> Mapping[str, Execution]:
        return self._executions

    @property
    def pipelines(self) -> Mapping[str, Pipeline]:
        """Every context's pipelines, keyed by `pipeline_key` (context and name)."""
        return self._pipelines

    def pipeline_key(self, execution: Execution) -> str:
        return pipeline_key(self.context_of(execution.arn) or "", execution.pipeline_name)

    def pipeline_context(self, key: str) -> str:
        """The context of a pipeline's key."""
        return split_pipeline_key(key)[0]

    @property
    def healths(self) -> dict[str, Health]:
        """Each context's health, in the order the contexts were given."""
        return {name: monitor.health for name, monitor in self.monitors.items()}

    @property
    def health(self) -> Health:
        """All contexts' health as one: connected while any is (the header marks each context that is
        not), throttled if any is, the first error named by its context."""
        healths = self.healths
        errors = [f"{name}: {h.error}" for name, h in healths.items() if h.error]
        refreshed = [h.last_refresh for h in healths.values() if h.last_refresh is not None]
        return Health(
            connected=any(h.connected for h in healths.values()),
            throttled=any(h.throttled for h in healths.values()),
            last_refresh=min(refreshed) if refreshed else None,
            error=errors[0] if errors else None,
            calls_per_s=sum(h.calls_per_s for h in healths.values()),
            updates=None,
        )

    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        def forwarder(context: str) -> Callable[[Any], None]:
            def forward(event: Any) -> None:
                # One context's health change is told as the whole's: the header reads `healths` for the rest.
                if isinstance(event, HealthChanged):
                    callback(replace(event, health=self.health))
                else:
                    callback(keyed(context, event))

            return forward

        stops = [monitor.subscribe(forwarder(name)) for name, monitor in self.monitors.items()]

        def unsubscribe() -> None:
            for stop in stops:
                stop()

        return unsubscribe

    async def refresh_now(self) -> None:
        for monitor in self.monitors.values():
            await monitor.refresh_now()

    def tree(self, execution_arn: str) -> StepTree | None:
        monitor = self.monitor_of(execution_arn)
        return None if monitor is None else monitor.tree(execution_arn)

    def progress(self, execution_arn: str) -> tuple[int, int] | None:
        monitor = self.monitor_of(execution_arn)
        return None if monitor is None else monitor.progress(execution_arn)

    def running_steps(self, execution_arn: str) -> tuple[str, ...]:
        monitor = self.monitor_of(execution_arn)
        return () if monitor is None else monitor.running_steps(execution_arn)

    def watch(self, execution_arn: str) -> None:
        if (monitor := self.monitor_of(execution_arn)) is not None:
            monitor.watch(execution_arn)

    def unwatch(self, execution_arn: str) -> None:
        if (monitor := self.monitor_of(execution_arn)) is not None:
            monitor.unwatch(execution_arn)

    def set_visible(self, arns: Iterable[str]) -> None:
        for name, mine in self._split(arns).items():
            self.monitors[name].set_visible(mine)

    def keep(self, arns: Iterable[str]) -> None:
        for name, mine in self._split(arns).items():
            self.monitors[name].keep(mine)

    def want_parameters(self, arns: Iterable[str]) -> None:
        for name, mine in self._split(arns).items():
            if mine:
                self.monitors[name].want_parameters(mine)

    def drop_parameter_wants(self) -> None:
        for monitor in self.monitors.values():
            monitor.drop_parameter_wants()

    def job(self, job_arn: str) -> StepResource | None:
        monitor = self.monitor_of(job_arn)
        return None if monitor is None else monitor.job(job_arn)

    def want_job(self, job_arn: str, *, fresh: bool = False) -> None:
        if (monitor := self.monitor_of(job_arn)) is not None:
            monitor.want_job(job_arn, fresh=fresh)

    def metric_history(self, job_arn: str) -> MetricHistory | None:
        monitor = self.monitor_of(job_arn)
        return None if monitor is None else monitor.metric_history(job_arn)

    def want_metric_history(self, job_arn: str) -> None:
        if (monitor := self.monitor_of(job_arn)) is not None:
            monitor.want_metric_history(job_arn)

    def want_pipeline_parameters(self, pipeline_name: str) -> None:
        if (found := self._monitor_of_pipeline(pipeline_name)) is not None:
            monitor, name = found
            monitor.want_pipeline_parameters(name)

    def _monitor_of_pipeline(self, key: str) -> tuple[Monitor, str] | None:
        """The monitor of a pipeline's key (`pipeline_key`), and the pipeline's name there."""
        context, name = split_pipeline_key(key)
        monitor = self.monitors.get(context)
        return None if monitor is None else (monitor, name)

    def runs(self, execution_arn: str) -> tuple[StepRun, ...]:
        monitor = self.monitor_of(execution_arn)
        return () if monitor is None else monitor.runs(execution_arn)

    def step_durations(self, execution_arn: str) -> Mapping[str, list[float]]:
        monitor = self.monitor_of(execution_arn)
        return {} if monitor is None else monitor.step_durations(execution_arn)

    def compare(self, execution_arns: Iterable[str]) -> None:
        split = self._split(execution_arns)
        for name, monitor in self.monitors.items():
            monitor.compare(split.get(name, ()))  # every context: those no longer compared are let go

    def success_durations(self, pipeline_name: str) -> list[float] | None:
        found = self._monitor_of_pipeline(pipeline_name)
        return [] if found is None else found[0].success_durations(found[1])

    def executions_of(self, pipeline_name: str) -> Iterable[Execution]:
        found = self._monitor_of_pipeline(pipeline_name)
        return () if found is None else found[0].executions_of(found[1])

    def want_end_times(self, pipeline_names: Iterable[str], *, runs: int = RECENT_RUNS) -> None:
        names: dict[str, list[str]] = {context: [] for context in self.monitors}
        for key in pipeline_names:
            context, name = split_pipeline_key(key)
            if context in names:
                names[context].append(name)
        for context, monitor in self.monitors.items():
            monitor.want_end_times(
                names[context], runs=runs
            )  # every context: what is no longer shown is let go

    def want_pipeline_definition(self, pipeline_name: str) -> None:
        if (found := self._monitor_of_pipeline(pipeline_name)) is not None:
            monitor, name = found
            monitor.want_pipeline_definition(name)


@dataclass(frozen=True)
class OpenedContexts:
    """What `open_contexts` yields: the merged monitor, the merged actions (None when read-only), and each
    context's own `Opened` (its step logs, its clock)."""

    monitor: MultiMonitor
    actions: MultiActions | None
    logs: MultiStepLogs
    each: Mapping[str, Opened]
    now: Callable[[], datetime]


@asynccontextmanager
async def open_contexts(
    contexts: Sequence[NamedTarget],
    *,
    read_only: bool = False,
    now: Callable[[], datetime] | None = None,
    monitor_options: Mapping[str, Any] | None = None,
    logs_options: Mapping[str, Any] | None = None,
) -> AsyncIterator[OpenedContexts]:
    """One `open_monitor` per context (each its own client and budget), all closed on exit."""
    async with AsyncExitStack() as stack:
        each: dict[str, Opened] = {}
        for context in contexts:
            options = {**dict(monitor_options or {}), "events_queue": context.events_queue}
            each[context.name] = await stack.enter_async_context(
                open_monitor(
                    context.target,
                    read_only=read_only,
                    now=now,
                    monitor_options=options,
                    logs_options=logs_options,
                )
            )
        multi = MultiMonitor(
            {name: opened.monitor for name, opened in each.items()},
            {context.name: context.target.region for context in contexts},
            {context.name: context.target.profile for context in contexts},
        )
        actions = None
        if not read_only:
            actions = MultiActions(
                {name: o.actions for name, o in each.items() if o.actions is not None}, multi
            )
        first = next(iter(each.values()))
        logs = MultiStepLogs({name: o.logs for name, o in each.items()}, multi)
        yield OpenedContexts(monitor=multi, actions=actions, logs=logs, each=each, now=first.now)
