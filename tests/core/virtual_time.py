"""Virtual time for the tests of the monitor and of `smtui wait`: a `ManualClock` that the test advances
together with the emulator's paused clock (`/_emulator/clock`), so that minutes of polling take the time of
their calls, and a test says when things happened in simulated seconds, never in wall-clock ones."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from emulator_proc import EmulatorProcess

from smtui.core.clock import ManualClock

T = TypeVar("T")


class VirtualTime:
    """The clock to hand the monitor, and the emulator whose clock moves with it (`rate` times as fast)."""

    def __init__(self, emu: EmulatorProcess, *, rate: float = 1.0) -> None:
        self.emu = emu  # replaced by a test that restarts its emulator; not moved while it is down
        self.clock = ManualClock(emu.now(), rate=rate, on_advance=self._move_emulator)

    def _move_emulator(self, seconds: float) -> None:
        if self.emu.alive:
            self.emu.advance(seconds * self.clock.rate)

    def monotonic(self) -> float:
        return self.clock.monotonic()

    async def advance(self, seconds: float) -> None:
        await self.clock.advance(seconds)

    async def until(self, predicate: Callable[[], bool], limit: float = 900.0) -> float:
        """Advance until `predicate()` holds; returns how many simulated seconds that took."""
        start = self.clock.monotonic()
        assert await self.clock.advance_until(predicate, limit), f"not met within {limit} simulated seconds"
        return self.clock.monotonic() - start

    async def observe(self, see: Callable[[], None], seconds: float) -> None:
        """Advance `seconds`, calling `see()` at every step (after every poll that ran)."""

        def look() -> bool:
            see()
            return False

        await self.clock.advance_until(look, seconds)

    async def run(self, coro: Coroutine[Any, Any, T], limit: float = 900.0) -> T:
        """Run `coro` while time moves as it needs; its result."""
        task = asyncio.ensure_future(coro)
        try:
            await self.until(task.done, limit)
        finally:
            if not task.done():
                task.cancel()
        return await task

    async def settle(self, monitor: Any, limit: float = 60.0) -> float:
        """Advance until nothing is due now or in flight (only the budget's waits pass)."""
        return await self.until(lambda: not monitor.backlog(), limit)
