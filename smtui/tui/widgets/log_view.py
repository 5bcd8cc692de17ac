"""A step's log lines, drawn with the line API straight from the follower's ring buffer.

Only the rows on screen are rendered (`render_line`), so 100,000 lines cost what 40 do. Lines are named by
their buffer sequence number (`LogBuffer`), which does not move when old lines are dropped: the cursor,
the search matches and the since-cutoff are sequence numbers. With wrap on, a table of where each line's
rows start (prefix sums, rebuilt on a width change, extended as lines come) maps a row to its line.

Each line is measured once, when it comes: its message's width and its stream go into two arrays
(8 bytes a line), so wrap, timestamps or a since-preset only redo integer sums over them, not the lines
(100,000 lines: ~1 s before, ~10 ms now). A search highlights the rows on screen at once and counts its
matches over the whole buffer in slices of a few milliseconds between frames (`Searched` when done), so
typing in the search box does not wait for 100,000 lines at every letter.
"""

from __future__ import annotations

import re
import time
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import partial
from itertools import accumulate, islice
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from smtui.core.log_buffer import LogBuffer
from smtui.core.logs import LogLine, LogSource

# What `e` looks for: the first line of a Python traceback, or a line that says error/exception/fatal.
ERROR_LINE = re.compile(r"Traceback \(most recent call last\)|\b(ERROR|Error|Exception|FATAL|Fatal)\b")

STAMP = Style(color="bright_black")
STREAM = Style(color="cyan")
MATCH = Style(bgcolor="yellow", color="black")
CURSOR = Style(reverse=True)
STAMP_WIDTH = 19  # "01-02 03:04:05.678 "
# How long a slice of the search may hold the event loop, and the pause after each: a frame (~16 ms) can be
# painted between two. (Queued back to back, the slices kept the widget from ever being idle, and Textual
# repaints a widget when it is idle: the letter typed showed only once every line was searched.)
SEARCH_SLICE_S = 0.006
SEARCH_PAUSE_S = 1 / 60


