"""`smtui launch` when the account's limit on running executions is reached: rows wait and start as running
executions end (none lost, none twice), the user is told on stderr, `--no-queue` fails them, and a launch
killed while rows wait resumes them. Against a private emulator whose scenario allows 2 running executions."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from background import Background, Smtui
from emulator_proc import DEFINITIONS, ROOT, EmulatorProcess, wait_until

from smtui.core.client import AwsTarget, SageMakerClient
from smtui.headless import launch as launch_module

LIMIT = 2
WAITING = (
    "waiting: the account's limit on running pipeline executions is reached; they start as running ones end"
)


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    """The headless emulator, with StartPipelineExecution refused beyond LIMIT running executions."""
    scenario = tmp_path_factory.mktemp("scenario") / "limit.toml"
    scenario.write_text(
        f"max_concurrent_executions = {LIMIT}\n" + (DEFINITIONS / "scenario.toml").read_text()
    )
    process = EmulatorProcess("--scenario", str(scenario), scenario=False).start()
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def _idle(emu: EmulatorProcess) -> Iterator[None]:
    """Every test starts with no execution running (the limit is account-wide)."""
    emu.advance(3600)
    yield
    emu.faults()
    emu.advance(3600)


@pytest.fixture
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's launch with a backoff of 50 ms doubling to 400 ms instead of 5 s to 60 s."""
    fast = functools.partial(launch_module.launch, backoff=(0.05, 0.4))
    monkeypatch.setattr(launch_module, "launch", fast)


class Ticking:
    """Simulated time passing (15 s every 50 ms) while a command blocks, so running executions end."""

    def __init__(self, emu: EmulatorProcess) -> None:
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._tick, args=(emu,), daemon=True)

    def _tick(self, emu: EmulatorProcess) -> None:
        while not self.stop.wait(0.05):
            emu.advance(15)

    def __enter__(self) -> Ticking:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def sweep(emu: EmulatorProcess, tmp_path: Path, rows: int) -> tuple[str, Path]:
    """A new pipeline and a CSV of `rows` runs of it (Epochs 1..rows)."""
    pipeline = f"sweep-{uuid.uuid4().hex[:8]}"
    emu.create_pipeline(pipeline, (DEFINITIONS / "train-retry-cache.json").read_text())
    runs = tmp_path / f"{pipeline}.csv"
    runs.write_text("Epochs,_display_name\n" + "".join(f"{n},run-{n}\n" for n in range(1, rows + 1)))
    return pipeline, runs


def executions(emu: EmulatorProcess, pipeline: str) -> list[str]:
    pages = emu.boto().get_paginator("list_pipeline_executions").paginate(PipelineName=pipeline)
    return [e["PipelineExecutionArn"] for page in pages for e in page["PipelineExecutionSummaries"]]


def starts(emu: EmulatorProcess) -> int:
    return emu.stats().get("StartPipelineExecution", 0)


def journal_states(path: Path) -> dict[int, list[str]]:
    states: dict[int, list[str]] = {}
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        states.setdefault(entry["row"], []).append(entry["state"])
    return states


def test_rows_beyond_the_limit_wait_and_all_start_once(
    smtui: Smtui, emu: EmulatorProcess, tmp_path: Path, quick_backoff: None
) -> None:
    pipeline, runs = sweep(emu, tmp_path, 5)
    before = starts(emu)
    launching = Background(smtui, "launch", str(runs), "--pipeline", pipeline, "--concurrency", "1")
    # Rows 1 and 2 start; row 3 is refused. Only then does time pass and running executions end.
    wait_until(lambda: starts(emu) - before >= LIMIT + 1)
    assert len(executions(emu, pipeline)) == LIMIT
    with Ticking(emu):
        result = launching.join()

    assert result.exit_code == 0, result.output
    assert f"smtui: 3 rows {WAITING}" in result.stderr
    assert result.stderr.count(WAITING) == 1  # said once, not per row or per probe
    assert "smtui: row 3 started after waiting" in result.stderr
    assert result.stderr.rstrip().endswith("; 0 rows to go")
    lines = result.stdout.splitlines()
    assert lines[-1].endswith(": 5 started, 0 failed")
    arns = {line.split()[-1] for line in lines[:-1] if ": started " in line}
    assert len(arns) == 5 and set(executions(emu, pipeline)) == arns  # every row once, no duplicates
    states = journal_states(runs.with_name(runs.name + ".journal.jsonl"))
    assert all(s[-1] == "started" and "failed" not in s for s in states.values())
    assert states[3] == ["sending", "waiting", "started"]


def test_concurrent_launch_queues_without_duplicates_and_keeps_the_json_shape(
    smtui: Smtui, emu: EmulatorProcess, tmp_path: Path, quick_backoff: None
) -> None:
    pipeline, runs = sweep(emu, tmp_path, 7)
    before = starts(emu)
    launching = Background(smtui, "launch", str(runs), "--pipeline", pipeline, "--json")
    wait_until(lambda: starts(emu) - before > LIMIT)
    with Ticking(emu):
        result = launching.join()

    assert result.exit_code == 0, result.output
    assert WAITING in result.stderr
    out = json.loads(result.stdout)
    assert set(out) == {"launch_id", "journal", "rows"}
    assert [r["row"] for r in out["rows"]] == list(range(1, 8))
    assert all(set(r) == {"row", "arn", "result"} and r["result"] == "started" for r in out["rows"])
    assert sorted(executions(emu, pipeline)) == sorted(r["arn"] for r in out["rows"])
    # While the limit held, waiting rows probed one at a time with backoff: far fewer calls than a retry
    # per row per tick would make (the clock ticked for every call below).
    assert starts(emu) - before < 7 * 6


