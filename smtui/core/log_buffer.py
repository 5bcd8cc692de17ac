"""The lines a log view keeps: a ring buffer of the newest `capacity` lines, so a log of any length costs
at most `capacity` lines of memory.

Every line gets a sequence number in the order it was added (0, 1, 2, ... for the life of the buffer);
`first_seq` is the oldest one still kept. A view that remembers the last sequence number it drew asks
`since(seq)` for what came after, and learns from `first_seq` how many it missed while they were dropped.
Indexing is O(1) (a list used as a circle, not a deque, whose middle is O(n)), so a view can draw any
screenful of 100,000 lines without walking them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from smtui.core.logs import LogLine

DEFAULT_LINES = 100_000


class LogBuffer:
    """The newest `capacity` lines of a log; older ones are dropped as new ones come."""

    __slots__ = ("_head", "_lines", "capacity", "total")

    def __init__(self, capacity: int = DEFAULT_LINES) -> None:
        if capacity < 1:
            raise ValueError(f"a log buffer holds at least one line, not {capacity}")
        self.capacity = capacity
        self._lines: list[LogLine] = []  # grows to `capacity`, then is overwritten in a circle
        self._head = 0  # index in `_lines` of the oldest kept line, once full
        self.total = 0  # lines ever added: the sequence number the next line gets

    def __len__(self) -> int:
        return len(self._lines)

    @property
    def first_seq(self) -> int:
        """Sequence number of the oldest line kept (= how many were dropped)."""
        return self.total - len(self._lines)

    @property
    def dropped(self) -> int:
        return self.first_seq

    def append(self, line: LogLine) -> None:
        if len(self._lines) < self.capacity:
            self._lines.append(line)
        else:
            self._lines[self._head] = line
            self._head = (self._head + 1) % self.capacity
        self.total += 1

    def extend(self, lines: Iterable[LogLine]) -> int:
        """Add lines in order; returns how many were added."""
        before = self.total
        for line in lines:
            self.append(line)
        return self.total - before

    def __getitem__(self, index: int) -> LogLine:
        """The `index`-th line kept, oldest first (negative: from the newest)."""
        size = len(self._lines)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(f"line {index} of {size}")
        return self._lines[(self._head + index) % self.capacity if size == self.capacity else index]

    def get(self, seq: int) -> LogLine | None:
        """The line with this sequence number, or None if it was dropped or is not there yet."""
        index = seq - self.first_seq
        return self[index] if 0 <= index < len(self._lines) else None

    def lines(self, start: int = 0, stop: int | None = None) -> list[LogLine]:
        """Lines `start` to `stop` (positions, oldest first), like a slice of a list."""
        size = len(self._lines)
        begin, end, _ = slice(start, stop).indices(size)
        if begin >= end:
            return []
        if size < self.capacity:
            return self._lines[begin:end]
        first, last = self._head + begin, self._head + end
        if last <= size:
            return self._lines[first:last]
        if first >= size:
            return self._lines[first - size : last - size]
        return self._lines[first:] + self._lines[: last - size]

    def since(self, seq: int) -> list[LogLine]:
        """Every kept line with a sequence number ≥ `seq` (from the oldest kept if `seq` was dropped)."""
        return self.lines(max(0, seq - self.first_seq))

    def __iter__(self) -> Iterator[LogLine]:
        return iter(self.lines())

    def clear(self) -> None:
        """Drop every line; sequence numbers go on from where they were."""
        self._lines = []
        self._head = 0
