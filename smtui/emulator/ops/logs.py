"""CloudWatch Logs GetLogEvents, FilterLogEvents and DescribeLogStreams over the jobs' simulated log lines.

Groups and streams are named as SageMaker names them: `/aws/sagemaker/TrainingJobs` (and ProcessingJobs,
TransformJobs) with one stream `<job-name>/<host>-<epoch seconds of the job's start>`. A stream exists
once its job has started; a line appears once the simulated clock passes its time.
Times are epoch milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from smtui.emulator.errors import ServiceError
from smtui.emulator.ops.common import Context, Operation, decode_token, encode_token, fresh
from smtui.emulator.store.records import JobRecord

KINDS = ("TrainingJob", "ProcessingJob", "TransformJob")
_TOKEN = re.compile(r"([fb])/(\d{56})/s")
DEFAULT_EVENTS_LIMIT = 10_000
DEFAULT_STREAMS_LIMIT = 50


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message)


def missing(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message)


@dataclass(frozen=True)
class Event:
    timestamp: int
    message: str


@dataclass(frozen=True)
class Stream:
    name: str
    job: JobRecord
    created: int
    events: tuple[Event, ...]


def group_name(kind: str) -> str:
    return f"/aws/sagemaker/{kind}s"


def stream_name(job: JobRecord) -> str:
    assert job.start is not None
    return f"{job.name}/{job.log_stream_suffix}-{int(job.start)}"


def _group_kind(ctx: Context, request: dict[str, Any]) -> str:
    name, identifier = request.get("logGroupName"), request.get("logGroupIdentifier")
    if name is not None and identifier is not None:
        raise invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
    if name is None and identifier is None:
        raise invalid("Either logGroupName or logGroupIdentifier must be specified.")
    group = name or str(identifier)
    if group.startswith("arn:"):
        # arn:aws:logs:<region>:<account>:log-group:<name>[:*]
        group = group.split(":log-group:", 1)[-1].removesuffix(":*")
    for kind in KINDS:
        if group == group_name(kind) and any(_started(ctx, job) for job in ctx.store.jobs(kind)):
            return kind
    raise missing("The specified log group does not exist.")


def _started(ctx: Context, job: JobRecord) -> bool:
    return job.start is not None and job.start <= ctx.now()


def _streams(ctx: Context, kind: str, name_prefix: str | None = None) -> list[Stream]:
    """The group's streams; with a prefix naming a job (`<job>/...`), only that job is looked at, not all."""
    now = ctx.now()
    streams = []
    candidates: Iterable[JobRecord]
    if name_prefix is not None and "/" in name_prefix:
        job = ctx.store.get_job(kind, name_prefix.split("/", 1)[0])
        candidates = [job] if job is not None and job.name == name_prefix.split("/", 1)[0] else []
    else:
        candidates = ctx.store.jobs(kind)
    for job in candidates:
        if name_prefix is not None and not job.name.startswith(name_prefix.split("/", 1)[0]):
            continue
        execution = ctx.store.get_execution(job.execution_arn)
        if execution is not None:
            fresh(ctx, execution)
        if job.start is None or job.start > now:
            continue
        events = tuple(
            Event(int((job.start + offset) * 1000), message)
            for offset, message in sorted(job.log_lines, key=lambda line: line[0])
            if job.start + offset <= now
        )
        streams.append(Stream(stream_name(job), job, int(job.start * 1000), events))
    return streams


def _in_window(event: Event, request: dict[str, Any]) -> bool:
    start, end = request.get("startTime"), request.get("endTime")
    return (start is None or event.timestamp >= start) and (end is None or event.timestamp < end)


def _event(event: Event) -> dict[str, Any]:
    return {"timestamp": event.timestamp, "message": event.message, "ingestionTime": event.timestamp}


def _token(direction: str, index: int) -> str:
    return f"{direction}/{index:056d}/s"


