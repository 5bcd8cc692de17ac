"""`smtui wait --events`: the wait runs on push updates (the emulator's engine delivering SageMaker's
status-change events to a queue `events setup` made), its polls only reconciling; it ends as a polling wait
does. Virtual time, as in test_wait.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from click.testing import Result
from emulator_proc import DEFINITIONS, EmulatorProcess
from test_wait import client_of, delta, events
from virtual_time import VirtualTime

from smtui.core.push_setup import EventsSetup
from smtui.headless.wait import wait_for

CF = (DEFINITIONS / "condition-foreach.json").read_text()


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def waited(
    emu: EmulatorProcess, arn: str, queue_url: str | None, warnings: list[str] | None = None
) -> tuple[int, list[str], dict[str, int]]:
    """`wait_for` one execution to its end: exit code, lines, the calls it cost (`warnings`: what it says on
    stderr)."""
    before = emu.stats()
    vt = VirtualTime(emu)
    lines: list[str] = []
    async with client_of(emu) as client:
        code = await vt.run(
            wait_for(
                client,
                [arn],
                limit=None,
                interval=5.0,
                as_json=True,
                echo=lines.append,
                warn=(warnings if warnings is not None else []).append,
                rate=50.0,
                clock=vt.clock,
                events_queue=queue_url,
                events_wait=0,
            )
        )
    return code, lines, delta(emu.stats(), before)


async def test_wait_with_events_ends_as_a_polling_wait_does_with_fewer_polls(emu: EmulatorProcess) -> None:
    async with client_of(emu) as client, EventsSetup(client, name("wait-events")) as setup:
        url = (await setup.setup()).queue_url
    assert url is not None

    pipeline = name("cf-wait")
    emu.create_pipeline(pipeline, CF)
    polled = emu.start_execution(pipeline)
    code, lines, polling = await waited(emu, polled, None)
    assert code == 0
    pushed = emu.start_execution(pipeline)
    code, lines, push = await waited(emu, pushed, url)
    assert code == 0

    done = events(lines)[-1]
    assert done["event"] == "done" and done["succeeded"] is True
    assert [e["arn"] for e in done["executions"]] == [pushed]
    progress = [e for e in events(lines) if e["event"] == "progress"]
    assert progress[-1]["done"] == progress[-1]["total"] == 5
    assert push["ReceiveMessage"] > 0 and push["DeleteMessageBatch"] > 0
    # The events brought the changes: the steps and the statuses were read far less often.
    assert push["ListPipelineExecutionSteps"] * 2 <= polling["ListPipelineExecutionSteps"]
    assert push.get("ListPipelineExecutions", 0) * 2 <= polling["ListPipelineExecutions"]


async def test_wait_says_when_the_events_queue_cannot_be_read_and_polls_to_the_end(
    emu: EmulatorProcess,
) -> None:
    pipeline = name("cf-noqueue")
    emu.create_pipeline(pipeline, CF)
    arn = emu.start_execution(pipeline)
    missing = f"{emu.url}/123456789012/{name('missing')}"
    warnings: list[str] = []
    code, lines, _ = await waited(emu, arn, missing, warnings)
    assert code == 0 and events(lines)[-1]["succeeded"] is True
    assert warnings and warnings[0].startswith("smtui: polling (events: ") and "does not exist" in warnings[0]
    assert len(warnings) == 1, warnings  # said once, not at every retry of the queue


def test_wait_events_flag_refuses_a_malformed_url(emu: EmulatorProcess, smtui: Callable[..., Result]) -> None:
    result = smtui("wait", "cf/none", "--events", "not a url")
    assert result.exit_code == 2
    assert result.output.startswith("smtui: --events") and len(result.output.strip().splitlines()) == 1
