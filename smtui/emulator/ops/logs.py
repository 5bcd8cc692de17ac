"""CloudWatch Logs GetLogEvents, FilterLogEvents and DescribeLogStreams over the logs the jobs, and the
functions of Lambda steps, write (`joblogs`; which groups and streams exist: `logstreams`).

Times are epoch milliseconds. A page holds at most 10,000 events and 1 MB, an event counting its UTF-8 size
plus 26 bytes as the service counts it. Events are generated on demand, so a page costs what it holds:
finding where a time falls in a stream is a binary search, and FilterLogEvents merges the streams from
where its token points.
"""

from __future__ import annotations

import heapq
import re
import zlib
from collections.abc import Iterator
from typing import Any

from smtui.emulator.ops.common import Context, Operation, decode_token, encode_token
from smtui.emulator.ops.logfilter import compile_pattern
from smtui.emulator.ops.logstreams import Visible, group_of, invalid, missing, streams

_TOKEN = re.compile(r"([fb])/(\d{56})/s")
DEFAULT_EVENTS_LIMIT = 10_000
DEFAULT_STREAMS_LIMIT = 50
PAGE_BYTES = 1_048_576
EVENT_OVERHEAD = 26
# Events FilterLogEvents examines per call: a pattern that matches rarely answers a partial (even empty)
# page with a nextToken, as the service does, instead of reading a whole group in one request.
SCAN_BUDGET = 50_000
# FilterLogEvents answers newest first only for startTime on or after 2024-01-01 (the API reference).
_DESCENDING_SINCE = 1_704_067_200_000


def _size(message: str) -> int:
    return len(message.encode()) + EVENT_OVERHEAD


def _token(direction: str, index: int) -> str:
    return f"{direction}/{index:056d}/s"


