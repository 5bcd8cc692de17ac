"""`smtui wait EXECUTION...`: live progress lines until every execution has ended.

Unlike the SDK's `wait()`, Stopped (and CompletedWithFailures) end the wait, and there is no default timeout.
Exit 0 only if every execution Succeeded; 1 if any ended otherwise; 2 on usage/credential errors;
124 on timeout.

It runs on the monitor (`smtui.core.monitor`), scoped to the waited executions' pipelines, so the cost is the
monitor's, not one poller per execution: the status of every execution of a pipeline comes from one
ListPipelineExecutions, steps are read only for the waited executions and back off while nothing changes,
and DescribePipelineExecution is never polled (once per execution at the start, once more at its end for
the end time). Lines are printed when the monitor reports a change, not on a clock; an execution's last line
when the monitor tells it has ended (`ExecutionEnded`: its end time and its last steps read). A waited
execution that has ended is still listed at the same pace while the others run: if anyone retries it
meanwhile, it is followed to its new end.
Every waited execution is background priority: none is watched, not even a lone one (`start --wait`),
because the watched pace (the TUI's open screen) never backs off, and a script asked for `--interval`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime, timedelta
from typing import Any

import click

from smtui.core.client import SageMakerClient
from smtui.core.clock import Activity, Clock, RealClock
from smtui.core.errors import AwsError
from smtui.core.events import ExecutionEnded, ExecutionsChanged, Health, HealthChanged, MonitorEvent
from smtui.core.format import EXECUTION_GLYPHS, format_duration
from smtui.core.model import Execution, ExecutionStatus
from smtui.core.monitor import Monitor
from smtui.core.timing import execution_elapsed
from smtui.headless.common import (
    EXIT_FAILED,
    EXIT_TIMEOUT,
    aws_options,
    execution_json,
    parse_duration,
    place_from,
    run,
)

# Discovery (ListPipelines, every page of the account) tells a monitor that a pipeline ran again; `wait`
# already lists its pipelines while their executions run, so it needs discovery only once, for the names.
DISCOVERY_INTERVAL = 600.0


@dataclasses.dataclass
class Followed:
    """One waited execution, and how it ended."""

    arn: str
    label: str
    result: Execution | None = None  # as the monitor told it ended; None while it runs (again)
    printed: tuple[object, ...] | None = None


class Waiter:
    """Turns the monitor's events into progress lines; ends when every followed execution has ended."""

    def __init__(
        self,
        client: SageMakerClient,
        monitor: Monitor,
        followed: list[Followed],
        *,
        as_json: bool,
        echo: Callable[[str], None],
        warn: Callable[[str], None],
        activity: Activity,
        context: str | None = None,
    ) -> None:
        self.client = client
        self.context = context  # with --context/--all-contexts: named in each JSON line
        self.activity = activity  # our own calls (the probe): a manual clock waits for them
        self.monitor = monitor
        self.followed = {f.arn: f for f in followed}
        self.as_json = as_json
        self.echo = echo
        self.warn = warn
        self.wake = asyncio.Event()
        self.fatal: AwsError | None = None
        self.warned: str | None = None
        self.updates: str | None = None  # how the monitor learns of changes, as last said (`Health.updates`)
        self.tasks: set[asyncio.Task[None]] = set()
        self.probing = False

    # -- events (called synchronously from the monitor's polls) ----------------------------------------

    def on_event(self, event: MonitorEvent) -> None:
        match event:
            case ExecutionEnded(arn=arn, execution=ended) if arn in self.followed:
                self.followed[arn].result = ended
            case ExecutionsChanged(arns=arns):
                for arn in arns & self.followed.keys():
                    now = self.monitor.executions.get(arn)
                    if now is not None and now.is_active:
                        self.followed[arn].result = None  # retried (by anyone): followed to its new end
            case HealthChanged(health=health):
                self.on_health(health)
        self.wake.set()

    def on_health(self, health: Health) -> None:
        self.on_updates(health.updates)
        if health.error is None:
            self.warned = None
            return
        if health.error == self.warned:
            return
        self.warned = health.error
        self.warn(f"smtui: {health.error} — still waiting, retrying")
        if health.connected and not self.probing:
            # Not a connection problem: if a call of our own is refused for the same reason, the
            # credentials (or permissions) are gone and retrying will not bring them back.
            self.probing = True
            self.spawn(self.probe())

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def on_updates(self, label: str | None) -> None:
        """With `--events`: say on stderr when the queue cannot be used (the wait polls instead), and when
        push updates are back; not the moment before the first read."""
        if label == self.updates:
            return
        said, self.updates = self.updates, label
        if label is None or label == "polling (events: starting)":
            return
        if label == "push":
            if said is not None and said.startswith("polling"):
                self.warn("smtui: events: push updates again")
        elif label.startswith("polling"):
            self.warn(f"smtui: {label} — still waiting")

    async def probe(self) -> None:
        try:
            some = next(iter(self.followed.values()))
            known = self.monitor.executions.get(some.arn)
            if known is not None:
                with self.activity.running():
                    await self.client.list_executions(known.pipeline_name, max_pages=1, page_size=1)
        except AwsError as exc:
            if exc.is_credentials:
                self.fatal = exc
        finally:
            self.probing = False
            self.wake.set()

    # -- the wait ---------------------------------------------------------------------------------------

    def report(self) -> bool:
        """Print what changed; True once every followed execution has ended."""
        now = self.monitor.clock.now()
        for f in self.followed.values():
            self.report_one(f, now)
        return all(f.result is not None for f in self.followed.values())

    def report_one(self, f: Followed, now: datetime) -> None:
        monitor = self.monitor
        execution = f.result or monitor.executions.get(f.arn)
        tree = monitor.tree(f.arn)
        if execution is None or tree is None or monitor.steps_refreshed(f.arn) is None:
            return  # its definition and first step poll are on their way
        if f.result is None and execution.status.is_terminal:
            return  # ended: its end time and last steps are being read (`ExecutionEnded` tells)
        done, total = tree.progress
        running = monitor.running_steps(f.arn)
        state = (execution.status, done, total, running)
        if f.printed == state:
            return
        f.printed = state
        if self.as_json:
            line = {
                "event": "progress",
                **execution_json(execution, now, context=self.context),
                "done": done,
                "total": total,
                "running": list(running),
            }
            self.echo(json.dumps(line))
        else:
            doing = f"  running: {', '.join(running)}" if running else ""
            reason = (
                f"  {execution.failure_reason}"
                if execution.failure_reason and not execution.is_active
                else ""
            )
            glyph, status = EXECUTION_GLYPHS[execution.status], execution.status.value
            self.echo(
                f"{glyph} {f.label}  {status}  {done}/{total} steps"
                f"  {format_duration(execution_elapsed(execution, now))}{doing}{reason}"
            )

    async def run(self, described: dict[str, Execution], deadline: float | None) -> bool:
        """Follow every execution to its end; False on timeout."""
        for execution in described.values():
            self.monitor.track(execution)
        clock = self.monitor.clock
        while True:
            if self.fatal is not None:
                raise self.fatal
            self.wake.clear()
            if self.report():
                return True
            if deadline is not None and clock.monotonic() >= deadline:
                return False
            await clock.wait(self.wake, deadline)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)


