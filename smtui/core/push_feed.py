"""The consumer of the events queue: long-polls it, applies each event at once, deletes what it read, and
says whether the monitor is in push mode or back to polling.

- `ReceiveMessage` with `WaitTimeSeconds` 20 (one call per 20 s while nothing happens; it returns as soon as
  a message arrives) and 10 messages per call; each batch is applied in event order (`smtui.core.push`), then
  deleted with one `DeleteMessageBatch`. A message that is not a pipeline event is deleted too.
- SQS calls have a budget of their own (`CallBudget`, 20 calls/s by default), beside SageMaker's: a long poll
  never takes a SageMaker call's token, and the SQS client is not the SageMaker client, so the monitor's
  budget never sees it. A batch's deletion runs beside the next read, so while events flow the queue is read
  back to back: up to 100 events/s per queue (10 a read, a read and a deletion per batch). An organisation
  of 1,000 active executions publishes ~50 a second (`benchmarks/push_bench.py`); at 2 calls/s (10 events/s)
  the queue fell minutes behind. Idle, the long poll is still one call per 20 s.
- A read that brings less than a full batch is followed by `FILL_PAUSE` seconds without one: the next batch
  fills meanwhile. A read answers as soon as one message is there, so without the pause a queue receiving
  ~50 events/s was read in batches of ~4 (~20 calls/s with the deletions); with it, in batches of 10 (~10
  calls/s, the least SQS allows at that rate), for at most `FILL_PAUSE` seconds more of latency.
- Events that show a gap (`smtui.core.push`) are counted: when more than a few per cent go missing
  (`smtui.core.reconcile.LossMeter`), the mode says `push (events lost)` (`Updates.lossy`) and the monitor
  polls at full pace besides, until two minutes pass without a gap.
- Push mode (`Updates.push`) begins with the first read that works. It ends, and the monitor polls at full
  pace, when the queue cannot be read (the error is the reason; it is tried again every `retry` seconds), or
  when it has brought nothing for `silence` seconds while an execution runs and step polls saw changes the
  events did not bring (a rule deleted, a policy changed). The next message brings push mode back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

from smtui.core.budget import CallBudget
from smtui.core.client import SageMakerClient
from smtui.core.clock import Activity, Clock
from smtui.core.errors import AwsError, aws_failures, map_error
from smtui.core.planner import Planner
from smtui.core.push import Ledger, PipelineEvent, apply_batch, parse_message
from smtui.core.reconcile import LossMeter

log = logging.getLogger(__name__)

WAIT_TIME = 20  # seconds a ReceiveMessage waits for a message (the most SQS allows)
BATCH = 10  # messages per ReceiveMessage (the most SQS allows)
SILENCE = 60.0  # seconds without a message, while polls see changes, before falling back to polling
RETRY = 30.0  # seconds between attempts to read a queue that failed
DEFAULT_RATE = 20.0  # SQS calls per second (only spent while messages come: reads wait for them)
FILL_PAUSE = 1.0  # seconds between a read that brought less than a full batch and the next read
# A deleted (or never created) queue: SQS's JSON code, and the Query-compatible one botocore reports.
NO_QUEUE = frozenset({"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"})


@dataclass(frozen=True, slots=True)
class Updates:
    """How the monitor learns of changes: `push` (events; polls only reconcile), `lossy` push (events, and
    polling at full pace besides: too many go missing), or polling, and why (`reason`: the queue's error,
    or its silence)."""

    push: bool
    reason: str | None = None
    lossy: bool = False

    @property
    def reconciling(self) -> bool:
        """The events are the source of truth: polls only reconcile (`smtui.core.reconcile`)."""
        return self.push and not self.lossy

    @property
    def label(self) -> str:
        """`push`, `push (events lost)`, or `polling (events: reason)`: what the header says."""
        if self.push:
            return "push (events lost)" if self.lossy else "push"
        return f"polling (events: {self.reason or 'starting'})"


class PushFeed:
    """Reads one SQS queue for the monitor (see the module's docstring). `on_change(updates)` is called
    when the mode changes."""

    def __init__(
        self,
        client: SageMakerClient,
        queue_url: str,
        planner: Planner,
        clock: Clock,
        *,
        on_change: Callable[[Updates], None],
        wait_time: int = WAIT_TIME,
        rate: float = DEFAULT_RATE,
        silence: float = SILENCE,
        retry: float = RETRY,
    ) -> None:
        self.client = client
        self.queue_url = queue_url
        self.planner = planner
        self.clock = clock
        self.on_change = on_change
        # 0 (tests, on a manual clock): a short poll, then a second of the clock between empty reads.
        self.wait_time = max(0, min(WAIT_TIME, wait_time))
        self.silence = silence
        self.retry = retry
        # Two in flight: a read, and the deletion of the batch before it.
        self.budget = CallBudget(rate, max_in_flight=2, min_rate=min(0.2, rate), clock=clock)
        self.ledger = Ledger()
        self.loss = LossMeter()
        self.updates = Updates(push=False)
        self.calls = 0  # SQS calls made
        self.received = 0  # messages read
        self.applied = 0  # events that changed what the monitor knows
        self._last_message: float | None = None
        self._poll_changes = 0  # step polls that found a change since the last message
        self._silent = False  # fell back for silence (an error falls back until a read works)
        self._stack: AsyncExitStack | None = None
        self._sqs: Any = None
        self._task: asyncio.Task[None] | None = None
        self._deleting: asyncio.Task[None] | None = None
        self._activity = Activity()
        self._unregister: Callable[[], None] = lambda: None

    # -- lifecycle ------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is not None:
            return
        self._stack = AsyncExitStack()
        # No retries of botocore's own: every attempt is one this budget granted; a failed read is retried
        # by the loop, after `retry` seconds.
        self._sqs = await self._stack.enter_async_context(self.client.sibling("sqs", max_attempts=1))
        self._unregister = self.clock.add_worker(self._activity)
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="smtui-push")

    async def stop(self) -> None:
        for task in (self._task, self._deleting):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._deleting = None
        self._unregister()
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None

    def note_poll_change(self) -> None:
        """A step poll found a change: if the events had brought it, a message would have come too."""
        self._poll_changes += 1

    # -- the loop -------------------------------------------------------------------------------------

    async def _loop(self) -> None:
        failures = 0
        while True:
            try:
                messages = await self._call(
                    "receive_message",
                    QueueUrl=self.queue_url,
                    WaitTimeSeconds=self.wait_time,
                    MaxNumberOfMessages=BATCH,
                    AttributeNames=["SentTimestamp"],
                )
            except AwsError as error:
                failures += 1
                self._set(Updates(push=False, reason=_short(error)))
                await self.clock.sleep(min(self.retry, 2.0**failures) if failures < 3 else self.retry)
                continue
            failures = 0
            batch = messages.get("Messages") or []
            if batch:
                await self._take(batch)
            else:
                self._nothing_read()
            if len(batch) < BATCH:
                await self.clock.sleep(FILL_PAUSE)  # the next batch fills meanwhile

    async def _take(self, batch: list[dict[str, Any]]) -> None:
        self.received += len(batch)
        self._last_message = self.clock.monotonic()
        self._poll_changes = 0
        self._silent = False
        events: list[PipelineEvent] = []
        for message in batch:
            event = parse_message(str(message.get("Body") or ""))
            if event is not None:
                events.append(event)
        gaps = self.planner.reconciler.gaps_seen
        admitted, applied = apply_batch(events, self.ledger, self.planner)
        self.applied += applied
        lossy = self.loss.note(self.clock.monotonic(), admitted, self.planner.reconciler.gaps_seen - gaps)
        self._set(Updates(push=True, lossy=lossy))
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(batch)
            if m.get("ReceiptHandle")
        ]
        if not entries:
            return
        # The deletion runs while the next read waits: one at a time, so that deletions never pile up.
        if self._deleting is not None:
            await self._deleting
        self._deleting = asyncio.get_running_loop().create_task(self._delete(entries))

    async def _delete(self, entries: list[dict[str, str]]) -> None:
        try:
            await self._call("delete_message_batch", QueueUrl=self.queue_url, Entries=entries)
        except AwsError as error:
            # Not deleted: they come back after their visibility timeout, and the ledger drops them then.
            log.info("events: could not delete %d messages: %s", len(entries), error)

    def _nothing_read(self) -> None:
        """An empty read: push mode if this is the first read that works (at all, or since an error);
        polling if the queue has been silent too long while polls see changes."""
        now = self.clock.monotonic()
        if self._silent:
            return  # back to push with the next message
        if not self.updates.push:
            self._last_message = now  # silence is counted from here
            self._poll_changes = 0
            self._set(Updates(push=True, lossy=self.loss.lossy))
            return
        quiet_for = now - (self._last_message or now)
        if quiet_for < self.silence or self._poll_changes == 0:
            return
        if any(e.is_active for e in self.planner.store.executions.values()):
            self._silent = True
            self._set(Updates(push=False, reason=f"no message for {round(quiet_for)} s"))

    def _set(self, updates: Updates) -> None:
        if updates != self.updates:
            self.updates = updates
            self.on_change(updates)

    async def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        """One SQS call, once the budget grants it; errors become `AwsError`."""
        while not self.budget.try_acquire():
            await self.clock.sleep(max(self.budget.wait_time(), 0.05))
        self.calls += 1
        self.budget.note_attempt()
        try:
            with self._activity.running():
                result: dict[str, Any] = await getattr(self._sqs, operation)(**params)
        except aws_failures() as exc:
            error = map_error(exc, operation=operation, profile=self.client.target.profile, service="sqs")
            if error.is_throttling:
                self.budget.on_throttle()
            raise error from exc
        finally:
            self.budget.release()
        return result


def _short(error: AwsError) -> str:
    """The reason the header shows: the error's code, or its hint's first clause."""
    if error.code in NO_QUEUE:
        return "the queue does not exist"
    if error.is_credentials or error.is_connection:
        return str(error).split(":", 1)[0][:60]
    return error.code[:60]
