"""Amazon SQS (AWS JSON 1.0, `AmazonSQS.<Op>`): queues and messages for push updates (`bus.queues`).

QueueUrl is `http://<host the client used>/<account>/<name>`; any host finds the queue, the path names it.
ReceiveMessage first brings every running execution up to the clock (the engine is lazy, and its status
changes are what land in these queues), then long-polls: it answers as soon as a message is there.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from smtui.emulator.bus.queues import Message, Queue, checked_attributes, invalid_parameter, queue_error
from smtui.emulator.ops.common import AsyncOperation, Context

_BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
# A long poll wakes at least this often (real seconds) to let time pass for the engine and for messages
# whose visibility timeout ends, on a running clock.
_POLL_SLICE = 1.0


def precheck(operation: str, request: dict[str, Any]) -> None:
    """Before the model's checks: an unknown attribute name is SQS's InvalidAttributeName; ReceiveMessage's
    deprecated `AttributeNames` names message attributes (`ApproximateReceiveCount`), as SQS has always
    accepted, although the model types it as queue attributes: it is read as `MessageSystemAttributeNames`."""
    if operation == "ReceiveMessage" and isinstance(request.get("AttributeNames"), list):
        legacy = request.pop("AttributeNames")
        request["MessageSystemAttributeNames"] = [
            *(request.get("MessageSystemAttributeNames") or []),
            *legacy,
        ]
    if operation in ("CreateQueue", "SetQueueAttributes") and isinstance(request.get("Attributes"), dict):
        checked_attributes({k: str(v) for k, v in request["Attributes"].items()})


def _url(ctx: Context, queue: Queue) -> str:
    return f"http://{ctx.host or 'localhost'}/{ctx.backend.account}/{queue.name}"


def _queue(ctx: Context, request: dict[str, Any]) -> Queue:
    return ctx.bus.queues.find(str(request["QueueUrl"]))


def create_queue(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    queue = ctx.bus.queues.create(request["QueueName"], dict(request.get("Attributes") or {}), ctx.region)
    return {"QueueUrl": _url(ctx, queue)}


def get_queue_url(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    owner = request.get("QueueOwnerAWSAccountId")
    if owner is not None and owner != ctx.backend.account:
        raise queue_error("QueueDoesNotExist", "The specified queue does not exist.")
    return {"QueueUrl": _url(ctx, ctx.bus.queues.find(request["QueueName"]))}


def get_queue_attributes(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    queue = _queue(ctx, request)
    ctx.bus.catch_up()  # ApproximateNumberOfMessages counts what the engine has emitted by now
    names = list(request.get("AttributeNames") or [])
    attributes = queue.describe(names, ctx.now())
    return {"Attributes": attributes} if attributes else {}


def set_queue_attributes(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    queue = _queue(ctx, request)
    queue.attributes.update(checked_attributes(dict(request["Attributes"])))
    queue.modified = ctx.now()
    return {}


def delete_queue(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    ctx.bus.queues.delete(_queue(ctx, request))
    return {}


def send_message(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    queue = _queue(ctx, request)
    body = str(request["MessageBody"])
    if not body:
        raise invalid_parameter("The request must contain the parameter MessageBody.")
    delay = request.get("DelaySeconds")
    if delay is not None and not 0 <= delay <= 900:
        raise invalid_parameter(
            f"Value {delay} for parameter DelaySeconds is invalid. Reason: must be between 0 and 900."
        )
    message = ctx.bus.queues.send(queue, body, delay=delay)
    return {"MessageId": message.message_id, "MD5OfMessageBody": message.md5}


def _bounded(request: dict[str, Any], key: str, low: int, high: int, default: int) -> int:
    value = request.get(key)
    if value is None:
        return default
    if not low <= value <= high:
        raise invalid_parameter(
            f"Value {value} for parameter {key} is invalid. Reason: Must be between {low} and {high},"
            " if provided."
        )
    return int(value)


async def receive_message(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    queue = _queue(ctx, request)
    limit = _bounded(request, "MaxNumberOfMessages", 1, 10, 1)
    wait = _bounded(request, "WaitTimeSeconds", 0, 20, queue.number("ReceiveMessageWaitTimeSeconds"))
    visibility = request.get("VisibilityTimeout")
    if visibility is not None:
        visibility = _bounded(request, "VisibilityTimeout", 0, 43_200, 0)
    wanted = set(request.get("MessageSystemAttributeNames") or [])
    queues, clock = ctx.bus.queues, ctx.backend.clock
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        ctx.bus.catch_up()
        queue = _queue(ctx, request)  # deleted while we waited: QueueDoesNotExist, as the service answers
        taken = queues.receive(queue, limit, visibility)
        left = deadline - loop.time()
        if taken or left <= 0 or queues.closed:
            break
        pause = min(left, _POLL_SLICE) if clock.time_scale > 0 else left
        due = ctx.bus.next_due()
        if due is not None and clock.time_scale > 0:
            pause = min(pause, max(0.0, (due - clock.now()) / clock.time_scale))
        await queues.wait(pause)
    if not taken:
        return {}
    return {"Messages": [_message(m, wanted, ctx.backend.account) for m in taken]}


def _message(message: Message, wanted: set[str], account: str) -> dict[str, Any]:
    every = "All" in wanted
    values = {
        "SenderId": account,
        "SentTimestamp": str(round(message.sent * 1000)),
        "ApproximateReceiveCount": str(message.receive_count),
        "ApproximateFirstReceiveTimestamp": str(round((message.first_receive or message.sent) * 1000)),
    }
    attributes = {k: v for k, v in values.items() if every or k in wanted}
    return {
        "MessageId": message.message_id,
        "ReceiptHandle": message.receipt,
        "MD5OfBody": message.md5,
        "Body": message.body,
        "Attributes": attributes or None,
    }


def delete_message(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    ctx.bus.queues.delete_message(_queue(ctx, request), str(request["ReceiptHandle"]))
    return {}


def delete_message_batch(ctx: Context, request: dict[str, Any]) -> dict[str, Any]:
    from smtui.emulator.errors import ServiceError

    queue = _queue(ctx, request)
    entries = list(request["Entries"])
    if not entries:
        raise queue_error("EmptyBatchRequest", "There should be at least one DeleteMessageBatchRequestEntry.")
    if len(entries) > 10:
        raise queue_error(
            "TooManyEntriesInBatchRequest",
            f"Maximum number of entries per request are 10. You have sent {len(entries)}.",
        )
    ids = [str(e["Id"]) for e in entries]
    if len(set(ids)) != len(ids):
        raise queue_error(
            "BatchEntryIdsNotDistinct", "Id " + next(i for i in ids if ids.count(i) > 1) + " repeated."
        )
    for entry_id in ids:
        if not _BATCH_ID.fullmatch(entry_id):
            raise queue_error(
                "InvalidBatchEntryId",
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores."
                " It can be at most 80 letters long.",
            )
    successful: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for entry in entries:
        try:
            ctx.bus.queues.delete_message(queue, str(entry["ReceiptHandle"]))
        except ServiceError as error:
            failed.append(
                {"Id": entry["Id"], "SenderFault": True, "Code": error.code, "Message": error.message}
            )
        else:
            successful.append({"Id": entry["Id"]})
    return {"Successful": successful, "Failed": failed}


OPERATIONS: dict[str, AsyncOperation] = {
    "CreateQueue": create_queue,
    "GetQueueUrl": get_queue_url,
    "GetQueueAttributes": get_queue_attributes,
    "SetQueueAttributes": set_queue_attributes,
    "DeleteQueue": delete_queue,
    "SendMessage": send_message,
    "ReceiveMessage": receive_message,
    "DeleteMessage": delete_message,
    "DeleteMessageBatch": delete_message_batch,
}
