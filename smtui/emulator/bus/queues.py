"""SQS standard queues on the simulated clock: messages, visibility timeouts, receipt handles, retention.

Times are simulated epoch seconds: a message received with a 30 s visibility timeout comes back after the
emulator's clock has moved 30 s (a test moves it with `/_emulator/clock`). Long polling is the exception: the
client waits in real time, so `wait_for_messages` waits on an asyncio event with the real timeout and returns
as soon as something arrives (see `ops.sqs`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field

from smtui.emulator.clock import Clock
from smtui.emulator.errors import ServiceError

_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
# Attributes a caller may set, with their default and, for numbers, the allowed range (the API reference).
_NUMERIC = {
    "VisibilityTimeout": (30, 0, 43_200),
    "DelaySeconds": (0, 0, 900),
    "MessageRetentionPeriod": (345_600, 60, 1_209_600),
    "MaximumMessageSize": (262_144, 1_024, 1_048_576),
    "ReceiveMessageWaitTimeSeconds": (0, 0, 20),
}
_FREE_TEXT = frozenset(
    {"Policy", "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds"}
)
_READ_ONLY = (
    "QueueArn",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "SqsManagedSseEnabled",
)


def queue_error(code: str, message: str) -> ServiceError:
    """An SQS error; the protocol layer adds the AWS Query code clients map it by (`x-amzn-query-error`)."""
    return ServiceError(code, message)


def no_such_queue() -> ServiceError:
    return queue_error("QueueDoesNotExist", "The specified queue does not exist.")


def invalid_parameter(message: str) -> ServiceError:
    return queue_error("InvalidParameterValue", message)


@dataclass
class Message:
    """One message; `receipt` is the handle of its latest receive (older handles no longer delete it)."""

    message_id: str
    body: str
    sent: float
    visible_at: float
    receive_count: int = 0
    first_receive: float | None = None
    receipt: str | None = None

    @property
    def md5(self) -> str:
        return hashlib.md5(self.body.encode(), usedforsecurity=False).hexdigest()


@dataclass
class Queue:
    """A standard queue: its settable attributes and its messages in arrival order (keyed by id)."""

    name: str
    arn: str
    created: float
    modified: float
    attributes: dict[str, str] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)
    expired_at: float = 0.0  # when `expire` last looked

    def number(self, key: str) -> int:
        return int(self.attributes.get(key, _NUMERIC[key][0]))

    def expire(self, now: float) -> None:
        """Drop messages older than the retention period (looking at most once a simulated minute: a long
        queue is not walked on every receive)."""
        if now - self.expired_at < 60:
            return
        self.expired_at = now
        horizon = now - self.number("MessageRetentionPeriod")
        for message_id in [m.message_id for m in self.messages.values() if m.sent < horizon]:
            del self.messages[message_id]

    def describe(self, names: list[str], now: float) -> dict[str, str]:
        """GetQueueAttributes for `names` ("All" for every one)."""
        every = "All" in names
        self.expire(now)
        visible = sum(1 for m in self.messages.values() if m.visible_at <= now)
        in_flight = sum(1 for m in self.messages.values() if m.visible_at > now and m.receive_count > 0)
        delayed = sum(1 for m in self.messages.values() if m.visible_at > now and m.receive_count == 0)
        values = {
            **{key: str(default) for key, (default, _, _) in _NUMERIC.items()},
            **self.attributes,
            "QueueArn": self.arn,
            "ApproximateNumberOfMessages": str(visible),
            "ApproximateNumberOfMessagesNotVisible": str(in_flight),
            "ApproximateNumberOfMessagesDelayed": str(delayed),
            "CreatedTimestamp": str(int(self.created)),
            "LastModifiedTimestamp": str(int(self.modified)),
            "SqsManagedSseEnabled": self.attributes.get("SqsManagedSseEnabled", "true"),
        }
        return {k: v for k, v in values.items() if every or k in names}


def checked_attributes(attributes: dict[str, str]) -> dict[str, str]:
    """The attributes of Create/SetQueueAttributes, or the service's error for the first bad one."""
    out: dict[str, str] = {}
    for key, value in attributes.items():
        if key in _NUMERIC:
            _, low, high = _NUMERIC[key]
            try:
                number = int(value)
            except ValueError:
                number = low - 1
            if not low <= number <= high:
                raise queue_error("InvalidAttributeValue", f"Invalid value for the parameter {key}.")
            out[key] = str(number)
        elif key == "Policy":
            try:
                parsed = json.loads(value) if value else {}
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                raise queue_error("InvalidAttributeValue", "Invalid value for the parameter Policy.")
            out[key] = value
        elif key in _FREE_TEXT or key == "SqsManagedSseEnabled":
            out[key] = value
        elif key in ("FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"):
            raise queue_error("InvalidAttributeName", f"The emulator has no FIFO queues: {key}.")
        else:
            raise queue_error("InvalidAttributeName", f"Unknown Attribute {key}.")
    return out


