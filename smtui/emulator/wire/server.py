"""The protocol layer: aiohttp on `POST /`, AWS JSON 1.1 (SageMaker, Logs, EventBridge) and 1.0 (SQS)
routed by `X-Amz-Target`, errors as each service encodes them. `app.build_app` serves it on `POST /`, beside
the `/_emulator/*` control endpoints (`control`).

Every request: count it (stats), apply injected faults, parse, validate against botocore's model, run the
operation, trim the reply to the output shape, persist what changed. Nothing below raises past this layer: an
unexpected exception becomes `InternalFailure` (500) with no traceback in the body.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import uuid
from collections import Counter
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

from aiohttp import web

from smtui.emulator.errors import ServiceError
from smtui.emulator.ops import sqs
from smtui.emulator.ops.common import AsyncOperation, Backend, Context
from smtui.emulator.shapes import ServiceShapes, service_shapes
from smtui.emulator.wire.faults import Faults

log = logging.getLogger("smtui.emulator")

CONTENT_TYPE = "application/x-amz-json-1.1"
# SageMaker's modeled errors carry `Message`; all others (and all of Logs) `message`; botocore reads both.
_CAPITAL_MESSAGE = frozenset(
    {"ResourceNotFound", "ConflictException", "ResourceLimitExceeded", "ResourceInUse"}
)
_REGION = re.compile(r"Credential=[^/,\s]+/\d{8}/([a-z0-9-]+)/")
_ACCESS_KEY = re.compile(r"Credential=([^/,\s]+)/")
_SERVICES = {
    "SageMaker": "sagemaker",
    "Logs_20140328": "logs",
    "AmazonSQS": "sqs",
    "AWSEvents": "events",
}
# SQS speaks AWS JSON 1.0; the others 1.1.
_CONTENT_TYPES = {"sqs": "application/x-amz-json-1.0"}
# SQS moved from the Query protocol to JSON and stays "awsQueryCompatible": its errors carry the old Query
# code in `x-amzn-query-error`, which botocore reports as the error code (and maps to the modeled exception
# by the `__type` shape name). Codes not listed here kept their name.
_SQS_QUERY_CODES = {
    "QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
    "QueueNameExists": "QueueAlreadyExists",
    "EmptyBatchRequest": "AWS.SimpleQueueService.EmptyBatchRequest",
    "TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "BatchEntryIdsNotDistinct": "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    "InvalidBatchEntryId": "AWS.SimpleQueueService.InvalidBatchEntryId",
    "QueueDeletedRecently": "AWS.SimpleQueueService.QueueDeletedRecently",
}


class Protocol:
    """Routes AWS JSON 1.1 requests to the operations; holds the call statistics and the fault settings."""

    def __init__(
        self, backend: Backend, *, seed: int = 0, fresh: Callable[[], Backend] | None = None
    ) -> None:
        from smtui.emulator.ops import eventbridge, executions, jobs, logs, models, pipelines

        self.backend = backend
        self.calls: Counter[str] = Counter()
        self.agents: Counter[str] = Counter()  # requests by User-Agent header
        self.faults = Faults(seed)
        self._seed = seed
        self._fresh = fresh  # builds the backend as the emulator started (None: `reset` is refused)
        self.operations: dict[str, dict[str, AsyncOperation]] = {
            "sagemaker": {
                **pipelines.OPERATIONS,
                **executions.OPERATIONS,
                **jobs.OPERATIONS,
                **models.OPERATIONS,
            },
            "logs": dict(logs.OPERATIONS),
            "sqs": dict(sqs.OPERATIONS),
            "events": dict(eventbridge.OPERATIONS),
        }

    def reset(self) -> None:
        """Back to how the emulator started: a new backend (nothing created, the clock at the wall clock's
        time, the start's time scale, the scenario's draws from the seed again), no statistics, no faults.
        Long polls on the old queues end empty. ValueError where the emulator cannot (see `fresh`)."""
        if self._fresh is None:
            raise ValueError("this emulator cannot be reset: it keeps a --state file or runs the demo")
        old, self.backend = self.backend, self._fresh()
        old.bus.queues.close()
        old.store.close()
        self.calls.clear()
        self.agents.clear()
        self.faults = Faults(self._seed)

    async def handle(self, request: web.Request) -> web.Response:
        response = await self._handle(request)
        # The server's time, as any HTTP server sends it, but on the simulated clock: clients that measure
        # elapsed times against the server (smtui does) then agree with the timestamps it returns.
        response.headers["Date"] = formatdate(self.backend.clock.now(), usegmt=True)
        return response

    async def _handle(self, request: web.Request) -> web.Response:
        target = request.headers.get("X-Amz-Target", "")
        self.calls[target or "(no target)"] += 1
        self.agents[request.headers.get("User-Agent", "")] += 1
        service_prefix, _, operation = target.partition(".")
        service = _SERVICES.get(service_prefix, "")
        try:
            if not target:
                raise ServiceError("UnknownOperationException", "Missing required header: X-Amz-Target.")
            shapes = service_shapes(service) if service else None
            if (
                shapes is None
                or not shapes.has_operation(operation)
                or operation not in self.operations[service]
            ):
                raise ServiceError("UnknownOperationException", f"Unknown operation: {target}")
            await self.faults.apply(operation)
            body = _parse(await request.read())
            authorization = request.headers.get("Authorization", "")
            caller = _ACCESS_KEY.search(authorization)
            context = Context(
                self.backend,
                _region(request, self.backend.region),
                caller.group(1) if caller else None,
                request.host,
            )
            reply = await self._run(shapes, service, operation, context, body)
        except ServiceError as error:
            return _error(error, service)
        return _reply(reply, service)

    async def _run(
        self, shapes: ServiceShapes, service: str, operation: str, context: Context, body: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            if service == "sqs":
                sqs.precheck(operation, body)  # SQS names a bad attribute before the model's enum does
            shapes.validate_input(operation, body)
            result = self.operations[service][operation](context, body)
            if inspect.isawaitable(result):
                result = await result
            return shapes.trim_output(operation, result)
        except ServiceError:
            raise
        except Exception as exc:
            log.exception("%s.%s failed", service, operation)
            raise ServiceError(
                "InternalFailure", f"The emulator failed: {type(exc).__name__}: {exc}", 500
            ) from exc
        finally:
            # Persist whatever the call (or the engine catching up) changed: only the touched rows.
            self.backend.store.flush()


def _parse(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}  # botocore sends `{}` for an empty input; an empty body means the same
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ServiceError(
            "SerializationException", "Start of structure or map found where not expected."
        ) from None
    if not isinstance(body, dict):
        raise ServiceError("SerializationException", "Start of structure or map found where not expected.")
    return body


def _region(request: web.Request, default: str) -> str:
    match = _REGION.search(request.headers.get("Authorization", ""))
    return match.group(1) if match else default


def _headers(service: str) -> dict[str, str]:
    return {"x-amzn-RequestId": str(uuid.uuid4()), "Content-Type": _CONTENT_TYPES.get(service, CONTENT_TYPE)}


def _reply(body: dict[str, Any], service: str) -> web.Response:
    return web.Response(body=json.dumps(body).encode(), headers=_headers(service))


def _error(error: ServiceError, service: str = "") -> web.Response:
    key = "Message" if error.code in _CAPITAL_MESSAGE and service == "sagemaker" else "message"
    headers = {**_headers(service), "x-amzn-ErrorType": error.code}
    body = {"__type": error.code, key: error.message}
    if service == "sqs":
        body["__type"] = f"com.amazonaws.sqs#{error.code}"
        fault = "Sender" if error.status < 500 else "Receiver"
        headers["x-amzn-query-error"] = f"{_SQS_QUERY_CODES.get(error.code, error.code)};{fault}"
    return web.Response(status=error.status, body=json.dumps(body).encode(), headers=headers)
