"""The simulated clock: `time_scale` simulated seconds per real second, plus manual advances."""

from __future__ import annotations

import time


class Clock:
    """Simulated epoch seconds. With `time_scale=0` it stands still until `advance()` is called."""

    def __init__(self, start: float | None = None, time_scale: float = 1.0) -> None:
        self._base_sim = time.time() if start is None else start
        self._base_real = time.monotonic()
        self._scale = time_scale

    def now(self) -> float:
        return self._base_sim + (time.monotonic() - self._base_real) * self._scale

    @property
    def time_scale(self) -> float:
        return self._scale

    def set_time_scale(self, scale: float) -> None:
        if scale < 0:
            raise ValueError("time_scale must be >= 0")
        self._rebase()
        self._scale = scale

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._rebase()
        self._base_sim += seconds
        return self._base_sim

    def _rebase(self) -> None:
        real = time.monotonic()
        self._base_sim += (real - self._base_real) * self._scale
        self._base_real = real
