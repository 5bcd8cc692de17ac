"""`smtui callback` and `smtui approve`: act on one step of an execution.

Like `stop`/`retry`, each refuses in read-only mode, resolves everything it needs before acting (the
execution, the step, its token or model package; outputs checked against the step's declared ones), asks
unless `--yes` (refusing without it when stdin is not a terminal), then makes one call. Anything wrong before
that call is exit 2 with nothing sent; the service refusing the call is exit 1.
"""

from __future__ import annotations

from typing import Any

import click

from smtui.core.actions import (
    Actions,
    SeveralSteps,
    check_approval_note,
    check_failure_reason,
    validate_outputs,
)
from smtui.core.client import SageMakerClient
from smtui.core.errors import AwsError
from smtui.headless.actions import parse_assignments
from smtui.headless.common import (
    EXIT_FAILED,
    CommandError,
    aws_options,
    confirm,
    context_fields,
    fail,
    need_terminal,
    place_from,
    print_json,
    require_writable,
    resolve_all,
    run,
)


def _report(result: dict[str, Any], line: str, error: AwsError | None, as_json: bool) -> int:
    """Print the outcome as `stop`/`retry` do: the JSON object (with `error`), else a line on stdout, or
    on stderr when the service refused. Returns the exit code."""
    if error is not None:
        result.update(result="error", error=str(error))
    if as_json:
        print_json(result)
    elif error is not None:
        click.echo(f"smtui: {error}", err=True)
    else:
        click.echo(line)
    return EXIT_FAILED if error is not None else 0


@click.command("callback")
@click.argument("execution")
@click.argument("step")
@click.option("--success", is_flag=True, help="Let the step succeed (with the -o outputs).")
@click.option(
    "-o",
    "--output",
    "outputs",
    multiple=True,
    metavar="NAME=VALUE",
    help="With --success: an output parameter the step declares, checked against its OutputType.",
)
@click.option("--failure", metavar="REASON", help="Let the step fail with this reason (≤ 256 characters).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@aws_options
def callback_command(
    execution: str,
    step: str,
    success: bool,
    outputs: tuple[str, ...],
    failure: str | None,
    yes: bool,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    as_json: bool,
) -> None:
    """Answer a Callback step that is waiting: --success [-o NAME=VALUE]... or --failure REASON.

    EXECUTION is a full ARN, PIPELINE/EXECUTION_ID or PIPELINE@latest. The step's token is read from the
    execution's steps; outputs are checked against the names and types the step declares before anything
    is sent.
    """
    if success == (failure is not None):
        raise click.UsageError("give either --success or --failure REASON")
    if outputs and failure is not None:
        raise click.UsageError("-o goes with --success, not --failure")
    values = parse_assignments(outputs, "-o")
    if failure is not None:
        try:
            check_failure_reason(failure)
        except ValueError as exc:
            fail(f"{exc}; nothing sent")
    place, read_only = place_from(profile, region, endpoint_url, [execution])
    require_writable(read_only, "answer a Callback step")
    need_terminal(f"answer Callback step {step} of {execution}", yes)

    async def body(client: SageMakerClient) -> int:
        (resolved,) = await resolve_all(client, [execution])
        arn = resolved.execution.arn
        actions = Actions(client)
        try:
            waiting = await actions.find_callback(arn, step)
            checked = validate_outputs(waiting.outputs, values) if success else {}
        except ValueError as exc:
            raise CommandError(f"{execution}: {exc}; nothing sent") from exc
        if success:
            given = ", ".join(f"{k}={v}" for k, v in checked.items())
            missing = [d.name for d in waiting.outputs if d.name not in checked]
            what = f"success ({given or 'no outputs'}" + (
                f"; not given: {', '.join(missing)})" if missing else ")"
            )
        else:
            what = f"failure ({failure})"
        confirm(
            f"send {what} to Callback step {step} of {execution} ({resolved.execution.status.value})?", yes
        )
        error: AwsError | None = None
        try:
            await actions.answer_callback(waiting, outputs=checked, failure=failure)
        except AwsError as exc:
            error = exc
        result: dict[str, Any] = {
            "execution": execution,
            "arn": arn,
            "step": step,
            "result": "success" if success else "failure",
            "outputs": checked,
            "reason": failure,
            "error": None,
            **context_fields(place.name, arn),
        }
        return _report(result, f"sent {result['result']}: {step} of {arn}", error, as_json)

    raise SystemExit(run(place.target, body))


@click.command("approve")
@click.argument("execution")
@click.option("--reject", is_flag=True, help="Reject the model package instead of approving it.")
@click.option("--note", metavar="TEXT", help="The approval description (≤ 1024 characters).")
@click.option("--step", metavar="NAME", help="The RegisterModel step, when the execution has more than one.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@aws_options
def approve_command(
    execution: str,
    reject: bool,
    note: str | None,
    step: str | None,
    yes: bool,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    as_json: bool,
) -> None:
    """Approve (or --reject) the model package the execution's RegisterModel step registered.

    EXECUTION is a full ARN, PIPELINE/EXECUTION_ID or PIPELINE@latest. An execution with several
    RegisterModel steps needs --step NAME.
    """
    verb = "reject" if reject else "approve"
    try:
        check_approval_note(note)
    except ValueError as exc:
        fail(f"{exc}; nothing changed")
    place, read_only = place_from(profile, region, endpoint_url, [execution])
    require_writable(read_only, f"{verb} a model package")
    need_terminal(f"{verb} the model package of {execution}", yes)

    async def body(client: SageMakerClient) -> int:
        (resolved,) = await resolve_all(client, [execution])
        arn = resolved.execution.arn
        actions = Actions(client)
        try:
            found = await actions.find_registered_package(arn, step)
        except SeveralSteps as exc:
            raise CommandError(f"{execution}: {exc}; pick one with --step NAME, nothing changed") from exc
        except ValueError as exc:
            raise CommandError(f"{execution}: {exc}; nothing changed") from exc
        package = found.package
        version = f", version {package.version}" if package.version is not None else ""
        about = f"group {package.group}{version}, now {package.approval_status}"
        noted = f" with the note {note!r}" if note is not None else ""
        confirm(f"{verb} model package {package.arn} ({about}), registered by step {found.step}{noted}?", yes)
        error: AwsError | None = None
        status = "Rejected" if reject else "Approved"
        try:
            status = await actions.set_approval(package.arn, approved=not reject, note=note)
        except AwsError as exc:
            error = exc
        result: dict[str, Any] = {
            "execution": execution,
            "arn": arn,
            "step": found.step,
            "model_package_arn": package.arn,
            "previous_status": package.approval_status,
            "status": status,
            "note": note,
            "result": status.lower(),
            "error": None,
            **context_fields(place.name, arn),
        }
        return _report(result, f"{status.lower()}: {package.arn}", error, as_json)

    raise SystemExit(run(place.target, body))
