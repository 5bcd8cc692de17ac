"""The one clock of a monitor: its scheduler, its call budget and its store all read it.

A clock tells two times and waits on one of them:
- `monotonic()`: seconds that only move forward, for when polls are due, the budget's tokens and backoffs;
- `now()`: the server's time (aware UTC), for the timestamps the store keeps and elapsed times;
- `wait(event, deadline)`: until the event is set or `monotonic()` reaches the deadline (`sleep(s)`: s of it).

`RealClock` is asyncio's loop time and the server's time as the client knows it (local time corrected by the
skew its `Date` headers show). `ManualClock` stands still until a test advances it: time then moves from
one sleeper's deadline to the next, and before each step every worker registered with `add_worker` (the
monitor's scheduler, or an `Activity` around calls made outside it) finishes what it is doing — its calls
are real I/O. With `on_advance`, the test moves an emulator's clock along at each step (by the same amount,
or `rate` times as much), so that hours of polling against an emulator with a paused clock take the time of
their calls only.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import inspect
import itertools
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol


class Monotonic(Protocol):
    """The part of a clock a call budget reads (`smtui.core.logs.Clock`, the Logs client's, has it too)."""

    def monotonic(self) -> float: ...


class Worker(Protocol):
    """Something that does work between a manual clock's steps (calls over the network)."""

    def busy(self) -> bool: ...

    async def idle(self) -> None:
        """Return once nothing is left to do without the clock moving."""


class Clock(Protocol):
    """What the monitor, its scheduler, its budget and its store read the time from."""

    def monotonic(self) -> float: ...

    def now(self) -> datetime: ...

    async def wait(self, event: asyncio.Event, deadline: float | None) -> bool:
        """Until `event` is set (True) or `monotonic()` reaches `deadline` (False; None: no deadline)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """`seconds` of this clock (so a clock is also a `smtui.core.logs.Clock`)."""
        ...

    def add_worker(self, worker: Worker) -> Callable[[], None]:
        """A manual clock lets this worker go idle before it moves; a real one ignores it. Returns the
        function that removes it."""
        ...


class Activity:
    """A `Worker` for calls made outside a scheduler: busy inside `with activity.running():`."""

    def __init__(self) -> None:
        self._running = 0
        self._done = asyncio.Event()
        self._done.set()

    def busy(self) -> bool:
        return self._running > 0

    async def idle(self) -> None:
        await self._done.wait()

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        self._running += 1
        self._done.clear()
        try:
            yield
        finally:
            self._running -= 1
            if not self._running:
                self._done.set()


class RealClock:
    """Loop time, and the server's time from `now` (by default the machine's UTC time)."""

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))

    def monotonic(self) -> float:
        try:
            return asyncio.get_running_loop().time()
        except RuntimeError:  # outside a loop (a budget made before one runs): the same clock
            return time.monotonic()

    def now(self) -> datetime:
        return self._now()

    async def wait(self, event: asyncio.Event, deadline: float | None) -> bool:
        if deadline is None:
            await event.wait()
            return True
        # asyncio.timeout_at, not wait_for: on 3.11 wait_for can swallow a cancellation that races with the
        # event being set, and the waiter's owner would then wait forever to stop it.
        try:
            async with asyncio.timeout_at(deadline):
                await event.wait()
        except TimeoutError:
            return event.is_set()
        return True

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def add_worker(self, worker: Worker) -> Callable[[], None]:
        return lambda: None


ORIGIN = 1000.0  # a manual clock's first monotonic reading (not 0: nothing may take 0 for "never")


class ManualClock:
    """Time that moves only when a test advances it (see the module's docstring)."""

    def __init__(
        self,
        start: datetime | None = None,
        *,
        rate: float = 1.0,
        on_advance: Callable[[float], Awaitable[None] | None] | None = None,
    ) -> None:
        self._start = start or datetime(2024, 1, 1, tzinfo=UTC)
        self.rate = rate  # server seconds per monotonic second (an emulator sped up)
        self._monotonic = ORIGIN
        self._on_advance = on_advance  # called with each step's monotonic seconds
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._workers: list[Worker] = []

    def monotonic(self) -> float:
        return self._monotonic

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(self._monotonic - ORIGIN) * self.rate)

    async def wait(self, event: asyncio.Event, deadline: float | None) -> bool:
        if event.is_set():
            return True
        if deadline is not None and deadline <= self._monotonic:
            await asyncio.sleep(0)  # a wait always yields, as a real one does
            return event.is_set()
        loop = asyncio.get_running_loop()
        timer: asyncio.Future[None] = loop.create_future()
        if deadline is not None:
            heapq.heappush(self._sleepers, (deadline, next(self._order), timer))
        waiter: asyncio.Future[Any] = loop.create_task(event.wait())
        try:
            await asyncio.wait([waiter, timer], return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            timer.cancel()  # done: `advance` drops it from the heap
        return event.is_set()

    async def sleep(self, seconds: float) -> None:
        await self.wait(asyncio.Event(), self._monotonic + seconds)

    def add_worker(self, worker: Worker) -> Callable[[], None]:
        self._workers.append(worker)
        return lambda: self._workers.remove(worker) if worker in self._workers else None

    def next_deadline(self) -> float | None:
        """The earliest deadline anyone waits for."""
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    async def settle(self) -> None:
        """Let every worker finish what it can do now (its calls), and whoever it wakes react."""
        while True:
            for _ in range(4):  # woken tasks run, and those they wake (a few hops, no I/O)
                await asyncio.sleep(0)
            busy = [w for w in self._workers if w.busy()]
            if not busy:
                return
            await asyncio.gather(*(w.idle() for w in busy))

    async def advance(self, seconds: float) -> None:
        """Move time on by `seconds`, one sleeper's deadline at a time, the workers idle before each step."""
        await self.advance_until(lambda: False, seconds)

    async def advance_until(self, predicate: Callable[[], bool], limit: float) -> bool:
        """Move time on until `predicate()` holds, `limit` seconds at most; whether it held. The predicate is
        checked before each step, once the workers are idle (so it may also just observe each step)."""
        target = self._monotonic + limit
        while True:
            await self.settle()
            if predicate():
                return True
            upcoming = self.next_deadline()
            if upcoming is None or upcoming > target:
                break
            await self._move_to(upcoming)
        await self._move_to(target)
        await self.settle()
        return predicate()

    async def _move_to(self, at: float) -> None:
        step = at - self._monotonic
        if step > 0:
            if self._on_advance is not None:
                moved = self._on_advance(step)  # the emulator first: the polls this step wakes see it
                if inspect.isawaitable(moved):
                    await moved
            self._monotonic = at
        while self._sleepers and self._sleepers[0][0] <= self._monotonic:
            _, _, timer = heapq.heappop(self._sleepers)
            if not timer.done():
                timer.set_result(None)
