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
from smtui.core.records import CONTEXT_FIELDS as CONTEXT_FIELDS  # re-exported, as `context_fields`
from smtui.core.records import context_fields as context_fields
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


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Keep `--context`/`--all-contexts` in the context's `meta` (shared with the group's): the commands'
    signatures do not change, and `target_from` reads them."""
    if param.name == "contexts" and value:
        ctx.meta["smtui.contexts"] = (*ctx.meta.get("smtui.contexts", ()), *value)
    elif param.name == "all_contexts" and value:
        ctx.meta["smtui.all_contexts"] = True
    return value


def context_options(func: F) -> F:
    """`--context NAME` (repeatable) and `--all-contexts`: the `[contexts.NAME]` of the config file."""
    func = click.option(
        "--all-contexts",
        is_flag=True,
        expose_value=False,
        callback=_remember,
        help="Every context of the config file.",
    )(func)
    func = click.option(
        "--context",
        "contexts",
        multiple=True,
        metavar="NAME",
        expose_value=False,
        callback=_remember,
        help="A [contexts.NAME] of the config file (repeatable).",
    )(func)
    return func


def aws_options(func: F) -> F:
    """`--profile/--region/--endpoint-url/--json`, `--context/--all-contexts` on a command; these win over
    the group's flags."""
    func = click.option(
        "--json", "as_json", is_flag=True, help="Machine-readable output (fields in docs/commands.md)."
    )(func)
    func = click.option("--endpoint-url", default=None, help="SageMaker endpoint URL (e.g. an emulator).")(
        func
    )
    func = click.option("--region", default=None, help="AWS region.")(func)
    func = click.option("--profile", default=None, help="AWS profile.")(func)
    return context_options(func)


@dataclass(frozen=True)
class Place:
    """Where a command works: a context of the config file (`name`), or the flags' target (`name` None)."""

    name: str | None
    target: AwsTarget


def places_from(
    profile: str | None, region: str | None, endpoint_url: str | None
) -> tuple[list[Place], bool]:
    """The targets a command works on: the contexts `--context`/`--all-contexts` chose, else the one of the
    flags, the group's flags, SMTUI_* and the config file. Also read-only."""
    from smtui.config import load_settings, pick_contexts

    ctx = click.get_current_context(silent=True)
    group: dict[str, Any] = dict(ctx.find_root().obj or {}) if ctx is not None else {}
    meta: dict[str, Any] = dict(ctx.meta) if ctx is not None else {}
    try:
        settings = load_settings(
            profile=profile or group.get("profile"),
            region=region or group.get("region"),
            endpoint_url=endpoint_url or group.get("endpoint_url"),
            read_only=True if group.get("read_only") else None,
        )
        chosen = pick_contexts(settings, meta.get("smtui.contexts", ()), bool(meta.get("smtui.all_contexts")))
    except ValueError as exc:
        fail(str(exc))
    if chosen:
        places = [Place(name, AwsTarget(c.profile, c.region, c.endpoint_url)) for name, c in chosen]
        return places, settings.read_only
    return [Place(None, AwsTarget(settings.profile, settings.region, settings.endpoint_url))], (
        settings.read_only
    )


def target_from(
    profile: str | None, region: str | None, endpoint_url: str | None, refs: Sequence[str] = ()
) -> tuple[AwsTarget, bool]:
    """The one AWS target of a command, and read-only (`place_from`)."""
    place, read_only = place_from(profile, region, endpoint_url, refs)
    return place.target, read_only


def place_from(
    profile: str | None, region: str | None, endpoint_url: str | None, refs: Sequence[str] = ()
) -> tuple[Place, bool]:
    """Where a command acts, and read-only. With several contexts, the ARNs among `refs` pick the context
    (their region, then their account); a command with no ARN needs one context. Its `name` is what
    `--json` records say (`context_fields`)."""
    places, read_only = places_from(profile, region, endpoint_url)
    if len(places) == 1:
        return places[0], read_only
    return pick_place(places, refs), read_only


def pick_place(places: Sequence[Place], refs: Sequence[str]) -> Place:
    """The one context that holds every ARN of `refs` (exit 2 naming the contexts when none or several
    can). A context's account is learned only when two contexts share the ARN's region: from one
    ListPipelines page, as the client learns it."""
    names = ", ".join(str(p.name) for p in places)
    arns = [ref.strip() for ref in refs if ref.strip().startswith("arn:")]
    if not arns:
        fail(f"several contexts ({names}): this command acts in one; give an ARN or a single --context")
    wanted = {(parts[3], parts[4]) for parts in (arn.split(":") for arn in arns) if len(parts) > 4}
    if len(wanted) != 1:
        fail(f"the ARNs given are in {len(wanted)} accounts/regions: act on one context at a time")
    ((region, account),) = wanted
    candidates = [p for p in places if p.target.region == region]
    if len(candidates) > 1:
        accounts = asyncio.run(_accounts(candidates))
        candidates = [p for p, found in zip(candidates, accounts, strict=True) if found == account]
    if len(candidates) != 1:
        found = "none" if not candidates else ", ".join(str(p.name) for p in candidates)
        fail(f"{account}/{region}: no single context of {names} holds it (found: {found})")
    return candidates[0]


async def _accounts(places: Sequence[Place]) -> list[str | None]:
    """Each context's account, from the ARN of its first pipeline (None when it has none or fails)."""

    async def one(place: Place) -> str | None:
        try:
            async with SageMakerClient.create(place.target) as client:
                page = await client.call("list_pipelines", MaxResults=1)
        except AwsError:
            return None
        summaries = page.get("PipelineSummaries") or [{}]
        parts = str(summaries[0].get("PipelineArn", "")).split(":")
        return parts[4] if len(parts) > 4 else None

    return list(await asyncio.gather(*(one(p) for p in places)))


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


def execution_json(
    execution: Execution, now: datetime, left: Remaining | None = None, *, context: str | None = None
) -> dict[str, Any]:
    """The stable JSON shape of an execution (documented in docs/commands.md; `smtui.core.records`).
    `left`: the time-left estimate, where the command read the history for it (`ls`, `show`); `context`:
    the context it was found in, with `--context`/`--all-contexts` (`context_fields`)."""
    return {**execution_record(execution, now, left), **context_fields(context, execution.arn)}


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
