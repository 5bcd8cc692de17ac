"""`smtui demo` in a real terminal (tmux): executions appear and move without a key pressed; keys work."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


def _capture(session: str) -> str:
    return subprocess.run(
        ["tmux", "-L", session, "capture-pane", "-p", "-t", session],
        capture_output=True,
        text=True,
        check=False,
    ).stdout


def _wait_for(session: str, predicate: Callable[[str], bool], seconds: float, what: str) -> str:
    deadline = time.monotonic() + seconds
    screen = ""
    while time.monotonic() < deadline:
        screen = _capture(session)
        if predicate(screen):
            return screen
        time.sleep(0.25)
    raise AssertionError(f"{what} not seen within {seconds}s; the screen was:\n{screen}")


@pytest.fixture
def demo_session(tmp_path: object) -> Iterator[str]:
    session = f"smtui-test-{uuid.uuid4().hex[:8]}"
    # Not COLUMNS/LINES either: Textual sizes itself by them over the terminal's size, and under pytest-xdist
    # they are set (80x24), which cut the footer's "? Keys" off.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("COLUMNS", "LINES")}
    command = f"{sys.executable} -m smtui demo --time-scale 60"
    subprocess.run(
        ["tmux", "-L", session, "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command],
        check=True,
        env={**env, "TERM": "xterm-256color", "XDG_CONFIG_HOME": str(tmp_path)},
    )
    # A tmux server of its own (-L), so that tests side by side, or someone's tmux, share nothing with it. Its
    # default size may still differ from ours: insist on ours.
    subprocess.run(
        ["tmux", "-L", session, "resize-window", "-t", session, "-x", "120", "-y", "40"], check=False
    )
    try:
        yield session
    finally:
        subprocess.run(["tmux", "-L", session, "kill-server"], capture_output=True, check=False)


def test_demo_shows_live_executions(demo_session: str) -> None:
    screen = _wait_for(
        demo_session,
        lambda s: "▶ Running" in s and "Progress" in s and "? Keys" in s,  # rows, table header, footer
        60,
        "a running execution",
    )
    # Alive without a key pressed: the screen changes by itself (elapsed times tick, rows move).
    _wait_for(demo_session, lambda s: s != screen and "▶ Running" in s, 10, "the screen to change by itself")

    subprocess.run(["tmux", "-L", demo_session, "send-keys", "-t", demo_session, "Enter"], check=True)
    # (The tree and the step details: side by side at 120 columns, stacked on narrower terminals.)
    _wait_for(demo_session, lambda s: "Step " in s and "esc Back" in s, 10, "the execution screen")
    subprocess.run(["tmux", "-L", demo_session, "send-keys", "-t", demo_session, "Escape"], check=True)
    _wait_for(demo_session, lambda s: "Pipeline" in s and "Progress" in s, 10, "back on the table")
    subprocess.run(["tmux", "-L", demo_session, "send-keys", "-t", demo_session, "q"], check=True)
    _wait_for(demo_session, lambda s: "Pipeline" not in s, 10, "the app to quit")


def test_demo_failed_step_logs_show_its_traceback(demo_session: str) -> None:
    def keys(*sent: str) -> None:
        subprocess.run(["tmux", "-L", demo_session, "send-keys", "-t", demo_session, *sent], check=True)

    _wait_for(demo_session, lambda s: "✘ Failed" in s and "? Keys" in s, 60, "a failed execution")
    # Typed too early, while the demo still starts and sizes itself, keys can be lost: type again if so.
    for attempt in range(3):
        keys("Escape")
        keys("/")
        keys("-l", "status:failed")
        keys("Enter")
        try:
            # Applied as it is typed: wait for the table's keys in the footer too (Enter handled, the box no
            # longer has the focus), or the `l` below is typed into the box.
            _wait_for(
                demo_session, lambda s: "filter: status:failed" in s and "l Logs" in s, 15, "the filter"
            )
            break
        except AssertionError:
            if attempt == 2:
                raise
    # `l` on an execution: the logs of its failed step. Not every failure is the user's code (a Fail step, a
    # capacity error: no job log, and the view says why in one line): try the failed executions in turn for
    # one whose log ends in a traceback; each must at least open its failed step's logs and say what they are.
    opened: list[str] = []
    for _ in range(12):
        keys("l")
        screen = _wait_for(
            demo_session,
            lambda s: "w Wrap" in s and ("ended" in s or "no " in s or "Traceback" in s),  # its footer
            30,
            "the step's logs read",
        )
        assert "✘ Failed" in screen.splitlines()[1], screen  # the title: the failed step and its status
        opened.append(screen)
        if "ended" in screen and "Traceback (most recent call last)" not in screen:
            keys("e")  # a long log: `e` jumps to its first error line
            with contextlib.suppress(AssertionError):
                screen = _wait_for(demo_session, lambda s: "Traceback (most recent call last)" in s, 5, "")
        if "Traceback (most recent call last)" in screen:
            return
        keys("Escape")
        _wait_for(demo_session, lambda s: "status:failed" in s and "/ Filter" in s, 15, "the table")
        keys("Down")  # the next failed execution (the cursor stays on the row it opened)
    # None of these failures ran the user's code: each view still opened its failed step and said why.
    assert all("no " in view or "ended" in view for view in opened)