def get_log_events(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    kind = _group_kind(ctx, request)
    wanted = request["logStreamName"]
    stream = next((s for s in _streams(ctx, kind, wanted) if s.name == wanted), None)
    if stream is None:
        raise missing("The specified log stream does not exist.")
    events = [e for e in stream.events if _in_window(e, request)]
    limit = int(request.get("limit") or DEFAULT_EVENTS_LIMIT)
    token = request.get("nextToken")
    if token is not None:
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise invalid("The specified nextToken is invalid.")
        direction, index = match.group(1), min(int(match.group(2)), len(events))
    elif request.get("startFromHead"):
        direction, index = "f", 0
    else:
        # Without a token and without startFromHead the service answers the latest events.
        direction, index = "b", len(events)
    if direction == "f":
        begin, end = index, min(index + limit, len(events))
    else:
        begin, end = max(0, index - limit), index
    # At the end of the stream the forward token comes back unchanged (f/<end> is the token that was sent).
    return {
        "events": [_event(e) for e in events[begin:end]],
        "nextForwardToken": _token("f", end),
        "nextBackwardToken": _token("b", begin),
    }


def _matches(pattern: str | None, message: str) -> bool:
    """A subset of the filter syntax: every term (or "quoted phrase") must occur; `-term` must not."""
    if not pattern or not pattern.strip():
        return True
    for quoted, bare in re.findall(r'"([^"]*)"|(\S+)', pattern):
        term = quoted or bare
        if term.startswith("-") and not quoted:
            if term[1:] in message:
                return False
        elif term not in message:
            return False
    return True


def filter_log_events(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    names, prefix = request.get("logStreamNames"), request.get("logStreamNamePrefix")
    if names is not None and prefix is not None:
        raise invalid("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
    kind = _group_kind(ctx, request)
    streams = [
        s
        for s in _streams(ctx, kind, prefix)
        if (names is None or s.name in names) and (prefix is None or s.name.startswith(prefix))
    ]
    merged = sorted(
        (
            (event.timestamp, stream.name, index, event)
            for stream in streams
            for index, event in enumerate(stream.events)
            if _in_window(event, request) and _matches(request.get("filterPattern"), event.message)
        ),
        key=lambda row: row[:3],
    )
    query = [
        kind,
        names,
        prefix,
        request.get("startTime"),
        request.get("endTime"),
        request.get("filterPattern"),
    ]
    state = decode_token(request.get("nextToken"), query, "InvalidParameterException")
    begin = int(state["o"]) if state else 0
    limit = int(request.get("limit") or DEFAULT_EVENTS_LIMIT)
    chunk = merged[begin : begin + limit]
    more = begin + limit < len(merged)
    return {
        "events": [
            {**_event(event), "logStreamName": name, "eventId": f"{timestamp:020d}{index:036d}"}
            for timestamp, name, index, event in chunk
        ],
        "searchedLogStreams": [],
        "nextToken": encode_token({"o": begin + limit, "q": query}) if more else None,
    }


def describe_log_streams(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    prefix = request.get("logStreamNamePrefix")
    by_time = request.get("orderBy") == "LastEventTime"
    if prefix is not None and by_time:
        raise invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
    kind = _group_kind(ctx, request)
    descending = bool(request.get("descending"))
    streams = [s for s in _streams(ctx, kind, prefix) if prefix is None or s.name.startswith(prefix)]

    def last_event(stream: Stream) -> int:
        return stream.events[-1].timestamp if stream.events else stream.created

    streams.sort(
        key=(lambda s: (last_event(s), s.name)) if by_time else (lambda s: s.name), reverse=descending
    )
    query = [kind, prefix, by_time, descending]
    state = decode_token(request.get("nextToken"), query, "InvalidParameterException")
    begin = int(state["o"]) if state else 0
    limit = int(request.get("limit") or DEFAULT_STREAMS_LIMIT)
    chunk = streams[begin : begin + limit]
    group_arn = f"arn:aws:logs:{ctx.region}:{ctx.backend.account}:log-group:{group_name(kind)}"
    return {
        "logStreams": [
            {
                "logStreamName": s.name,
                "creationTime": s.created,
                "firstEventTimestamp": s.events[0].timestamp if s.events else None,
                "lastEventTimestamp": s.events[-1].timestamp if s.events else None,
                "lastIngestionTime": s.events[-1].timestamp if s.events else None,
                "uploadSequenceToken": None,
                "arn": f"{group_arn}:log-stream:{s.name}",
                "storedBytes": 0,
            }
            for s in chunk
        ],
        "nextToken": encode_token({"o": begin + limit, "q": query}) if begin + limit < len(streams) else None,
    }


OPERATIONS: dict[str, Operation] = {
    "GetLogEvents": get_log_events,
    "FilterLogEvents": filter_log_events,
    "DescribeLogStreams": describe_log_streams,
}