async def wait_for(
    client: SageMakerClient,
    refs: Sequence[str],
    *,
    limit: float | None,
    interval: float,
    as_json: bool,
    echo: Callable[[str], None] = click.echo,
    warn: Callable[[str], None] | None = None,
    rate: float = 10.0,
    clock: Clock | None = None,
    events_queue: str | None = None,
    events_wait: int = 20,
    context: str | None = None,
) -> int:
    """Follow executions until they end (or `limit` seconds pass); returns the exit code.

    `echo` prints progress lines (stdout); `warn` says on stderr that calls fail and are being retried;
    `clock` is the monitor's (by default loop time and the server's time); `events_queue`: push updates
    from this SQS queue (`events_wait`: ReceiveMessage's WaitTimeSeconds), the polls only reconciling;
    `context`: the context the executions are in (`--context`/`--all-contexts`), named in `--json`'s lines.
    """
    clock = clock or RealClock(client.now)
    deadline = None if limit is None else clock.monotonic() + limit
    activity = Activity()  # our own calls, before the monitor runs (and the probe): a manual clock waits
    unregister = clock.add_worker(activity)
    try:
        with activity.running():
            arns = [await client.resolve_execution(r) for r in refs]
            labels = dict(zip(arns, refs, strict=True))
            unique = list(labels)
            found = await asyncio.gather(*(client.describe_execution(a) for a in unique))
        described = dict(zip(unique, found, strict=True))
        monitor = Monitor(
            client,
            # Other runs of these pipelines come free with their lists, but their steps would cost calls;
            # no estimate is printed, so no end times of earlier runs.
            pipelines={e.pipeline_name for e in described.values()},
            executions=unique,
            estimates=False,
            rate=rate,
            active_interval=interval,
            background_interval=interval,
            watched_interval=interval,
            # A waited execution that has ended may be retried by anyone meanwhile: its pipeline is listed
            # at the same pace while the others run.
            reconcile_interval=interval,
            discovery_interval=max(DISCOVERY_INTERVAL, interval),
            clock=clock,
            events_queue=events_queue,
            events_wait=events_wait,
        )
        waiter = Waiter(
            client,
            monitor,
            [Followed(arn, labels[arn]) for arn in described],
            as_json=as_json,
            echo=echo,
            warn=warn or (lambda line: click.echo(line, err=True)),
            activity=activity,
            context=context,
        )
        unsubscribe = monitor.subscribe(waiter.on_event)
        monitor.set_visible([])  # nothing is on a screen: every waited execution is background priority
        await monitor.start()
        try:
            ended = await waiter.run(described, deadline)
        finally:
            unsubscribe()
            await monitor.stop()
            await waiter.close()
    finally:
        unregister()
    if not ended:
        echo(json.dumps({"event": "timeout"}) if as_json else f"timed out after {format_duration_s(limit)}")
        return EXIT_TIMEOUT
    results = [waiter.followed[arn].result for arn in arns]
    ok = all(e is not None and e.status is ExecutionStatus.SUCCEEDED for e in results)
    if as_json:
        final = [execution_json(e, clock.now(), context=context) for e in results if e is not None]
        echo(json.dumps({"event": "done", "succeeded": ok, "executions": final}))
    return 0 if ok else EXIT_FAILED


