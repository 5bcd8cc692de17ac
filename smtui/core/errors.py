"""AWS failures turned into one actionable line each.

`AwsError.message` is what the service (or botocore) said, verbatim; `str(error)` is the line to show a user:
what went wrong and what to do about it.
"""

from __future__ import annotations

from typing import Any

# Codes that mean the credentials are no longer valid; the fix is the same for all of them.
_EXPIRED = {
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "TokenRefreshRequired",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "NotAuthorized"}
THROTTLING_CODES = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "ProvisionedThroughputExceededException",
}
# Our own codes for failures that never reached the service.
NO_CREDENTIALS = "NoCredentials"
NO_REGION = "NoRegion"
INVALID_REGION = "InvalidRegion"
INVALID_ENDPOINT = "InvalidEndpoint"
NO_PROFILE = "ProfileNotFound"
INVALID_SETTING = "InvalidSetting"  # an AWS setting of the user's smtui reads itself (`AWS_MAX_ATTEMPTS`)
CONNECTION = "ConnectionError"
SSO_EXPIRED = "SSOTokenExpired"


class AwsError(Exception):
    """A failed AWS call. `code` is the service's error code (or one of ours for local failures)."""

    def __init__(
        self, code: str, message: str, *, operation: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.operation = operation
        self.hint = hint

    def __str__(self) -> str:
        return self.hint or f"{self.code}: {self.message}"

    @property
    def is_throttling(self) -> bool:
        return self.code in THROTTLING_CODES

    @property
    def is_connection(self) -> bool:
        """The endpoint could not be reached, or answered with a server error: worth retrying later."""
        return self.code == CONNECTION or self.code in (
            "InternalFailure",
            "ServiceUnavailable",
            "InternalError",
        )

    @property
    def is_credentials(self) -> bool:
        """Only the user can fix this (credentials, region, endpoint, profile, settings, permissions)."""
        local = {
            NO_CREDENTIALS,
            NO_REGION,
            INVALID_REGION,
            INVALID_ENDPOINT,
            NO_PROFILE,
            INVALID_SETTING,
            SSO_EXPIRED,
        }
        return self.code in local | _EXPIRED | _DENIED

    @property
    def is_denied(self) -> bool:
        """The caller's policy does not allow this operation (other operations may work)."""
        return self.code in _DENIED

    @property
    def is_not_found(self) -> bool:
        return self.code in ("ResourceNotFound", "ResourceNotFoundException")

    @property
    def is_usage(self) -> bool:
        """A bad request from the user, refused before anything changed: bad credentials or settings, an
        unknown resource, an invalid request (the exit code 2 of every command)."""
        return (
            self.is_credentials
            or self.is_not_found
            or self.code in ("ValidationException", "InvalidExecution")
        )


# The service a call went to, as its hints name it: (name in prose, IAM prefix of its actions).
SERVICES = {
    "sagemaker": ("SageMaker", "sagemaker"),
    "logs": ("CloudWatch Logs", "logs"),
    "sqs": ("SQS", "sqs"),
    "events": ("EventBridge", "events"),
}


def aws_failures() -> tuple[type[BaseException], ...]:
    """What a call to AWS can raise that is not a bug of ours: botocore's errors (the service's answers,
    credentials, configuration, connections), aiohttp's and the socket's. Anything else (a TypeError, a
    KeyError) is a bug and is left to surface."""
    import aiohttp
    from botocore import exceptions as bex

    return (bex.BotoCoreError, bex.ClientError, aiohttp.ClientError, OSError, TimeoutError)


def map_error(
    exc: BaseException,
    *,
    operation: str | None = None,
    profile: str | None = None,
    service: str = "sagemaker",
) -> AwsError:
    """Turn a botocore/aiohttp exception into an `AwsError` with a one-line hint (`service`: a key of
    `SERVICES`, for the hints that name the service or its IAM actions)."""
    from botocore import exceptions as bex  # imported here: keep `smtui --help` light

    login = f"aws sso login --profile {profile}" if profile else "aws sso login"
    if isinstance(exc, AwsError):
        return exc
    if isinstance(exc, bex.NoCredentialsError | bex.PartialCredentialsError):
        return AwsError(
            NO_CREDENTIALS,
            str(exc),
            operation=operation,
            hint=(
                "no AWS credentials found: set AWS_PROFILE or pass --profile, run `aws configure`, "
                "or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
            ),
        )
    if isinstance(exc, bex.InvalidRegionError):
        return AwsError(
            INVALID_REGION,
            str(exc),
            operation=operation,
            hint=f"{exc} — pass --region with a region such as eu-west-1",
        )
    if isinstance(exc, bex.NoRegionError):
        return AwsError(
            NO_REGION,
            str(exc),
            operation=operation,
            hint=("no AWS region: pass --region, set AWS_REGION, or set `region` in your AWS profile"),
        )
    if isinstance(exc, bex.ProfileNotFound):
        return AwsError(
            NO_PROFILE,
            str(exc),
            operation=operation,
            hint=(f"{exc} — check ~/.aws/config, or list profiles with `aws configure list-profiles`"),
        )
    if isinstance(exc, bex.CredentialRetrievalError):  # a credential_process, a container or role provider
        return AwsError(
            NO_CREDENTIALS,
            str(exc),
            operation=operation,
            hint=f"cannot get AWS credentials: {str(exc).strip()} — check the profile's credential source",
        )
    if isinstance(exc, bex.InvalidConfigError | bex.ConfigParseError | bex.ConfigNotFound):
        return AwsError(
            NO_PROFILE,
            str(exc),
            operation=operation,
            hint=f"{str(exc).strip()} — check ~/.aws/config (or AWS_CONFIG_FILE)",
        )
    if isinstance(exc, bex.SSOTokenLoadError | bex.UnauthorizedSSOTokenError | bex.TokenRetrievalError):
        return AwsError(
            SSO_EXPIRED,
            str(exc),
            operation=operation,
            hint=f"the AWS SSO session has expired or is missing: run `{login}`",
        )
    if isinstance(exc, bex.ClientError):
        # botocore's name of the call (GetQueueUrl), whatever name the caller used (get_queue_url)
        return _client_error(exc.response, exc.operation_name or operation, login, service)
    if isinstance(
        exc,
        bex.EndpointConnectionError
        | bex.ConnectionClosedError
        | bex.ReadTimeoutError
        | bex.ConnectTimeoutError
        | bex.HTTPClientError
        | OSError
        | TimeoutError,
    ):
        return AwsError(
            CONNECTION,
            str(exc) or type(exc).__name__,
            operation=operation,
            hint=(
                f"cannot reach the {SERVICES[service][0]} endpoint: {exc or type(exc).__name__}"
                " (check the network, the region and --endpoint-url)"
            ),
        )
    if isinstance(exc, bex.ParamValidationError):
        return AwsError(
            "ValidationException", str(exc), operation=operation, hint=str(exc).replace("\n", " ")
        )
    return AwsError(type(exc).__name__, str(exc), operation=operation)


def _client_error(response: dict[str, Any], operation: str | None, login: str, service: str) -> AwsError:
    label, prefix = SERVICES[service]
    err = response.get("Error") or {}
    code = str(err.get("Code") or "Unknown")
    message = str(err.get("Message") or response.get("Message") or "")
    op = f" ({operation})" if operation else ""
    hint: str | None
    if code in _EXPIRED:
        hint = f"AWS credentials expired or invalid{op}: refresh them (for SSO: `{login}`) — {message}"
    elif code in _DENIED:
        hint = f"access denied{op}: your role needs {prefix}:{operation or '...'} — {message}"
    elif code in THROTTLING_CODES:
        hint = f"throttled by {label}{op}: {message or 'Rate exceeded'} — retry later or lower the call rate"
    else:
        hint = f"{code}{op}: {message}"
    return AwsError(code, message, operation=operation, hint=hint)
