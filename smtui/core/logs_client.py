"""CloudWatch Logs reads, with a call budget of their own beside SageMaker's.

Logs read quotas are per account and region and low (FilterLogEvents 5 TPS, GetLogEvents 10 TPS in the
published figures), and every tool of the account shares them: smtui's default is 2 calls/s, AIMD on
throttling (`CallBudget`: halved at once, back by 0.1 call/s each second). The client is a sibling of the
SageMaker client (its session: the same credentials, region and endpoint). botocore does not retry here:
every attempt on the wire is one the budget granted, and a throttled read is the caller's to retry later,
at the halved rate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from smtui.core.budget import CallBudget
from smtui.core.client import SageMakerClient
from smtui.core.errors import AwsError, aws_failures, map_error
from smtui.core.logs import Clock, LogLine, SystemClock

DEFAULT_RATE = 2.0
PAGE_EVENTS = 10_000  # the most a page may hold (and the service's default)
PAGE_BYTES = 1_048_576  # ... or this many bytes, each event counting its UTF-8 size plus 26
EVENT_OVERHEAD = 26


@dataclass(frozen=True, slots=True)
class FilterPage:
    """A FilterLogEvents page: lines with their event ids (parallel), and the token of the next page."""

    lines: list[LogLine]
    ids: list[str]
    next_token: str | None


@dataclass(frozen=True, slots=True)
class StreamPage:
    """A GetLogEvents page of one stream. At the end of the stream `next_token` is the token that was sent.
    `full`: the page may have been cut by its size (10,000 events, or over half of the 1 MB a page holds:
    a page stops before the event that would pass 1 MB, and events may be large), so more may be waiting."""

    lines: list[LogLine]
    next_token: str
    full: bool = False


class LogsClient:
    """Async context manager around one aiobotocore Logs client; every call waits for the budget first."""

    def __init__(
        self,
        sm: SageMakerClient,
        *,
        rate: float = DEFAULT_RATE,
        clock: Clock | None = None,
        max_in_flight: int = 4,
    ) -> None:
        self.sm = sm
        self.clock = clock or SystemClock()
        # Back from the floor to the full rate in ~20 throttle-free seconds: the quota is shared with
        # every other reader of the account's logs, so climb back gently.
        self.budget = CallBudget(
            rate,
            max_in_flight=max_in_flight,
            min_rate=min(0.2, rate),
            increase=rate / 20,
            clock=self.clock,
        )
        self.calls = 0  # attempts made
        self.throttles = 0
        self._stack: AsyncExitStack | None = None
        self._client: Any = None
        self._streams: dict[str, str] = {}  # one string per stream name, shared by every line of it

    async def __aenter__(self) -> LogsClient:
        self._stack = AsyncExitStack()
        try:
            self._client = await self._stack.enter_async_context(self.sm.sibling("logs", max_attempts=1))
        except aws_failures() as exc:
            await self._stack.aclose()
            raise map_error(exc, profile=self.sm.target.profile, service="logs") from exc
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None

    @property
    def throttled(self) -> bool:
        return self.budget.throttled

    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """One call by its Python name, once the budget grants it; errors become `AwsError`."""
        if self._client is None:
            raise RuntimeError("LogsClient used outside `async with`")
        while not self.budget.try_acquire():
            await self.clock.sleep(max(self.budget.wait_time(), 0.05))
        self.calls += 1
        self.budget.note_attempt()
        try:
            result: dict[str, Any] = await getattr(self._client, operation)(**params)
        except aws_failures() as exc:  # anything else is a bug: it surfaces as itself
            error = map_error(
                exc, operation=_camel(operation), profile=self.sm.target.profile, service="logs"
            )
            if error.is_throttling:
                self.throttles += 1
                self.budget.on_throttle()
            raise error from exc
        finally:
            self.budget.release()
        return result

    def _stream(self, name: str) -> str:
        if len(self._streams) > 10_000:
            self._streams.clear()
        return self._streams.setdefault(name, name)

    async def filter_events(
        self,
        group: str,
        *,
        prefix: str | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        token: str | None = None,
        limit: int = PAGE_EVENTS,
    ) -> FilterPage:
        """One FilterLogEvents page over the group's streams that start with `prefix`, interleaved by time."""
        params: dict[str, Any] = {"logGroupName": group, "limit": limit}
        if prefix:
            params["logStreamNamePrefix"] = prefix
        if start_ms is not None:
            params["startTime"] = max(0, start_ms)
        if end_ms is not None:
            params["endTime"] = end_ms
        if token:
            params["nextToken"] = token
        reply = await self.call("filter_log_events", **params)
        lines, ids = filtered_lines(reply.get("events") or (), self._stream)
        return FilterPage(lines, ids, reply.get("nextToken") or None)

    async def get_events(
        self, group: str, stream: str, *, token: str | None = None, start_ms: int | None = None
    ) -> StreamPage:
        """One GetLogEvents page of one stream, oldest first (from `token`, else from `start_ms`/the head)."""
        params: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
        if token:
            params["nextToken"] = token
        elif start_ms is not None:
            params["startTime"] = max(0, start_ms)
        reply = await self.call("get_log_events", **params)
        name = self._stream(stream)
        events = reply.get("events") or ()
        size = sum(len(str(e.get("message", "")).encode()) + EVENT_OVERHEAD for e in events)
        lines = [
            LogLine(int(e.get("timestamp") or 0), name, str(e.get("message", "")).rstrip("\n"))
            for e in events
        ]
        full = len(lines) >= PAGE_EVENTS or size > PAGE_BYTES // 2
        return StreamPage(lines, str(reply.get("nextForwardToken") or token or ""), full)

    async def streams(self, group: str, prefix: str) -> list[str]:
        """The names of the group's streams that start with `prefix` (every page)."""
        names: list[str] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"logGroupName": group, "logStreamNamePrefix": prefix}
            if token:
                params["nextToken"] = token
            reply = await self.call("describe_log_streams", **params)
            names.extend(
                str(s["logStreamName"]) for s in reply.get("logStreams") or () if "logStreamName" in s
            )
            token = reply.get("nextToken")
            if not token:
                return names


def filtered_lines(
    events: Iterable[dict[str, Any]], stream: Callable[[str], str] = str
) -> tuple[list[LogLine], list[str]]:
    """FilterLogEvents events → lines and their event ids (`stream` shares one string per stream name).
    A message's trailing newline (most loggers write one) is not part of the line."""
    lines: list[LogLine] = []
    ids: list[str] = []
    for event in events:
        lines.append(
            LogLine(
                int(event.get("timestamp") or 0),
                stream(str(event.get("logStreamName", ""))),
                str(event.get("message", "")).rstrip("\n"),
            )
        )
        ids.append(str(event.get("eventId", "")))
    return lines, ids


def _camel(operation: str) -> str:
    return "".join(part.title() for part in operation.split("_"))


__all__ = ["AwsError", "FilterPage", "LogsClient", "StreamPage"]
