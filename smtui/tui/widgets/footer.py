"""The key bar at the bottom of each screen: Textual's `Footer`, without two style passes per key.

Textual 8.2.8's `FooterKey.compact` defaults to True while `Footer.compact` defaults to False, and the footer
binds each key's `compact` to its own. So every key of every footer rebuild (a focus change, a screen switch,
`refresh_bindings()`) first gets `-compact` at mount, then loses it, and each class change re-applies the
stylesheet to that key at once: a dozen keys, two passes each, on a key press that changes what keys do.
Reported upstream: docs/upstream/textual-footer-compact.md (with the figures).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.reactive import Reactive
from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """`Footer` whose keys start with the footer's own `compact`, so the binding to it changes nothing. The
    palette's key (`-command-palette`) is not bound to it and keeps its own (compact): left as it is."""

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            compact = getattr(type(widget), "compact", None)  # FooterKey is not exported by textual.widgets
            if isinstance(compact, Reactive) and not widget.has_class("-command-palette"):
                widget.set_reactive(compact, self.compact)
            yield widget
