"""An execution as a Gantt chart: what `smtui show --timeline` prints and the TUI's timeline view draws.

One bar per step of the tree (ForEach iterations and Condition branch steps under their step), each listed
attempt its own segment, the wait before a step started kept apart from its running time, and the critical
path: the chain of steps that decided the total. Pure: built from what was read, against `now` (a running
segment ends there, so a redraw with a later `now` grows it).

- Wait: from when the step could start (its dependencies' latest end; the execution's start for a step
  without any; its parent's start for an iteration or a branch step) to its first attempt's start. An
  iteration of a running ForEach that has not started yet waits for a slot: its wait runs until now.
- Attempts: each listed entry of a step is a segment. A retry (a retry policy's, or RetryPipelineExecution's)
  keeps one entry and bumps its `AttemptCount`, so the earlier attempts' times are not listed: `attempts`
  counts them, and the time between when the step could start and its last attempt's start is drawn as
  earlier attempts (`░`), not as a wait.
- Critical path: from the step that ended last, back through the dependency that ended last, to a step
  that waited for nothing; into a ForEach, its iteration that ended last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from smtui.core.format import format_duration, left_text
from smtui.core.model import Execution, StepNode, StepRun, StepStatus, StepTree
from smtui.core.timing import Remaining, step_remaining


@dataclass(frozen=True, slots=True)
class Segment:
    """One attempt of a step: from its start to its end (`now` while it runs)."""

    start: datetime
    end: datetime
    status: StepStatus
    attempt: int
    running: bool  # still going: the end is `now`
    cached: bool = False  # a cache hit: the step reused an earlier run's results


@dataclass(frozen=True, slots=True)
class Bar:
    """One row: a step, its wait and its attempts."""

    name: str
    type: str
    depth: int
    status: StepStatus
    ready: datetime | None  # when it could have started; None if unknown
    segments: tuple[Segment, ...]
    critical: bool
    attempts: int = 0  # the highest AttemptCount listed (earlier attempts may have no segment)
    left: Remaining | None = None  # the time left of a running step, when a history was given
    node: StepNode | None = field(default=None, compare=False)  # the tree's node (the TUI acts on it)
    queued: bool = False  # an iteration of a running ForEach not started yet: it waits until now

    @property
    def start(self) -> datetime | None:
        return self.segments[0].start if self.segments else None

    @property
    def end(self) -> datetime | None:
        return self.segments[-1].end if self.segments else None

    @property
    def wait_s(self) -> float | None:
        if self.ready is None or self.start is None:
            return None
        return max(0.0, (self.start - self.ready).total_seconds())


@dataclass(frozen=True, slots=True)
class Timeline:
    start: datetime | None  # the execution's start (the axis' origin)
    end: datetime  # its end, or `now` while it runs
    bars: tuple[Bar, ...]

    @property
    def critical_path(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.bars if b.critical)


def build_timeline(
    execution: Execution,
    tree: StepTree,
    runs: Sequence[StepRun],
    now: datetime,
    history: Mapping[str, Sequence[float]] | None = None,
) -> Timeline:
    """The Gantt model of an execution from its tree and every listed step entry. `history`: each step's
    durations in the pipeline's earlier successful runs (`Store.step_durations`), for the time left of the
    running ones; without it, no estimate."""
    entries: dict[str, list[StepRun]] = {}
    for run in runs:
        if run.started is not None:
            entries.setdefault(run.name, []).append(run)
    end = execution.ended if not execution.is_active and execution.ended else now
    segments = {name: _segments(found, node_end=end) for name, found in entries.items()}
    ends = {name: found[-1].end for name, found in segments.items() if found}
    critical = _critical(tree, ends)
    bars: list[Bar] = []

    def visit(node: StepNode, depth: int, parent_start: datetime | None, queued: bool = False) -> None:
        found = segments.get(node.name, ())
        if depth == 0:
            dep_ends = [ends[d] for d in node.depends_on if d in ends]
            ready = max(dep_ends) if dep_ends else execution.started
        else:
            ready = parent_start
        attempts = max([len(found), *(r.attempt for r in entries.get(node.name, ()))])
        left = step_remaining(node, history.get(node.name, ()), now) if history is not None else None
        bars.append(
            Bar(
                node.name,
                node.type,
                depth,
                node.status,
                ready,
                tuple(found),
                node.name in critical,
                attempts,
                left,
                node,
                queued and not found and node.status is StepStatus.PENDING,
            )
        )
        start = found[0].start if found else None
        # A running ForEach's iterations that have not started wait for a slot (`MaxConcurrency`).
        queue = node.type == "ForEach" and node.status.is_active and execution.is_active
        for child in node.children:
            visit(child, depth + 1, start, queue)

    for root in tree.roots:
        visit(root, 0, execution.started)
    return Timeline(execution.started, end, tuple(bars))


def _segments(found: Sequence[StepRun], node_end: datetime) -> list[Segment]:
    ordered = sorted(found, key=lambda r: (r.started or node_end, r.attempt))
    out = []
    for run in ordered:
        assert run.started is not None  # filtered above
        running = run.ended is None
        cached = run.cache_source_arn is not None
        # Never before its start: a clock a little behind the service's would draw it backwards.
        end = max(run.started, run.ended or node_end)
        out.append(Segment(run.started, end, run.status, run.attempt, running, cached))
    return out


def _critical(tree: StepTree, ends: dict[str, datetime]) -> set[str]:
    roots = {node.name: node for node in tree.roots}
    timed = [name for name in roots if name in ends]
    if not timed:
        return set()
    path: set[str] = set()
    current: str | None = max(timed, key=lambda name: ends[name])
    while current is not None and current not in path:
        path.add(current)
        node = roots[current]
        kids = [c.name for c in node.children if c.name in ends]
        if node.type == "ForEach" and kids:
            path.add(max(kids, key=lambda name: ends[name]))
        deps = [d for d in node.depends_on if d in ends and d in roots]
        current = max(deps, key=lambda name: ends[name]) if deps else None
    return path


# Each status its own character, so the chart reads without colour; the wait is dots.
FILL: dict[StepStatus, str] = {
    StepStatus.SUCCEEDED: "█",
    StepStatus.EXECUTING: "▓",
    StepStatus.STARTING: "▒",
    StepStatus.FAILED: "X",
    StepStatus.STOPPING: "-",
    StepStatus.STOPPED: "=",
    StepStatus.PENDING: " ",
    StepStatus.SKIPPED: " ",
}
CACHED = "◆"  # a cache hit: its results came from an earlier run
WAIT = "·"
EARLIER = "░"  # attempts whose times the API no longer lists
CRITICAL = "*"
LEGEND = (
    "█ succeeded",
    "▓ running",
    "▒ starting",
    "X failed",
    "= stopped",
    "- stopping",
    "◆ cache hit",
    "· waiting",
    "░ earlier attempts",
    "* critical path",
)


@dataclass(frozen=True, slots=True)
class Axis:
    """Where things go on a chart `width` columns wide: the labels, then `width` cells of time."""

    label: int  # columns of the label (the critical mark and the indented name)
    width: int  # cells of the time axis
    origin: datetime
    total: float  # seconds the axis spans

    def column(self, at: datetime) -> int:
        return min(self.width - 1, max(0, int((at - self.origin).total_seconds() / self.total * self.width)))


def axis_for(timeline: Timeline, width: int, *, label_max: int = 30, short: bool = False) -> Axis:
    """The axis of a chart `width` columns wide: the labels as wide as the longest (up to `label_max`),
    the tails as wide as the longest (up to two fifths of the width), the rest for the bars."""
    label = min(label_max, max([8, *(len(b.name) + 2 * b.depth + 2 for b in timeline.bars)]))
    tail = min(width * 2 // 5, max([12, *(len(bar_tail(b, short=short)) + 2 for b in timeline.bars)]))
    axis = max(10, width - label - tail)
    origin = timeline.start or min((b.start for b in timeline.bars if b.start), default=timeline.end)
    return Axis(label, axis, origin, max(1.0, (timeline.end - origin).total_seconds()))


def ruler_lines(axis: Axis) -> list[str]:
    """The axis' two lines: `0s`, the middle and the total above `├───┤`; drawn from the label's end."""
    width, total = axis.width, axis.total
    left, right = "0s", format_duration(timedelta(seconds=total))
    mid = format_duration(timedelta(seconds=total / 2))
    ruler = list(left.ljust(width))
    half = width // 2 - len(mid) // 2
    if half > len(left) and half + len(mid) < width - len(right):  # a space either side, or no middle
        ruler[half : half + len(mid)] = mid
    ruler[width - len(right) :] = right
    pad = " " * (axis.label + 1)
    return [pad + "".join(ruler), pad + "├" + "─" * (width - 2) + "┤"]


def bar_cells(bar: Bar, axis: Axis) -> list[str]:
    """A bar's `axis.width` cells: its wait (or unlisted earlier attempts), then each attempt's segment."""
    cells = [" "] * axis.width
    if bar.queued and bar.ready is not None:
        for i in range(axis.column(bar.ready), axis.width):
            cells[i] = WAIT
    if bar.ready is not None and bar.start is not None and bar.start > bar.ready:
        before = EARLIER if bar.attempts > len(bar.segments) else WAIT
        for i in range(axis.column(bar.ready), axis.column(bar.start)):
            cells[i] = before
    for segment in bar.segments:
        first, last = axis.column(segment.start), axis.column(segment.end)
        fill = CACHED if segment.cached else FILL[segment.status]
        for i in range(first, max(first, last - 1) + 1):
            cells[i] = fill
    return cells


def bar_label(bar: Bar, axis: Axis) -> str:
    """The critical mark and the name, indented by depth, cut to the label's width."""
    name = ("  " * bar.depth + bar.name)[: axis.label - 2]
    return f"{CRITICAL if bar.critical else ' '}{name.ljust(axis.label - 1)}"


