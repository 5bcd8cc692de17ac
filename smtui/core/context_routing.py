"""Acting and reading logs over several contexts: each action, each step's logs, goes to the context that
owns its execution (`MultiMonitor.context_of`), through that context's own `Actions` or `StepLogs` (its
client, its budget)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from smtui.core.actions import Actions, RegisteredPackage, SelectionPlan, WaitingCallback
from smtui.core.context_pipelines import split_pipeline_key
from smtui.core.log_follow import LogFollower
from smtui.core.logs import LogEvent
from smtui.core.model import StepNode
from smtui.core.step_logs import StepLogs


class Owners(Protocol):
    """Which context owns an execution (`smtui.core.contexts.MultiMonitor` is one)."""

    @property
    def names(self) -> tuple[str, ...]: ...

    def context_of(self, arn: str) -> str | None: ...


__all__ = ["MultiActions", "MultiStepLogs"]


class MultiActions(Actions):
    """The actions of several contexts: each goes to the context that owns its execution (or pipeline)."""

    def __init__(self, actions: Mapping[str, Actions], monitor: Owners) -> None:
        # No client of its own: every call is made by one context's `Actions`.
        self.by_context = dict(actions)
        self.multi = monitor

    def _of(self, arn: str) -> Actions:
        name = self.multi.context_of(arn)
        if name is None or name not in self.by_context:
            raise ValueError(f"{arn}: in none of the contexts {', '.join(self.multi.names)}")
        return self.by_context[name]

    async def start(
        self,
        pipeline: str,
        parameters: Mapping[str, str],
        *,
        display_name: str | None = None,
        token: str | None = None,
    ) -> str:
        """`pipeline`: its key in `MultiMonitor.pipelines` (its context and name): started in that context."""
        context, name = split_pipeline_key(pipeline)
        if context not in self.by_context:
            raise ValueError(f"pipeline {pipeline}: in none of the contexts {', '.join(self.multi.names)}")
        return await self.by_context[context].start(name, parameters, display_name=display_name, token=token)

    async def stop(self, execution_arn: str, *, token: str | None = None) -> None:
        await self._of(execution_arn).stop(execution_arn, token=token)

    async def retry(self, execution_arn: str, *, token: str | None = None) -> None:
        await self._of(execution_arn).retry(execution_arn, token=token)

    async def rerun(self, execution_arn: str, *, token: str | None = None) -> str:
        return await self._of(execution_arn).rerun(execution_arn, token=token)

    async def find_callback(self, execution_arn: str, step: str) -> WaitingCallback:
        return await self._of(execution_arn).find_callback(execution_arn, step)

    async def answer_callback(
        self,
        waiting: WaitingCallback,
        *,
        outputs: Mapping[str, str] | None = None,
        failure: str | None = None,
        token: str | None = None,
    ) -> None:
        await self._of(waiting.execution_arn).answer_callback(
            waiting, outputs=outputs, failure=failure, token=token
        )

    async def find_registered_package(self, execution_arn: str, step: str | None = None) -> RegisteredPackage:
        return await self._of(execution_arn).find_registered_package(execution_arn, step)

    async def set_approval(
        self, package_arn: str, *, approved: bool, note: str | None = None, token: str | None = None
    ) -> str:
        return await self._of(package_arn).set_approval(
            package_arn, approved=approved, note=note, token=token
        )

    async def plan_selection(
        self,
        pipeline: str,
        source_arn: str,
        steps: Sequence[str],
        parameters: Mapping[str, str] | None = None,
    ) -> SelectionPlan:
        return await self._of(source_arn).plan_selection(pipeline, source_arn, steps, parameters)

    async def start_selection(
        self, plan: SelectionPlan, *, display_name: str | None = None, token: str | None = None
    ) -> str:
        return await self._of(plan.source_arn).start_selection(plan, display_name=display_name, token=token)


class MultiStepLogs(StepLogs):
    """The step logs of several contexts: a step's logs are read in its execution's context, on that
    context's Logs budget."""

    def __init__(self, logs: Mapping[str, StepLogs], monitor: Owners) -> None:
        # No client of its own: each context's `StepLogs` reads its own account's logs.
        self.by_context = dict(logs)
        self.multi = monitor

    def _of(self, execution_arn: str) -> StepLogs:
        name = self.multi.context_of(execution_arn)
        if name is None:
            raise ValueError(f"{execution_arn}: in none of the contexts {', '.join(self.multi.names)}")
        return self.by_context[name]

    def subscribe(self, callback: Callable[[LogEvent], None]) -> Callable[[], None]:
        stops = [logs.subscribe(callback) for logs in self.by_context.values()]

        def unsubscribe() -> None:
            for stop in stops:
                stop()

        return unsubscribe

    async def follow(self, execution_arn: str, node: StepNode) -> LogFollower:
        return await self._of(execution_arn).follow(execution_arn, node)

    async def stop(self, execution_arn: str, step: str) -> None:
        await self._of(execution_arn).stop(execution_arn, step)

    async def close(self) -> None:
        for logs in self.by_context.values():
            await logs.close()
