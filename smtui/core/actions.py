"""Start, stop, retry and rerun, each with its own `ClientRequestToken`, parameters checked before sending.

A caller that may repeat a call (a batch launch, a retried keypress) passes its own `token`: the service
then answers the repeat with the same execution instead of starting another.

With a monitor (the TUI), every call goes through the monitor's budget, ahead of its polls (`Monitor.act`):
counted like any call, and a throttled one slows the polls and shows in the header.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from smtui.core.model import Parameter

if TYPE_CHECKING:
    from smtui.core.client import SageMakerClient
    from smtui.core.monitor import Monitor

_BOOLEANS = {"true": "true", "false": "false"}
T = TypeVar("T")


def new_token() -> str:
    """A fresh idempotency token (32 hex chars: inside the API's 32–128 length)."""
    return uuid.uuid4().hex


def validate_parameters(params: Sequence[Parameter], values: Mapping[str, str]) -> dict[str, str]:
    """Check `values` against the declared parameters; return them normalised as the API wants (strings).

    Raises ValueError naming the field: unknown name, value of the wrong type, value outside EnumValues.
    """
    declared = {p.name: p for p in params}
    out: dict[str, str] = {}
    for name, raw in values.items():
        param = declared.get(name)
        if param is None:
            known = ", ".join(sorted(declared)) or "none"
            raise ValueError(f"unknown parameter {name!r} (this pipeline declares: {known})")
        value = str(raw)
        if param.type == "Integer":
            try:
                int(value)
            except ValueError:
                raise ValueError(f"parameter {name!r} is an Integer; got {value!r}") from None
        elif param.type == "Float":
            try:
                float(value)
            except ValueError:
                raise ValueError(f"parameter {name!r} is a Float; got {value!r}") from None
        elif param.type == "Boolean":
            lowered = value.lower()
            if lowered not in _BOOLEANS:
                raise ValueError(f"parameter {name!r} is a Boolean (true/false); got {value!r}")
            value = _BOOLEANS[lowered]
        if param.enum_values and value not in param.enum_values:
            raise ValueError(
                f"parameter {name!r} must be one of {', '.join(param.enum_values)}; got {value!r}"
            )
        out[name] = value
    return out


class Actions:
    """Mutating calls. With a monitor, each call is made inside its budget, and the affected pipeline is
    refreshed right after."""

    def __init__(self, client: SageMakerClient, monitor: Monitor | None = None) -> None:
        self.client = client
        self.monitor = monitor

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        return await (call() if self.monitor is None else self.monitor.act(call))

    async def start(
        self,
        pipeline: str,
        parameters: Mapping[str, str],
        *,
        display_name: str | None = None,
        token: str | None = None,
    ) -> str:
        """Validate against the pipeline's current definition, then start; returns the execution ARN."""
        declared = await self._call(lambda: self.client.pipeline_parameters(pipeline))
        values = validate_parameters(declared, parameters)
        request_token = token or new_token()
        arn = await self._call(
            lambda: self.client.start_execution(
                pipeline, values, token=request_token, display_name=display_name
            )
        )
        if self.monitor is not None:
            self.monitor.nudge_pipeline(pipeline)
        return arn

    async def stop(self, execution_arn: str, *, token: str | None = None) -> None:
        request_token = token or new_token()
        await self._call(lambda: self.client.stop_execution(execution_arn, token=request_token))
        if self.monitor is not None:
            self.monitor.nudge_execution(execution_arn)

    async def retry(self, execution_arn: str, *, token: str | None = None) -> None:
        request_token = token or new_token()
        await self._call(lambda: self.client.retry_execution(execution_arn, token=request_token))
        if self.monitor is not None:
            self.monitor.nudge_execution(execution_arn)

    async def rerun(self, execution_arn: str, *, token: str | None = None) -> str:
        """A new execution of the same pipeline with the same parameters and display name."""
        described = await self._call(lambda: self.client.describe_execution(execution_arn))
        pipeline = described.pipeline_name
        if self.monitor is not None and execution_arn in self.monitor.executions:
            pipeline = self.monitor.executions[execution_arn].pipeline_name
        values = dict(await self._call(lambda: self.client.parameters(execution_arn)))
        request_token = token or new_token()
        arn = await self._call(lambda: self.client.start_execution(pipeline, values, token=request_token))
        if self.monitor is not None:
            self.monitor.nudge_pipeline(pipeline)
        return arn
