"""`?`: every key that works on the screen underneath, including the ones the footer hides."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


class KeysScreen(ModalScreen[None]):
    """A table of key → what it does, read from the live bindings (so remapped keys show)."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="keys.close"),
    ]

    def __init__(self, under: Screen[Any]) -> None:
        super().__init__()
        self._under = under

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        # Cells are Text, not str: Rich reads a str as markup, and `[keys]` would vanish as a tag.
        table.add_column("Key", style="bold", no_wrap=True)
        table.add_column("Action")
        table.add_column(Text("id (for [keys] in config.toml)"), style="dim", no_wrap=True)
        seen: set[tuple[str, str]] = set()
        # This screen's and the app's own keys first; the generic widget keys (cursor, paging) after.
        ours = (self._under, self.app)
        entries = sorted(self._under.active_bindings.items(), key=lambda item: item[1].node not in ours)
        for key, active in entries:
            binding = active.binding
            if not binding.description or binding.system:
                continue
            display = self.app.get_key_display(binding)
            entry = (display, binding.description)
            if entry in seen:
                continue
            seen.add(entry)
            state = "" if active.enabled else " (not now)"
            table.add_row(Text(display or key), Text(binding.description + state), Text(binding.id or ""))
        table.add_row(
            Text(self.app.get_key_display(Binding("ctrl+p", ""))), Text("Command palette (every action)")
        )
        with VerticalScroll(id="keys-box", classes="dialog"):
            yield Static("[b]Keys[/b]  (esc to close)")
            yield Static(table, id="keys-table")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
