"""Text rendering shared by the headless commands (and usable by the TUI): durations, glyphs, tree lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from smtui.core.model import ExecutionStatus, StepNode, StepStatus, StepTree
from smtui.core.timing import Remaining, step_elapsed


@dataclass(frozen=True)
class Look:
    """How a status looks, everywhere smtui shows one: the TUI, `smtui show`, `ls` and `wait`.

    Every status has a glyph *and* a word, so it reads the same without colour (`NO_COLOR`, monochrome
    terminals over SSH): colour only reinforces what the glyph already says. `colour` is a Rich style name;
    core only carries it, the TUI applies it.
    """

    glyph: str
    colour: str
    word: str  # short, so the TUI's status column fits 80 columns


# The one table of statuses, glyphs and colours.
EXECUTION_LOOKS: dict[ExecutionStatus, Look] = {
    ExecutionStatus.EXECUTING: Look("▶", "bold yellow", "Running"),
    ExecutionStatus.STOPPING: Look("◼", "magenta", "Stopping"),
    ExecutionStatus.STOPPED: Look("■", "bright_black", "Stopped"),
    ExecutionStatus.FAILED: Look("✘", "bold red", "Failed"),
    ExecutionStatus.SUCCEEDED: Look("✔", "green", "Succeeded"),
    ExecutionStatus.COMPLETED_WITH_FAILURES: Look("◑", "dark_orange", "Partial"),
}

STEP_LOOKS: dict[StepStatus, Look] = {
    StepStatus.PENDING: Look("○", "bright_black", "Pending"),
    StepStatus.STARTING: Look("◔", "yellow", "Starting"),
    StepStatus.EXECUTING: Look("▶", "bold yellow", "Executing"),
    StepStatus.STOPPING: Look("◼", "magenta", "Stopping"),
    StepStatus.STOPPED: Look("■", "bright_black", "Stopped"),
    StepStatus.FAILED: Look("✘", "bold red", "Failed"),
    StepStatus.SUCCEEDED: Look("✔", "green", "Succeeded"),
    StepStatus.SKIPPED: Look("⊘", "bright_black", "Skipped"),
}

EXECUTION_GLYPHS: dict[ExecutionStatus, str] = {
    status: look.glyph for status, look in EXECUTION_LOOKS.items()
}
STEP_GLYPHS: dict[StepStatus, str] = {status: look.glyph for status, look in STEP_LOOKS.items()}


def format_duration(value: timedelta | None) -> str:
    """`45s`, `3m04s`, `1h02m`, `2d03h`; `-` when unknown."""
    if value is None:
        return "-"
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def left_text(left: Remaining, *, short: bool = False) -> str:
    """`~3m left`, `no history`, `longer than any earlier run` (`>max` when `short`)."""
    if left.seconds is not None:
        return f"~{format_duration(timedelta(seconds=left.seconds))} left"
    if left.note == "longer-than-history":
        return ">max" if short else "longer than any earlier run"
    if left.note == "no-history":
        return "no history"
    return ""


def node_details(node: StepNode, now: datetime) -> list[str]:
    """The columns after a step's name: type, duration, attempt, cache hit, failure or skip reason."""
    parts = [node.type, node.status.value]
    duration = step_elapsed(node, now)
    if duration is not None:
        parts.append(format_duration(duration))
    run = node.run
    if run is not None:
        if run.attempt > 1:
            parts.append(f"attempt {run.attempt}")
        if run.cache_source_arn:
            parts.append(f"cache hit from {run.cache_source_arn.rsplit('/', 1)[-1]}")
        if run.iteration_item is not None:
            parts.append(f"item {run.iteration_item}")
        if run.condition_outcome is not None:
            parts.append(f"outcome {run.condition_outcome}")
        if run.failure_reason:
            parts.append(f"reason: {run.failure_reason}")
    if node.branch:
        parts.append(f"{node.branch}-branch")
    if node.skip_reason:
        parts.append(f"skipped: {node.skip_reason}")
    elif node.status is StepStatus.PENDING:
        parts.append("waiting" if not node.depends_on else f"waiting for {', '.join(node.depends_on)}")
    return parts


def tree_lines(tree: StepTree, now: datetime) -> list[str]:
    """The tree with `├─ └─` lines, one step per line: `├─ ✓ Train  Training  Succeeded  3m04s ...`."""
    lines: list[str] = []

    def visit(nodes: tuple[StepNode, ...], prefix: str) -> None:
        for i, node in enumerate(nodes):
            last = i == len(nodes) - 1
            branch = "└─ " if last else "├─ "
            details = "  ".join(node_details(node, now))
            lines.append(f"{prefix}{branch}{STEP_GLYPHS[node.status]} {node.name}  {details}")
            visit(node.children, prefix + ("   " if last else "│  "))

    visit(tree.roots, "")
    return lines
