"""Pipelines over several contexts: a pipeline is keyed by its context and its name (`pipeline_key`), since
two accounts often hold a pipeline of the same name, and those are two pipelines (their own runs, their own
definition). `MultiMonitor.pipelines` is a `ContextPipelines`, and `keyed` tells a monitor's events about
pipelines with those keys."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from smtui.core.events import (
    PipelineDefinitionRead,
    PipelineParametersRead,
    PipelinesChanged,
    RequestFailed,
    RequestKind,
    RequestWaiting,
)
from smtui.core.model import Pipeline

if TYPE_CHECKING:
    from smtui.core.monitor import Monitor

__all__ = ["ContextPipelines", "keyed", "pipeline_key", "split_pipeline_key"]


def pipeline_key(context: str, name: str) -> str:
    """A pipeline's key over several contexts: `CONTEXT/NAME` (a pipeline name has no `/`)."""
    return f"{context}/{name}"


def split_pipeline_key(key: str) -> tuple[str, str]:
    """(context, name) of a `pipeline_key`."""
    context, _, name = key.rpartition("/")
    return context, name


class ContextPipelines(Mapping[str, Pipeline]):
    """The pipelines of every context, keyed by `pipeline_key`: a pipeline of the same name in two contexts
    is two pipelines. A live view: each monitor replaces its own mapping at each ListPipelines."""

    def __init__(self, monitors: Mapping[str, Monitor]) -> None:
        self._monitors = monitors

    def __getitem__(self, key: str) -> Pipeline:
        context, name = split_pipeline_key(key)
        monitor = self._monitors.get(context)
        if monitor is None:
            raise KeyError(key)
        return monitor.pipelines[name]

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        context, name = split_pipeline_key(key)
        monitor = self._monitors.get(context)
        return monitor is not None and name in monitor.pipelines

    def __iter__(self) -> Iterator[str]:
        for context, monitor in self._monitors.items():
            for name in monitor.pipelines:
                yield pipeline_key(context, name)

    def __len__(self) -> int:
        return sum(len(monitor.pipelines) for monitor in self._monitors.values())


def keyed(context: str, event: Any) -> Any:
    """A monitor's event as the merged view tells it: the pipelines it names keyed by their context."""
    if isinstance(event, PipelinesChanged):
        return PipelinesChanged(frozenset(pipeline_key(context, name) for name in event.names))
    if isinstance(event, PipelineParametersRead | PipelineDefinitionRead):
        return replace(event, pipeline=pipeline_key(context, event.pipeline))
    if isinstance(event, RequestWaiting | RequestFailed) and event.request.kind in PIPELINE_REQUESTS:
        return replace(
            event, request=replace(event.request, subject=pipeline_key(context, event.request.subject))
        )
    return event


PIPELINE_REQUESTS = (RequestKind.PIPELINE_PARAMETERS, RequestKind.PIPELINE_DEFINITION)