def configured_rate() -> float:
    """The call budget from the settings (`rate`): `wait` shares the account's API limits too."""
    from smtui.config import load_settings

    return load_settings().rate  # already read (and checked) by `place_from`


def configured_events(flag: str | None) -> str | None:
    """The events queue: `--events`, else the `events_queue` setting; a malformed URL is a usage error."""
    from smtui.config import load_settings

    try:
        return load_settings(events_queue=flag).events_queue
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def format_duration_s(seconds: float | None) -> str:
    return format_duration(timedelta(seconds=seconds or 0))


@click.command("wait")
@click.argument("executions", nargs=-1, required=True)
@click.option(
    "--timeout", "timeout_text", help="Give up after this long (exit 124), e.g. 90m. Default: never."
)
@click.option(
    "--interval",
    type=float,
    default=10.0,
    show_default=True,
    help=(
        "Pace in seconds: each pipeline's statuses are listed every INTERVAL (one call for all its "
        "executions); each execution's steps are read every INTERVAL, backing off to 4x while nothing "
        "changes; a step failing or stopping, or the last one ending, lists its pipeline at once."
    ),
)
@click.option(
    "--events",
    "events_queue",
    metavar="QUEUE_URL",
    help="Push updates from this SQS queue (`smtui events setup`); polls only reconcile.",
)
@aws_options
def wait_command(
    executions: tuple[str, ...],
    timeout_text: str | None,
    interval: float,
    events_queue: str | None,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    as_json: bool,
) -> None:
    """Wait for executions to end, printing a line whenever one progresses.

    EXECUTION is a full ARN, PIPELINE/EXECUTION_ID or PIPELINE@latest. Exit 0 only if every one
    Succeeded, 1 if any Failed/Stopped/CompletedWithFailures, 2 on usage errors, 124 on timeout.
    """
    try:
        timeout = parse_duration(timeout_text).total_seconds() if timeout_text else None
    except click.BadParameter as exc:
        raise click.UsageError(f"--timeout: {exc.message}") from exc
    if interval <= 0:
        raise click.UsageError("--interval must be positive")
    place, _ = place_from(profile, region, endpoint_url, executions)
    rate = configured_rate()
    events = configured_events(events_queue)
    code = run(
        place.target,
        lambda client: wait_for(
            client,
            executions,
            limit=timeout,
            interval=interval,
            as_json=as_json,
            rate=rate,
            events_queue=events,
            context=place.name,
        ),
    )
    raise SystemExit(code)
