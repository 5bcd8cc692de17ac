"""The SageMaker client: one aiobotocore session and client per account/region, typed pages, mapped errors.

Endpoint, region and credentials resolve as in every AWS tool: an explicit `endpoint_url`, else botocore's own
`AWS_ENDPOINT_URL_SAGEMAKER` / `AWS_ENDPOINT_URL` handling; an explicit region, else `AWS_REGION`, else
`AWS_DEFAULT_REGION`, else the profile's; the standard credential chain (profile, SSO, environment, instance
role) with botocore refreshing expiring credentials itself. How the client is opened (that chain, retries,
timeouts, the User-Agent, the timestamp parser) is `smtui.core.aws_session`; the user's `AWS_MAX_ATTEMPTS`
(or the profile's `max_attempts`) replaces the `max_attempts` given here.

The server's clock is read from each response's `Date` header: `now()` is local time corrected by the
skew when it is more than a couple of seconds, so elapsed times agree with the server's timestamps (a
machine with a wrong clock, or an emulator on a simulated clock) instead of reading 0s or running ahead.

Every attempt that reaches the wire is counted (`calls`, `throttles`) through botocore's
`response-received` event, so retries botocore makes on its own still count against the monitor's budget.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from smtui.core import convert
from smtui.core.aws_session import AwsTarget, open_client
from smtui.core.definition import parse_definition
from smtui.core.errors import INVALID_ENDPOINT, THROTTLING_CODES, AwsError, aws_failures, map_error
from smtui.core.model import Execution, ModelPackage, Parameter, Pipeline, PipelineVersion, StepRun

PAGE = 100  # MaxResults: the largest page every List operation allows
SKEW_TOLERANCE = timedelta(seconds=2)  # the Date header has 1 s resolution: ignore skews within its noise

CallListener = Callable[[str, str | None], None]  # (operation, error code or None) per attempt


class SageMakerClient:
    """Async context manager around one aiobotocore SageMaker client. Methods return domain objects."""

    def __init__(self, target: AwsTarget, *, max_attempts: int = 3, max_pool: int = 16) -> None:
        self.target = target
        self._max_attempts = max_attempts
        self._max_pool = max_pool
        self._stack: AsyncExitStack | None = None
        self._client: Any = None
        self._session: Any = None
        self._client_kwargs: dict[str, Any] = {}
        self.calls = 0  # attempts that reached the wire (or failed to connect)
        self.throttles = 0
        self.account: str | None = None  # learned from the first ARN seen: no STS call needed
        self.region: str | None = target.region
        self._listeners: list[CallListener] = []
        self.skew = timedelta(0)  # server time minus local time, when beyond SKEW_TOLERANCE

    def now(self) -> datetime:
        """The server's current time as best known: local UTC time corrected by the observed skew."""
        return datetime.now(UTC) + self.skew

    @classmethod
    def create(cls, target: AwsTarget, *, max_attempts: int = 3) -> SageMakerClient:
        return cls(target, max_attempts=max_attempts)

    async def __aenter__(self) -> SageMakerClient:
        self._stack = AsyncExitStack()
        # ValueError: botocore's word for a malformed endpoint; anything else is a bug and surfaces as itself.
        # AwsError: a malformed setting of the user's (`AWS_MAX_ATTEMPTS`), already said in one line.
        opening_failures: tuple[type[BaseException], ...] = (*aws_failures(), ValueError, AwsError)
        try:
            self._session, self._client, self._client_kwargs = await open_client(
                self._stack, self.target, max_attempts=self._max_attempts, max_pool=self._max_pool
            )
        except opening_failures as exc:
            await self._stack.aclose()
            if type(exc) is ValueError and str(exc).startswith("Invalid endpoint"):
                # botocore's answer to a malformed endpoint (a flag, or AWS_ENDPOINT_URL[_SAGEMAKER]).
                hint = f"{str(exc).lower()}: expected an http(s) URL such as http://127.0.0.1:4566"
                raise AwsError(INVALID_ENDPOINT, str(exc), hint=hint) from exc
            raise map_error(exc, profile=self.target.profile) from exc
        self.region = self._client.meta.region_name
        self._client.meta.events.register("response-received.sagemaker", self._on_response)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None

    def sibling(self, service: str, *, max_attempts: int | None = None) -> Any:
        """An aiobotocore client of another service (`"logs"`) on this client's session: the same credentials
        (refreshed together), region, endpoint and settings; an async context manager. The emulator serves
        Logs on the SageMaker port, so an explicit endpoint is the right one for both.
        Its attempts are this client's (the user's `AWS_MAX_ATTEMPTS` when set); an explicit `max_attempts`
        replaces them, the user's setting included: 1 (no retries of botocore's own) is for a client whose
        every attempt a budget of smtui's grants and whose caller retries on its own schedule."""
        if self._session is None:
            raise RuntimeError("SageMakerClient.sibling used outside `async with`")
        kwargs = dict(self._client_kwargs)
        if max_attempts is not None:
            from aiobotocore.config import AioConfig

            retries = {"mode": "standard", "total_max_attempts": max_attempts}
            kwargs["config"] = kwargs["config"].merge(AioConfig(retries=retries))
        return self._session.create_client(service, **kwargs)

    def add_listener(self, listener: CallListener) -> Callable[[], None]:
        """Call `listener(operation, error_code)` after every attempt; returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _on_response(
        self,
        parsed_response: Any = None,
        exception: Any = None,
        context: Any = None,
        response_dict: Any = None,
        event_name: str = "",
        **_: Any,
    ) -> None:
        self.calls += 1
        if isinstance(response_dict, dict):
            self._observe_date(response_dict.get("headers") or {})
        code: str | None = None
        if exception is not None:
            code = "ConnectionError"
        elif isinstance(parsed_response, dict) and "Error" in parsed_response:
            code = str(parsed_response["Error"].get("Code"))
        if code in THROTTLING_CODES:
            self.throttles += 1
        # The event is `response-received.sagemaker.<Operation>` (botocore's request context has no name).
        operation = event_name.rsplit(".", 1)[-1] if event_name.count(".") >= 2 else ""
        for listener in list(self._listeners):
            listener(operation, code)

    def _observe_date(self, headers: Mapping[str, str]) -> None:
        value = headers.get("Date") or headers.get("date")
        if not value:
            return
        try:
            server = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return
        if server.tzinfo is None:
            server = server.replace(tzinfo=UTC)
        skew = server - datetime.now(UTC)
        self.skew = skew if abs(skew) > SKEW_TOLERANCE else timedelta(0)

    @property
    def endpoint_label(self) -> str:
        """`us-east-1 · 123456789012`, or the endpoint URL when one was given."""
        if self.target.endpoint_url:
            return self.target.endpoint_url
        region = self.region or "?"
        return f"{region} · {self.account}" if self.account else region

    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """One API call by its Python name (`list_pipelines`); errors become `AwsError`."""
        if self._client is None:
            raise RuntimeError("SageMakerClient used outside `async with`")
        try:
            result: dict[str, Any] = await getattr(self._client, operation)(**params)
        except aws_failures() as exc:  # anything else is a bug: it surfaces as itself
            raise map_error(exc, operation=_camel(operation), profile=self.target.profile) from exc
        return result

    async def pages(
        self, operation: str, *, page_size: int = PAGE, **params: Any
    ) -> AsyncIterator[dict[str, Any]]:
        """The pages of a List operation through botocore's paginator (its NextToken bookkeeping), one call
        each; a caller that has seen enough stops iterating, and no further page is asked for. Errors
        become `AwsError` as in `call`."""
        if self._client is None:
            raise RuntimeError("SageMakerClient used outside `async with`")
        config = {"PageSize": page_size}
        iterator = self._client.get_paginator(operation).paginate(**params, PaginationConfig=config)
        pages = iterator.__aiter__()
        while True:
            try:
                page: dict[str, Any] = await pages.__anext__()
            except StopAsyncIteration:
                return
            except aws_failures() as exc:
                raise map_error(exc, operation=_camel(operation), profile=self.target.profile) from exc
            yield page

    def _learn(self, arn: str) -> None:
        if self.account is None:
            parts = arn.split(":")
            if len(parts) > 4 and parts[4].isdigit():
                self.account = parts[4]

    # -- pipelines --------------------------------------------------------------------------------------

    async def list_pipelines(self) -> list[Pipeline]:
        out: list[Pipeline] = []
        async for page in self.pages("list_pipelines"):
            out.extend(convert.pipeline(s) for s in page.get("PipelineSummaries", []))
        if out:
            self._learn(out[0].arn)
        return out

    async def pipeline_definition(self, pipeline_name: str) -> str:
        resp = await self.call("describe_pipeline", PipelineName=pipeline_name)
        self._learn(resp.get("PipelineArn", ""))
        return str(resp.get("PipelineDefinition") or "{}")

    async def describe_pipeline(self, pipeline_name: str) -> tuple[Pipeline, str]:
        """The pipeline and its current definition JSON."""
        resp = await self.call("describe_pipeline", PipelineName=pipeline_name)
        self._learn(resp.get("PipelineArn", ""))
        return convert.pipeline({**resp, "LastExecutionTime": resp.get("LastRunTime")}), str(
            resp.get("PipelineDefinition") or "{}"
        )

    async def list_pipeline_versions(self, pipeline_name: str) -> list[PipelineVersion]:
        """Every version of the pipeline's definition, newest first (one call per 100 versions)."""
        out: list[PipelineVersion] = []
        async for page in self.pages(
            "list_pipeline_versions", PipelineName=pipeline_name, SortOrder="Descending"
        ):
            out.extend(convert.pipeline_version(s) for s in page.get("PipelineVersionSummaries", []))
        return out

    async def pipeline_parameters(self, pipeline_name: str) -> list[Parameter]:
        return list(parse_definition(await self.pipeline_definition(pipeline_name)).parameters)

    # -- executions -------------------------------------------------------------------------------------

    async def list_executions(
        self,
        pipeline_name: str,
        *,
        created_after: datetime | None = None,
        stop: Callable[[list[Execution]], bool] | None = None,
        max_pages: int | None = None,
        page_size: int = PAGE,
    ) -> list[Execution]:
        """Executions of one pipeline, newest first. `stop(page)` true → no further pages."""
        out: list[Execution] = []
        pages = 0
        extra: dict[str, Any] = {"CreatedAfter": created_after} if created_after else {}
        async for resp in self.pages(
            "list_pipeline_executions",
            page_size=page_size,
            PipelineName=pipeline_name,
            SortBy="CreationTime",
            SortOrder="Descending",
            **extra,
        ):
            page = [
                convert.execution_from_summary(s, pipeline_name)
                for s in resp.get("PipelineExecutionSummaries", [])
            ]
            out.extend(page)
            pages += 1
            if (stop is not None and stop(page)) or (max_pages is not None and pages >= max_pages):
                break
        if out:
            self._learn(out[0].arn)
        return out

    async def describe_execution(self, execution_arn: str, pipeline_name: str | None = None) -> Execution:
        resp = await self.call("describe_pipeline_execution", PipelineExecutionArn=execution_arn)
        self._learn(execution_arn)
        return convert.execution_from_describe(resp, pipeline_name)

    async def list_steps(
        self,
        execution_arn: str,
        *,
        stop: Callable[[list[StepRun]], bool] | None = None,
        page_size: int = PAGE,
    ) -> list[StepRun]:
        """Steps that started, newest first. `stop(page)` true → no further pages."""
        out: list[StepRun] = []
        async for resp in self.pages(
            "list_pipeline_execution_steps",
            page_size=page_size,
            PipelineExecutionArn=execution_arn,
            SortOrder="Descending",
        ):
            page = [convert.step_run(s) for s in resp.get("PipelineExecutionSteps", [])]
            out.extend(page)
            if stop is not None and stop(page):
                break
        return out

    async def definition(self, execution_arn: str) -> str:
        resp = await self.call(
            "describe_pipeline_definition_for_execution", PipelineExecutionArn=execution_arn
        )
        return str(resp.get("PipelineDefinition") or "{}")

    async def parameters(self, execution_arn: str) -> tuple[tuple[str, str], ...]:
        out: list[tuple[str, str]] = []
        async for resp in self.pages(
            "list_pipeline_parameters_for_execution", PipelineExecutionArn=execution_arn
        ):
            out.extend((p["Name"], p["Value"]) for p in resp.get("PipelineParameters", []))
        return tuple(out)

    # -- actions ----------------------------------------------------------------------------------------

    async def start_execution(
        self,
        pipeline_name: str,
        parameters: Mapping[str, str],
        *,
        token: str,
        display_name: str | None = None,
        description: str | None = None,
        source_execution_arn: str | None = None,
        selected_steps: Sequence[str] = (),
    ) -> str:
        """StartPipelineExecution; with `selected_steps`, a selective execution of only those steps, reusing
        the results of the others from `source_execution_arn`."""
        extra: dict[str, Any] = {}
        if display_name:
            extra["PipelineExecutionDisplayName"] = display_name
        if description:
            extra["PipelineExecutionDescription"] = description
        if selected_steps:
            selective: dict[str, Any] = {"SelectedSteps": [{"StepName": name} for name in selected_steps]}
            if source_execution_arn:
                selective["SourcePipelineExecutionArn"] = source_execution_arn
            extra["SelectiveExecutionConfig"] = selective
        resp = await self.call(
            "start_pipeline_execution",
            PipelineName=pipeline_name,
            ClientRequestToken=token,
            PipelineParameters=[{"Name": k, "Value": v} for k, v in parameters.items()],
            **extra,
        )
        return str(resp["PipelineExecutionArn"])

    async def stop_execution(self, execution_arn: str, *, token: str) -> None:
        await self.call(
            "stop_pipeline_execution", PipelineExecutionArn=execution_arn, ClientRequestToken=token
        )

    async def retry_execution(self, execution_arn: str, *, token: str) -> None:
        await self.call(
            "retry_pipeline_execution", PipelineExecutionArn=execution_arn, ClientRequestToken=token
        )

    async def send_step_success(self, callback_token: str, outputs: Mapping[str, str], *, token: str) -> str:
        """Answer a waiting Callback step: it succeeds with `outputs`. Returns its execution's ARN."""
        resp = await self.call(
            "send_pipeline_execution_step_success",
            CallbackToken=callback_token,
            OutputParameters=[{"Name": k, "Value": v} for k, v in outputs.items()],
            ClientRequestToken=token,
        )
        return str(resp["PipelineExecutionArn"])

    async def send_step_failure(self, callback_token: str, reason: str, *, token: str) -> str:
        """Answer a waiting Callback step: it fails with `reason`. Returns its execution's ARN."""
        resp = await self.call(
            "send_pipeline_execution_step_failure",
            CallbackToken=callback_token,
            FailureReason=reason,
            ClientRequestToken=token,
        )
        return str(resp["PipelineExecutionArn"])

    async def describe_model_package(self, name_or_arn: str) -> ModelPackage:
        resp = await self.call("describe_model_package", ModelPackageName=name_or_arn)
        return convert.model_package(resp)

    async def set_model_approval(
        self, package_arn: str, status: str, *, description: str | None, token: str
    ) -> None:
        """UpdateModelPackage's approval: `status` is Approved, Rejected or PendingManualApproval.
        The API calls its idempotency token `ClientToken` (1–36 chars) and, unlike the pipeline
        operations, botocore does not fill it in."""
        extra: dict[str, Any] = {} if description is None else {"ApprovalDescription": description}
        await self.call(
            "update_model_package",
            ModelPackageArn=package_arn,
            ModelApprovalStatus=status,
            ClientToken=token,
            **extra,
        )

    async def resolve_execution(self, ref: str) -> str:
        """An execution ARN from a full ARN, `PIPELINE/EXECUTION_ID` or `PIPELINE@latest`."""
        ref = ref.strip()
        if ref.startswith("arn:"):
            if not convert.EXECUTION_ARN.match(ref):
                raise AwsError("InvalidExecution", ref, hint=f"not a pipeline execution ARN: {ref!r}")
            return ref
        if ref.endswith("@latest") and "/" not in ref and len(ref) > len("@latest"):
            name = ref[: -len("@latest")]
            found = await self.list_executions(name, max_pages=1, page_size=1)
            if not found:
                raise AwsError("ResourceNotFound", name, hint=f"pipeline {name!r} has no executions")
            return found[0].arn
        parts = ref.split("/")
        if len(parts) == 2 and all(parts) and "@" not in ref:
            pipeline, _ = await self.describe_pipeline(parts[0])
            return f"{pipeline.arn}/execution/{parts[1]}"
        raise AwsError(
            "InvalidExecution",
            ref,
            hint=f"cannot read execution {ref!r}: use a full ARN, PIPELINE/EXECUTION_ID or PIPELINE@latest",
        )


def _camel(operation: str) -> str:
    return "".join(part.title() for part in operation.split("_"))


def pipeline_of(execution_arn: str) -> str:
    """The pipeline segment of an execution ARN (lower-cased by the service)."""
    match = convert.EXECUTION_ARN.match(execution_arn)
    return match.group("pipeline") if match else ""


__all__ = ["AwsError", "AwsTarget", "SageMakerClient", "pipeline_of"]
