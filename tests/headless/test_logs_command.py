"""`smtui logs`: a step's lines as the service holds them, `--follow` until the step ends with `wait`'s exit
codes, `--json` lines, one-line reasons and errors (never a traceback), against a private emulator."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from background import Background, Smtui
from emulator_proc import CREDS, DEFINITIONS, ROOT, EmulatorProcess

TRAIN = (DEFINITIONS / "train-retry-cache.json").read_text()
CF = (DEFINITIONS / "condition-foreach.json").read_text()
TRAINING = "/aws/sagemaker/TrainingJobs"
PROCESSING = "/aws/sagemaker/ProcessingJobs"
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}"


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def job_log(emu: EmulatorProcess, group: str, step: str, arn: str) -> list[dict[str, Any]]:
    """The events of a step's job, read with boto3 (the exact-case job name from Describe*Job)."""
    sm = emu.boto()
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    (metadata,) = (s["Metadata"] for s in steps if s["StepName"] == step)
    kind, body = next(iter(metadata.items()))
    lower = body["Arn"].rsplit("/", 1)[1]
    job = getattr(sm, f"describe_{'training' if kind == 'TrainingJob' else 'processing'}_job")(
        **{f"{kind}Name": lower}
    )[f"{kind}Name"]
    logs = boto3.client(
        "logs",
        endpoint_url=emu.url,
        region_name="us-east-1",
        aws_access_key_id=CREDS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDS["AWS_SECRET_ACCESS_KEY"],
    )
    events: list[dict[str, Any]] = logs.filter_log_events(logGroupName=group, logStreamNamePrefix=f"{job}/")[
        "events"
    ]
    return events


def messages(stdout: str) -> list[str]:
    """The messages of text lines `TIME [LABEL] MESSAGE` (no label when one stream)."""
    out = []
    for line in stdout.splitlines():
        match = re.fullmatch(rf"{STAMP} (.*)", line)
        assert match, line
        out.append(match.group(1))
    return out


@pytest.fixture(scope="module")
def finished(emu: EmulatorProcess) -> dict[str, str]:
    """A failed Processing → Train run, and a succeeded Condition/ForEach run with two instances."""
    broken, cf = name("broken"), name("cf")
    emu.create_pipeline(broken, TRAIN)
    emu.create_pipeline(cf, CF)
    bad = emu.start_execution(broken)
    assert emu.run_until_done(bad) == "Failed"
    ok = emu.start_execution(cf, InstanceCount="2")
    assert emu.run_until_done(ok) == "Succeeded"
    return {"broken": broken, "bad": bad, "cf": cf, "ok": ok}


def test_the_failed_step_by_default_every_line_of_its_job(
    smtui: Smtui, emu: EmulatorProcess, finished: dict[str, str]
) -> None:
    result = smtui("logs", f"{finished['broken']}@latest")
    assert result.exit_code == 0, result.output
    expected = [e["message"] for e in job_log(emu, TRAINING, "Train", finished["bad"])]
    assert messages(result.stdout) == expected
    assert expected[-1].startswith("Traceback") and "AlgorithmError: exited with code 1" in expected[-1]
    first = job_log(emu, TRAINING, "Train", finished["bad"])[0]
    stamp = datetime.fromtimestamp(first["timestamp"] / 1000, UTC)  # shown in UTC, to the millisecond
    assert result.stdout.startswith(stamp.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " ")
    assert result.stderr == ""


def test_json_lines_carry_timestamp_stream_and_message(
    smtui: Smtui, emu: EmulatorProcess, finished: dict[str, str]
) -> None:
    result = smtui("logs", finished["bad"], "Preprocess", "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    events = job_log(emu, PROCESSING, "Preprocess", finished["bad"])
    assert len(lines) == len(events) == 5
    for line, event in zip(lines, events, strict=True):
        assert set(line) == {"timestamp", "stream", "message", "step"}
        when = datetime.fromisoformat(line["timestamp"])
        assert line["timestamp"].endswith("+00:00")  # ISO-8601 UTC
        assert int(when.timestamp() * 1000) == event["timestamp"]
        assert line["stream"] == event["logStreamName"] and re.fullmatch(
            r".+-Preprocess-\w+/algo-1-\d+", line["stream"]
        )
        assert line["message"] == event["message"]
        assert line["step"] == "Preprocess"


def test_the_stream_is_shown_when_the_job_has_more_than_one_instance(
    smtui: Smtui, emu: EmulatorProcess, finished: dict[str, str]
) -> None:
    result = smtui("logs", f"{finished['cf']}@latest", "Preprocess")
    assert result.exit_code == 0, result.output
    events = job_log(emu, PROCESSING, "Preprocess", finished["ok"])
    assert events
    for line, event in zip(result.stdout.splitlines(), events, strict=True):
        short = event["logStreamName"].split("/", 1)[1]  # algo-1-<epoch>, without the job's name
        assert re.fullmatch(rf"{STAMP} \[{re.escape(short)}\] {re.escape(event['message'])}", line), line


def test_an_unknown_step_is_a_usage_error_listing_the_steps(
    smtui: Smtui, emu: EmulatorProcess, finished: dict[str, str]
) -> None:
    before = emu.stats()
    result = smtui("logs", f"{finished['broken']}@latest", "Trian")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"smtui: no step 'Trian' in {finished['broken']}@latest: its steps are Preprocess, Train, Register\n"
    )
    calls = {op: n - before.get(op, 0) for op, n in emu.stats().items() if n != before.get(op, 0)}
    assert not any(op.endswith("LogEvents") for op in calls)


