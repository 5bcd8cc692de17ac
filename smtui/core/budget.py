"""The monitor's global call budget: a token bucket with a cap on calls in flight, AIMD on throttling.

On a throttled response the rate halves (multiplicative decrease, floor `min_rate`); while calls succeed
it climbs back by `increase` calls/s every second (additive increase, default rate/10) up to the
configured rate. The bucket holds at most one second of tokens, so a burst never exceeds what the rate
allows over a second. Time is the monotonic time of the monitor's clock (`smtui.core.clock`).

A user's request (an action, the details a screen asks for) acquires with `urgent=True`: it goes ahead of
the polls, which leave the next tokens to urgent callers `waiting` for one, and the in-flight cap does not
hold it back (it is one call per key press); it still takes its token and counts as in flight.
"""

from __future__ import annotations

import contextvars
from collections import deque

from smtui.core.clock import Monotonic, RealClock

# One cell per budgeted call, counting its attempts: lets the client's per-attempt listener tell the first
# attempt (paid by `try_acquire`) from botocore's own retries (charged afterwards).
ATTEMPTS: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("smtui_attempts", default=None)


class CallBudget:
    """Token bucket + in-flight cap. `try_acquire` before a call, `release` after it."""

    def __init__(
        self,
        rate: float,
        *,
        max_in_flight: int = 8,
        min_rate: float = 0.5,
        increase: float | None = None,
        clock: Monotonic | None = None,
    ) -> None:
        self.max_rate = rate
        self.rate = rate
        self.min_rate = min(min_rate, rate)
        # Back from the floor to the full rate in about ten throttle-free seconds.
        self.increase = increase if increase is not None else max(0.5, rate / 10)
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        self.waiting = 0  # urgent callers waiting for a token: `try_acquire` leaves them the next ones
        self._clock = (clock or RealClock()).monotonic
        self._tokens = min(rate, 1.0)
        self._last = self._clock()
        self._last_throttle: float | None = None
        self._attempts: deque[float] = deque()

    def _refill(self) -> None:
        now = self._clock()
        dt = max(0.0, now - self._last)
        self._last = now
        if self.rate < self.max_rate and (self._last_throttle is None or now - self._last_throttle > 1.0):
            self.rate = min(self.max_rate, self.rate + self.increase * dt)
        self._tokens = min(max(1.0, self.rate), self._tokens + self.rate * dt)

    def try_acquire(self, *, urgent: bool = False) -> bool:
        self._refill()
        if urgent:
            if self._tokens < 1.0:
                return False
        elif self.in_flight >= self.max_in_flight or self._tokens < 1.0 + self.waiting:
            return False
        self._tokens -= 1.0
        self.in_flight += 1
        return True

    def room(self) -> int:
        """How many calls `try_acquire` would grant right now."""
        self._refill()
        return max(0, min(self.max_in_flight - self.in_flight, int(self._tokens - self.waiting)))

    def release(self) -> None:
        self.in_flight = max(0, self.in_flight - 1)

    def charge(self, n: float = 1.0) -> None:
        """An attempt the bucket did not grant (a retry botocore made on its own): pay for it afterwards."""
        self._refill()
        self._tokens -= n

    def note_attempt(self) -> None:
        now = self._clock()
        self._attempts.append(now)
        while self._attempts and now - self._attempts[0] > 10.0:
            self._attempts.popleft()

    def on_throttle(self) -> None:
        now = self._clock()
        # One halving per second at most: a burst of throttled in-flight calls is one congestion signal.
        if self._last_throttle is None or now - self._last_throttle > 1.0:
            self._refill()
            self.rate = max(self.min_rate, self.rate / 2)
            self._tokens = min(self._tokens, 0.0)
        self._last_throttle = now

    def wait_time(self, *, urgent: bool = False) -> float:
        """Seconds until `try_acquire` can grant a token (0 if it can now)."""
        self._refill()
        needed = 1.0 if urgent else 1.0 + self.waiting
        if self._tokens >= needed:
            return 0.0
        return (needed - self._tokens) / max(self.rate, 1e-6)

    @property
    def throttled(self) -> bool:
        """Below the configured rate because of throttling (recently, or still climbing back)."""
        return self.rate < self.max_rate * 0.99

    @property
    def calls_per_s(self) -> float:
        now = self._clock()
        while self._attempts and now - self._attempts[0] > 10.0:
            self._attempts.popleft()
        return len(self._attempts) / 10.0
