"""Two ways to read a job's streams from a point on: FilterLogEvents interleaved (the default), or
GetLogEvents per stream with forward tokens. Both yield batches of new lines, each line once.

`FilterReader` is how `aws logs tail` works: one FilterLogEvents over every stream of the job
(`logStreamNamePrefix=<job>/`), interleaved by time, so one call per read however many instances the job has,
and no DescribeLogStreams. FilterLogEvents selects by the events' own timestamps, so a line that reaches
CloudWatch after a later one was read (another instance's agent flushing later) would be skipped by a
read that starts at the newest timestamp seen: each read starts `overlap_ms` (5 s) before it, and the events
read again are recognised by their eventId. Only the ids of that window are kept, so memory stays bounded
however long the log. Later than 5 s, a line is missed (as `aws logs tail` misses it).

`StreamsReader` is how the SageMaker SDK tails: DescribeLogStreams for the job's streams, then GetLogEvents
per stream from its last forward token. Exact whatever the lateness, but one call per stream per read, plus a
DescribeLogStreams now and then for streams that appear later. See README "Step logs: what they cost".
"""

from __future__ import annotations

import heapq
from collections.abc import AsyncIterator
from typing import Protocol

from smtui.core.logs import LogLine, LogSource
from smtui.core.logs_client import PAGE_EVENTS, LogsClient

OVERLAP_MS = 5_000
REDISCOVER_EVERY = 5  # StreamsReader: look for new streams every this many reads (and each final one)


class Reader(Protocol):
    """Reads a source's new lines, batch by batch; `end_ms` may be set later (a Lambda step's window)."""

    end_ms: int | None

    def pages(self, *, final: bool) -> AsyncIterator[list[LogLine]]: ...


class FilterReader:
    """FilterLogEvents over the source's streams; the next read starts `overlap_ms` before the newest line."""

    def __init__(
        self, logs: LogsClient, source: LogSource, start_ms: int | None, *, overlap_ms: int = OVERLAP_MS
    ) -> None:
        self.logs = logs
        self.source = source
        self.cursor = start_ms  # startTime of the next read; None: from the first line
        self.end_ms = source.end_ms
        self.overlap_ms = overlap_ms
        self._seen: dict[str, int] = {}  # eventId → timestamp, for the events at or after `cursor`

    async def pages(self, *, final: bool = False) -> AsyncIterator[list[LogLine]]:
        token: str | None = None
        newest = self.cursor
        while True:
            page = await self.logs.filter_events(
                self.source.group,
                prefix=self.source.stream_prefix,
                start_ms=self.cursor,
                end_ms=self.end_ms,
                token=token,
            )
            fresh: list[LogLine] = []
            seen = self._seen
            for event_id, line in zip(page.ids, page.lines, strict=True):
                if event_id in seen:
                    continue
                seen[event_id] = line.timestamp
                fresh.append(line)
                if newest is None or line.timestamp > newest:
                    newest = line.timestamp
            if fresh:
                yield fresh
            token = page.next_token
            if not token:
                break
            if newest is not None and len(seen) > 2 * PAGE_EVENTS:
                self._forget_before(newest - self.overlap_ms)  # a long catch-up: keep the window only
        if newest is not None:
            self.cursor = max(self.cursor or 0, newest - self.overlap_ms)
            self._forget_before(self.cursor)

    def _forget_before(self, cursor: int) -> None:
        self._seen = {event_id: stamp for event_id, stamp in self._seen.items() if stamp >= cursor}

    @property
    def remembered(self) -> int:
        """How many event ids are kept for de-duplication (bounded by the overlap window)."""
        return len(self._seen)


class StreamsReader:
    """GetLogEvents per stream of the source, each from its last forward token."""

    def __init__(self, logs: LogsClient, source: LogSource, start_ms: int | None) -> None:
        self.logs = logs
        self.source = source
        self.start_ms = start_ms
        self.end_ms = source.end_ms  # unused: a job's streams are the job's alone
        self.tokens: dict[str, str | None] = {}
        self._reads = 0

    async def pages(self, *, final: bool = False) -> AsyncIterator[list[LogLine]]:
        source = self.source
        prefix = source.stream_prefix or ""
        # Streams appear as instances start: look at every read until there is one per instance (for the
        # first few reads only: an instance may never log), then every few reads, and at the final one.
        missing = len(self.tokens) < source.instances and self._reads < REDISCOVER_EVERY
        if final or missing or self._reads % REDISCOVER_EVERY == 0:
            for name in await self.logs.streams(source.group, prefix):
                self.tokens.setdefault(name, None)
        self._reads += 1
        batches: list[list[LogLine]] = []
        for stream in list(self.tokens):
            token = self.tokens[stream]
            while True:
                page = await self.logs.get_events(source.group, stream, token=token, start_ms=self.start_ms)
                moved = page.next_token != token
                self.tokens[stream] = token = page.next_token
                if page.lines:
                    batches.append(page.lines)
                # While following, one page per stream and read (a full one: more is waiting); the final
                # read goes on until the token comes back unchanged, the end of the stream.
                if not moved or not page.lines or (not final and len(page.lines) < PAGE_EVENTS):
                    break
        merged = list(heapq.merge(*batches, key=lambda line: line.timestamp))
        for begin in range(0, len(merged), PAGE_EVENTS):
            yield merged[begin : begin + PAGE_EVENTS]


def make_reader(mode: str, logs: LogsClient, source: LogSource, start_ms: int | None) -> Reader:
    """`"filter"` (the default) or `"streams"`; a Lambda source is always read with FilterLogEvents (its
    window is a time range over streams shared with other invocations)."""
    if mode == "streams" and source.kind == "job":
        return StreamsReader(logs, source, start_ms)
    if mode not in ("filter", "streams"):
        raise ValueError(f"unknown log reader {mode!r}: 'filter' or 'streams'")
    return FilterReader(logs, source, start_ms)
