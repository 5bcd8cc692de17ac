"""The headless commands keep their word (issue 11, part 2): every reference is resolved before anything is
done; the region comes from the environment as in the other AWS tools; usage errors exit 2 everywhere, the
TUI's entry included; and no input gets a traceback, only one line `smtui: ...`."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from emulator_proc import DEFINITIONS, ROOT, EmulatorProcess

Smtui = Callable[..., Result]


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def one_line_error(result: Result) -> str:
    """The single `smtui: ...` line a failed command prints on stderr, and nothing else."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("smtui: "), result.stderr
    return lines[0]


def calls(emu: EmulatorProcess, operation: str) -> int:
    return emu.stats().get(operation, 0)


@pytest.fixture(scope="module")
def runs(emu: EmulatorProcess) -> dict[str, str]:
    """A pipeline with a running execution and a failed one (the clock is paused: running stays running)."""
    cf, broken = name("cf"), name("broken")
    emu.create_pipeline(cf, (DEFINITIONS / "condition-foreach.json").read_text())
    emu.create_pipeline(broken, (DEFINITIONS / "train-retry-cache.json").read_text())
    failed = emu.start_execution(broken)
    assert emu.run_until_done(failed) == "Failed"
    return {"cf": cf, "broken": broken, "failed": failed}


# -- resolve first, then act ------------------------------------------------------------------------------


def test_stop_changes_nothing_when_one_reference_does_not_resolve(
    smtui: Smtui, emu: EmulatorProcess, runs: dict[str, str]
) -> None:
    good = emu.start_execution(runs["cf"])
    stops = calls(emu, "StopPipelineExecution")
    for bad in (
        f"{runs['cf']}/nosuchid",  # a pipeline that exists, an execution that does not
        good.rsplit("/", 1)[0] + "/nosuchid2",  # the same, as a full ARN
        "no-such-pipeline@latest",
    ):
        result = smtui("stop", good, bad, "--yes")
        assert result.exit_code == 2, result.output
        line = one_line_error(result)
        assert bad in line and "nothing done" in line
        assert result.stdout == ""  # not a word about stopping anything
        assert emu.status(good) == "Executing"
        assert calls(emu, "StopPipelineExecution") == stops
    # The same execution named three ways is stopped once.
    twice = smtui("stop", good, f"{runs['cf']}/{good.rsplit('/', 1)[1]}", good, "--yes", "--json")
    assert twice.exit_code == 0, twice.output
    assert calls(emu, "StopPipelineExecution") == stops + 1 and emu.status(good) == "Stopping"


def test_retry_changes_nothing_when_one_reference_does_not_resolve(
    smtui: Smtui, emu: EmulatorProcess, runs: dict[str, str]
) -> None:
    retries = calls(emu, "RetryPipelineExecution")
    result = smtui("retry", runs["failed"], f"{runs['broken']}/nosuchid", "--yes", "--json")
    assert result.exit_code == 2 and result.stdout == ""
    assert f"{runs['broken']}/nosuchid" in one_line_error(result)
    assert emu.status(runs["failed"]) == "Failed"
    assert calls(emu, "RetryPipelineExecution") == retries


@pytest.mark.usefixtures("one_attempt")
def test_a_reference_that_cannot_be_checked_is_not_acted_on_either(
    smtui: Smtui, emu: EmulatorProcess, runs: dict[str, str]
) -> None:
    """Resolution throttled for good: exit 1 (the service's failure, not the user's), still nothing done."""
    good = emu.start_execution(runs["cf"])
    stops = calls(emu, "StopPipelineExecution")
    emu.faults(throttle={"DescribePipelineExecution": 1.0})
    try:
        result = smtui("stop", good, "--yes")
    finally:
        emu.faults()
    assert result.exit_code == 1 and "throttled" in one_line_error(result)
    assert emu.status(good) == "Executing" and calls(emu, "StopPipelineExecution") == stops
    emu.boto().stop_pipeline_execution(PipelineExecutionArn=good)


# -- the user's retry settings ------------------------------------------------------------------------------