def test_a_condition_step_says_in_one_line_why_it_has_no_logs(
    smtui: Smtui, emu: EmulatorProcess, finished: dict[str, str]
) -> None:
    before = emu.stats()
    result = smtui("logs", f"{finished['cf']}@latest", "CheckAccuracy")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == (
        "smtui: CheckAccuracy: a Condition step evaluates its conditions inside Pipelines: it runs no job "
        "and has no logs (it evaluated to True)\n"
    )
    calls = {op: n - before.get(op, 0) for op, n in emu.stats().items() if n != before.get(op, 0)}
    assert not any(op.startswith(("FilterLog", "GetLog", "DescribeLog")) for op in calls)


def test_without_a_failed_or_running_step_it_asks_for_one(
    smtui: Smtui, emu: EmulatorProcess, finished: dict[str, str]
) -> None:
    result = smtui("logs", f"{finished['cf']}@latest")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"smtui: no failed or running step in {finished['cf']}@latest (Succeeded)"
    )
    assert "its steps are Preprocess, Evaluate, CheckAccuracy, ScoreAll, ScoreShard-0" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--since", "5x"], "smtui: --since: '5x' is not a duration"),
        (
            ["--interval", "0"],
            "smtui: Invalid value for '--interval': 0.0 is not a positive number of seconds",
        ),
        (
            ["--interval", "nan"],
            "smtui: Invalid value for '--interval': nan is not a positive number of seconds",
        ),
    ],
)
def test_bad_flags_are_usage_errors(
    smtui: Smtui, finished: dict[str, str], args: list[str], error: str
) -> None:
    result = smtui("logs", finished["bad"], *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(error) and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_an_unknown_execution_is_a_usage_error(smtui: Smtui) -> None:
    result = smtui("logs", f"{name('nope')}@latest")
    assert result.exit_code == 2
    assert result.stderr.startswith("smtui: ") and result.stderr.count("\n") == 1
    result = smtui("logs", "arn:aws:sagemaker:us-east-1:123456789012:pipeline/x/execution/zzzzzzzzzzzz", "A")
    assert result.exit_code == 2 and result.stderr.startswith("smtui: ") and result.stderr.count("\n") == 1


def advance_until(emu: EmulatorProcess, arn: str, step: str, status: str) -> None:
    sm = emu.boto()
    for _ in range(300):
        steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
        if any(s["StepName"] == step and s["StepStatus"] == status for s in steps):
            return
        emu.advance(1)
    raise AssertionError(f"{step} never {status}")


@pytest.mark.parametrize(("pipeline", "step", "code"), [("broken", "Train", 1), ("logs", "Preprocess", 0)])
def test_follow_ends_when_the_step_ends_with_waits_exit_code(
    smtui: Smtui, emu: EmulatorProcess, pipeline: str, step: str, code: int
) -> None:
    pipeline = name(pipeline)
    emu.create_pipeline(pipeline, TRAIN)
    arn = emu.start_execution(pipeline)
    advance_until(emu, arn, step, "Executing")
    emu.advance(3)
    before = emu.stats()
    # Reads every 0.1 s (real time) while the emulator's clock moves 1 simulated second every 50 ms.
    following = Background(smtui, "logs", arn, step, "--follow", "--interval", "0.1")
    result = following.join(emu, tick=1)
    assert result.exit_code == code, result.output
    group = TRAINING if step == "Train" else PROCESSING
    expected = [e["message"] for e in job_log(emu, group, step, arn)]
    assert messages(result.stdout) == expected  # every line once, none twice across the reads
    assert expected[-1].endswith("completed successfully" if code == 0 else "exited with code 1")
    calls = {op: n - before.get(op, 0) for op, n in emu.stats().items()}
    assert calls["FilterLogEvents"] >= 2  # it followed: reads while the step ran, and the final one
    steps = emu.boto().list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    assert next(s for s in steps if s["StepName"] == step)["StepStatus"] == (
        "Failed" if code else "Succeeded"
    )


def test_a_closed_pipe_ends_quietly(emu: EmulatorProcess, finished: dict[str, str]) -> None:
    """`smtui logs ... | head -1`: no traceback when the reader goes away."""
    command = [sys.executable, "-m", "smtui", "--endpoint-url", emu.url, "logs", finished["bad"], "Train"]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env={**CREDS, "PATH": ""}
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before anything is written
    stderr = proc.stderr.read().decode()
    assert proc.wait(30) == 0
    assert "Traceback" not in stderr and stderr == ""


def test_since_keeps_only_the_recent_lines(
    smtui: Smtui, emu: EmulatorProcess, finished: dict[str, str]
) -> None:
    everything = smtui("logs", finished["bad"], "Train", "--since", "36500d")
    assert everything.exit_code == 0
    assert messages(everything.stdout) == [
        e["message"] for e in job_log(emu, TRAINING, "Train", finished["bad"])
    ]
    emu.advance(120)  # the run ended well over a minute ago
    recent = smtui("logs", finished["bad"], "Train", "--since", "1m")
    assert recent.exit_code == 0
    assert recent.stdout == ""
    assert recent.stderr == "smtui: Train: no log lines\n"


def test_follow_without_a_step_waits_for_the_first_to_run(smtui: Smtui, emu: EmulatorProcess) -> None:
    pipeline = name("logs")
    emu.create_pipeline(pipeline, TRAIN)
    arn = emu.start_execution(pipeline)  # nothing runs yet: the first step starts after a second
    following = Background(smtui, "logs", f"{pipeline}@latest", "--follow", "--interval", "0.1")
    result = following.join(emu, tick=1)
    assert result.exit_code == 0, result.output
    assert messages(result.stdout) == [e["message"] for e in job_log(emu, PROCESSING, "Preprocess", arn)]
