"""Which log group and streams a job writes, built on demand and cached.

- Training: `/aws/sagemaker/TrainingJobs`, `<job>/algo-<n>-<epoch>` per instance.
- Processing: `/aws/sagemaker/ProcessingJobs`, `<job>/algo-<n>-<epoch>` per host (SageMaker's hostnames).
- Transform: `/aws/sagemaker/TransformJobs`, `<job>/<instance-id>-<epoch>` and `.../data-log` per instance.
- Lambda: `/aws/lambda/<function>`, `YYYY/MM/DD/[$LATEST]<32 hex>` per invocation.

`<epoch>` is the second the container started. A stopped job's streams end where the stop came, with the
container's last word; a job that never ran a container (a capacity error, a stop while it was starting)
has no stream at all.
"""

from __future__ import annotations

import random
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from smtui.emulator.joblogs.lambdas import function_name, lambda_stream
from smtui.emulator.joblogs.phases import Life, cut_time, life
from smtui.emulator.joblogs.processing import processing_streams
from smtui.emulator.joblogs.timeline import Timeline
from smtui.emulator.joblogs.training import training_streams
from smtui.emulator.joblogs.transform import transform_streams
from smtui.emulator.store.records import JobRecord

LOG_KINDS = ("TrainingJob", "ProcessingJob", "TransformJob", "LambdaInvocation")
_WRITERS: dict[str, Callable[[JobRecord, Life, random.Random], list[tuple[str, Timeline]]]] = {
    "TrainingJob": training_streams,
    "ProcessingJob": processing_streams,
    "TransformJob": transform_streams,
    "LambdaInvocation": lambda_stream,
}
_STOP_LINE = {
    "TrainingJob": "Received SIGTERM: the training job was stopped; exiting",
    "ProcessingJob": "Received SIGTERM: the processing job was stopped; exiting",
    "TransformJob": "Received SIGTERM: the transform job was stopped; shutting down the model server",
}
_CACHE_SIZE = 512


@dataclass(frozen=True)
class LogStream:
    """One stream of a job: its group, its name and its events (all of them; the clock decides which show)."""

    group: str
    name: str
    job: JobRecord
    timeline: Timeline


def log_group(job: JobRecord) -> str:
    """The log group the job writes to."""
    if job.kind == "LambdaInvocation":
        return f"/aws/lambda/{function_name(job.arn)}"
    return f"/aws/sagemaker/{job.kind}s"


# Keyed by the record itself (its id, checked through a weak reference: in-process tests build many stores
# whose jobs share names) and by what can change its log: status, end, stop, a Lambda's return value.
_cache: OrderedDict[tuple[object, ...], tuple[weakref.ref[JobRecord], list[LogStream]]] = OrderedDict()


def state_key(job: JobRecord) -> tuple[object, ...]:
    """What identifies the job's log as of now: the same key, the same streams."""
    return (id(job), job.status, job.end, job.stopping, len(job.outputs))


def job_streams(job: JobRecord) -> list[LogStream]:
    """Every stream the job writes over its whole life (empty before its container starts or if it never
    does); cached by what can change them."""
    key = state_key(job)
    cached = _cache.get(key)
    if cached is not None and cached[0]() is job:
        _cache.move_to_end(key)
        return cached[1]
    plan = life(job)
    rng = random.Random(job.log_seed or f"{job.kind}/{job.name}")
    group = log_group(job)
    streams = []
    cut = cut_time(job)
    for label, timeline in _WRITERS[job.kind](job, plan, rng):
        if cut is not None:
            if plan.container_start is None or cut <= plan.container_start:
                continue  # stopped before its container ran: it never wrote anything
            timeline = timeline.cut(int(cut * 1000), _STOP_LINE.get(job.kind, "Received SIGTERM"))
        streams.append(LogStream(group, _stream_name(job, plan, label), job, timeline))
    _cache[key] = (weakref.ref(job), streams)
    if len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return streams


def _stream_name(job: JobRecord, plan: Life, label: str) -> str:
    if job.kind == "LambdaInvocation":
        return label
    epoch = int(plan.container_start or job.created)
    base, slash, rest = label.partition("/")
    return f"{job.name}/{base}-{epoch}{slash}{rest}"
