"""`smtui start`, `smtui stop`, `smtui retry`.

`start` checks the parameters against the pipeline's definition before sending anything: an unknown name or
a value of the wrong type is a one-line error, exit 2, and no StartPipelineExecution is made. `start --from
EXECUTION --steps A,B` (a selective execution) also resolves EXECUTION and checks the step names first, then
asks as `stop` does; the service refusing the selection is exit 1.
`stop`/`retry` (and any command built with `execution_command`) resolve every EXECUTION before acting on
any, ask before acting unless `--yes`, and refuse without `--yes` when stdin is not a terminal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import click

from smtui.core.actions import Actions, SelectionPlan
from smtui.core.client import SageMakerClient
from smtui.core.errors import AwsError
from smtui.core.model import Execution
from smtui.headless.common import (
    EXIT_FAILED,
    CommandError,
    aws_options,
    confirm,
    context_fields,
    need_terminal,
    place_from,
    positive_seconds,
    print_json,
    require_writable,
    resolve_all,
    run,
)
from smtui.headless.wait import configured_rate, wait_for


def parse_assignments(values: tuple[str, ...], flag: str = "-p") -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"{flag} expects NAME=VALUE, got {item!r}")
        if name.strip() in out:  # a typo for another name, more likely than a change of mind
            raise click.UsageError(f"{flag} {name.strip()} is given twice ({out[name.strip()]!r}, {value!r})")
        out[name.strip()] = value
    return out


@click.command("start")
@click.argument("pipeline")
@click.option(
    "-p", "--parameter", "parameters", multiple=True, metavar="NAME=VALUE", help="A parameter value."
)
@click.option("--display-name", help="The execution's display name.")
@click.option(
    "--wait", "then_wait", is_flag=True, help="Then wait for it to end (exit codes of `smtui wait`)."
)
@click.option(
    "--interval",
    type=float,
    default=10.0,
    show_default=True,
    callback=positive_seconds,
    help="With --wait: the pace in seconds, as `smtui wait --interval`.",
)
@click.option(
    "--from",
    "source",
    metavar="EXECUTION",
    help="Run only the --steps, reusing this execution's results and parameters for the others.",
)
@click.option("--steps", metavar="A,B", help="With --from: the steps to run, comma-separated.")
@click.option("--yes", "-y", is_flag=True, help="With --from: do not ask for confirmation.")
@aws_options
def start_command(
    pipeline: str,
    parameters: tuple[str, ...],
    display_name: str | None,
    then_wait: bool,
    interval: float,
    source: str | None,
    steps: str | None,
    yes: bool,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    as_json: bool,
) -> None:
    """Start a pipeline execution and print its ARN.

    With --from EXECUTION --steps A,B: a selective execution that runs only those steps, with the
    parameters of EXECUTION (-p overrides some), the other steps' results taken from it. It asks first.
    """
    values = parse_assignments(parameters)
    selected = [name.strip() for name in (steps or "").split(",") if name.strip()]
    if (source is None) != (steps is None):
        raise click.UsageError("--from EXECUTION and --steps A,B go together")
    if steps is not None and not selected:
        raise click.UsageError(f"--steps expects step names separated by commas, got {steps!r}")
    place, read_only = place_from(profile, region, endpoint_url, [pipeline, source or ""])
    require_writable(read_only, "start an execution")
    if source is not None:
        need_terminal(f"start {pipeline} from {source}", yes)

    async def body(client: SageMakerClient) -> int:
        shown: dict[str, Any]
        if source is not None:
            plan = await _plan_from(client, pipeline, source, selected, values, yes)
            try:
                arn = await Actions(client).start_selection(plan, display_name=display_name)
            except AwsError as exc:  # the service refused the selection: exit 1, as for stop/retry
                raise CommandError(f"{pipeline}: {exc}", EXIT_FAILED) from exc
            shown = {
                "arn": arn,
                "source": plan.source_arn,
                "steps": list(plan.steps),
                "reused": list(plan.reused),
            }
        else:
            try:
                arn = await Actions(client).start(pipeline, values, display_name=display_name)
            except ValueError as exc:
                raise CommandError(f"{pipeline}: {exc}; nothing started") from exc
            shown = {"arn": arn}
        shown.update(context_fields(place.name, arn))
        if as_json:
            print_json(shown)
        else:
            click.echo(arn)
        if not then_wait:
            return 0
        return await wait_for(
            client,
            [arn],
            limit=None,
            interval=interval,
            as_json=as_json,
            rate=configured_rate(),
            context=place.name,
        )

    raise SystemExit(run(place.target, body))


async def _plan_from(
    client: SageMakerClient,
    pipeline: str,
    source: str,
    steps: list[str],
    overrides: dict[str, str],
    yes: bool,
) -> SelectionPlan:
    """Resolve and check everything a selective start needs (exit 2 and nothing started otherwise), then
    ask."""
    (resolved,) = await resolve_all(client, [source])
    try:
        plan = await Actions(client).plan_selection(pipeline, resolved.execution.arn, steps, overrides)
    except ValueError as exc:
        raise CommandError(f"{pipeline}: {exc}; nothing started") from exc
    reusing = f", reusing {', '.join(plan.reused)}" if plan.reused else ""
    overriding = f" but {', '.join(f'{k}={v}' for k, v in overrides.items())}" if overrides else ""
    confirm(
        f"start {plan.pipeline} running only {', '.join(plan.steps)}{reusing} from {source}"
        f" ({resolved.execution.status.value}), with its parameters{overriding}?",
        yes,
    )
    return plan


@dataclass(frozen=True)
class ExecutionAction:
    """An action on executions, for `execution_command`: `act` is called once per execution."""

    verb: str  # "stop": in the prompt and in the read-only refusal
    doing: str  # "stopping": the result of each execution that the service accepted
    act: Callable[[Actions, Execution], Awaitable[None]]


def execution_command(name: str, action: ExecutionAction, help: str) -> click.Command:
    """A command acting on EXECUTION..., with what every such command owes its user: it refuses in
    read-only mode; it resolves every reference before acting on any (`resolve_all`: one unknown or
    malformed reference → exit 2, nothing done); it asks before acting unless `--yes` (and refuses without
    a terminal); then it acts on each, printing one result per execution (exit 1 if the service refused any).
    """

    @click.command(name, help=help)
    @click.argument("executions", nargs=-1, required=True)
    @click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
    @aws_options
    def command(
        executions: tuple[str, ...],
        yes: bool,
        profile: str | None,
        region: str | None,
        endpoint_url: str | None,
        as_json: bool,
    ) -> None:
        place, read_only = place_from(profile, region, endpoint_url, executions)
        where = place.name
        require_writable(read_only, f"{action.verb} executions")
        need_terminal(f"{action.verb} {len(executions)} execution(s)", yes)

        async def body(client: SageMakerClient) -> int:
            resolved = await resolve_all(client, executions)
            listed = ", ".join(f"{r.ref} ({r.execution.status.value})" for r in resolved)
            confirm(f"{action.verb} {len(resolved)} execution(s): {listed}?", yes)
            actions = Actions(client)
            results: list[dict[str, str | None]] = []
            # Each record says where its execution is, with --context/--all-contexts (as `ls` does).
            worst = 0
            for r in resolved:
                arn = r.execution.arn
                try:
                    await action.act(actions, r.execution)
                except AwsError as exc:
                    worst = EXIT_FAILED
                    results.append(
                        {"execution": r.ref, "arn": arn, "result": "error", "error": str(exc)}
                        | context_fields(where, arn)
                    )
                    if not as_json:
                        click.echo(f"smtui: {r.ref}: {exc}", err=True)
                    continue
                results.append(
                    {"execution": r.ref, "arn": arn, "result": action.doing, "error": None}
                    | context_fields(where, arn)
                )
                if not as_json:
                    click.echo(f"{action.doing}: {arn}")
            if as_json:
                print_json(results)
            return worst

        raise SystemExit(run(place.target, body))

    return command


stop_command = execution_command(
    "stop",
    ExecutionAction("stop", "stopping", lambda actions, e: actions.stop(e.arn)),
    "Stop executions (they pass through Stopping to Stopped).\n\n"
    "EXECUTION is a full ARN, PIPELINE/EXECUTION_ID or PIPELINE@latest; all are resolved before any\n"
    "is stopped.",
)
retry_command = execution_command(
    "retry",
    ExecutionAction("retry", "retrying", lambda actions, e: actions.retry(e.arn)),
    "Retry failed executions (same ARN; failed and unstarted steps run again).\n\n"
    "EXECUTION is a full ARN, PIPELINE/EXECUTION_ID or PIPELINE@latest; all are resolved before any\n"
    "is retried.",
)
