"""`smtui ...` run in a thread by the headless tests, so that a test can watch the emulator and drive its
clock while the command runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from click.testing import Result
from emulator_proc import EmulatorProcess

Smtui = Callable[..., Result]


class Background:
    """A command running in a thread; `join` returns its result."""

    def __init__(self, smtui: Smtui, *args: str) -> None:
        self.result: Result | None = None
        self.thread = threading.Thread(target=self._run, args=(smtui, args), daemon=True)
        self.thread.start()

    def _run(self, smtui: Smtui, args: tuple[str, ...]) -> None:
        self.result = smtui(*args)

    def join(self, emu: EmulatorProcess | None = None, *, tick: float = 15, limit: float = 60) -> Result:
        """Wait for the command; with `emu`, let simulated time pass (`tick` s every 50 ms) meanwhile."""
        deadline = time.monotonic() + limit
        while self.thread.is_alive() and time.monotonic() < deadline:
            if emu is not None:
                emu.advance(tick)
            self.thread.join(0.05)
        assert self.result is not None, "the command did not return"
        return self.result
