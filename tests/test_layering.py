"""The core never imports Textual (nor the emulator); headless commands load no AWS SDK just for --help."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import smtui.core
import smtui.headless


def loaded_after(imports: list[str], code: str = "") -> list[str]:
    probe = "import sys, json\n" + "".join(f"import {m}\n" for m in imports) + code
    probe += "print(json.dumps(sorted(sys.modules)))\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    modules: list[str] = json.loads(out.splitlines()[-1])
    return modules


def test_core_and_headless_never_import_textual_or_the_emulator() -> None:
    names = [f"smtui.core.{m.name}" for m in pkgutil.iter_modules(smtui.core.__path__)]
    names += [f"smtui.headless.{m.name}" for m in pkgutil.iter_modules(smtui.headless.__path__)]
    assert "smtui.core.monitor" in names and "smtui.headless.launch" in names
    modules = loaded_after([*names, "smtui.config"])
    forbidden = [
        m for m in modules if m.split(".")[0] == "textual" or m.startswith(("smtui.tui", "smtui.emulator"))
    ]
    assert forbidden == []


def test_headless_help_stays_light() -> None:
    code = (
        "from click.testing import CliRunner\n"
        "from smtui.cli import main\n"
        "for cmd in ('ls', 'show', 'wait', 'start', 'stop', 'retry', 'launch'):\n"
        "    assert CliRunner().invoke(main, [cmd, '--help']).exit_code == 0, cmd\n"
    )
    modules = loaded_after([], code)
    assert [m for m in modules if m.split(".")[0] in ("aiobotocore", "botocore", "boto3", "textual")] == []
