"""`smtui demo --contexts 2` in a real terminal (tmux): two emulators, two accounts, one merged table; the
palette's `login NAME` suspends the app, runs `aws sso login --profile ...`, and resumes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_tui_demo_tmux import _wait_for

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


@pytest.fixture
def two_demos(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    session = f"smtui-ctx-{uuid.uuid4().hex[:8]}"
    # A stand-in for the AWS CLI on PATH: it records how it was called, as `aws sso login` would be.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    called = tmp_path / "aws-called"
    (bin_dir / "aws").write_text(f'#!/bin/sh\necho "$@" > {called}\necho "logged in"\n')
    (bin_dir / "aws").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("COLUMNS", "LINES")}
    command = f"{sys.executable} -m smtui demo --contexts 2 --time-scale 60"
    env = {
        **env,
        "TERM": "xterm-256color",
        "XDG_CONFIG_HOME": str(tmp_path),
        "PATH": f"{bin_dir}:{env.get('PATH', '')}",
    }
    subprocess.run(
        ["tmux", "-L", session, "new-session", "-d", "-s", session, "-x", "160", "-y", "30", command],
        check=True,
        env=env,
    )
    subprocess.run(
        ["tmux", "-L", session, "resize-window", "-t", session, "-x", "160", "-y", "30"], check=False
    )
    try:
        yield session, called
    finally:
        subprocess.run(["tmux", "-L", session, "kill-server"], capture_output=True, check=False)


def _resize(session: str, width: int, height: int) -> None:
    subprocess.run(
        ["tmux", "-L", session, "resize-window", "-t", session, "-x", str(width), "-y", str(height)],
        check=True,
    )


def _keys(session: str, *keys: str) -> None:
    subprocess.run(["tmux", "-L", session, "send-keys", "-t", session, *keys], check=True)


def test_demo_with_two_contexts_merges_them(two_demos: tuple[str, Path]) -> None:
    session, called = two_demos
    _wait_for(
        session,
        lambda s: "demo-1 ●" in s and "demo-2 ●" in s and "Context" in s,
        60,
        "the header of both contexts and the context column",
    )
    _wait_for(
        session,
        lambda s: (
            any(" demo-1 " in line and "Running" in line for line in s.splitlines())
            and any(" demo-2 " in line and "Running" in line for line in s.splitlines())
        ),
        30,
        "rows of both contexts",
    )

    # At 80 columns the Context column takes the start time's place: the progress bar stays in view.
    _resize(session, 80, 24)
    _wait_for(
        session,
        lambda s: any(
            line.split()[:2] == ["Status", "Context"] and "Progress" in line for line in s.splitlines()
        ),
        10,
        "the Context and Progress columns at 80 columns",
    )
    _resize(session, 160, 30)

    _keys(session, "C-p")
    _keys(session, "-l", "login demo-2")
    _wait_for(session, lambda s: "aws sso login" in s, 10, "the login command in the palette")
    _keys(session, "Enter")
    # The app comes back after the command ran (suspended, then resumed): the table is there again.
    _wait_for(
        session, lambda s: called.exists() and "Context" in s and "demo-1 ●" in s, 20, "the app resumed"
    )
    assert called.read_text().strip() == "sso login"  # the demo's contexts have no profile: the default one
