"""The monitor's health, and what a failed poll means.

`Health` (connected, throttled, the last error, calls a second, push or polling) is what the status bar
shows: every attempt of a call (botocore's own retries included, charged to the budget here) and every
poll's outcome feed it, and `HealthChanged` is published only when what a user sees of it changes. A failed
poll runs again after a backoff (soon when throttled), or never when its target is gone; a bug in a poll is
logged with its traceback and retried as an error of the service would be.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from smtui.core.budget import ATTEMPTS, CallBudget
from smtui.core.errors import AwsError
from smtui.core.events import Health, HealthChanged, MonitorEvent
from smtui.core.paces import Paces
from smtui.core.planner import Planner
from smtui.core.poll_keys import PollKey, PollKind
from smtui.core.scheduler import backoff

log = logging.getLogger(__name__)


class PollHealth:
    """The monitor's `Health`, kept up to date from its calls' attempts and its polls' failures."""

    def __init__(
        self,
        budget: CallBudget,
        planner: Planner,
        paces: Paces,
        emit: Callable[[MonitorEvent], None],
        health: Health,
    ) -> None:
        self.budget = budget
        self.planner = planner
        self.paces = paces
        self._emit = emit
        self.health = health

    def on_error(self, key: PollKey, error: Exception, failures: int) -> float | None:
        """When a failed poll runs again (None: never)."""
        # A bug in one poll must not stop the monitor: it is logged with its traceback (smtui's log file) and
        # retried as an error of the service would be.
        if not isinstance(error, AwsError):
            log.error("a bug in the %s poll of %r", key.kind, key.subject, exc_info=error)
        exc = error if isinstance(error, AwsError) else AwsError(type(error).__name__, str(error))
        if exc.is_not_found and key.kind is not PollKind.DISCOVER:
            self.planner.forget(key)  # deleted: stop polling it
            return None
        if key.kind is PollKind.VERSIONS and (
            exc.is_denied or exc.code in ("ValidationException", "UnknownOperationException")
        ):
            # Denied (a policy without sagemaker:ListPipelineVersions) or not served: each execution of the
            # pipeline reads its own definition, as before.
            self.planner.forget(key)
            return None
        if exc.is_throttling:
            self.set_health()
            return min(self.paces.steps(self.planner.key_priority(key)), 2.0)
        self.set_health(connected=not exc.is_connection, error=str(exc))
        return backoff(failures, 30.0 if exc.is_credentials else 5.0)

    def on_attempt(self, operation: str, code: str | None) -> None:
        cell = ATTEMPTS.get()
        if cell is not None:
            cell[0] += 1
            if cell[0] > 1:
                self.budget.charge()
        self.budget.note_attempt()
        if code is not None and code.startswith("Throttl"):
            self.budget.on_throttle()
            self.set_health()

    def set_health(self, **changes: Any) -> None:
        base = self.health
        health = Health(
            connected=changes.get("connected", base.connected),
            throttled=self.budget.throttled,
            last_refresh=changes.get("last_refresh", base.last_refresh),
            error=changes.get("error", base.error),
            calls_per_s=round(self.budget.calls_per_s, 1),
            updates=changes.get("updates", base.updates),
        )
        if (health.connected, health.throttled, health.error, health.updates) != (
            base.connected,
            base.throttled,
            base.error,
            base.updates,
        ):
            self.health = health
            self._emit(HealthChanged(health))
        else:
            self.health = health
