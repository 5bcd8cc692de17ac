"""Each headless command's output and exit codes against a private emulator, and bad input: a clear
message and nothing started (checked in `/_emulator/stats`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import Result
from emulator_proc import DEFINITIONS, EmulatorProcess
from emulator_proc import ticking as clock_ticking

Smtui = Callable[..., Result]


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def definition(file: str) -> str:
    return (DEFINITIONS / file).read_text()


@pytest.fixture(scope="module")
def finished(emu: EmulatorProcess) -> dict[str, str]:
    """A succeeded Condition/ForEach run, a failed one and their pipelines, made once per module."""
    cf, broken = name("cf"), name("broken")
    emu.create_pipeline(cf, definition("condition-foreach.json"))
    emu.create_pipeline(broken, definition("train-retry-cache.json"))
    ok = emu.start_execution(cf)
    assert emu.run_until_done(ok) == "Succeeded"
    bad = emu.start_execution(broken)
    assert emu.run_until_done(bad) == "Failed"
    return {"cf": cf, "broken": broken, "ok": ok, "bad": bad}


@pytest.fixture
def ticking(emu: EmulatorProcess, request: pytest.FixtureRequest) -> Iterator[None]:
    """Advance the emulator's clock in the background while a command blocks (as time would pass):
    15 simulated seconds every 50 ms, or `request.param` seconds (indirect parametrization)."""
    with clock_ticking(emu, float(getattr(request, "param", 15))):
        yield


def starts(emu: EmulatorProcess) -> int:
    return emu.stats().get("StartPipelineExecution", 0)


def test_show_prints_the_tree_with_glyphs_branches_and_iterations(
    smtui: Smtui, finished: dict[str, str]
) -> None:
    result = smtui("show", finished["ok"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"✔ {finished['cf']}/") and "Succeeded  5/5 steps" in lines[0]
    assert "└─ ✔ CheckAccuracy  Condition  Succeeded  1s  outcome True" in result.output
    assert "   │  ├─ ✔ ScoreShard-0  Processing  Succeeded  1m01s  item a" in result.output
    skipped = "   └─ ⊘ TooInaccurate  Fail  Skipped  else-branch  skipped: branch not taken"
    assert f"{skipped} (CheckAccuracy was True)" in result.output


def test_show_failed_run_gives_reason_and_why_steps_were_skipped(
    smtui: Smtui, finished: dict[str, str]
) -> None:
    result = smtui("show", f"{finished['broken']}@latest")
    assert result.exit_code == 0, result.output
    assert (
        "✘ Train  Training  Failed" in result.output
        and "reason: AlgorithmError: exited with code 1" in result.output
    )
    assert (
        "⊘ Register  RegisterModel  Skipped  skipped: execution failed before it ran (Train failed)"
        in result.output
    )
    doc = json.loads(smtui("show", finished["bad"], "--json").output)
    assert doc["execution"]["status"] == "Failed" and doc["execution"]["elapsed_s"] > 0
    steps = {s["name"]: s for s in doc["steps"]}
    assert steps["Register"]["status"] == "Skipped" and steps["Register"]["attempt"] is None
    assert steps["Train"]["failure_reason"] == "AlgorithmError: exited with code 1"
    assert set(steps["Train"]) >= {
        "type",
        "depth",
        "parent",
        "started",
        "ended",
        "cache_source_arn",
        "skip_reason",
    }


def test_execution_references_resolve_alike_and_malformed_ones_are_refused(
    smtui: Smtui, finished: dict[str, str]
) -> None:
    arn = finished["ok"]
    by_id = json.loads(smtui("show", f"{finished['cf']}/{arn.rsplit('/', 1)[1]}", "--json").output)
    latest = json.loads(smtui("show", f"{finished['cf']}@latest", "--json").output)
    assert by_id["execution"]["arn"] == latest["execution"]["arn"] == arn
    for bad in ("a/b/c", "@latest", "arn:aws:sagemaker:us-east-1:123:pipeline/x"):
        result = smtui("show", bad)
        assert result.exit_code == 2
        assert "smtui: " in result.stderr and result.stderr.count("\n") == 1, result.stderr
    missing = smtui("show", "no-such-pipeline@latest")
    assert missing.exit_code == 2 and "ResourceNotFound" in missing.stderr


def test_ls_newest_first_with_filters_and_stable_json(
    smtui: Smtui, emu: EmulatorProcess, finished: dict[str, str]
) -> None:
    rows = json.loads(smtui("ls", "--json").output)
    starts_ = [r["started"] for r in rows]
    assert starts_ == sorted(starts_, reverse=True)
    assert {finished["ok"], finished["bad"]} <= {r["arn"] for r in rows}
    assert set(rows[0]) == {
        "arn",
        "pipeline",
        "execution_id",
        "display_name",
        "status",
        "started",
        "ended",
        "elapsed_s",
        "failure_reason",
        "remaining_s",
        "remaining",
    }
    failed = json.loads(smtui("ls", "--status", "Failed", "--json").output)
    assert failed and all(r["status"] == "Failed" for r in failed)
    one = smtui("ls", "--pipeline", finished["cf"])
    assert one.exit_code == 0 and finished["ok"].rsplit("/", 1)[1] in one.output
    assert finished["bad"].rsplit("/", 1)[1] not in one.output
    recent = json.loads(smtui("ls", "--since", "24h", "--json").output)  # CreatedAfter on every pipeline
    assert finished["ok"] in {r["arn"] for r in recent}
    assert smtui("ls", "--since", "soon").exit_code == 2


def test_start_validates_parameters_before_anything_starts(
    smtui: Smtui, emu: EmulatorProcess, finished: dict[str, str]
) -> None:
    before = starts(emu)
    unknown = smtui("start", finished["broken"], "-p", "Nope=1")
    assert (
        unknown.exit_code == 2
        and "unknown parameter 'Nope'" in unknown.stderr
        and "nothing started" in (unknown.stderr)
    )
    wrong = smtui("start", finished["broken"], "-p", "Epochs=three")
    assert wrong.exit_code == 2 and "'Epochs' is an Integer; got 'three'" in wrong.stderr
    missing = smtui("start", "no-such-pipeline")
    assert missing.exit_code == 2 and "ResourceNotFound" in missing.stderr
    assert smtui("start", finished["broken"], "-p", "novalue").exit_code == 2
    twice = smtui("start", finished["broken"], "-p", "Epochs=5", "-p", "Epochs=6")
    assert twice.exit_code == 2 and "-p Epochs is given twice ('5', '6')" in twice.stderr
    assert starts(emu) == before  # nothing reached StartPipelineExecution

    ok = smtui(
        "start", finished["broken"], "-p", "Epochs=5", "-p", "Deploy=True", "--display-name", "nightly"
    )
    assert ok.exit_code == 0, ok.output
    arn = ok.output.strip()
    params = emu.boto().list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)["PipelineParameters"]
    assert {"Name": "Epochs", "Value": "5"} in params and {"Name": "Deploy", "Value": "true"} in params
    assert starts(emu) == before + 1
    emu.boto().stop_pipeline_execution(PipelineExecutionArn=arn)


def test_wait_exit_codes_for_finished_runs_and_timeout(
    smtui: Smtui, emu: EmulatorProcess, finished: dict[str, str]
) -> None:
    assert smtui("wait", finished["ok"]).exit_code == 0
    both = smtui("wait", finished["ok"], finished["bad"], "--interval", "0.1")
    assert both.exit_code == 1 and "Failed" in both.output
    running = emu.start_execution(finished["cf"])  # the clock is paused: it cannot end
    timed_out = smtui("wait", running, "--timeout", "0.5s", "--interval", "0.1")
    assert timed_out.exit_code == 124 and "timed out" in timed_out.output
    assert smtui("wait", running, "--timeout", "later").exit_code == 2
    # Stopped ends the wait (the SDK's waiter would poll on for 30 minutes), exit 1.
    stopped = smtui("stop", running, "--yes")
    assert stopped.exit_code == 0 and "stopping" in stopped.output
    emu.advance(30)
    result = smtui("wait", running, "--json", "--interval", "0.1")
    assert result.exit_code == 1
    last = json.loads(result.output.splitlines()[-1])
    assert (
        last["event"] == "done"
        and last["succeeded"] is False
        and last["executions"][0]["status"] == "Stopped"
    )


# 3 s every 50 ms: a 60 s step lasts a second, longer than `wait` takes to make its first calls through
# the monitor's call budget (10 calls/s, one token at start): discovery, the list, the definition, the steps.
@pytest.mark.parametrize("ticking", [3], indirect=True)
def test_wait_prints_live_progress_until_success(
    smtui: Smtui, emu: EmulatorProcess, finished: dict[str, str], ticking: None
) -> None:
    started = smtui("start", finished["cf"], "--wait", "--interval", "0.05")
    assert started.exit_code == 0, started.output
    lines = started.output.splitlines()
    assert lines[0].startswith("arn:aws:sagemaker:")
    progress = [line for line in lines[1:] if "steps" in line]
    assert len(progress) >= 3  # several distinct states were reported
    assert "running: Preprocess" in "\n".join(progress)
    assert progress[-1].startswith("✔ ") and "Succeeded  5/5 steps" in progress[-1]


def test_stop_and_retry_ask_unless_yes(smtui: Smtui, emu: EmulatorProcess, finished: dict[str, str]) -> None:
    running = emu.start_execution(finished["cf"])
    stops = emu.stats().get("StopPipelineExecution", 0)
    refused = smtui("stop", running)  # no terminal on stdin, no --yes
    assert refused.exit_code == 2 and "refusing without --yes" in refused.stderr
    assert emu.status(running) == "Executing" and emu.stats().get("StopPipelineExecution", 0) == stops
    mixed = smtui("stop", running, "not/an/execution", "--yes")  # one bad reference: nothing is stopped
    assert mixed.exit_code == 2 and "not/an/execution" in mixed.stderr
    assert emu.status(running) == "Executing" and emu.stats().get("StopPipelineExecution", 0) == stops
    retry = smtui("retry", finished["bad"], "--yes", "--json")
    assert retry.exit_code == 0, retry.output
    assert json.loads(retry.output) == [
        {"execution": finished["bad"], "arn": finished["bad"], "result": "retrying", "error": None}
    ]
    assert emu.status(finished["bad"]) == "Executing"  # same ARN runs again
    assert emu.run_until_done(finished["bad"]) == "Failed"
    done = smtui("stop", finished["ok"], "--yes")  # not Executing: the service's message, exit 1
    assert done.exit_code == 1 and "ValidationException" in done.stderr
    emu.boto().stop_pipeline_execution(PipelineExecutionArn=running)


def test_read_only_refuses_actions(
    smtui: Smtui, emu: EmulatorProcess, finished: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = starts(emu)
    result = smtui("--read-only", "start", finished["cf"])
    assert result.exit_code == 2 and "read-only" in result.stderr
    monkeypatch.setenv("SMTUI_READ_ONLY", "1")
    assert smtui("retry", finished["bad"], "--yes").exit_code == 2
    assert starts(emu) == before


def journal_lines(path: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_launch_is_resumable_without_duplicates(
    smtui: Smtui, emu: EmulatorProcess, finished: dict[str, str], tmp_path: Any
) -> None:
    from smtui.headless.launch import token_for

    runs = tmp_path / "runs.csv"
    runs.write_text("Epochs,InstanceType,_display_name\n1,ml.m5.large,one\n2,ml.m5.large,two\n3,,three\n")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"Epochs": 1}\n{"Epochs": "x"}\n')
    before = starts(emu)
    refused = smtui("launch", str(bad), "--pipeline", finished["broken"])
    assert refused.exit_code == 2 and "row 2" in refused.stderr and starts(emu) == before

    # A launch killed after row 1 was started and row 2 was sent (reached the service) but not journaled.
    launch_id = "nightly"
    journal = tmp_path / "runs.csv.journal.jsonl"
    first = emu.boto().start_pipeline_execution(
        PipelineName=finished["broken"],
        ClientRequestToken=token_for(launch_id, 1),
        PipelineParameters=[
            {"Name": "Epochs", "Value": "1"},
            {"Name": "InstanceType", "Value": "ml.m5.large"},
        ],
    )["PipelineExecutionArn"]
    second = emu.boto().start_pipeline_execution(
        PipelineName=finished["broken"],
        ClientRequestToken=token_for(launch_id, 2),
        PipelineParameters=[
            {"Name": "Epochs", "Value": "2"},
            {"Name": "InstanceType", "Value": "ml.m5.large"},
        ],
        PipelineExecutionDisplayName="two",
    )["PipelineExecutionArn"]
    journal.write_text(
        json.dumps({"launch_id": launch_id, "row": 1, "state": "started", "arn": first})
        + "\n"
        + json.dumps({"launch_id": launch_id, "row": 2, "state": "sending"})
        + "\n"
        + '{"launch_id": "nightly", "row": 3, "sta'  # torn line: killed mid-write
    )
    listed = {
        e["PipelineExecutionArn"]
        for e in emu.boto().list_pipeline_executions(PipelineName=finished["broken"], MaxResults=100)[
            "PipelineExecutionSummaries"
        ]
    }

    resumed = smtui("launch", str(runs), "--pipeline", finished["broken"], "--launch-id", launch_id, "--json")
    assert resumed.exit_code == 0, resumed.output
    rows = {r["row"]: r for r in json.loads(resumed.output)["rows"]}
    assert rows[1] == {"row": 1, "arn": first, "result": "already-started"}
    assert rows[2]["arn"] == second  # same token → the service returned the same execution
    assert rows[3]["result"] == "started" and rows[3]["arn"] not in listed
    after = {
        e["PipelineExecutionArn"]
        for e in emu.boto().list_pipeline_executions(PipelineName=finished["broken"], MaxResults=100)[
            "PipelineExecutionSummaries"
        ]
    }
    assert after - listed == {rows[3]["arn"]}  # exactly one new execution, no duplicates

    again = smtui("launch", str(runs), "--pipeline", finished["broken"], "--launch-id", launch_id)
    assert again.exit_code == 0 and again.output.count("already-started") == 3
    assert again.output.splitlines()[-1].endswith(": 0 started, 3 already started, 0 failed")
    for arn in after - (listed - {first, second}):
        if emu.status(arn) == "Executing":
            emu.boto().stop_pipeline_execution(PipelineExecutionArn=arn)


def test_credentials_region_and_endpoint_resolution(
    smtui: Smtui, emu: EmulatorProcess, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER", emu.url)  # botocore's own endpoint variable
    assert smtui("ls", endpoint=False).exit_code == 0
    monkeypatch.delenv("AWS_ENDPOINT_URL_SAGEMAKER")
    (tmp_path / "config" / "smtui").mkdir(parents=True)
    (tmp_path / "config" / "smtui" / "config.toml").write_text(f'endpoint_url = "{emu.url}"\n')
    assert smtui("ls", endpoint=False).exit_code == 0
    # The flag wins: with the config naming a dead port, the flag's endpoint answers. (Not the other way
    # round: a dead endpoint fails only once the client's retries give up, seconds later.)
    (tmp_path / "config" / "smtui" / "config.toml").write_text('endpoint_url = "http://127.0.0.1:9"\n')
    assert smtui("ls", "--endpoint-url", emu.url, endpoint=False).exit_code == 0

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    nocreds = smtui("ls")
    assert nocreds.exit_code == 2 and "no AWS credentials found" in nocreds.stderr
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    noregion = smtui("ls", endpoint=False)
    assert noregion.exit_code == 2 and "no AWS region" in noregion.stderr
    noprofile = smtui("--profile", "ghost", "ls")
    assert noprofile.exit_code == 2 and "ghost" in noprofile.stderr
