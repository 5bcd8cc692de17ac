"""How smtui opens an aiobotocore client: where to connect (`AwsTarget`: a profile, a region, an optional
endpoint), the region chain (`AWS_REGION` before botocore's own), retries (the user's `AWS_MAX_ATTEMPTS`
or profile `max_attempts` when set) and timeouts, a fixed User-Agent, epoch timestamps parsed straight to UTC,
and one botocore data loader for the whole process.

What is slow or surprising in botocore's defaults is settled here, once, for every client smtui opens.
"""

from __future__ import annotations

import functools
import os
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from smtui.core.errors import INVALID_SETTING, AwsError


@dataclass(frozen=True)
class AwsTarget:
    """Where to connect: a profile, a region and an optional endpoint (e.g. an emulator)."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None


async def open_client(
    stack: AsyncExitStack, target: AwsTarget, *, max_attempts: int, max_pool: int
) -> tuple[Any, Any, dict[str, Any]]:
    """A SageMaker client entered on `stack`: (its session, the client, the keyword arguments it was
    created with, for clients of other services on the same session). `max_attempts` is smtui's default:
    the user's own setting replaces it (`attempts_setting`). botocore's errors pass through; a malformed
    setting of the user's is an `AwsError`."""
    from aiobotocore.config import AioConfig
    from aiobotocore.session import AioSession

    session = AioSession(profile=target.profile)
    session.register_component("data_loader", _data_loader(session.get_config_variable("data_path")))
    # JSON timestamps are epoch numbers: botocore's default parser builds a `tzlocal()` for each one
    # (a measurable part of a poll's CPU); the same instant in UTC is all we need.
    session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=_parse_timestamp)
    config = AioConfig(
        retries={"mode": "standard", "total_max_attempts": attempts_setting(session) or max_attempts},
        max_pool_connections=max_pool,
        connect_timeout=5,
        read_timeout=30,
        user_agent=_user_agent(),
    )
    kwargs: dict[str, Any] = {"config": config}
    region = region_for(target)
    if region:
        kwargs["region_name"] = region
    if target.endpoint_url:
        kwargs["endpoint_url"] = target.endpoint_url
    client = await stack.enter_async_context(session.create_client("sagemaker", **kwargs))
    return session, client, kwargs


def region_for(target: AwsTarget) -> str | None:
    """The region to ask botocore for: the target's own (a flag or smtui's settings), else `AWS_REGION`.

    botocore reads only `AWS_DEFAULT_REGION`, then the profile's `region`; the AWS CLI v2 and the other SDKs
    read `AWS_REGION` before both, and so does smtui. None leaves the rest of the chain to botocore.
    """
    return target.region or os.environ.get("AWS_REGION") or None


def attempts_setting(session: Any) -> int | None:
    """The attempts per call the user asked every AWS tool for: `AWS_MAX_ATTEMPTS`, else `max_attempts` in
    the profile (botocore's order, the AWS CLI's too); None when neither is set.

    botocore reads them only for a client created without retries in its Config, and smtui always passes
    some (standard mode, its own number of attempts), so they are read here. Both count every attempt, the
    first included, as `total_max_attempts` does. A value that is not a whole number ≥ 1 is an `AwsError`
    naming where it was set (botocore would take `int()` of it: `0`, `-1` or `1_0` included)."""
    raw = os.environ.get("AWS_MAX_ATTEMPTS")
    where = "AWS_MAX_ATTEMPTS"
    if raw is None:
        raw = session.get_scoped_config().get("max_attempts")
        where = f"max_attempts in profile {session.profile or 'default'}"
        if raw is None:
            return None
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit() and int(text) >= 1):
        message = f"{where}: {raw!r} is not a whole number of attempts ≥ 1"
        raise AwsError(INVALID_SETTING, message, hint=message)
    return int(text)


def _user_agent() -> str:
    """`smtui/0.1.0 aiobotocore/3.10.0 Python/3.11.7 Linux/6.1.0` (botocore appends `botocore/…`).

    A fixed string: without one, botocore rebuilds the header from a dozen sanitized parts on every
    request (~15 % of a call's CPU), to report per-request SDK features nobody here reads.
    """
    import platform

    import aiobotocore

    from smtui import __version__

    return (
        f"smtui/{__version__} aiobotocore/{aiobotocore.__version__} "
        f"Python/{platform.python_version()} {platform.system()}/{platform.release()}"
    )


def _parse_timestamp(value: Any) -> datetime:
    """An API timestamp as an aware datetime: epoch numbers in UTC, anything else as botocore does."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    from botocore.utils import parse_timestamp

    parsed: datetime = parse_timestamp(value)
    return parsed


@functools.cache
def _data_loader(data_path: str | None) -> Any:
    """One botocore data loader per data path for the whole process: each new session would otherwise parse
    the service models and endpoint rules again (~0.1 s of CPU per client; a session of `smtui logs`, or a
    test suite, opens many), and keep its own copies of the models: ~19 MiB more per context
    (`benchmarks/push_bench.py`, 3 contexts). The loader caches what it reads and never changes it."""
    from botocore.loaders import create_loader

    return create_loader(data_path)