def bar_tail(bar: Bar, *, short: bool = False) -> str:
    """After the bar: its duration, attempts, wait, and the time left of a running one; or its status."""
    if bar.start is None or bar.end is None:
        return "waiting" if bar.queued else bar.status.value.lower()
    tail = format_duration(bar.end - bar.start)
    if bar.attempts > 1:
        tail += f" ×{bar.attempts}"
    if bar.wait_s is not None and bar.wait_s >= 1 and bar.attempts <= len(bar.segments):
        wait = format_duration(timedelta(seconds=bar.wait_s))
        tail += f" (w {wait})" if short else f" (waited {wait})"
    if bar.segments and bar.segments[-1].cached:
        tail += " cached"
    if bar.left is not None:
        tail += f" {left_text(bar.left, short=short)}"
    return tail


def legend_lines(width: int) -> list[str]:
    """The legend, wrapped to `width`, never cut: it is what makes the chart readable without colour."""
    out, line = [], ""
    for part in LEGEND:
        if line and len(line) + 2 + len(part) > width:
            out.append(line)
            line = ""
        line = f"{line}  {part}" if line else part
    out.append(line)
    return out


def timeline_lines(timeline: Timeline, width: int) -> list[str]:
    """The chart as text, `width` columns wide: labels, then the bars on a shared time axis, then the
    duration of each step (its wait in brackets, a running step's time left when known)."""
    axis = axis_for(timeline, width)
    out = ruler_lines(axis)
    for bar in timeline.bars:
        out.append(f"{bar_label(bar, axis)} {''.join(bar_cells(bar, axis))} {bar_tail(bar)}".rstrip())
    return out + legend_lines(width)
