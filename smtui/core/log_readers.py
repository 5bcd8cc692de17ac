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
DescribeLogStreams now and then for streams that appear later. What they cost: docs/benchmarks.md.
"""

from __future__ import annotations

import bisect
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
    """GetLogEvents per stream of the source, each from its last forward token.

    The streams of a read are read one after the other (the budget spaces the calls), so each is read up to
    a later moment than the one before. To show lines in time order all the same, a read shows the lines
    up to the moment its first call started, and keeps the newer ones for the next read (the final read
    shows everything). That moment, on the service's clock, is the client's clock plus an offset learnt from
    the events themselves: none is from the future, so the offset is at least each event's timestamp less
    the client's time when it arrived, a lower bound that only errs towards keeping a line a read longer.
    """

    def __init__(self, logs: LogsClient, source: LogSource, start_ms: int | None) -> None:
        self.logs = logs
        self.source = source
        self.start_ms = start_ms
        self.end_ms = source.end_ms  # unused: a job's streams are the job's alone
        self.tokens: dict[str, str | None] = {}
        self._reads = 0
        self._first: int | None = None  # the read that found the first stream
        self._offset: int | None = None  # ms: service time − client clock, a lower bound
        self._held: list[LogLine] = []  # read, not shown yet: newer than what every stream was read to

    async def pages(self, *, final: bool = False) -> AsyncIterator[list[LogLine]]:
        source = self.source
        prefix = source.stream_prefix or ""
        # Streams appear as instances start (a job's container starts minutes after the job when its
        # instances take long to provision): look at every read until the first stream appears, then at
        # every read until there are as many as the job writes (for a few reads only: an instance may
        # never log), then every few reads, and at the final one.
        missing = len(self.tokens) < source.streams and (
            self._first is None or self._reads - self._first < REDISCOVER_EVERY
        )
        if final or missing or self._reads % REDISCOVER_EVERY == 0:
            for name in await self.logs.streams(source.group, prefix):
                self.tokens.setdefault(name, None)
            if self.tokens and self._first is None:
                self._first = self._reads
        self._reads += 1
        clock = self.logs.clock
        began = _ms(clock.monotonic())
        batches: list[list[LogLine]] = [self._held]
        for stream in list(self.tokens):
            token = self.tokens[stream]
            while True:
                page = await self.logs.get_events(source.group, stream, token=token, start_ms=self.start_ms)
                moved = page.next_token != token
                self.tokens[stream] = token = page.next_token
                if page.lines:
                    batches.append(page.lines)
                    offset = max(line.timestamp for line in page.lines) - _ms(clock.monotonic())
                    self._offset = offset if self._offset is None else max(self._offset, offset)
                # While following, a stream is read until a page that is not full (one call for a quiet
                # stream; a busy one is read to its end). The final read goes on until the token comes
                # back unchanged, the end of the stream.
                if not moved or not page.lines or (not final and not page.full):
                    break
        # Interleaved by time, and by stream name at the same millisecond, as FilterLogEvents does.
        merged = list(heapq.merge(*batches, key=lambda line: (line.timestamp, line.stream)))
        shown = len(merged)
        if not final and len(self.tokens) > 1 and self._offset is not None:
            shown = bisect.bisect_right(merged, began + self._offset, key=lambda line: line.timestamp)
        self._held = merged[shown:]
        for begin in range(0, shown, PAGE_EVENTS):
            yield merged[begin : min(shown, begin + PAGE_EVENTS)]


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def make_reader(mode: str, logs: LogsClient, source: LogSource, start_ms: int | None) -> Reader:
    """`"filter"` (the default) or `"streams"`; a Lambda source is always read with FilterLogEvents (its
    window is a time range over streams shared with other invocations)."""
    if mode == "streams" and source.kind == "job":
        return StreamsReader(logs, source, start_ms)
    if mode not in ("filter", "streams"):
        raise ValueError(f"unknown log reader {mode!r}: 'filter' or 'streams'")
    return FilterReader(logs, source, start_ms)
