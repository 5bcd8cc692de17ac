"""Headless commands load no AWS SDK just for --help. (The layers are import-linter's contracts in
pyproject.toml, checked by scripts/test: every import, function-local ones too.)"""

from __future__ import annotations

import json
import subprocess
import sys


def loaded_after(imports: list[str], code: str = "") -> list[str]:
    probe = "import sys, json\n" + "".join(f"import {m}\n" for m in imports) + code
    probe += "print(json.dumps(sorted(sys.modules)))\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    modules: list[str] = json.loads(out.splitlines()[-1])
    return modules


def test_headless_help_stays_light() -> None:
    code = (
        "from click.testing import CliRunner\n"
        "from smtui.cli import main\n"
        "for cmd in ('ls', 'show', 'wait', 'start', 'stop', 'retry', 'launch', 'logs', 'callback',\n"
        "            'approve', 'diff'):\n"
        "    assert CliRunner().invoke(main, [cmd, '--help']).exit_code == 0, cmd\n"
    )
    modules = loaded_after([], code)
    assert [m for m in modules if m.split(".")[0] in ("aiobotocore", "botocore", "boto3", "textual")] == []
