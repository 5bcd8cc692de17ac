"""`smtui start`, `smtui stop`, `smtui retry`.

`start` checks the parameters against the pipeline's definition before sending anything: an unknown name or
a value of the wrong type is a one-line error, exit 2, and no StartPipelineExecution is made.
`stop`/`retry` ask before acting unless `--yes`, and refuse without `--yes` when stdin is not a terminal.
"""

from __future__ import annotations

import click

from smtui.core.actions import Actions
from smtui.core.client import SageMakerClient
from smtui.core.errors import AwsError
from smtui.headless.common import (
    EXIT_FAILED,
    CommandError,
    aws_options,
    confirm,
    print_json,
    require_writable,
    run,
    target_from,
)
from smtui.headless.wait import configured_rate, wait_for


def parse_assignments(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"-p expects NAME=VALUE, got {item!r}")
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
    help="With --wait: the pace in seconds, as `smtui wait --interval`.",
)
@aws_options
def start_command(
    pipeline: str,
    parameters: tuple[str, ...],
    display_name: str | None,
    then_wait: bool,
    interval: float,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    as_json: bool,
) -> None:
    """Start a pipeline execution and print its ARN."""
    values = parse_assignments(parameters)
    target, read_only = target_from(profile, region, endpoint_url)
    require_writable(read_only, "start an execution")

    async def body(client: SageMakerClient) -> int:
        try:
            arn = await Actions(client).start(pipeline, values, display_name=display_name)
        except ValueError as exc:
            raise CommandError(f"{pipeline}: {exc}; nothing started") from exc
        if as_json:
            print_json({"arn": arn})
        else:
            click.echo(arn)
        if not then_wait:
            return 0
        return await wait_for(
            client, [arn], limit=None, interval=interval, as_json=as_json, rate=configured_rate()
        )

    raise SystemExit(run(target, body))


def _bulk(
    verb: str, executions: tuple[str, ...], yes: bool, as_json: bool, target_args: tuple[str | None, ...]
) -> None:
    target, read_only = target_from(*target_args)
    require_writable(read_only, f"{verb} executions")
    confirm(f"{verb} {len(executions)} execution(s): {', '.join(executions)}?", yes)

    async def body(client: SageMakerClient) -> int:
        actions = Actions(client)
        # Resolve every reference first: one bad EXECUTION means nothing is done at all.
        arns = [await client.resolve_execution(ref) for ref in executions]
        results: list[dict[str, str | None]] = []
        worst = 0
        for ref, arn in zip(executions, arns, strict=True):
            try:
                await (actions.stop(arn) if verb == "stop" else actions.retry(arn))
            except AwsError as exc:
                worst = EXIT_FAILED
                results.append({"execution": ref, "arn": arn, "result": "error", "error": str(exc)})
                if not as_json:
                    click.echo(f"smtui: {ref}: {exc}", err=True)
                continue
            done = "stopping" if verb == "stop" else "retrying"
            results.append({"execution": ref, "arn": arn, "result": done, "error": None})
            if not as_json:
                click.echo(f"{done}: {arn}")
        if as_json:
            print_json(results)
        return worst

    raise SystemExit(run(target, body))


@click.command("stop")
@click.argument("executions", nargs=-1, required=True)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@aws_options
def stop_command(
    executions: tuple[str, ...],
    yes: bool,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    as_json: bool,
) -> None:
    """Stop executions (they pass through Stopping to Stopped)."""
    _bulk("stop", executions, yes, as_json, (profile, region, endpoint_url))


@click.command("retry")
@click.argument("executions", nargs=-1, required=True)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@aws_options
def retry_command(
    executions: tuple[str, ...],
    yes: bool,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    as_json: bool,
) -> None:
    """Retry failed executions (same ARN; failed and unstarted steps run again)."""
    _bulk("retry", executions, yes, as_json, (profile, region, endpoint_url))