def test_no_queue_fails_rows_beyond_the_limit_with_the_service_message(
    smtui: Smtui, emu: EmulatorProcess, tmp_path: Path, quick_backoff: None
) -> None:
    pipeline, runs = sweep(emu, tmp_path, 3)
    result = smtui("launch", str(runs), "--pipeline", pipeline, "--concurrency", "1", "--no-queue")

    assert result.exit_code == 1
    assert "waiting" not in result.stderr
    row3 = result.stdout.splitlines()[2]
    assert row3.startswith("row 3: error  ResourceLimitExceeded (StartPipelineExecution): ")
    assert "'Maximum number of concurrent pipeline executions' is 2 executions" in row3
    assert result.stdout.splitlines()[-1].endswith(": 2 started, 1 failed")
    assert len(executions(emu, pipeline)) == LIMIT

    # Once the running executions end, the same command (queueing now) starts the failed row only.
    emu.advance(3600)
    again = smtui("launch", str(runs), "--pipeline", pipeline, "--json")
    assert again.exit_code == 0, again.output
    results = [r["result"] for r in json.loads(again.stdout)["rows"]]
    assert results == ["already-started", "already-started", "started"]
    assert len(executions(emu, pipeline)) == 3


def test_launch_killed_while_rows_wait_resumes_them_with_their_tokens(
    smtui: Smtui, emu: EmulatorProcess, tmp_path: Path, quick_backoff: None
) -> None:
    pipeline, runs = sweep(emu, tmp_path, 4)
    journal = runs.with_name(runs.name + ".journal.jsonl")
    command = [sys.executable, "-m", "smtui", "--endpoint-url", emu.url, "launch", str(runs)]
    killed = subprocess.Popen(
        [*command, "--pipeline", pipeline, "--launch-id", "nightly", "--concurrency", "2"],
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=dict(os.environ),
    )
    assert killed.stderr is not None
    told = killed.stderr.readline()
    assert told == f"smtui: 2 rows {WAITING}\n"
    wait_until(lambda: journal_states(journal).get(4, [""])[-1] == "waiting", timeout=60)  # a busy CI machine
    killed.kill()  # as a user would, or a CI job's timeout
    killed.wait(10)
    killed.stderr.close()
    states = journal_states(journal)
    assert states[1][-1] == states[2][-1] == "started"
    assert states[3] == states[4] == ["sending", "waiting"]  # waiting, not failed

    # The killed launch's last probe for row 3 reached the service (its reply was lost in the kill).
    emu.advance(3600)
    probed = emu.boto().start_pipeline_execution(
        PipelineName=pipeline,
        ClientRequestToken=launch_module.token_for("nightly", 3),
        PipelineParameters=[{"Name": "Epochs", "Value": "3"}],
        PipelineExecutionDisplayName="run-3",
    )["PipelineExecutionArn"]
    emu.start_execution(pipeline)  # someone else's run: the account is at its limit again
    other = executions(emu, pipeline)[0]

    before = starts(emu)
    launching = Background(
        smtui, "launch", str(runs), "--pipeline", pipeline, "--launch-id", "nightly", "--json"
    )
    wait_until(lambda: starts(emu) - before >= 2)  # row 3 answered with its execution, row 4 refused
    with Ticking(emu):
        result = launching.join()
    assert result.exit_code == 0, result.output
    rows = {r["row"]: r for r in json.loads(result.stdout)["rows"]}
    assert [rows[n]["result"] for n in (1, 2, 3, 4)] == [
        "already-started",
        "already-started",
        "started",
        "started",
    ]
    assert rows[3]["arn"] == probed  # the same token: the service returned that execution
    assert sorted(executions(emu, pipeline)) == sorted([*(r["arn"] for r in rows.values()), other])


async def test_throttled_rows_are_sent_again(emu: EmulatorProcess, tmp_path: Path) -> None:
    pipeline, runs = sweep(emu, tmp_path, 1)
    rows = launch_module.read_rows(runs, pipeline)
    emu.faults(throttle={"StartPipelineExecution": 1.0})
    said: list[str] = []

    def say(line: str) -> None:
        said.append(line)
        emu.faults()  # the throttling passes

    target = AwsTarget(None, "us-east-1", emu.url)
    async with SageMakerClient.create(target, max_attempts=1) as client:  # no botocore retry
        results = await asyncio.wait_for(
            launch_module.launch(client, rows, "t", tmp_path / "j.jsonl", 4, backoff=(0.05, 0.4), say=say),
            timeout=30,
        )
    assert [r["result"] for r in results] == ["started"]
    assert said[0] == (
        "smtui: 1 row waiting: SageMaker is throttling StartPipelineExecution; they are sent again, "
        "backing off"
    )
    assert executions(emu, pipeline) == [results[0]["arn"]]