def get_log_events(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    wanted = request["logStreamName"]
    _, found = streams(ctx, request, wanted)
    visible = next((v for v in found if v.name == wanted), None)
    if visible is None:
        raise missing("The specified log stream does not exist.")
    timeline = visible.stream.timeline
    start, end = request.get("startTime"), request.get("endTime")
    low = timeline.first_at(start) if start is not None else 0
    # GetLogEvents' endTime is exclusive: "equal to or later than this time are not included".
    high = min(visible.count, timeline.first_at(end)) if end is not None else visible.count
    low = min(low, high)
    limit = int(request.get("limit") or DEFAULT_EVENTS_LIMIT)
    token = request.get("nextToken")
    if token is not None:
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise invalid("The specified nextToken is invalid.")
        direction, index = match.group(1), min(max(int(match.group(2)), low), high)
    elif request.get("startFromHead"):
        direction, index = "f", low
    else:
        # Without a token and without startFromHead the service answers the latest events.
        direction, index = "b", high
    taken, size = 0, 0
    step = 1 if direction == "f" else -1
    edge = high if direction == "f" else low
    while index + step * taken != edge and taken < limit:
        position = index + taken if direction == "f" else index - taken - 1
        size += _size(timeline.message(position))
        if size > PAGE_BYTES and taken:
            break
        taken += 1
    begin, stop = (index, index + taken) if direction == "f" else (index - taken, index)
    # At the end of the stream the forward token comes back unchanged (f/<stop> is the token that was sent).
    return {
        "events": [
            {"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.timestamp}
            for e in timeline.events(begin, stop)
        ],
        "nextForwardToken": _token("f", stop),
        "nextBackwardToken": _token("b", begin),
    }


def _event_id(timestamp: int, stream: str, index: int) -> str:
    """56 digits, unique per event and stable across calls (clients de-duplicate by it)."""
    return f"{timestamp:020d}{zlib.crc32(stream.encode()) % 10**12:012d}{index:024d}"


Key = tuple[int, str, int]  # (timestamp, stream name, index): the order FilterLogEvents merges streams in


def _keys(
    visible: Visible, low_ms: int | None, high_ms: int | None, after: Key | None, forward: bool
) -> Iterator[Key]:
    """The stream's events in the window, in merge order, strictly after `after` (in that direction)."""
    timeline, name = visible.stream.timeline, visible.name
    low = timeline.first_at(low_ms) if low_ms is not None else 0
    # FilterLogEvents' endTime is inclusive: "later than this time are not returned".
    high = min(visible.count, timeline.first_at(high_ms + 1)) if high_ms is not None else visible.count
    if forward:
        begin = low
        if after is not None:
            ts, other, index = after
            begin = max(
                low, index + 1 if name == other else timeline.first_at(ts if name > other else ts + 1)
            )
        for position in range(begin, high):
            yield timeline.time(position), name, position
    else:
        last = high - 1
        if after is not None:
            ts, other, index = after
            last = min(
                last, index - 1 if name == other else timeline.first_at(ts + 1 if name < other else ts) - 1
            )
        for position in range(last, low - 1, -1):
            yield timeline.time(position), name, position


def filter_log_events(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    names, prefix = request.get("logStreamNames"), request.get("logStreamNamePrefix")
    if names is not None and prefix is not None:
        raise invalid("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
    group, found = streams(ctx, request, prefix)
    if names is not None:
        found = [v for v in found if v.name in names]
    matches = compile_pattern(request.get("filterPattern"))
    start, end = request.get("startTime"), request.get("endTime")
    query = [group, names, prefix, start, end, request.get("filterPattern")]
    state = decode_token(request.get("nextToken"), query, "InvalidParameterException")
    forward = state["d"] == "f" if state else request.get("startFromHead") is not False
    if not forward and start is not None and start < _DESCENDING_SINCE:
        raise invalid("startFromHead=false requires a startTime on or after 2024-01-01T00:00:00Z.")
    point = state.get("p") if state else None
    after: Key | None = (int(point[0]), str(point[1]), int(point[2])) if point else None
    timelines = {v.name: v.stream.timeline for v in found}
    merged = heapq.merge(*(_keys(v, start, end, after, forward) for v in found), reverse=not forward)
    limit = int(request.get("limit") or DEFAULT_EVENTS_LIMIT)
    events: list[dict[str, Any]] = []
    size, scanned, last = 0, 0, after
    for key in merged:
        timestamp, name, index = key
        message = timelines[name].message(index)
        if matches(message):
            size += _size(message)
            if size > PAGE_BYTES and events:
                merged = heapq.merge([key], merged, reverse=not forward)  # not taken: the next page's first
                break
            events.append(
                {
                    "logStreamName": name,
                    "timestamp": timestamp,
                    "message": message,
                    "ingestionTime": timestamp,
                    "eventId": _event_id(timestamp, name, index),
                }
            )
        last, scanned = key, scanned + 1
        if len(events) >= limit or scanned >= SCAN_BUDGET:
            break
    more = next(iter(merged), None) is not None
    token = encode_token({"d": "f" if forward else "b", "p": list(last) if last else None, "q": query})
    return {"events": events, "searchedLogStreams": [], "nextToken": token if more else None}


def describe_log_streams(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    prefix = request.get("logStreamNamePrefix")
    by_time = request.get("orderBy") == "LastEventTime"
    if prefix is not None and by_time:
        raise invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
    group, found = streams(ctx, request, prefix)
    descending = bool(request.get("descending"))

    def last_event(visible: Visible) -> int:
        return visible.stream.timeline.time(visible.count - 1)

    found.sort(key=(lambda v: (last_event(v), v.name)) if by_time else (lambda v: v.name), reverse=descending)
    query = [group, prefix, by_time, descending]
    state = decode_token(request.get("nextToken"), query, "InvalidParameterException")
    begin = int(state["o"]) if state else 0
    limit = int(request.get("limit") or DEFAULT_STREAMS_LIMIT)
    chunk = found[begin : begin + limit]
    group_arn = f"arn:aws:logs:{ctx.region}:{ctx.backend.account}:log-group:{group}"
    return {
        "logStreams": [
            {
                "logStreamName": v.name,
                "creationTime": v.stream.timeline.time(0),
                "firstEventTimestamp": v.stream.timeline.time(0),
                "lastEventTimestamp": last_event(v),
                "lastIngestionTime": last_event(v),
                "arn": f"{group_arn}:log-stream:{v.name}",
                "storedBytes": 0,
            }
            for v in chunk
        ],
        "nextToken": encode_token({"o": begin + limit, "q": query}) if begin + limit < len(found) else None,
    }


OPERATIONS: dict[str, Operation] = {
    "GetLogEvents": get_log_events,
    "FilterLogEvents": filter_log_events,
    "DescribeLogStreams": describe_log_streams,
}

__all__ = ["OPERATIONS", "group_of"]