class Queues:
    """Every queue of one emulator (one account), by name, and the signal long polls wait on."""

    def __init__(self, clock: Clock, *, account: str, region: str) -> None:
        self.clock = clock
        self.account = account
        self.region = region
        self.by_name: dict[str, Queue] = {}
        self._arrived = asyncio.Event()
        self._handles = 0
        self.closed = False  # the emulator is stopping: long polls answer now

    # ---- queues -------------------------------------------------------------------------------------

    def arn(self, name: str, region: str | None = None) -> str:
        return f"arn:aws:sqs:{region or self.region}:{self.account}:{name}"

    def create(self, name: str, attributes: dict[str, str], region: str) -> Queue:
        """CreateQueue: a new queue, or the existing one when every attribute given has the same value."""
        if not _NAME.fullmatch(name):
            raise invalid_parameter(
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
            )
        wanted = checked_attributes(attributes)
        existing = self.by_name.get(name)
        now = self.clock.now()
        if existing is not None:
            current = existing.describe(["All"], now)
            for key, value in wanted.items():
                if current.get(key) != value:
                    raise queue_error(
                        "QueueNameExists",
                        "A queue already exists with the same name and a different value for attribute"
                        f" {key}",
                    )
            return existing
        queue = Queue(name=name, arn=self.arn(name, region), created=now, modified=now, attributes=wanted)
        self.by_name[name] = queue
        return queue

    def find(self, url_or_name: str) -> Queue:
        """The queue a QueueUrl (`http://host:port/ACCOUNT/NAME`) names; QueueDoesNotExist otherwise."""
        parts = url_or_name.rstrip("/").split("/")
        name = parts[-1]
        if len(parts) > 1 and parts[-2] != self.account:
            raise no_such_queue()
        queue = self.by_name.get(name)
        if queue is None:
            raise no_such_queue()
        return queue

    def find_by_arn(self, arn: str) -> Queue | None:
        queue = self.by_name.get(arn.rsplit(":", 1)[-1])
        return queue if queue is not None and queue.arn == arn else None

    def delete(self, queue: Queue) -> None:
        self.by_name.pop(queue.name, None)
        self.notify()  # a long poll on it ends

    # ---- messages -----------------------------------------------------------------------------------

    def send(
        self,
        queue: Queue,
        body: str,
        *,
        delay: float | None = None,
        position: int | None = None,
        at: float | None = None,
    ) -> Message:
        """Enqueue `body`, sent `at` (default now: EventBridge sent it when the change happened, although the
        lazy engine notices it later); `position` inserts it before older messages (the reorder fault)."""
        sent = self.clock.now() if at is None else at
        wait = queue.number("DelaySeconds") if delay is None else delay
        message = Message(message_id=str(uuid.uuid4()), body=body, sent=sent, visible_at=sent + wait)
        if position is None or position >= len(queue.messages):
            queue.messages[message.message_id] = message
        else:
            items = list(queue.messages.values())
            items.insert(position, message)
            queue.messages = {m.message_id: m for m in items}
        self.notify()
        return message

    def receive(self, queue: Queue, limit: int, visibility: int | None) -> list[Message]:
        """Up to `limit` visible messages, oldest first, each hidden for the visibility timeout."""
        now = self.clock.now()
        queue.expire(now)
        hide = queue.number("VisibilityTimeout") if visibility is None else visibility
        taken: list[Message] = []
        for message in queue.messages.values():
            if len(taken) >= limit:
                break
            if message.visible_at > now:
                continue
            message.receive_count += 1
            if message.first_receive is None:
                message.first_receive = now
            message.visible_at = now + hide
            self._handles += 1
            raw = f"{queue.name}/{message.message_id}/{self._handles}/{uuid.uuid4().hex}"
            message.receipt = base64.b64encode(raw.encode()).decode()
            taken.append(message)
        return taken

    def delete_message(self, queue: Queue, receipt: str) -> None:
        """DeleteMessage: deletes if `receipt` is the latest handle; an older one succeeds, doing nothing."""
        message_id = _message_id(receipt)
        message = queue.messages.get(message_id)
        if message is not None and message.receipt == receipt:
            del queue.messages[message_id]

    def next_visible(self, queue: Queue) -> float | None:
        """When the next hidden message becomes visible again (simulated seconds), if any."""
        hidden = [m.visible_at for m in queue.messages.values() if m.visible_at > self.clock.now()]
        return min(hidden) if hidden else None

    # ---- waiting ------------------------------------------------------------------------------------

    def close(self) -> None:
        """End every long poll now (with what it has: nothing), so stopping never waits up to 20 s."""
        self.closed = True
        self.notify()

    def notify(self) -> None:
        """Wake every long poll (a message arrived, a queue went, the clock jumped)."""
        self._arrived.set()
        self._arrived = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        """Until `notify` or `seconds` of real time have passed."""
        arrived = self._arrived
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(arrived.wait(), timeout=max(seconds, 0.0))


def _message_id(receipt: str) -> str:
    """The message a receipt handle we issued refers to; ReceiptHandleIsInvalid for anything else."""
    try:
        parts = base64.b64decode(receipt.encode(), validate=True).decode().split("/")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        parts = []
    if len(parts) != 4:
        raise queue_error(
            "ReceiptHandleIsInvalid", f'The input receipt handle "{receipt}" is not a valid receipt handle.'
        )
    return parts[1]
