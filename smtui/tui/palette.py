"""The command palette's entries, shared by the app (which lists them) and the screens (which offer them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class PaletteCommand:
    """An entry of the command palette: `"execution: stop"` runs `action` on the screen."""

    title: str
    help: str
    action: str


@runtime_checkable
class Commanding(Protocol):
    """A screen that offers commands in the palette (the app lists those it can run now)."""

    def palette_commands(self) -> Iterable[PaletteCommand]: ...
