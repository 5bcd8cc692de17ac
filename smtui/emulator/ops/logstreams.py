"""Which log groups and streams exist as of the simulated clock, for the Logs operations.

A group exists once a stream of it has an event the clock has passed (SageMaker creates
`/aws/sagemaker/TrainingJobs` with the first training job that logs; Lambda its function's group with the
first invocation); a stream exists from its first event. Executions are brought up to the clock first, so a
job that started since the last read has its stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from smtui.emulator.errors import ServiceError
from smtui.emulator.joblogs import LogStream, function_name, job_streams
from smtui.emulator.ops.common import Context
from smtui.emulator.store.records import JobRecord

_SAGEMAKER_GROUPS = {
    f"/aws/sagemaker/{kind}s": kind for kind in ("TrainingJob", "ProcessingJob", "TransformJob")
}
_LAMBDA_PREFIX = "/aws/lambda/"


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message)


def missing(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message)


@dataclass(frozen=True)
class Visible:
    """A stream as of now: the first `count` events of its timeline have happened."""

    stream: LogStream
    count: int

    @property
    def name(self) -> str:
        return self.stream.name


def group_of(request: dict[str, Any]) -> str:
    """The group a request names (`logGroupName`, or `logGroupIdentifier` as a name or an ARN)."""
    name, identifier = request.get("logGroupName"), request.get("logGroupIdentifier")
    if name is not None and identifier is not None:
        raise invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
    if name is None and identifier is None:
        raise invalid("Either logGroupName or logGroupIdentifier must be specified.")
    group = name or str(identifier)
    if group.startswith("arn:"):
        # arn:aws:logs:<region>:<account>:log-group:<name>[:*]
        group = group.split(":log-group:", 1)[-1].removesuffix(":*")
    return str(group)


def _candidates(ctx: Context, group: str, prefix: str | None) -> Iterable[JobRecord]:
    """The jobs that may write streams of `group` whose names start with `prefix` (looked up, not scanned,
    when the prefix names a job: `<job>/...`)."""
    kind = _SAGEMAKER_GROUPS.get(group)
    if kind is not None:
        if prefix is not None and "/" in prefix:
            job = ctx.store.get_job(kind, prefix.split("/", 1)[0])
            return [job] if job is not None and job.name == prefix.split("/", 1)[0] else []
        return [job for job in ctx.store.jobs(kind) if prefix is None or job.name.startswith(prefix)]
    if group.startswith(_LAMBDA_PREFIX):
        function = group[len(_LAMBDA_PREFIX) :]
        return [job for job in ctx.store.jobs("LambdaInvocation") if function_name(job.arn) == function]
    return []


def _visible(ctx: Context, jobs: Iterable[JobRecord]) -> Iterator[Visible]:
    now_ms = int(ctx.now() * 1000)
    for job in jobs:
        if job.start is None or job.start > ctx.now():
            continue
        for stream in job_streams(job):
            count = stream.timeline.visible(now_ms)
            if count:
                yield Visible(stream, count)


def streams(ctx: Context, request: dict[str, Any], prefix: str | None = None) -> tuple[str, list[Visible]]:
    """(group, its visible streams whose names start with `prefix`), sorted by name; the service's
    ResourceNotFoundException when the group does not exist (yet)."""
    ctx.engine.advance_all()  # executions run lazily: a job that started since the last read must show
    group = group_of(request)
    found = [
        v
        for v in _visible(ctx, _candidates(ctx, group, prefix))
        if prefix is None or v.name.startswith(prefix)
    ]
    if not found and (prefix is None or not any(True for _ in _visible(ctx, _candidates(ctx, group, None)))):
        raise missing("The specified log group does not exist.")
    found.sort(key=lambda v: v.name)
    return group, found
