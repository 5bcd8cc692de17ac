"""What every headless command shares: AWS flags, settings, the async runner, errors → exit codes, JSON.

Exit codes: 0 success; 1 an action or execution failed; 2 usage, credential or bad-input errors (nothing
was changed); 124 `wait --timeout` expired. Errors are one line on stderr, prefixed `smtui: `.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn, TypeVar

import click

from smtui.core.client import AwsTarget, SageMakerClient
from smtui.core.errors import AwsError
from smtui.core.model import Execution, ExecutionStatus
from smtui.core.records import execution_record
from smtui.core.records import iso as iso  # re-exported: the commands' one spelling of a time
from smtui.core.timing import HISTORY_RUNS, Remaining

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 124


class CommandError(Exception):
    """A user-facing failure: a one-line message and the exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def aws_options(func: F) -> F:
    """`--profile/--region/--endpoint-url/--json` on a command; these win over the group's flags."""
    func = click.option(
        "--json", "as_json", is_flag=True, help="Machine-readable output (fields in the README)."
    )(func)
    func = click.option("--endpoint-url", default=None, help="SageMaker endpoint URL (e.g. an emulator).")(
        func
    )
    func = click.option("--region", default=None, help="AWS region.")(func)
    func = click.option("--profile", default=None, help="AWS profile.")(func)
    return func


def target_from(profile: str | None, region: str | None, endpoint_url: str | None) -> tuple[AwsTarget, bool]:
    """The AWS target: command flags, then the group's flags, then SMTUI_* / config file. Also read-only."""
    from smtui.config import load_settings

    ctx = click.get_current_context(silent=True)
    group: dict[str, Any] = dict(ctx.find_root().obj or {}) if ctx is not None else {}
    try:
        settings = load_settings(
            profile=profile or group.get("profile"),
            region=region or group.get("region"),
            endpoint_url=endpoint_url or group.get("endpoint_url"),
            read_only=True if group.get("read_only") else None,
        )
    except ValueError as exc:
        fail(str(exc))
    return AwsTarget(settings.profile, settings.region, settings.endpoint_url), settings.read_only


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"smtui: {message}", err=True)
    sys.exit(code)


def exit_code_for(error: AwsError) -> int:
    return EXIT_USAGE if error.is_usage else EXIT_FAILED


def run(target: AwsTarget, body: Callable[[SageMakerClient], Awaitable[T]], *, max_attempts: int = 5) -> T:
    """Open a client, run `body`, close; AwsError/CommandError → one line on stderr and an exit code."""

    async def main() -> T:
        async with SageMakerClient.create(target, max_attempts=max_attempts) as client:
            return await body(client)

    try:
        return asyncio.run(main())
    except AwsError as exc:
        fail(str(exc), exit_code_for(exc))
    except CommandError as exc:
        fail(str(exc), exc.code)
    except KeyboardInterrupt:
        fail("interrupted", 130)