class LogView(ScrollView, can_focus=True):
    """Lines of one step: `[time] [stream] message`, a cursor line, search matches highlighted."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("up,k", "move(-1)", "Up", show=False, id="logs.up"),
        Binding("down,j", "move(1)", "Down", show=False, id="logs.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="logs.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="logs.page_down"),
        Binding("home,g", "move_to_first", "First line", show=False, id="logs.first"),
        Binding("end,G", "move_to_last", "Last line", show=False, id="logs.last"),
    ]
    DEFAULT_CSS = """
    LogView {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    """

    class Searched(Message):
        """The search has looked at every line: `matches` is complete."""

    def __init__(self, buffer: LogBuffer, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.buffer = buffer
        self.source: LogSource | None = None
        self.streams: set[str] = set()
        self.timestamps = True
        self.wrap = False
        self.autoscroll = True
        self.since_seq = 0  # the first line shown (a since-preset); older ones are hidden
        self.cursor: int | None = None  # sequence number of the cursor line; None: the last line
        self.search = ""
        self.matches: list[int] = []  # sequence numbers of the lines that contain `search`
        self._pattern: re.Pattern[str] | None = None
        self._scan: Iterator[int] | None = None  # sequence numbers the search has still to look at
        self._scans = 0  # searches started: a slice of an older one stops
        self._widest = 0  # the widest message
        self._seen = buffer.first_seq  # lines looked at (streams, width, matches) so far
        # Per line from sequence number `_measured_base` on: its message's width, its stream's index.
        self._measured_base = buffer.first_seq
        self._lengths = array("I")
        self._stream_of = array("I")
        self._stream_index: dict[str, int] = {}
        self._wrap_starts: list[int] = []  # with wrap: the first row of each shown line, by position
        self._wrap_base = -1
        self._wrap_width = 0
        self.lines_added()

    # -- what is shown ------------------------------------------------------------------------

    @property
    def first(self) -> int:
        """Sequence number of the first line shown."""
        return max(self.since_seq, self.buffer.first_seq)

    @property
    def count(self) -> int:
        return max(0, self.buffer.total - self.first)

    @property
    def show_streams(self) -> bool:
        return len(self.streams) > 1 or (self.source is not None and self.source.many_streams)

    def line(self, seq: int) -> LogLine | None:
        return self.buffer.get(seq)

    def cursor_seq(self) -> int | None:
        if self.count == 0:
            return None
        last = self.buffer.total - 1
        return last if self.cursor is None else min(max(self.cursor, self.first), last)

    # -- changes ------------------------------------------------------------------------------

    def lines_added(self) -> None:
        """New lines are in the buffer: look at them once, follow the end if autoscroll is on."""
        buffer = self.buffer
        start = max(self._seen, buffer.first_seq)
        if buffer.first_seq > self._measured_base:  # dropped lines: forget their measures
            drop = min(buffer.first_seq - self._measured_base, len(self._lengths))
            del self._lengths[:drop], self._stream_of[:drop]
            self._measured_base = buffer.first_seq
        new_stream = False
        widest = self._widest
        index = self._stream_index
        search = self._pattern.search if self._pattern is not None and self._scan is None else None
        for seq in range(start, buffer.total):
            line = buffer.get(seq)
            if line is None:
                continue
            stream = index.get(line.stream)
            if stream is None:
                stream = index[line.stream] = len(index)
                if len(self.streams) < 1000:
                    self.streams.add(line.stream)
                    new_stream = True
            length = cell_len(line.message.replace("\t", "    "))
            widest = max(widest, length)
            self._lengths.append(length)
            self._stream_of.append(stream)
            if search is not None and search(line.message):
                self.matches.append(seq)
        self._widest = widest
        self._seen = buffer.total
        if self.matches and self.matches[0] < buffer.first_seq:
            self.matches = [seq for seq in self.matches if seq >= buffer.first_seq]
        if new_stream:
            self._wrap_base = -1  # the prefix grew: every wrapped height may change
        self._resize()
        if self.autoscroll:
            self.cursor = None
            self.call_after_refresh(self._reveal, False)  # once the new size is known to the scrollbars
        self.refresh()

    def reset(self) -> None:
        """A new buffer or source: looks at every line again (streams, widths, the search)."""
        self._wrap_base = -1
        self._widest = 0
        self._seen = self._measured_base = self.buffer.first_seq
        self._lengths, self._stream_of = array("I"), array("I")
        self._stream_index.clear()
        self.streams.clear()
        self._pattern = None  # so that the search starts over on the new lines
        self.lines_added()
        self.set_search(self.search)

    def refit(self) -> None:
        """What is shown changed (wrap, timestamps, since): sizes again from the measures, and repaints."""
        self._wrap_base = -1
        self._resize()
        self.refresh()

    def set_display(self, *, wrap: bool | None = None, timestamps: bool | None = None) -> None:
        """Wrap or timestamps on or off, the cursor line kept in view (centred, unless at the end)."""
        if wrap is not None:
            self.wrap = wrap
        if timestamps is not None:
            self.timestamps = timestamps
        cursor = self.cursor
        self.refit()
        self.move_to(cursor, center=cursor is not None)

    def on_resize(self) -> None:
        self._resize()

    def watch_show_horizontal_scrollbar(self, shown: bool) -> None:
        """The scrollbar takes a row from the view (or gives it back): the cursor line stays in view."""
        if self.cursor is None or self.autoscroll:
            self.call_after_refresh(self._reveal, False)

    def _resize(self) -> None:
        width = max(1, self.scrollable_content_region.width)
        if self.wrap:
            self._build_wrap(width)
            rows = self._wrap_starts[-1] if self._wrap_starts else 0
            self.virtual_size = Size(width, rows)
        else:
            stamps = STAMP_WIDTH if self.timestamps else 0
            widest = self._widest + stamps + (40 if self.show_streams else 0)
            self.virtual_size = Size(widest, self.count)

    def _build_wrap(self, width: int) -> None:
        """Row starts of every shown line; only the new lines when nothing else changed."""
        first = self.first
        if self._wrap_base != first or self._wrap_width != width:
            self._wrap_base, self._wrap_width = first, width
            self._wrap_starts = [0]
        starts = self._wrap_starts
        stamps = STAMP_WIDTH if self.timestamps else 0
        short = self.source.short if self.source is not None else str
        names = sorted(self._stream_index, key=self._stream_index.__getitem__)
        prefix = [stamps + (cell_len(f"[{short(n)}] ") if self.show_streams else 0) for n in names]
        at = first + len(starts) - 1 - self._measured_base
        rows = (
            ((prefix[stream] + length - 1) // width + 1) or 1  # an empty line still takes a row
            for length, stream in zip(self._lengths[at:], self._stream_of[at:], strict=True)
        )
        starts.extend(islice(accumulate(rows, initial=starts[-1]), 1, None))

    # -- rows ---------------------------------------------------------------------------------

    def row_of(self, seq: int) -> int:
        """The first row of a line."""
        index = seq - self.first
        if self.wrap and self._wrap_starts:
            return self._wrap_starts[min(max(index, 0), len(self._wrap_starts) - 1)]
        return index

    def line_at(self, row: int) -> tuple[int, int]:
        """(sequence number, row within the line) of a row of the whole log."""
        if self.wrap:
            index = bisect_right(self._wrap_starts, row) - 1
            return self.first + index, row - self._wrap_starts[index]
        return self.first + row, 0

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        row = scroll_y + y
        seq, part = self.line_at(row)
        line = self.buffer.get(seq) if row < self.virtual_size.height else None
        if line is None:
            return Strip.blank(width, self.rich_style)
        strip = Strip(self._segments(line), None)
        if self.wrap:
            strip = strip.crop(part * width, (part + 1) * width)
        else:
            strip = strip.crop(scroll_x, scroll_x + width)
        strip = strip.extend_cell_length(width).apply_style(self.rich_style)
        if seq == self.cursor_seq() and self.has_focus:
            strip = strip.apply_style(CURSOR)
        return strip

    def _segments(self, line: LogLine) -> list[Segment]:
        segments: list[Segment] = []
        if self.timestamps:
            stamp = datetime.fromtimestamp(line.timestamp / 1000, UTC).astimezone()
            segments.append(Segment(stamp.strftime("%m-%d %H:%M:%S.%f")[:-3] + " ", STAMP))
        if self.show_streams:
            short = self.source.short(line.stream) if self.source is not None else line.stream
            segments.append(Segment(f"[{short}] ", STREAM))
        message = line.message.replace("\t", "    ")
        if self._pattern is None:
            segments.append(Segment(message))
            return segments
        at = 0
        for match in self._pattern.finditer(message):
            if match.start() == match.end():
                continue
            segments.append(Segment(message[at : match.start()]))
            segments.append(Segment(match.group(), MATCH))
            at = match.end()
        segments.append(Segment(message[at:]))
        return segments

    # -- cursor, search -----------------------------------------------------------------------

    def move_to(self, seq: int | None, *, center: bool = False) -> None:
        """Put the cursor on a line (None: the last) and bring it into view."""
        if self.count == 0:
            return
        self.cursor = seq
        target = self.cursor_seq()
        assert target is not None
        self.autoscroll = seq is None or (target >= self.buffer.total - 1 and self.autoscroll)
        self._reveal(center)
        self.call_after_refresh(self._reveal, center)  # again if the size just changed (wrap, since)
        self.refresh()

    def _reveal(self, center: bool) -> None:
        """Scroll so that the cursor line shows (its last row, at the end)."""
        target = self.cursor_seq()
        if target is None:
            return
        top = self.row_of(target)
        if target == self.buffer.total - 1 and self.wrap and self._wrap_starts:
            top = self._wrap_starts[-1] - 1
        height = self.scrollable_content_region.height
        if center:
            self.scroll_to(y=max(0, top - height // 2), animate=False, immediate=True)
        elif top < self.scroll_offset.y:
            self.scroll_to(y=top, animate=False, immediate=True)
        elif top >= self.scroll_offset.y + height:
            self.scroll_to(y=top - height + 1, animate=False, immediate=True)

    def move_by(self, lines: int) -> None:
        current = self.cursor_seq()
        if current is None:
            return
        target = min(max(current + lines, self.first), self.buffer.total - 1)
        if lines < 0:
            self.autoscroll = False
        self.move_to(target)
        if target == self.buffer.total - 1 and lines > 0:
            self.cursor = None  # at the end: stays at the end as lines come

    def action_move(self, lines: int) -> None:
        self.move_by(lines)

    def action_page(self, pages: int) -> None:
        self.move_by(pages * max(1, self.scrollable_content_region.height - 1))

    def action_move_to_first(self) -> None:
        self.autoscroll = False
        self.move_to(self.first)

    def action_move_to_last(self) -> None:
        self.autoscroll = True
        self.move_to(None)

    def set_search(self, text: str) -> None:
        """Highlight `text` (any case) at once; its matches are counted over every line in slices."""
        previous, complete = self.search, self._pattern is not None and self._scan is None
        self.search = text
        self._pattern = re.compile(re.escape(text), re.IGNORECASE) if text else None
        candidates: Iterable[int] = range(self.buffer.first_seq, self.buffer.total)
        if complete and previous and previous.lower() in text.lower():
            candidates = self.matches  # a longer search only matches lines the shorter one did
        self.matches = []
        self._scan = None
        self._scans += 1
        if self._pattern is not None:
            self._scan = self._candidates(candidates, self.buffer.total)
            self.set_timer(SEARCH_PAUSE_S, partial(self._search_slice, self._scans))
        self.refresh()

    @property
    def searching(self) -> bool:
        """The search has lines still to look at: `matches` is not complete yet."""
        return self._scan is not None

    def _candidates(self, seqs: Iterable[int], upto: int) -> Iterator[int]:
        yield from seqs
        yield from range(max(upto, self.buffer.first_seq), self.buffer.total)  # lines that came meanwhile

    def _search_slice(self, scan_id: int) -> None:
        if scan_id == self._scans:  # else a newer search has started
            self._search_lines(time.perf_counter() + SEARCH_SLICE_S)
            if self._scan is not None:
                self.set_timer(SEARCH_PAUSE_S, partial(self._search_slice, scan_id))

    def _search_lines(self, deadline: float) -> None:
        """Look at lines for the search until `deadline` (perf_counter) or the last line."""
        if self._scan is None or self._pattern is None:
            return
        scan, search, get, found = self._scan, self._pattern.search, self.buffer.get, self.matches
        while True:
            batch = list(islice(scan, 500))
            for seq in batch:
                line = get(seq)
                if line is not None and search(line.message):
                    found.append(seq)
            if len(batch) < 500:
                self._scan = None
                self.post_message(self.Searched())
                return
            if time.perf_counter() >= deadline:
                return

    def finish_search(self) -> None:
        """Count the rest of the matches now (before jumping to one)."""
        self._search_lines(float("inf"))

    def next_match(self, forward: bool = True) -> int | None:
        """The match after (before) the cursor, wrapping around; None if there is none shown."""
        self.finish_search()
        shown = [seq for seq in self.matches if seq >= self.first] if self.since_seq else self.matches
        if not shown:
            return None
        current = self.cursor_seq()
        current = self.buffer.total if current is None else current
        if forward:
            index = bisect_right(shown, current)
            return shown[index % len(shown)]
        index = bisect_right(shown, current - 1) - 1
        return shown[index]

    def first_error(self) -> int | None:
        for seq in range(self.first, self.buffer.total):
            line = self.buffer.get(seq)
            if line is not None and ERROR_LINE.search(line.message):
                return seq
        return None

    def first_since(self, cutoff_ms: int) -> int:
        """Sequence number of the first line at or after `cutoff_ms` (lines come in time order)."""
        low, high = self.buffer.first_seq, self.buffer.total
        while low < high:
            middle = (low + high) // 2
            line = self.buffer.get(middle)
            if line is not None and line.timestamp < cutoff_ms:
                low = middle + 1
            else:
                high = middle
        return low
