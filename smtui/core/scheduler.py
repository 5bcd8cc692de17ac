"""Keyed jobs run inside a call budget, on a clock: the scheduler knows when each is due, not what it does.

- Each key has at most one due time (the clock's monotonic seconds) and at most one job in flight: a key due
  again while its job runs waits for it to finish, so jobs of one key never overlap.
- A job returns when it is due again (seconds from its end), or None to stop. A job that raises is handed
  to `on_error` with its count of failures in a row, which answers the same (`backoff` helps).
- When the budget cannot run every due job, `rank` orders them (smallest first): only as many as the budget
  grants now are ranked, and the others wait for the next token.
- The loop sleeps on the clock until the next due time, the next token, or a `kick` (any change of a due
  time kicks). `settle`, `ran` and `idle` wait on a signal the loop and the jobs give at each change, never
  by polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from typing import Any, Generic, TypeVar

from smtui.core.budget import CallBudget
from smtui.core.clock import Clock

K = TypeVar("K", bound=Hashable)

BUDGET_RECHECK = 1.0  # while the budget blocks, the loop looks again at least this often (its rate climbs)


def backoff(failures: int, cap: float) -> float:
    """Seconds before a job that failed `failures` times in a row runs again: 0.5 s, doubling, capped."""
    return min(cap, 0.25 * 2.0 ** min(failures, 8))


class Scheduler(Generic[K]):
    """Runs `run(key)` for each key when it is due, inside `budget`, on `clock` (see the module docstring)."""

    def __init__(
        self,
        clock: Clock,
        budget: CallBudget,
        run: Callable[[K], Awaitable[float | None]],
        *,
        rank: Callable[[K, float], Any],
        on_error: Callable[[K, Exception, int], float | None],
        name: Callable[[K], str] = str,
    ) -> None:
        self.clock = clock
        self.budget = budget
        self._run = run
        self._rank = rank
        self._on_error = on_error
        self._name = name
        self._due: dict[K, float] = {}
        self.in_flight: set[K] = set()
        self._failures: dict[K, int] = {}
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()  # replaced at each signal: every waiter of the old one wakes
        self._parked = False
        self._task: asyncio.Task[None] | None = None
        self._workers: set[asyncio.Task[None]] = set()
        self._unregister: Callable[[], None] = lambda: None

    # -- due times ---------------------------------------------------------------------------

    @property
    def due(self) -> Mapping[K, float]:
        return self._due

    def schedule(self, key: K, at: float) -> None:
        """Due at `at`, or earlier if it already was."""
        previous = self._due.get(key)
        self._due[key] = at if previous is None else min(previous, at)
        self.kick()

    def reschedule(self, key: K, at: float) -> None:
        """Due at `at`, whenever it was due before."""
        self._due[key] = at
        self.kick()

    def setdefault(self, key: K, at: float) -> None:
        """Due at `at` unless it is already due or running (a one-off read asked for twice runs once)."""
        if key not in self._due and key not in self.in_flight:
            self._due[key] = at
            self.kick()

    def cancel(self, key: K) -> None:
        if self._due.pop(key, None) is not None:
            self.kick()

    def cancel_where(self, predicate: Callable[[K], bool]) -> None:
        """Forget the due times and failure counts of the keys that match (a job in flight runs on)."""
        for table in (self._due, self._failures):
            for key in [k for k in table if predicate(k)]:
                del table[key]
        self.kick()

    def kick(self) -> None:
        self._wake.set()

    def due_now(self) -> set[K]:
        """Keys due now (not yet started), and those in flight."""
        now = self.clock.monotonic()
        return {k for k, t in self._due.items() if t <= now} | self.in_flight

    # -- waiting on it -----------------------------------------------------------------------

    def busy(self) -> bool:
        """Whether it can still do something without the clock moving (a `ManualClock` waits for it)."""
        return self._task is not None and (not self._parked or bool(self.in_flight) or self._wake.is_set())

    async def idle(self) -> None:
        while self.busy():
            await self._changed.wait()

    async def settle(self, limit: float) -> bool:
        """Until nothing is due now or in flight (False if `limit` seconds of the clock pass first)."""

        def quiet() -> bool:
            now = self.clock.monotonic()
            return not self.in_flight and not any(t <= now for t in self._due.values())

        return await self._until(quiet, self.clock.monotonic() + limit)

    async def ran(self, keys: Iterable[K], limit: float) -> bool:
        """Until each of these keys due now or in flight has finished a run (False after `limit` s)."""
        start = self.clock.monotonic()
        asked = set(keys)

        def done() -> bool:
            return not any(k in self.in_flight or self._due.get(k, start + 1) <= start for k in asked)

        return await self._until(done, start + limit)

    async def _until(self, predicate: Callable[[], bool], deadline: float) -> bool:
        while not predicate():
            if self.clock.monotonic() >= deadline:
                return False
            await self.clock.wait(self._changed, deadline)
        return True

    def _signal(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    # -- running -----------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="smtui-scheduler")
            self._unregister = self.clock.add_worker(self)

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._unregister()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for worker in list(self._workers):
            worker.cancel()
        if self._workers:
            await asyncio.gather(*self._workers, return_exceptions=True)
        self._signal()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _loop(self) -> None:
        budget = self.budget
        while True:
            self._wake.clear()
            now = self.clock.monotonic()
            # One pass over every due time (hundreds with a long history): what is due, and when the next
            # of the others is.
            due: list[K] = []
            upcoming: float | None = None
            in_flight = self.in_flight
            for key, at in self._due.items():
                if key in in_flight:
                    continue  # due again while in flight: waits for its job to finish (which kicks)
                if at <= now:
                    due.append(key)
                elif upcoming is None or at < upcoming:
                    upcoming = at
            blocked = False
            if due:
                room = budget.room()
                blocked = room < len(due)
                for key in heapq.nsmallest(room, due, key=lambda k: self._rank(k, self._due[k])):
                    if not budget.try_acquire():
                        blocked = True
                        break
                    self._launch(key)
            deadline: float | None
            if blocked and budget.in_flight >= budget.max_in_flight:
                deadline = None  # a finishing job kicks
            elif blocked:
                deadline = now + max(0.01, min(budget.wait_time(), BUDGET_RECHECK))  # the next token
            else:
                deadline = None if upcoming is None else max(upcoming, now + 0.01)
            self._parked = True
            self._signal()
            try:
                await self.clock.wait(self._wake, deadline)
            finally:
                self._parked = False

    def _launch(self, key: K) -> None:
        self.in_flight.add(key)
        del self._due[key]
        worker = asyncio.get_running_loop().create_task(self._job(key), name=f"smtui-poll-{self._name(key)}")
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)

    async def _job(self, key: K) -> None:
        next_in: float | None
        try:
            next_in = await self._run(key)
            self._failures.pop(key, None)
        except Exception as exc:  # whatever failed, the key goes on (`on_error` decides when)
            failures = self._failures.get(key, 0) + 1
            self._failures[key] = failures
            next_in = self._on_error(key, exc, failures)
        finally:
            self.budget.release()
            self.in_flight.discard(key)
        if next_in is not None:
            self.schedule(key, self.clock.monotonic() + next_in)
        self.kick()
        self._signal()
