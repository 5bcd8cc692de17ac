"""Injected faults: per-operation throttling, added latency and random 5xx, all from a seeded RNG; and
expired credentials (`expired_token`: every call is refused as AWS refuses an expired SSO session's)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from smtui.emulator.errors import ServiceError


class Faults:
    """The fault settings of `POST /_emulator/faults`; `{}` clears them."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)
        self.throttle: dict[str, float] = {}
        self.latency_ms = 0.0
        self.error_rate = 0.0
        self.expired_token = False

    def configure(self, settings: dict[str, Any]) -> None:
        """Replace every setting; raises ValueError on a malformed one (nothing changes then)."""
        throttle = settings.get("throttle") or {}
        if not isinstance(throttle, dict):
            raise ValueError("throttle must be an object {operation: probability}")
        parsed = {}
        for operation, rate in throttle.items():
            # Accept "ListPipelines" and "SageMaker.ListPipelines" alike; "*" throttles every operation.
            parsed[str(operation).rpartition(".")[2]] = _probability(rate, f"throttle.{operation}")
        latency = float(settings.get("latency_ms") or 0)
        if latency < 0:
            raise ValueError("latency_ms must be >= 0")
        error_rate = _probability(settings.get("error_rate") or 0, "error_rate")
        expired = settings.get("expired_token", False)
        if not isinstance(expired, bool):
            raise ValueError("expired_token must be true or false")
        self.throttle, self.latency_ms, self.error_rate = parsed, latency, error_rate
        self.expired_token = expired

    def describe(self) -> dict[str, Any]:
        return {
            "throttle": dict(self.throttle),
            "latency_ms": self.latency_ms,
            "error_rate": self.error_rate,
            "expired_token": self.expired_token,
        }

    async def apply(self, operation: str) -> None:
        """Delay, then maybe refuse the call as the service would when throttling or failing."""
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        if self.expired_token:
            raise ServiceError(
                "ExpiredTokenException", "The security token included in the request is expired"
            )
        rate = self.throttle.get(operation, self.throttle.get("*", 0.0))
        if rate and self._rng.random() < rate:
            raise ServiceError("ThrottlingException", "Rate exceeded")
        if self.error_rate and self._rng.random() < self.error_rate:
            raise ServiceError("InternalFailure", "We encountered an internal error. Please try again.", 500)


def _probability(value: Any, name: str) -> float:
    rate = float(value)
    if not 0 <= rate <= 1:
        raise ValueError(f"{name} must be between 0 and 1")
    return rate
