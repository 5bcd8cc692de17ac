"""What the jobs steps run write to CloudWatch Logs, generated on demand and deterministic from each job's
seed: realistic content per job kind (`training`, `processing`, `transform`, `lambdas`), one stream per
instance (`streams`), timed by the job's phases (`phases`), lazily indexed (`timeline`), with the training
metric lines that `MetricDefinitions` match (`metrics`). Nothing of it is stored: a job record is enough."""

from __future__ import annotations

import heapq
import weakref
from collections.abc import Iterator

from smtui.emulator.joblogs.lambdas import function_name, request_id
from smtui.emulator.joblogs.metrics import final_values
from smtui.emulator.joblogs.streams import LOG_KINDS, LogStream, job_streams, log_group, state_key
from smtui.emulator.joblogs.training import effective_definitions
from smtui.emulator.store.records import JobRecord

_FINAL: dict[tuple[object, ...], tuple[weakref.ref[JobRecord], dict[str, tuple[float, int]]]] = {}


def final_metrics(job: JobRecord) -> dict[str, tuple[float, int]]:
    """The training job's metrics as SageMaker extracts them from its log: per MetricDefinition, the last
    value its regex matched and that line's time (ms). Empty for other kinds of job. Remembered per job
    state: a regex that never matches reads the whole log, which only the first time may cost."""
    if job.kind != "TrainingJob":
        return {}
    key = state_key(job)
    cached = _FINAL.get(key)
    if cached is None or cached[0]() is not job:
        if len(_FINAL) > 1024:
            _FINAL.clear()
        cached = _FINAL[key] = (weakref.ref(job), _scan(job))
    return cached[1]


def _scan(job: JobRecord) -> dict[str, tuple[float, int]]:
    streams = job_streams(job)

    def newest_first() -> Iterator[tuple[int, str]]:
        def backwards(stream: LogStream) -> Iterator[tuple[int, str]]:
            timeline = stream.timeline
            for index in range(len(timeline) - 1, -1, -1):
                yield timeline.time(index), timeline.message(index)

        return heapq.merge(*(backwards(s) for s in streams), key=lambda event: event[0], reverse=True)

    return final_values(effective_definitions(job), newest_first)


__all__ = [
    "LOG_KINDS",
    "LogStream",
    "effective_definitions",
    "final_metrics",
    "function_name",
    "job_streams",
    "log_group",
    "request_id",
]
