"""`smtui wait EXECUTION...`: live progress lines until every execution has ended.

Unlike the SDK's `wait()`, Stopped (and CompletedWithFailures) end the wait, and there is no default timeout.
Exit 0 only if every execution Succeeded; 1 if any ended otherwise; 2 on usage/credential errors;
124 on timeout.
Each look costs DescribePipelineExecution + ListPipelineExecutionSteps per unfinished execution (the
definition once), so a script waiting on a few runs stays far below any API limit.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from datetime import timedelta

import click

from smtui.core.client import SageMakerClient
from smtui.core.format import EXECUTION_GLYPHS, format_duration
from smtui.core.model import ExecutionStatus
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
from smtui.headless.snapshot import Watcher, pipeline_hint


async def wait_for(
    client: SageMakerClient,
    refs: Sequence[str],
    *,
    limit: float | None,
    interval: float,
    as_json: bool,
    echo: Callable[[str], None] = click.echo,
) -> int:
    """Follow executions until they end (or `timeout` seconds pass); returns the exit code."""
    watchers = [Watcher(client, await client.resolve_execution(r), pipeline_hint(r)) for r in refs]
    labels = dict(zip((w.arn for w in watchers), refs, strict=True))
    last: dict[str, tuple[object, ...]] = {}
    loop = asyncio.get_running_loop()
    deadline = None if limit is None else loop.time() + limit
    while True:
        pending = [w for w in watchers if w.execution is None or w.execution.is_active]
        now = client.now()
        await asyncio.gather(*(w.look(now) for w in pending))
        for w in pending:
            assert w.execution is not None and w.tree is not None
            e, tree = w.execution, w.tree
            done, total = tree.progress
            running = tuple(n.name for _, n in tree.walk() if n.status.is_active and not n.children)
            state = (e.status, done, total, running)
            if last.get(w.arn) == state:
                continue
            last[w.arn] = state
            if as_json:
                line = {
                    "event": "progress",
                    **execution_json(e, now),
                    "done": done,
                    "total": total,
                    "running": list(running),
                }
                echo(json.dumps(line))
            else:
                doing = f"  running: {', '.join(running)}" if running else ""
                reason = f"  {e.failure_reason}" if e.failure_reason and not e.is_active else ""
                echo(
                    f"{EXECUTION_GLYPHS[e.status]} {labels[w.arn]}  {e.status.value}  {done}/{total} steps"
                    f"  {format_duration(execution_elapsed(e, now))}{doing}{reason}"
                )
        if all(w.execution is not None and not w.execution.is_active for w in watchers):
            break
        if deadline is not None and loop.time() + interval > deadline:
            await asyncio.sleep(max(0.0, deadline - loop.time()))
            echo(
                json.dumps({"event": "timeout"}) if as_json else f"timed out after {format_duration_s(limit)}"
            )
            return EXIT_TIMEOUT
        await asyncio.sleep(interval)
    ok = all(w.execution is not None and w.execution.status is ExecutionStatus.SUCCEEDED for w in watchers)
    if as_json:
        final = [execution_json(w.execution, client.now()) for w in watchers if w.execution is not None]
        echo(json.dumps({"event": "done", "succeeded": ok, "executions": final}))
    return 0 if ok else EXIT_FAILED


def format_duration_s(seconds: float | None) -> str:
    return format_duration(timedelta(seconds=seconds or 0))


@click.command("wait")
@click.argument("executions", nargs=-1, required=True)
@click.option(
    "--timeout", "timeout_text", help="Give up after this long (exit 124), e.g. 90m. Default: never."
)
@click.option("--interval", type=float, default=10.0, show_default=True, help="Seconds between looks.")
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
    code = run(
        target,
        lambda client: wait_for(client, executions, limit=timeout, interval=interval, as_json=as_json),
    )
    raise SystemExit(code)
