"""`smtui logs EXECUTION [STEP]`: a step's logs, like `aws logs tail` but per step.

Without STEP: the failed step(s), else the running one(s). Without `--follow`, the lines there are now
(exit 0); with it, new lines until the step ends, then one final read (exit 0 if it Succeeded, 1 if not, as
`wait`). It runs the followers the TUI's log view runs (`smtui.core.log_follow`), on the Logs budget
(`logs_rate`, 2 calls/s); to see the step end it reads the execution and its steps every 2.5 × `--interval`
(DescribePipelineExecution + ListPipelineExecutionSteps).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import timedelta

import click

from smtui.core.client import SageMakerClient
from smtui.core.errors import AwsError
from smtui.core.log_follow import LogFollows
from smtui.core.log_sources import steps_to_show
from smtui.core.logs import (
    Clock,
    LogEvent,
    LogFollowChanged,
    LogLine,
    LogLinesRead,
    LogSource,
    LogState,
    SystemClock,
    epoch_ms,
)
from smtui.core.model import StepNode, StepStatus, StepTree
from smtui.headless.common import (
    EXIT_FAILED,
    EXIT_USAGE,
    CommandError,
    aws_options,
    exit_code_for,
    parse_duration,
    positive_seconds,
    run,
    target_from,
)
from smtui.headless.snapshot import Watcher, pipeline_hint

STEP_POLL_FACTOR = 2.5  # the step is read every 2.5 read intervals (5 s by default)
NAMES_SHOWN = 20  # an error lists at most this many step names


class Printer:
    """Prints the followers' events: lines on stdout, what is not a line (no logs, errors) on stderr."""

    def __init__(
        self,
        steps: list[str],
        *,
        as_json: bool,
        echo: Callable[[str], None],
        warn: Callable[[str], None],
    ) -> None:
        self.several_steps = len(steps) > 1
        self.as_json = as_json
        self.echo = echo
        self.warn = warn
        self.sources: dict[str, LogSource] = {}
        self.streams: dict[str, set[str]] = {step: set() for step in steps}
        self.counts: dict[str, int] = dict.fromkeys(steps, 0)
        self.said: dict[str, str | None] = {}  # the last reason told per step: said once, not per retry
        self.errors: list[AwsError] = []

    def on_event(self, event: LogEvent) -> None:
        if isinstance(event, LogLinesRead):
            self.counts[event.step] = self.counts.get(event.step, 0) + len(event.lines)
            self.echo("\n".join(self.format(event.step, line) for line in event.lines))
        else:
            self.on_state(event)

    def on_state(self, event: LogFollowChanged) -> None:
        step = event.step
        if event.source is not None:
            self.sources[step] = event.source
        if event.state is LogState.ENDED:
            if not self.counts.get(step):
                self.warn(f"smtui: {step}: no log lines")
            return
        if event.state is LogState.FOLLOWING or event.reason is None or self.said.get(step) == event.reason:
            return
        self.said[step] = event.reason
        if event.state is LogState.NO_LOGS or (event.state is LogState.ERROR and event.final):
            self.warn(f"smtui: {event.reason}")
        elif event.state is LogState.ERROR:
            self.warn(f"smtui: {step}: {event.reason}; retrying")
        else:  # WAITING
            self.warn(f"smtui: {event.reason} — waiting")

    def format(self, step: str, line: LogLine) -> str:
        seen = self.streams.setdefault(step, set())
        if line.stream not in seen and len(seen) < 1000:
            seen.add(line.stream)
        stamp = line.time
        if self.as_json:
            return json.dumps(
                {
                    "timestamp": stamp.isoformat(timespec="milliseconds"),
                    "stream": line.stream,
                    "message": line.message,
                    "step": step,
                }
            )
        source = self.sources.get(step)
        label: list[str] = [step] if self.several_steps else []
        if len(seen) > 1 or (source is not None and source.many_streams):
            label.append(source.short(line.stream) if source is not None else line.stream)
        shown = f"[{' '.join(label)}] " if label else ""
        return f"{stamp.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]} {shown}{line.message}"


def find_steps(tree: StepTree, step: str | None, label: str) -> list[StepNode]:
    """The steps asked for: STEP by name (exact, else the one case-insensitive match), or without it the
    failed steps, else the running ones (none: an empty list). Unknown STEP → CommandError (exit 2)."""
    if step is None:
        return steps_to_show(tree)
    nodes = [node for _, node in tree.walk()]
    exact = [n for n in nodes if n.name == step]
    folded = [n for n in nodes if n.name.casefold() == step.casefold()]
    if exact or len(folded) == 1:
        return (exact or folded)[:1]
    raise CommandError(f"no step {step!r} in {label}: {steps_list(tree)}", EXIT_USAGE)


