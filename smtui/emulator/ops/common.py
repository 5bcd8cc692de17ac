"""What every operation needs: the backend it acts on, the calling context, ids, ARNs and pagination."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import string
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from smtui.emulator.errors import ServiceError, not_found
from smtui.emulator.store.records import ExecutionRecord, PipelineRecord

if TYPE_CHECKING:
    from smtui.emulator.bus.bus import Bus
    from smtui.emulator.clock import Clock
    from smtui.emulator.engine.engine import Engine
    from smtui.emulator.store.store import Store

T = TypeVar("T")

# Page size when the caller sends no MaxResults. The service does not document its own; 50 is half the
# maximum, and enough that clients that never paginate (the SDK's `list_steps`) see a whole execution.
DEFAULT_PAGE_SIZE = 50
ACTIVE = frozenset({"Executing", "Stopping"})


@dataclass
class Backend:
    """The emulator's moving parts, shared by every request."""

    store: Store
    engine: Engine
    clock: Clock
    account: str
    region: str  # the default region, when a request carries no SigV4 scope
    bus: Bus  # SQS queues, EventBridge rules and the delivery of status-change events


@dataclass
class Context:
    """One request: the backend plus what the caller's signature tells (the region)."""

    backend: Backend
    region: str
    access_key: str | None = None  # from the SigV4 credential scope; None for unsigned requests
    host: str | None = None  # the Host header (SQS queue URLs name it)

    def identity(self) -> dict[str, Any]:
        """CreatedBy/LastModifiedBy for this caller, the shape the service gives IAM callers.

        The service answers `{"IamIdentity": {"Arn", "PrincipalId"}}` (observed 2024, an SSO role session).
        The emulator knows only the access key, so the caller is the IAM user named after it (our choice);
        an unsigned request has no identity: `{}`.
        """
        if not self.access_key:
            return {}
        arn = f"arn:aws:iam::{self.backend.account}:user/{self.access_key}"
        return {"IamIdentity": {"Arn": arn, "PrincipalId": self.access_key}}

    @property
    def store(self) -> Store:
        return self.backend.store

    @property
    def bus(self) -> Bus:
        return self.backend.bus

    @property
    def engine(self) -> Engine:
        return self.backend.engine

    def now(self) -> float:
        return self.backend.clock.now()

    def pipeline_arn(self, name: str) -> str:
        # Lower-cased, as in the documented output (`AbalonePipeline` → `pipeline/abalonepipeline`) that
        # our API reference relies on. Output published in 2024 shows the name's own case; clients must not
        # rely on either, and lookups here are case-blind, so both forms of an ARN find the pipeline.
        return f"arn:aws:sagemaker:{self.region}:{self.backend.account}:pipeline/{name.lower()}"


Operation = Callable[[Context, dict[str, Any]], dict[str, Any]]
# SQS's ReceiveMessage long-polls: an operation may also answer with an awaitable.
AsyncOperation = Callable[[Context, dict[str, Any]], dict[str, Any] | Awaitable[dict[str, Any]]]


def random_id(length: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def get_pipeline(ctx: Context, name_or_arn: str) -> PipelineRecord:
    """The pipeline or the service's ResourceNotFound."""
    pipeline = ctx.store.get_pipeline(name_or_arn)
    if pipeline is None:
        raise not_found(f"Pipeline '{ctx.pipeline_arn(name_or_arn.rsplit('/', 1)[-1])}' does not exist.")
    return pipeline


def get_execution(ctx: Context, arn: str) -> ExecutionRecord:
    """The execution brought up to the clock, or ResourceNotFound."""
    execution = ctx.store.get_execution(arn)
    if execution is None:
        raise not_found(f"Pipeline execution '{arn}' does not exist.")
    fresh(ctx, execution)
    return execution


def fresh(ctx: Context, execution: ExecutionRecord) -> ExecutionRecord:
    """Let the engine catch the execution up with the clock (it touches what it changes, so only that is
    persisted). Finished executions never change: they cost nothing."""
    if execution.status in ACTIVE:
        ctx.engine.advance(execution)
    return execution


def parallelism(request: dict[str, Any]) -> int | None:
    config = request.get("ParallelismConfiguration")
    return None if config is None else int(config["MaxParallelExecutionSteps"])


# ---- pagination ---------------------------------------------------------------------------------------


def encode_token(state: dict[str, Any]) -> str:
    """An opaque NextToken carrying where the next page starts and a fingerprint of the query."""
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode()


def decode_token(token: str | None, query: Any, code: str = "ValidationException") -> dict[str, Any] | None:
    """The state in a NextToken; error `code` if it was not ours or was made for another query."""
    if token is None:
        return None
    try:
        state = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        state = None
    if not isinstance(state, dict) or state.get("q") != query:
        raise ServiceError(code, "The specified nextToken is invalid.")
    return state


def page_size(request: dict[str, Any], key: str = "MaxResults") -> int:
    value = request.get(key)
    return DEFAULT_PAGE_SIZE if value is None else int(value)


def offset_page(
    items: Sequence[T], request: dict[str, Any], query: Any, size: int | None = None
) -> tuple[Sequence[T], str | None]:
    """A page of a small list by offset; the token repeats the query so a mismatched reuse is refused."""
    state = decode_token(request.get("NextToken"), query)
    start = int(state["o"]) if state else 0
    size = size or page_size(request)
    chunk = items[start : start + size]
    more = start + size < len(items)
    return chunk, encode_token({"o": start + size, "q": query}) if more else None


# ---- idempotency -------------------------------------------------------------------------------------


def _fingerprint(request: dict[str, Any], overrides: dict[str, Any]) -> str:
    members = {k: v for k, v in request.items() if k != "ClientRequestToken" and v is not None}
    members.update(overrides)
    return hashlib.sha256(json.dumps(members, sort_keys=True, default=str).encode()).hexdigest()


def replayed(ctx: Context, operation: str, request: dict[str, Any], **overrides: Any) -> str | None:
    """The result of an earlier call with this ClientRequestToken, or None on its first use.

    AWS's idempotency contract: the same token with the same parameters repeats the first answer; the same
    token with different parameters is refused rather than silently answered with the first call's result
    (which would hide a caller's bug, e.g. a batch launcher deriving the same token for two rows).
    SageMaker models no IdempotentParameterMismatch error, so the refusal is a ValidationException (our
    choice). `overrides` normalise members that name one thing two ways (a pipeline's name or ARN).
    """
    token = request.get("ClientRequestToken")
    if token is None:
        return None
    earlier = ctx.store.token_result(f"{operation}#fingerprint", token)
    if earlier is not None and earlier != _fingerprint(request, overrides):
        raise ServiceError(
            "ValidationException",
            f"ClientRequestToken '{token}' was already used for a {operation} request with different"
            " parameters; use a new token for a different request.",
        )
    return ctx.store.token_result(operation, token)


def remember(ctx: Context, operation: str, request: dict[str, Any], result: str, **overrides: Any) -> None:
    """Record a successful idempotent call under its ClientRequestToken (see `replayed`)."""
    token = request.get("ClientRequestToken")
    if token is not None:
        ctx.store.remember_token(operation, token, result)
        ctx.store.remember_token(f"{operation}#fingerprint", token, _fingerprint(request, overrides))


def require(condition: bool, message: str, code: str = "ValidationException") -> None:
    if not condition:
        raise ServiceError(code, message)
