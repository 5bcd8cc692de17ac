"""The log buffer keeps the newest `capacity` lines: a log of any length costs bounded memory, lines keep
their sequence numbers, and any line kept is reachable by position without walking the buffer."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from smtui.core.log_buffer import DEFAULT_LINES, LogBuffer
from smtui.core.logs import LogLine


def line(i: int) -> LogLine:
    return LogLine(1_700_000_000_000 + i, "job/algo-1-1700000000", f"line {i:07d} of the training log")


def test_a_hundred_thousand_lines_keep_only_the_newest_capacity() -> None:
    buffer = LogBuffer(1_000)
    buffer.extend(line(i) for i in range(100_000))
    assert len(buffer) == 1_000
    assert buffer.total == 100_000 and buffer.dropped == buffer.first_seq == 99_000
    assert buffer[0].message == line(99_000).message
    assert buffer[-1].message == line(99_999).message
    assert [x.message for x in buffer] == [line(i).message for i in range(99_000, 100_000)]


def test_memory_stays_bounded_by_the_capacity_not_the_log() -> None:
    gc.collect()
    tracemalloc.start()
    try:
        buffer = LogBuffer(5_000)
        buffer.extend(line(i) for i in range(10_000))
        after_10k, _ = tracemalloc.get_traced_memory()
        buffer.extend(line(i) for i in range(10_000, 100_000))
        after_100k, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(buffer) == 5_000
    # Ten times as many lines went in, the buffer holds the same number: memory did not grow with them.
    assert after_100k < after_10k * 1.2
    assert after_100k < 5_000 * 400  # ~ 5,000 lines of ~60 characters, not 100,000


def test_sequence_numbers_survive_the_wrap() -> None:
    buffer = LogBuffer(5)
    buffer.extend(line(i) for i in range(12))
    assert buffer.first_seq == 7
    assert buffer.get(6) is None  # dropped
    got = buffer.get(9)
    assert got is not None and got.message == line(9).message
    assert buffer.get(12) is None  # not there yet
    assert [x.message for x in buffer.since(10)] == [line(10).message, line(11).message]
    assert [x.message for x in buffer.since(0)] == [line(i).message for i in range(7, 12)]


@pytest.mark.parametrize("added", [3, 5, 7, 10, 13])
def test_slices_match_a_list_of_the_kept_lines(added: int) -> None:
    buffer = LogBuffer(5)
    buffer.extend(line(i) for i in range(added))
    kept = [line(i) for i in range(max(0, added - 5), added)]
    for start in range(-6, 7):
        for stop in [*range(-6, 7), None]:
            assert buffer.lines(start, stop) == kept[start:stop], (start, stop)
    assert [buffer[i] for i in range(len(kept))] == kept
    with pytest.raises(IndexError):
        buffer[len(kept)]


def test_clear_keeps_counting() -> None:
    buffer = LogBuffer(3)
    buffer.extend(line(i) for i in range(4))
    buffer.clear()
    assert len(buffer) == 0 and buffer.first_seq == 4
    buffer.append(line(4))
    assert buffer.get(4) == line(4)


def test_default_and_invalid_capacity() -> None:
    assert LogBuffer().capacity == DEFAULT_LINES == 100_000
    with pytest.raises(ValueError):
        LogBuffer(0)