def steps_list(tree: StepTree) -> str:
    names = [node.name for _, node in tree.walk()]
    if not names:
        return "it has no steps"
    more = f", … ({len(names) - NAMES_SHOWN} more)" if len(names) > NAMES_SHOWN else ""
    return f"its steps are {', '.join(names[:NAMES_SHOWN])}{more}"


async def show_logs(
    client: SageMakerClient,
    ref: str,
    step: str | None,
    *,
    follow: bool,
    since: timedelta | None,
    as_json: bool,
    interval: float = 2.0,
    echo: Callable[[str], None] = click.echo,
    warn: Callable[[str], None] | None = None,
    clock: Clock | None = None,
    logs_rate: float = 2.0,
    buffer_lines: int = 1_000,
    mode: str = "filter",
) -> int:
    """Print the logs of a step (or of the failed/running ones); returns the exit code."""
    from smtui.core.logs_client import LogsClient

    warn = warn or (lambda line: click.echo(line, err=True))
    clock = clock or SystemClock()
    step_every = STEP_POLL_FACTOR * interval
    arn = await client.resolve_execution(ref)
    watcher = Watcher(client, arn, pipeline_hint(ref))
    execution, tree = await watcher.look()
    nodes = find_steps(tree, step, ref)
    while not nodes and follow and execution.is_active:  # just started: follow the first to run
        await clock.sleep(step_every)
        execution, tree = await watcher.look()
        nodes = find_steps(tree, step, ref)
    if not nodes:
        status = execution.status.value
        raise CommandError(f"no failed or running step in {ref} ({status}): name one; {steps_list(tree)}")
    since_ms = epoch_ms(client.now() - since) if since is not None else None
    printer = Printer([n.name for n in nodes], as_json=as_json, echo=echo, warn=warn)
    async with LogsClient(client, rate=logs_rate, clock=clock) as logs:
        follows = LogFollows(
            logs,
            client,
            publish=printer.on_event,
            buffer_lines=buffer_lines,  # lines are printed as they come: the buffer is not read here
            interval=interval,
            max_interval=5 * interval,
            mode=mode,
        )
        for node in nodes:
            follows.follow(arn, node, follow=follow, since_ms=since_ms)
        try:
            names = {n.name for n in nodes}
            while follow and not all(n.status.is_done for n in nodes):
                await clock.sleep(step_every)
                try:
                    execution, tree = await watcher.look()
                except AwsError as exc:
                    if exc.is_credentials:
                        raise
                    warn(f"smtui: {exc} — still following, retrying")
                    continue
                follows.tree_changed(arn, tree)
                nodes = [n for _, n in tree.walk() if n.name in names] or nodes
            await follows.join()
        finally:
            await follows.close()
        errors = [f.error for n in nodes if (f := follows.get(arn, n.name)) is not None and f.error]
    if errors:
        return max(exit_code_for(error) for error in errors)
    if not follow:
        return 0
    ok = all(n.status is StepStatus.SUCCEEDED for n in nodes)
    return 0 if ok else EXIT_FAILED


@click.command("logs")
@click.argument("execution")
@click.argument("step", required=False)
@click.option(
    "--follow",
    "-f",
    is_flag=True,
    help="Keep reading new lines until the step ends; exit 0 if it succeeded, 1 if not (as `wait`).",
)
@click.option("--since", "since_text", help="Only lines from this long ago on, e.g. 10m. Default: all.")
@click.option(
    "--interval",
    type=float,
    default=2.0,
    show_default=True,
    callback=positive_seconds,
    help=(
        "Seconds between reads while lines come; after 30 s without any, reads slow down to one per "
        "5 x INTERVAL. The step's status is read every 2.5 x INTERVAL."
    ),
)
@aws_options
def logs_command(
    execution: str,
    step: str | None,
    follow: bool,
    since_text: str | None,
    interval: float,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    as_json: bool,
) -> None:
    """Print a step's logs from CloudWatch Logs, like `aws logs tail` but per step.

    EXECUTION is a full ARN, PIPELINE/EXECUTION_ID or PIPELINE@latest. Without STEP: the failed step,
    else the running ones. Lines are `TIME [STREAM] MESSAGE` (the stream when there is more than one);
    --json prints one {"timestamp", "stream", "message", "step"} object per line.
    """
    try:
        since = parse_duration(since_text) if since_text is not None else None
    except click.BadParameter as exc:
        raise click.UsageError(f"--since: {exc.message}") from exc
    target, _ = target_from(profile, region, endpoint_url, [execution])
    from smtui.config import load_settings

    settings = load_settings()  # already read (and checked) by `target_from`
    try:
        code = run(
            target,
            lambda client: show_logs(
                client,
                execution,
                step,
                follow=follow,
                since=since,
                as_json=as_json,
                interval=interval,
                logs_rate=settings.logs_rate,
            ),
        )
    except BrokenPipeError:
        # `smtui logs ... | head`: the reader is gone; say nothing more (and let Python's exit flush not
        # fail on the closed pipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(0) from None
    raise SystemExit(code)
