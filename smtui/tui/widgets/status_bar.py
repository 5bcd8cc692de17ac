"""The header line: where we are connected, counts by status, freshness and trouble."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from smtui.core.model import ExecutionStatus
from smtui.tui import format as fmt

_CONTEXT_STATES = {"ok": ("●", "green"), "throttled": ("◐", "yellow")}


def status_line(
    *,
    endpoint: str,
    counts: Mapping[ExecutionStatus, int],
    last_refresh: datetime | None,
    connected: bool,
    throttled: bool,
    error: str | None,
    read_only: bool,
    updates: str | None = None,
    contexts: Sequence[tuple[str, str]] = (),
) -> Text:
    """`smtui │ us-east-1 · 1234 │ ▶ 3 ✔ 12 ✘ 2 │ ⟳ 08:37:21 push │ THROTTLED`.

    `updates`: with an events queue, `push`, or `polling (events: reason)` when the monitor fell back.
    `contexts`: with several, each one's name and state (`ok`, `throttled`, `error`) in place of the
    endpoint: `alpha ● beta ⚠` (the error itself, named by its context, comes at the end)."""
    line = Text()
    line.append(" smtui ", style="bold reverse")
    if contexts:
        line.append(" ")
        for name, state in contexts:
            glyph, style = _CONTEXT_STATES.get(state, ("⚠", "bold red"))
            line.append(f"{name} ", style="bold")
            line.append(f"{glyph} ", style=fmt.styled(style))
    else:
        line.append(f" {endpoint} ", style="bold")
    if read_only:
        line.append(" read-only ", style="reverse")
    line.append("│ ", style="bright_black")
    for status in ExecutionStatus:
        if counts.get(status):
            glyph, style = fmt.EXECUTION_GLYPHS[status]
            line.append(f"{glyph} {counts[status]}", style=fmt.styled(style))
            line.append("  ")
    if not counts:
        line.append("no executions yet  ", style="bright_black")
    line.append("│ ", style="bright_black")
    line.append(f"↻ {fmt.clock_time(last_refresh)}")
    if updates:
        line.append(f" {fmt.shorten(updates, 48)}", style="green" if updates == "push" else "yellow")
    if not connected:
        line.append("  ")
        line.append(" DISCONNECTED ", style="bold reverse red")
        if error:
            line.append(f" {fmt.shorten(error, 60)}", style=fmt.styled("red"))
    elif throttled:
        line.append("  ")
        line.append(" THROTTLED ", style="bold reverse yellow")
    if connected and error:
        # Reachable but refused (no credentials, expired token, access denied): say so, in AWS's words,
        # or the screen would only look empty.
        line.append("  ")
        line.append(" ERROR ", style="bold reverse red")
        line.append(f" {fmt.shorten(error, 90)}", style=fmt.styled("red"))
    return line


class StatusBar(Static):
    """One line at the top of every screen; the app feeds it `status_line()` results."""

    DEFAULT_CSS = """
    StatusBar { height: 1; dock: top; background: $panel; }
    """

    def show(self, text: Text) -> None:
        # One fixed line: no layout pass, and no repaint at all when nothing changed.
        if text != self._shown:
            self._shown = text
            self.update(text, layout=False)

    _shown: Text | None = None
