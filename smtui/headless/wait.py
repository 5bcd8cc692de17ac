"""`smtui wait EXECUTION...`: live progress lines until every execution has ended.

Unlike the SDK's `wait()`, Stopped (and CompletedWithFailures) end the wait, and there is no default timeout.
Exit 0 only if every execution Succeeded; 1 if any ended otherwise; 2 on usage/credential errors;
124 on timeout.

It runs on the monitor (`smtui.core.monitor`), scoped to the waited executions' pipelines, so the cost is the
monitor's, not one poller per execution: the status of every execution of a pipeline comes from one
ListPipelineExecutions, steps are read only for the waited executions and back off while nothing changes,
and DescribePipelineExecution is never polled (once per execution at the start, once more at its end for
the end time). Lines are printed when the monitor reports a change, not on a clock. A waited execution that
has ended is still listed at the same pace while the others run: if anyone retries it meanwhile, it is
followed to its new end.
Every waited execution is background priority: none is watched, not even a lone one (`start --wait`),
because the watched pace (the TUI's open screen) never backs off, and a script asked for `--interval`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime, timedelta
from typing import Any

import click

from smtui.core.client import SageMakerClient
from smtui.core.errors import AwsError
from smtui.core.events import ExecutionsChanged, Health, HealthChanged, MonitorEvent, StepsChanged
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
    run,
    target_from,
)

# Discovery (ListPipelines, every page of the account) tells a monitor that a pipeline ran again; `wait`
# already lists its pipelines while their executions run, so it needs discovery only once, for the names.
DISCOVERY_INTERVAL = 600.0


@dataclasses.dataclass
class Followed:
    """One waited execution and how far its end has been read."""

    arn: str
    label: str
    end_seen: float | None = None  # loop time the monitor first showed it ended
    steps_mark: datetime | None = None  # its steps' refresh time then: the final step poll changes it
    final: Execution | None = None  # described at its end (the end time); None until then
    result: Execution | None = None  # what the last line said, once it ended
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
        grace: float,
    ) -> None:
        self.client = client
        self.monitor = monitor
        self.followed = {f.arn: f for f in followed}
        self.as_json = as_json
        self.echo = echo
        self.warn = warn
        self.grace = grace  # how long an ended execution's line waits for its final step poll
        self.wake = asyncio.Event()
        self.discovered = False
        self.fatal: AwsError | None = None
        self.warned: str | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.probing = False
        self.loop = asyncio.get_running_loop()

    # -- events (called synchronously from the monitor's polls) ----------------------------------------

    def on_event(self, event: MonitorEvent) -> None:
        if isinstance(event, ExecutionsChanged):
            for arn in event.arns & self.followed.keys():
                self.check_end(self.followed[arn])
        elif isinstance(event, HealthChanged):
            self.on_health(event.health)
        elif not isinstance(event, StepsChanged):
            self.discovered = True  # PipelinesChanged: the first discovery gave the pipelines' names
        self.wake.set()

    def check_end(self, f: Followed) -> None:
        """Note the moment the monitor shows the execution ended (its final step poll is due now), or
        that it runs again (retried, by anyone: it is followed to its new end)."""
        execution = self.monitor.executions.get(f.arn)
        if execution is None:
            return
        if execution.is_active:
            f.end_seen, f.steps_mark, f.result = None, None, None  # retried: it runs again
            if f.final is not None and f.final.status.is_terminal:
                f.final = None
            return
        if f.end_seen is not None or f.result is not None:
            return
        f.end_seen = self.loop.time()
        f.steps_mark = self.monitor.steps_refreshed(f.arn)
        if f.final is None or f.final.status is not execution.status:
            f.final = None
            self.spawn(self.describe_end(f))

    def on_health(self, health: Health) -> None:
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
        task = self.loop.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def describe_end(self, f: Followed) -> None:
        """The end time (and final failure reason) of an execution, read once when it ends."""
        delay = 1.0
        while True:
            try:
                described = await self.client.describe_execution(f.arn)
            except AwsError as exc:
                if exc.is_credentials:
                    self.fatal = exc
                    break
                if exc.is_not_found:
                    f.final = self.monitor.executions.get(f.arn)
                    break
            else:
                if not described.is_active:
                    f.final = described
                    break
                known = self.monitor.executions.get(f.arn)
                if known is None or known.is_active:
                    break  # retried meanwhile: `check_end` starts over when it ends again
            await asyncio.sleep(delay)  # throttled, disconnected, or not ended here yet: it can wait
            delay = min(30.0, delay * 2)
        self.wake.set()

    async def probe(self) -> None:
        try:
            some = next(iter(self.followed.values()))
            known = self.monitor.executions.get(some.arn)
            if known is not None:
                await self.client.list_executions(known.pipeline_name, max_pages=1, page_size=1)
        except AwsError as exc:
            if exc.is_credentials:
                self.fatal = exc
        finally:
            self.probing = False
            self.wake.set()

    # -- the wait ---------------------------------------------------------------------------------------

    async def until(
        self, done: Callable[[], bool], deadline: float | None, tick: Callable[[], float | None]
    ) -> bool:
        """Wake on every event (and after `tick()` s) until `done()`; False when the deadline passes first."""
        while not done():
            if self.fatal is not None:
                raise self.fatal
            self.wake.clear()
            timeout = tick()
            if deadline is not None:
                left = deadline - self.loop.time()
                if left <= 0:
                    return False
                timeout = left if timeout is None else min(timeout, left)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self.wake.wait()
        return True

    def pending_grace(self) -> float | None:
        """Seconds until an ended execution stops waiting for its final step poll (a timer, not an event)."""
        ends = [
            f.end_seen + self.grace
            for f in self.followed.values()
            if f.result is None and f.end_seen is not None and f.final is not None
        ]
        return max(0.05, min(ends) - self.loop.time()) if ends else None

    def report(self) -> bool:
        """Print what changed; True once every followed execution has ended."""
        now = self.client.now()
        for f in self.followed.values():
            if f.result is None:
                self.report_one(f, now)
        return all(f.result is not None for f in self.followed.values())

    def report_one(self, f: Followed, now: datetime) -> None:
        monitor = self.monitor
        execution = monitor.executions.get(f.arn)
        tree = monitor.tree(f.arn)
        refreshed = monitor.steps_refreshed(f.arn)
        if execution is None or tree is None or refreshed is None:
            return  # its definition and first step poll are on their way
        if execution.status.is_terminal:
            self.check_end(f)
            if f.final is None or f.end_seen is None:
                return  # the end time is being read
            if refreshed == f.steps_mark and self.loop.time() < f.end_seen + self.grace:
                return  # its final step poll is due: the last line shows the last steps
            execution = dataclasses.replace(
                execution,
                ended=f.final.ended,
                failure_reason=execution.failure_reason or f.final.failure_reason,
            )
            f.result = execution
        done, total = tree.progress
        running = monitor.running_steps(f.arn)
        state = (execution.status, done, total, running)
        if f.printed == state:
            return
        f.printed = state
        if self.as_json:
            line = {
                "event": "progress",
                **execution_json(execution, now),
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
        # The pipelines' names as ListPipelines spells them: the monitor keys its pipelines by them, and
        # an ARN (so DescribePipelineExecution) carries them lower-cased.
        discovered = lambda: self.discovered or self.monitor.health.last_refresh is not None  # noqa: E731
        if not await self.until(discovered, deadline, lambda: 0.1):
            return False
        names = {name.lower(): name for name in self.monitor.pipelines}
        for arn, execution in described.items():
            execution = dataclasses.replace(
                execution, pipeline_name=names.get(execution.pipeline_name.lower(), execution.pipeline_name)
            )
            self.monitor.track(execution)
            self.check_end(self.followed[arn])
        return await self.until(self.report, deadline, self.pending_grace)

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
) -> int:
    """Follow executions until they end (or `limit` seconds pass); returns the exit code.

    `echo` prints progress lines (stdout); `warn` says on stderr that calls fail and are being retried.
    """
    arns = [await client.resolve_execution(r) for r in refs]
    labels = dict(zip(arns, refs, strict=True))
    loop = asyncio.get_running_loop()
    deadline = None if limit is None else loop.time() + limit
    unique = list(labels)
    described = dict(
        zip(unique, await asyncio.gather(*(client.describe_execution(a) for a in unique)), strict=True)
    )
    monitor = Monitor(
        client,
        # Other runs of these pipelines come free with their lists, but their steps would cost calls; no
        # estimate is printed, so no end times of earlier runs.
        pipelines={e.pipeline_name for e in described.values()},
        executions=unique,
        estimates=False,
        rate=rate,
        active_interval=interval,
        background_interval=interval,
        watched_interval=interval,
        # A waited execution that has ended may be retried by anyone meanwhile: its pipeline is listed at
        # the same pace while the others run.
        reconcile_interval=interval,
        discovery_interval=max(DISCOVERY_INTERVAL, interval),
    )
    waiter = Waiter(
        client,
        monitor,
        # One that has ended already needs no second look at its end.
        [
            Followed(arn, labels[arn], final=e if e.status.is_terminal else None)
            for arn, e in described.items()
        ],
        as_json=as_json,
        echo=echo,
        warn=warn or (lambda line: click.echo(line, err=True)),
        grace=max(5.0, 2 * interval),
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
    if not ended:
        echo(json.dumps({"event": "timeout"}) if as_json else f"timed out after {format_duration_s(limit)}")
        return EXIT_TIMEOUT
    results = [waiter.followed[arn].result for arn in arns]
    ok = all(e is not None and e.status is ExecutionStatus.SUCCEEDED for e in results)
    if as_json:
        final = [execution_json(e, client.now()) for e in results if e is not None]
        echo(json.dumps({"event": "done", "succeeded": ok, "executions": final}))
    return 0 if ok else EXIT_FAILED


def configured_rate() -> float:
    """The call budget from the settings (`rate`): `wait` shares the account's API limits too."""
    from smtui.config import load_settings

    return load_settings().rate  # already read (and checked) by `target_from`


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
@aws_options
def wait_command(
    executions: tuple[str, ...],
    timeout_text: str | None,
    interval: float,
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
    target, _ = target_from(profile, region, endpoint_url)
    rate = configured_rate()
    code = run(
        target,
        lambda client: wait_for(
            client, executions, limit=timeout, interval=interval, as_json=as_json, rate=rate
        ),
    )
    raise SystemExit(code)
