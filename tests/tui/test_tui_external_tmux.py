"""`smtui` in a real terminal (tmux) against a standalone emulator: a run retried by a separate boto3
client shows Running again, without a key pressed, at the pace the `active_interval` setting sets (1 s here:
rows in view have their status read every 1.6 s; the default's 8 s is the core tests' business)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import ROLE, SCENARIO, definition
from test_tui_demo_tmux import _wait_for

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


def row(screen: str, execution_id: str) -> str:
    """The row of that execution (its id is shown whole; a long pipeline name is cut with `…`)."""
    return next((line for line in screen.splitlines() if execution_id in line), "")


def test_a_run_retried_by_another_client_runs_again_on_screen(
    emulator_factory: Callable[..., Any], tmp_path: Path
) -> None:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(SCENARIO)  # `flaky*` pipelines: Preprocess fails once, then succeeds
    emu = emulator_factory("--time-scale", "0", "--seed", "3", "--scenario", str(scenario))
    sm = boto3.client(
        "sagemaker",
        endpoint_url=emu.url,
        region_name="us-east-1",
        **{
            "aws_access_key_id": "test",
            "aws_secret_access_key": "test",
        },
    )
    pipeline = f"flaky-{uuid.uuid4().hex[:8]}"
    sm.create_pipeline(PipelineName=pipeline, PipelineDefinition=definition(), RoleArn=ROLE)
    arn = sm.start_pipeline_execution(PipelineName=pipeline)["PipelineExecutionArn"]
    emu.advance(3600)
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Failed"

    session = f"smtui-test-{uuid.uuid4().hex[:8]}"
    # A tmux server of its own (-L, as `_capture` reads it). A server that already runs would start commands
    # in its own environment: ours is set in the command.
    env = {
        **CREDENTIALS,
        "AWS_DEFAULT_REGION": "us-east-1",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "SMTUI_ACTIVE_INTERVAL": "1",
    }
    smtui = [sys.executable, "-m", "smtui", "--endpoint-url", emu.url, "--region", "us-east-1"]
    command = shlex.join(["env", "-u", "AWS_PROFILE", *(f"{k}={v}" for k, v in env.items()), *smtui])
    subprocess.run(
        ["tmux", "-L", session, "new-session", "-d", "-s", session, "-x", "120", "-y", "30", command],
        check=True,
        env={**os.environ, "TERM": "xterm-256color"},
    )
    subprocess.run(
        ["tmux", "-L", session, "resize-window", "-t", session, "-x", "120", "-y", "30"], check=False
    )
    try:
        execution_id = arn.rsplit("/", 1)[-1]
        _wait_for(session, lambda s: "Failed" in row(s, execution_id), 60, "the failed run")
        sm.retry_pipeline_execution(PipelineExecutionArn=arn)  # another client: not the TUI's
        screen = _wait_for(session, lambda s: "Running" in row(s, execution_id), 60, "the run running again")
        assert "Failed" not in row(screen, execution_id)
    finally:
        subprocess.run(["tmux", "-L", session, "kill-server"], capture_output=True, check=False)
