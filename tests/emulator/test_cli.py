"""`smtui emulator` as a process: URL first on stdout, clean stop on SIGTERM/SIGINT, usable options."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from typing import Any

import pytest
from wire_harness import ROOT, make_sm


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_prints_its_url_first_and_stops_cleanly(emulator_factory: Any, sig: int) -> None:
    process = emulator_factory("--time-scale", "0")
    assert process.url.startswith("http://127.0.0.1:")
    assert make_sm(process).list_pipelines()["PipelineSummaries"] == []
    assert process.stop(sig) == 0
    assert "Traceback" not in process.stderr_text()


def test_listens_on_the_port_it_is_given(emulator_factory: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = emulator_factory("--port", str(port))
    assert process.url == f"http://127.0.0.1:{port}"


def test_a_busy_port_is_a_clear_error(emulator_factory: Any) -> None:
    running = emulator_factory()
    port = running.url.rsplit(":", 1)[1]
    result = subprocess.run(
        [sys.executable, "-m", "smtui", "emulator", "--port", port],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "cannot listen" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_the_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "smtui", "emulator", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    for option in ("--host", "--port", "--time-scale", "--seed", "--scenario", "--demo", "--state"):
        assert option in result.stdout


def test_a_bad_scenario_or_state_path_is_a_clear_error(tmp_path: Any) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text('seed = "unterminated')
    for args, expected in (
        (["--scenario", str(scenario)], "invalid scenario"),
        (["--state", str(tmp_path / "missing" / "state.db")], "cannot use the state file"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "smtui", "emulator", "--port", "0", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1
        assert expected in result.stderr and "Traceback" not in result.stderr


def test_stops_on_sigterm_even_when_its_parent_blocked_it() -> None:
    """A child inherits its parent's blocked signals (a test worker that imported a library which blocks
    SIGTERM, once): the emulator must still stop on SIGTERM, not wait to be killed."""
    start = (
        "import os, signal, sys; signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM}); "
        "os.execv(sys.executable, [sys.executable, '-m', 'smtui', 'emulator', '--port', '0'])"
    )
    process = subprocess.Popen([sys.executable, "-c", start], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None
    assert process.stdout.readline().startswith("http://")
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=60)  # a bound for a broken build only: it exits at once
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait()
    process.stdout.close()
    assert code == 0  # stopped by the signal, cleanly (not killed: -9)
