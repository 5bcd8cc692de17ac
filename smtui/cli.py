"""The `smtui` command line.

Subcommands live in the modules that own them and are imported only when invoked, so that
`smtui --help` never loads aiobotocore, Textual or the emulator.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

# name -> "module:attribute" of a click.Command; listed here so `--help` can show them without importing.
_COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("smtui.tui.launch:demo_command", "Open the monitor on an embedded emulator with demo traffic."),
    "emulator": ("smtui.emulator.cli:emulator_command", "Run the local SageMaker Pipelines endpoint."),
    "ls": ("smtui.headless.ls:ls_command", "List executions across pipelines, newest first."),
    "show": ("smtui.headless.show:show_command", "Print an execution's step tree."),
    "diff": ("smtui.headless.diff:diff_command", "Compare 2 to 8 executions side by side."),
    "wait": ("smtui.headless.wait:wait_command", "Wait for executions to finish, printing progress."),
    "start": ("smtui.headless.actions:start_command", "Start a pipeline execution (or chosen steps)."),
    "stop": ("smtui.headless.actions:stop_command", "Stop executions."),
    "retry": ("smtui.headless.actions:retry_command", "Retry failed executions (same ARN)."),
    "launch": ("smtui.headless.launch:launch_command", "Start many runs from a file, resumably."),
    "logs": (
        "smtui.headless.logs:logs_command",
        "Print a step's logs (the failed or running step by default).",
    ),
    "events": (
        "smtui.headless.events:events_command",
        "Set up or remove the SQS queue and EventBridge rule for push updates.",
    ),
    "callback": ("smtui.headless.stepactions:callback_command", "Answer a waiting Callback step."),
    "approve": ("smtui.headless.stepactions:approve_command", "Approve or reject a registered model."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (click's documented lazy-loading pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target[0].split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and module_name.startswith(exc.name):
                return None
            raise
        command: click.Command = getattr(module, attr)
        return command

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Click's main, with every error it reports as one line on stderr, `smtui: ...` (click prints
        usage, a hint and `Error: ...` over four lines); the exit codes stay click's: 2 for usage errors."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            see = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            _exit(f"{exc.format_message()}{see}", exc.exit_code)
        except click.ClickException as exc:
            _exit(exc.format_message(), exc.exit_code)
        except click.Abort:
            _exit("aborted", 1)
        # Without standalone mode click returns the code of `ctx.exit(code)` (`--help`, `--version`), or
        # the command's return value: the commands here end with SystemExit when they have a code to give.
        sys.exit(result if isinstance(result, int) else 0)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in sorted(_COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _exit(message: str, code: int) -> NoReturn:
    click.echo(f"smtui: {message}", err=True)
    sys.exit(code)


def log_path() -> Path:
    """Where smtui writes what it logs (a bug's traceback): `$XDG_STATE_HOME/smtui/smtui.log`."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "smtui" / "smtui.log"


def _log_to_file() -> None:
    """smtui's own records (the last-resort handlers' tracebacks) go to a file, never over the TUI's screen
    nor into a script's stderr; the file is opened only when something is written."""
    logger = logging.getLogger("smtui")
    if logger.handlers:
        return
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, delay=True, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()  # no writable state directory: nothing is logged
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False


@click.group(cls=LazyGroup, invoke_without_command=True)
@click.option("--profile", envvar="AWS_PROFILE", help="AWS profile to use.")
@click.option("--region", envvar=["SMTUI_REGION"], help="AWS region (default: from the profile/environment).")
@click.option("--endpoint-url", envvar="SMTUI_ENDPOINT_URL", help="SageMaker endpoint (e.g. an emulator).")
@click.option("--read-only", is_flag=True, envvar="SMTUI_READ_ONLY", help="Hide every mutating action.")
@click.option(
    "--events",
    "events_queue",
    metavar="QUEUE_URL",
    help="Push updates from this SQS queue (made by `smtui events setup`); polls only reconcile.",
)
@click.option(
    "--context",
    "contexts",
    multiple=True,
    metavar="NAME",
    help="Monitor a [contexts.NAME] of the config file (repeatable).",
)
@click.option("--all-contexts", is_flag=True, help="Monitor every context of the config file.")
@click.version_option(package_name="smtui")
@click.pass_context
def main(
    ctx: click.Context,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    read_only: bool,
    events_queue: str | None,
    contexts: tuple[str, ...],
    all_contexts: bool,
) -> None:
    """smtui — a terminal monitor for Amazon SageMaker Pipelines.

    Without a subcommand it opens the monitor against AWS.
    """
    # The AWS SDK logs, then raises, what goes wrong (a failed credential refresh, with its traceback); with
    # no logging set up Python prints those records on stderr. The error reaches the user once, as one line.
    for name in ("botocore", "aiobotocore"):
        logging.getLogger(name).addHandler(logging.NullHandler())
    _log_to_file()
    ctx.ensure_object(dict)
    ctx.obj.update(profile=profile, region=region, endpoint_url=endpoint_url, read_only=read_only)
    # `meta` is shared with the subcommand's context: its own `--context` flags add to these.
    if contexts:
        ctx.meta["smtui.contexts"] = contexts
    if all_contexts:
        ctx.meta["smtui.all_contexts"] = True
    if ctx.invoked_subcommand is None:
        run_tui: Any = importlib.import_module("smtui.tui.launch").run_tui
        run_tui(
            profile=profile,
            region=region,
            endpoint_url=endpoint_url,
            read_only=read_only,
            events_queue=events_queue,
            contexts=contexts,
            all_contexts=all_contexts,
        )
