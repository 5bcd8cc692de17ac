"""`smtui --help` must stay fast: nothing heavy on its import path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("textual", "aiobotocore", "botocore", "boto3", "aiohttp", "smtui.emulator", "smtui.tui", "sagemaker")


def test_help_lists_every_command_without_heavy_imports() -> None:
    probe = (
        "import sys, json\n"
        "from click.testing import CliRunner\n"
        "from smtui.cli import main\n"
        "result = CliRunner().invoke(main, ['--help'])\n"
        "print(json.dumps({'output': result.output, 'code': result.exit_code,\n"
        "                  'modules': sorted(sys.modules)}))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    assert data["code"] == 0
    for command in (
        "demo",
        "emulator",
        "ls",
        "show",
        "wait",
        "start",
        "stop",
        "retry",
        "launch",
        "callback",
        "approve",
    ):
        assert f"  {command} " in data["output"]
    loaded = [m for m in data["modules"] if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert loaded == []


def test_python_dash_m_runs_the_same_cli() -> None:
    result = subprocess.run([sys.executable, "-m", "smtui", "--version"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "0.1.0" in result.stdout


def test_what_smtui_logs_goes_to_its_file_not_the_screen(tmp_path: Path) -> None:
    """A last-resort handler's traceback (a bug) is written to `$XDG_STATE_HOME/smtui/smtui.log`, never
    over the TUI's screen nor into a script's stderr."""
    code = (
        "import logging\n"
        "from smtui.cli import _log_to_file\n"
        "_log_to_file()\n"
        "try:\n"
        "    raise KeyError('boom')\n"
        "except KeyError as exc:\n"
        "    logging.getLogger('smtui.core.monitor').error('a bug in a poll', exc_info=exc)\n"
    )
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stderr == "" and done.stdout == ""
    logged = (tmp_path / "smtui" / "smtui.log").read_text()
    assert "a bug in a poll" in logged and "Traceback" in logged and "KeyError: 'boom'" in logged


def test_a_bad_number_for_demo_or_emulator_is_one_line_exit_2_before_anything_starts() -> None:
    for args, says in (
        (["demo", "--time-scale", "-1"], "Invalid value for '--time-scale': -1.0 is not in the range x>=0."),
        (["emulator", "--port", "-5"], "Invalid value for '--port': -5 is not in the range 0<=x<=65535."),
        (
            ["emulator", "--port", "70000"],
            "Invalid value for '--port': 70000 is not in the range 0<=x<=65535.",
        ),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "smtui", *args],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 2, done.stderr
        (line,) = done.stderr.splitlines()
        assert line.startswith(f"smtui: {says}"), line