def test_aws_max_attempts_and_the_profiles_max_attempts_are_the_attempts_per_call(
    smtui: Smtui, emu: EmulatorProcess, runs: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """As in the AWS CLI: `AWS_MAX_ATTEMPTS`, else the profile's `max_attempts`, counts every attempt of a
    call (the emulator counts what it received); a value that is not a whole number ≥ 1 is exit 2, one line
    naming where it was set, for the commands and the TUI alike."""
    execution = f"{runs['cf']}/nosuchid"  # resolved first (DescribePipelineExecution): never stopped

    def attempts(*args: str) -> int:
        before = calls(emu, "DescribePipelineExecution")
        result = smtui(*args, "stop", execution, "--yes")
        assert result.exit_code == 1 and "throttled" in one_line_error(result)
        return calls(emu, "DescribePipelineExecution") - before

    emu.faults(throttle={"DescribePipelineExecution": 1.0})
    try:
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
        assert attempts() == 1  # fail fast, in a script
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
        assert attempts() == 2  # one retry (after at most a second of botocore's backoff)

        config = tmp_path / "aws-config"
        keys = "aws_access_key_id = testing\naws_secret_access_key = testing\n"  # a profile's own
        config.write_text(f"[profile patient]\nmax_attempts = 1\n{keys}")
        monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
        monkeypatch.delenv("AWS_MAX_ATTEMPTS")
        assert attempts("--profile", "patient") == 1
    finally:
        emu.faults()

    for value in ("abc", "0", "-1", "1.5", ""):
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", value)  # the environment first, as botocore reads them
        for args in (["ls"], []):  # [] is plain `smtui`: the TUI, which must not open either
            result = smtui("--profile", "patient", *args)
            assert result.exit_code == 2, (value, args)
            expected = f"smtui: AWS_MAX_ATTEMPTS: '{value}' is not a whole number of attempts ≥ 1"
            assert one_line_error(result) == expected
    monkeypatch.delenv("AWS_MAX_ATTEMPTS")
    config.write_text(f"[profile patient]\nmax_attempts = many\n{keys}")
    result = smtui("--profile", "patient", "ls")
    assert result.exit_code == 2
    assert one_line_error(result) == (
        "smtui: max_attempts in profile patient: 'many' is not a whole number of attempts ≥ 1"
    )


# -- the region -------------------------------------------------------------------------------------------


def region_used(smtui: Smtui, *args: str) -> str:
    """The region of the SigV4 scope the emulator received: it names it in the ARN of its not-found error."""
    missing = name("missing")
    result = smtui(*args, "start", missing)
    assert result.exit_code == 2, result.output
    line = one_line_error(result)
    assert f":pipeline/{missing}" in line, line
    return line.split("arn:aws:sagemaker:", 1)[1].split(":", 1)[0]


def test_region_from_aws_region_first_then_aws_default_region_then_the_profile(
    smtui: Smtui, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert region_used(smtui) == "eu-west-1"  # botocore alone reads only AWS_DEFAULT_REGION
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    assert region_used(smtui) == "eu-west-1"  # AWS_REGION wins, as in the AWS CLI v2 and the other SDKs
    assert region_used(smtui, "--region", "ap-south-1") == "ap-south-1"  # the flag beats both
    monkeypatch.setenv("SMTUI_REGION", "ca-central-1")
    assert region_used(smtui) == "ca-central-1"  # smtui's own setting is as explicit as the flag
    monkeypatch.delenv("SMTUI_REGION")

    # A profile's region comes after the environment's, as botocore has it.
    config = tmp_path / "aws-config"
    config.write_text(
        "[profile regional]\nregion = ap-northeast-1\n"
        "aws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    assert region_used(smtui, "--profile", "regional") == "eu-west-1"
    monkeypatch.delenv("AWS_REGION")
    assert region_used(smtui, "--profile", "regional") == "us-west-2"
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert region_used(smtui, "--profile", "regional") == "ap-northeast-1"


# -- usage errors exit 2, the TUI's entry included ----------------------------------------------------------


def test_usage_errors_exit_2_with_one_line_for_every_command_and_the_tui(
    smtui: Smtui, emu: EmulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    for args in (
        ["--endpoint-url", "notaurl", "ls"],
        ["ls", "--endpoint-url", "notaurl"],
        ["--endpoint-url", "notaurl"],
    ):
        result = smtui(*args, endpoint=False)
        assert result.exit_code == 2 and "'notaurl' is not an http(s) URL" in one_line_error(result), args
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER", "notaurl")  # botocore's own variable, checked by it
    for args in (["ls"], []):
        result = smtui(*args, endpoint=False)
        assert result.exit_code == 2 and "invalid endpoint: notaurl" in one_line_error(result), args
    monkeypatch.delenv("AWS_ENDPOINT_URL_SAGEMAKER")

    for limit in ("0", "-3"):
        result = smtui("ls", "--limit", limit)
        assert result.exit_code == 2 and "not a positive number of rows" in one_line_error(result)

    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    for args in (["ls"], []):  # [] is plain `smtui`: the TUI, which must not open without a region
        result = smtui(*args, endpoint=False)
        assert result.exit_code == 2 and "no AWS region" in one_line_error(result), args
    result = smtui("--region", "not a region")
    assert result.exit_code == 2 and "not a region" in one_line_error(result)


# -- no traceback, whatever the input -----------------------------------------------------------------------


def test_durations_beyond_a_datetime_are_refused_not_a_traceback(smtui: Smtui, runs: dict[str, str]) -> None:
    for args in (["ls", "--since", "99999999999d"], ["wait", runs["failed"], "--timeout", "99999999999d"]):
        result = smtui(*args)
        assert result.exit_code == 2 and "longer than 100 years" in one_line_error(result), args
    for interval in ("0", "nan", "inf", "-1"):
        result = smtui("start", runs["cf"], "--wait", "--interval", interval)
        assert result.exit_code == 2 and "not a positive number of seconds" in one_line_error(result)


def test_bad_settings_files_are_one_line_exit_2(smtui: Smtui, tmp_path: Path, runs: dict[str, str]) -> None:
    config = tmp_path / "config" / "smtui" / "config.toml"
    config.parent.mkdir(parents=True)
    for text, says in (
        ("keys = 5", "setting 'keys' expects a table, got 5"),
        ('rate = "fast"', "setting 'rate' expects a number, got 'fast'"),
        ("rate = 0", "setting 'rate' expects a number > 0, got 0"),
        ('endpoint_url = "localhost:4566"', "setting 'endpoint_url': 'localhost:4566' is not an http(s) URL"),
    ):
        config.write_text(text + "\n")
        for args in (["ls"], ["show", runs["failed"]], []):
            result = smtui(*args)
            assert result.exit_code == 2 and says in one_line_error(result), (text, args)
    config.write_bytes(b"\xff\xfe r\x00a\x00")
    assert smtui("ls").exit_code == 2


def subprocess_smtui(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m smtui ARGS` as a user runs it: what reaches the terminal, logging included."""
    return subprocess.run(
        [sys.executable, "-m", "smtui", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_credential_failures_are_one_line_exit_2(emu: EmulatorProcess, tmp_path: Path) -> None:
    """A missing SSO token (botocore logs it with a traceback before raising), a failing credential_process,
    a role whose source profile is missing: each is the user's to fix, in one line."""
    config = tmp_path / "aws-config"
    config.write_text(
        "[profile sso]\nregion = us-east-1\nsso_start_url = https://example.awsapps.com/start\n"
        "sso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Admin\n"
        "[profile failing]\nregion = us-east-1\ncredential_process = false\n"
        "[profile orphan]\nregion = us-east-1\nrole_arn = arn:aws:iam::123456789012:role/x\n"
        "source_profile = gone\n"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "SMTUI_")) and key != "XDG_CONFIG_HOME"
    }
    env |= {
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
    }
    for profile, says in (
        ("sso", "aws sso login --profile sso"),
        ("failing", "cannot get AWS credentials"),
        ("orphan", 'source_profile "gone"'),
    ):
        done = subprocess_smtui("--profile", profile, "ls", "--endpoint-url", emu.url, env=env)
        assert done.returncode == 2, (profile, done.stderr)
        lines = done.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("smtui: ") and says in lines[0], done.stderr
