"""A log stream's events, generated on demand rather than stored.

A `Timeline` is a sequence of parts: `Fixed` lines (a header, a traceback) and `Series` of lines spread
evenly over a stretch of time whose text is computed from their index. So a stream of a million lines costs
nothing until read, a page of it costs only that page, and finding the first line at or after a time is a
binary search. Times are epoch milliseconds and never decrease along a timeline.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field


def unit(salt: int, index: int) -> float:
    """A cheap, stable pseudo-random number in [0, 1) for (salt, index): jitter and noise per line."""
    x = (index * 0x9E3779B1 + salt * 0x85EBCA77 + 0x165667B1) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x2C1B3C6D) & 0xFFFFFFFF
    x ^= x >> 12
    x = (x * 0x297A2D39) & 0xFFFFFFFF
    x ^= x >> 15
    return x / 4294967296.0


@dataclass(frozen=True)
class Fixed:
    """Lines given one by one: (time in ms, message), times non-decreasing."""

    events: Sequence[tuple[int, str]]

    @property
    def count(self) -> int:
        return len(self.events)

    def time(self, index: int) -> int:
        return self.events[index][0]

    def message(self, index: int) -> str:
        return self.events[index][1]


@dataclass(frozen=True)
class Series:
    """`count` lines spread over [start, end) ms, one per equal slot with a little jitter inside it; the
    text of line i is `render(i, time of line i)`."""

    start: int
    end: int
    count: int
    render: Callable[[int, int], str]
    salt: int = 0

    def time(self, index: int) -> int:
        slot = (self.end - self.start) / max(self.count, 1)
        return self.start + int(slot * (index + 0.2 + 0.6 * unit(self.salt, index)))

    def message(self, index: int) -> str:
        return self.render(index, self.time(index))


Part = Fixed | Series


@dataclass(frozen=True)
class Event:
    """One log event of a stream: its index in the stream, time (ms) and message."""

    index: int
    timestamp: int
    message: str


@dataclass
class Timeline:
    """The events of one stream, in time order; `limit` and `tail` express a stop that cut it short."""

    parts: list[Part]
    limit: int | None = None  # only the first `limit` generated events are kept...
    tail: list[tuple[int, str]] = field(default_factory=list)  # ...followed by these
    # (origin, factor): times are squeezed towards `origin` — a log written at its natural pace that must
    # fit a shorter run. Applied to the parts, not to the tail (which a cut writes in real times).
    squeeze: tuple[int, float] | None = None

    def __post_init__(self) -> None:
        self.parts = [part for part in self.parts if part.count > 0]
        self._offsets: list[int] = []
        total = 0
        for part in self.parts:
            self._offsets.append(total)
            total += part.count
        self._generated = total if self.limit is None else min(total, self.limit)

    def __len__(self) -> int:
        return self._generated + len(self.tail)

    def _locate(self, index: int) -> tuple[Part, int]:
        slot = bisect.bisect_right(self._offsets, index) - 1
        return self.parts[slot], index - self._offsets[slot]

    def time(self, index: int) -> int:
        if index >= self._generated:
            return self.tail[index - self._generated][0]
        part, local = self._locate(index)
        if self.squeeze is None:
            return part.time(local)
        origin, factor = self.squeeze
        return origin + int((part.time(local) - origin) * factor)

    def message(self, index: int) -> str:
        if index >= self._generated:
            return self.tail[index - self._generated][1]
        part, local = self._locate(index)
        return part.message(local)

    def event(self, index: int) -> Event:
        return Event(index, self.time(index), self.message(index))

    def events(self, begin: int, end: int) -> Iterator[Event]:
        for index in range(max(begin, 0), min(end, len(self))):
            yield self.event(index)

    def first_at(self, ms: int) -> int:
        """The index of the first event at or after `ms` (len when there is none)."""
        low, high = 0, len(self)
        while low < high:
            middle = (low + high) // 2
            if self.time(middle) < ms:
                low = middle + 1
            else:
                high = middle
        return low

    def visible(self, now_ms: int) -> int:
        """How many events the clock has passed: those at or before `now_ms`."""
        return self.first_at(now_ms + 1)

    def cut(self, ms: int, line: str) -> Timeline:
        """This timeline as if killed at `ms`: what it would have logged later never appears; `line` is the
        last thing it says."""
        kept = self.first_at(ms)
        tail = [(t, m) for t, m in self.tail if t < ms] if kept > self._generated else []
        return Timeline(self.parts, min(kept, self._generated), [*tail, (ms, line)], self.squeeze)

    def fit(self, end: int) -> Timeline:
        """This timeline with its times squeezed so that its last event falls no later than `end`."""
        if not len(self) or self.time(len(self) - 1) <= end:
            return self
        origin = self.time(0)
        span = self.time(len(self) - 1) - origin
        return Timeline(self.parts, self.limit, self.tail, (origin, max(end - origin, 0) / max(span, 1)))