def positive_seconds(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """A click callback for a pace in seconds: `nan`, `inf`, 0 and less are usage errors."""
    if not 0 < value < math.inf:
        raise click.BadParameter(f"{value} is not a positive number of seconds")
    return value


MAX_DURATION = timedelta(days=100 * 365)  # longer is a typo, and past what a datetime can subtract


@dataclass(frozen=True)
class Resolved:
    """A reference as the user typed it, and the execution it names (described: it exists)."""

    ref: str
    execution: Execution


async def resolve_all(client: SageMakerClient, refs: Sequence[str], concurrency: int = 8) -> list[Resolved]:
    """Every reference resolved and described before any is acted on: a command that targets several
    executions does all of it or nothing. Raises CommandError naming each reference that does not resolve
    (exit 2 when every failure is the user's: unknown or malformed; else the exit code of the other error,
    a throttled or failed call). A reference given twice, or two naming one execution, count once."""
    gate = asyncio.Semaphore(concurrency)

    async def one(ref: str) -> Execution:
        async with gate:
            arn = await client.resolve_execution(ref)
            # PIPELINE/ID resolves without asking whether the execution exists: describe it.
            return await client.describe_execution(arn, _pipeline_hint(ref))

    found = await asyncio.gather(*(one(ref) for ref in refs), return_exceptions=True)
    bad: list[tuple[str, AwsError]] = []
    out: dict[str, Resolved] = {}
    for ref, result in zip(refs, found, strict=True):
        if isinstance(result, AwsError):
            bad.append((ref, result))
        elif isinstance(result, BaseException):
            raise result
        else:
            out.setdefault(result.arn, Resolved(ref, result))
    if bad:
        code = EXIT_USAGE if all(error.is_usage for _, error in bad) else EXIT_FAILED
        reasons = "; ".join(f"{ref}: {str(error).rstrip('.')}" for ref, error in bad)
        counted = f"{len(bad)} of {len(refs)} executions: " if len(refs) > 1 else ""
        raise CommandError(f"{counted}{reasons}; nothing done", code)
    return list(out.values())


def _pipeline_hint(ref: str) -> str | None:
    """The pipeline name as the user typed it (ARNs carry it lower-cased)."""
    ref = ref.strip()
    if ref.startswith("arn:"):
        return None
    return ref[: -len("@latest")] if ref.endswith("@latest") else ref.split("/", 1)[0]


def parse_duration(text: str) -> timedelta:
    """`90`, `90s`, `15m`, `2h`, `1d`, `1h30m` → timedelta, at most 100 years. Raises click.BadParameter."""
    match = re.fullmatch(r"\s*(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*", text)
    if not text.strip() or match is None or not any(match.groups()):
        raise click.BadParameter(f"{text!r} is not a duration (examples: 90s, 15m, 2h, 1d)")
    days, hours, minutes, seconds = (float(part or 0) for part in match.groups())
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    if total > MAX_DURATION.total_seconds():
        raise click.BadParameter(f"{text!r} is longer than 100 years")
    return timedelta(seconds=total)


def execution_json(execution: Execution, now: datetime, left: Remaining | None = None) -> dict[str, Any]:
    """The stable JSON shape of an execution (documented in docs/commands.md; `smtui.core.records`).
    `left`: the time-left estimate, where the command read the history for it (`ls`, `show`)."""
    return execution_record(execution, now, left)


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=None, sort_keys=False))


def require_writable(read_only: bool, action: str) -> None:
    if read_only:
        fail(f"read-only mode: refusing to {action}")


def need_terminal(what: str, yes: bool) -> None:
    """Refuse at once, before any call, what would have to ask and cannot: scripts opt in with `--yes`."""
    if not yes and (sys.stdin is None or not sys.stdin.isatty()):
        fail(f"{what} — refusing without --yes because stdin is not a terminal")


def confirm(prompt: str, yes: bool) -> None:
    """Ask on a terminal; without one, refuse unless `--yes` (scripts must opt in explicitly)."""
    if yes:
        return
    need_terminal(prompt, yes)
    if not click.confirm(prompt, default=False):
        raise CommandError("aborted, nothing done", EXIT_FAILED)


async def success_history(
    client: SageMakerClient,
    pipelines: Iterable[str],
    known: Sequence[Execution] = (),
    *,
    complete: bool = False,
) -> list[Execution]:
    """The last successful runs of each pipeline, with their end times (what the time-left estimate goes
    by): a page of ListPipelineExecutions (none when `complete`: `known` already holds each pipeline's
    newest runs, unfiltered), then a Describe for each of the last `HISTORY_RUNS` Succeeded whose end is
    not known yet."""

    async def described(execution: Execution) -> Execution:
        if execution.ended is not None:
            return execution
        return await client.describe_execution(execution.arn, execution.pipeline_name)

    async def one(pipeline: str) -> list[Execution]:
        if complete:
            listed = [e for e in known if e.pipeline_name == pipeline]
        else:
            listed = await client.list_executions(pipeline, max_pages=1)
        done = [e for e in listed if e.status is ExecutionStatus.SUCCEEDED][:HISTORY_RUNS]
        return list(await asyncio.gather(*(described(e) for e in done)))

    found = await asyncio.gather(*(one(p) for p in sorted(set(pipelines))))
    return [e for batch in found for e in batch]
