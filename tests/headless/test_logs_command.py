"""`smtui logs`: a step's lines as the service holds them, `--follow` until the step ends with `wait`'s exit
codes, `--json` lines, one-line reasons and errors (never a traceback), against a private emulator."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import pytest
from background import Background, Smtui
from emulator_proc import CREDS, DEFINITIONS, ROOT, EmulatorProcess
from served_logs import (
    Event,
    in_time_order,
    job_events,
    served,
    stamp,
    step_job,
    step_window,
    traceback_tail,
)

TRAIN = (DEFINITIONS / "train-retry-cache.json").read_text()
CF = (DEFINITIONS / "condition-foreach.json").read_text()


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def text(events: list[Event], *, stream: bool = False, prefix: str = "") -> list[str]:
    """The lines `smtui logs` prints for these events: `TIME [STREAM] MESSAGE`, the stream (without the
    job's `prefix`) only when there is more than one."""
    label = (lambda e: f"[{e.stream.removeprefix(prefix)}] ") if stream else (lambda e: "")
    return [f"{stamp(e.timestamp)} {label(e)}{e.message}" for e in events]


def messages(events: list[Event]) -> list[str]:
    return [e.message for e in events]


def two_hosts() -> str:
    """TRAIN whose Train step runs on two instances (algo-1 and algo-2, a stream each)."""
    definition = json.loads(TRAIN)
    train = next(step for step in definition["Steps"] if step["Name"] == "Train")
    train["Arguments"]["ResourceConfig"]["InstanceCount"] = 2
    return json.dumps(definition)


@pytest.fixture(scope="module")
def finished(emu: EmulatorProcess) -> dict[str, str]:
    """A failed Processing → Train run, a succeeded Condition/ForEach run with two instances, and a failed
    run whose Train step had two instances."""
    broken, cf, hosts = name("broken"), name("cf"), name("hosts")
    emu.create_pipeline(broken, TRAIN)
    emu.create_pipeline(cf, CF)
    emu.create_pipeline(hosts, two_hosts())
    bad = emu.start_execution(broken)
    assert emu.run_until_done(bad) == "Failed"
    ok = emu.start_execution(cf, InstanceCount="2")
    assert emu.run_until_done(ok) == "Succeeded"
    two = emu.start_execution(hosts)
    assert emu.run_until_done(two) == "Failed"
    return {"broken": broken, "bad": bad, "cf": cf, "ok": ok, "hosts": hosts, "two": two}


def test_the_failed_step_by_default_every_line_of_its_job(
    smtui: Smtui, emu: EmulatorProcess, finished: dict[str, str]
) -> None:
    result = smtui("logs", f"{finished['broken']}@latest")
    assert result.exit_code == 0, result.output
    job = step_job(emu, finished["bad"], "Train")
    events = job_events(emu, job)
    # Every line of the job once, in time order, shown in UTC to the millisecond; one stream: no label.
    assert result.stdout.splitlines() == text(events) and in_time_order(events)
    # It ends with the traceback whose last line names the job's FailureReason.
    assert job.failure_reason and job.failure_reason in traceback_tail(messages(events))[-1]
    first = datetime.fromtimestamp(events[0].timestamp / 1000, UTC)
    assert result.stdout.startswith(first.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " ")
    assert result.stderr == ""


def test_json_lines_carry_timestamp_stream_and_message(
    smtui: Smtui, emu: EmulatorProcess, finished: dict[str, str]
) -> None:
    result = smtui("logs", finished["bad"], "Preprocess", "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    events = job_events(emu, step_job(emu, finished["bad"], "Preprocess"))
    assert len(lines) == len(events) > 1
    for line, event in zip(lines, events, strict=True):
        assert set(line) == {"timestamp", "stream", "message", "step"}
        when = datetime.fromisoformat(line["timestamp"])
        assert line["timestamp"].endswith("+00:00")  # ISO-8601 UTC
        assert round(when.timestamp() * 1000) == event.timestamp
        assert line["stream"] == event.stream
        assert re.fullmatch(r".+-Preprocess-\w+/algo-1-\d+", line["stream"])
        assert line["message"] == event.message
        assert line["step"] == "Preprocess"


def test_the_stream_is_shown_when_the_job_has_more_than_one_instance(
    smtui: Smtui, emu: EmulatorProcess, finished: dict[str, str]
) -> None:
    result = smtui("logs", f"{finished['cf']}@latest", "Preprocess")
    assert result.exit_code == 0, result.output
    job = step_job(emu, finished["ok"], "Preprocess")
    events = job_events(emu, job)
    assert len({e.stream for e in events}) == 2
    # `[algo-1-<epoch>]`: the stream without the job's name.
    assert result.stdout.splitlines() == text(events, stream=True, prefix=f"{job.name}/")


def test_a_training_step_on_two_instances_interleaves_algo_1_and_algo_2_by_time(
    smtui: Smtui, emu: EmulatorProcess, finished: dict[str, str]
) -> None:
    result = smtui("logs", f"{finished['hosts']}@latest")  # the failed step: Train
    assert result.exit_code == 0, result.output
    job = step_job(emu, finished["two"], "Train")
    events = job_events(emu, job)
    hosts = [e.stream.removeprefix(f"{job.name}/").rsplit("-", 1)[0] for e in events]
    assert set(hosts) == {"algo-1", "algo-2"}
    assert hosts != sorted(hosts)  # interleaved, not one stream after the other
    assert result.stdout.splitlines() == text(events, stream=True, prefix=f"{job.name}/")
    assert in_time_order(events)
    assert job.failure_reason and job.failure_reason in traceback_tail(messages(events))[-1]
    as_json = smtui("logs", finished["two"], "Train", "--json").stdout.splitlines()
    as_json = [json.loads(line) for line in as_json]
    assert [(line["stream"], line["message"]) for line in as_json] == [(e.stream, e.message) for e in events]


def test_a_lambda_steps_lines_come_from_its_functions_group_within_the_steps_window(
    smtui: Smtui, emu: EmulatorProcess, finished: dict[str, str]
) -> None:
    group = "/aws/lambda/eval"  # the function of Evaluate's FunctionArn
    later = emu.start_execution(finished["cf"])  # the function runs again, in another execution
    assert emu.run_until_done(later) == "Succeeded"
    start, end = step_window(emu, finished["ok"], "Evaluate")
    invocation = served(emu, group, start_ms=start, end_ms=end)
    assert invocation and len({e.stream for e in invocation}) == 1
    # The group holds other invocations' lines, none within 2 s of this step's window.
    others = [e for e in served(emu, group) if e not in invocation]
    assert others and all(e.timestamp < start - 2000 or e.timestamp > end + 2000 for e in others)
    result = smtui("logs", finished["ok"], "Evaluate")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == text(invocation, stream=True)
    assert invocation[0].message.startswith("INIT_START") and invocation[-1].message.startswith("REPORT")
    assert result.stderr == ""


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
    # Reads every 0.1 s (real time) while the emulator's clock moves 3 simulated seconds every 50 ms: a read
    # every ~6 s of the step's life, several while it runs.
    following = Background(smtui, "logs", arn, step, "--follow", "--interval", "0.1")
    result = following.join(emu, tick=3)
    assert result.exit_code == code, result.output
    calls = {op: n - before.get(op, 0) for op, n in emu.stats().items()}
    job = step_job(emu, arn, step)
    events = job_events(emu, job)
    # Every line once (none twice across the overlapping reads), in time order, up to the job's last.
    assert result.stdout.splitlines() == text(events) and in_time_order(events)
    if code:
        assert job.failure_reason and job.failure_reason in traceback_tail(messages(events))[-1]
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
    assert everything.stdout.splitlines() == text(job_events(emu, step_job(emu, finished["bad"], "Train")))
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
    result = following.join(emu, tick=3)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == text(job_events(emu, step_job(emu, arn, "Preprocess")))


TRANSFORM = json.dumps(
    {
        "Version": "2020-12-01",
        "Parameters": [],
        "Steps": [
            {
                "Name": "Score",
                "Type": "Transform",
                "Arguments": {
                    "ModelName": "churn-model",
                    "TransformInput": {
                        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/in"}},
                        "ContentType": "text/csv",
                    },
                    "TransformOutput": {"S3OutputPath": "s3://b/out"},
                    "TransformResources": {"InstanceCount": 1, "InstanceType": "ml.c5.xlarge"},
                },
            }
        ],
    }
)


def test_a_transform_step_shows_its_data_log_beside_the_model_servers_stream(
    smtui: Smtui, emu: EmulatorProcess
) -> None:
    pipeline = name("transform")
    emu.create_pipeline(pipeline, TRANSFORM)
    arn = emu.start_execution(pipeline)
    assert emu.run_until_done(arn) == "Succeeded"
    result = smtui("logs", arn, "Score")
    assert result.exit_code == 0, result.output
    job = step_job(emu, arn, "Score")
    events = job_events(emu, job)
    streams = {e.stream.removeprefix(f"{job.name}/") for e in events}
    (server,) = (s for s in streams if not s.endswith("/data-log"))
    assert streams == {server, f"{server}/data-log"}  # one instance: its server and its data log
    assert result.stdout.splitlines() == text(events, stream=True, prefix=f"{job.name}/")
