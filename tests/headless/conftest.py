"""Fixtures for the headless command tests: an emulator per module (deterministic scenario; the worker's
emulator, reset), dummy credentials, and `smtui` invoked in-process through click's runner."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "core"))
from emulator_proc import CREDS, EmulatorProcess, fresh_emulator


@pytest.fixture(scope="session")
def _worker_emu() -> Iterator[list[EmulatorProcess]]:
    processes: list[EmulatorProcess] = []  # one per worker, reset for each module
    yield processes
    for process in processes:
        process.stop()


@pytest.fixture(scope="module")
def emu(_worker_emu: list[EmulatorProcess]) -> EmulatorProcess:
    """The module's emulator: the worker's, reset (as if started for the module)."""
    return fresh_emulator(_worker_emu)


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key, value in CREDS.items():
        monkeypatch.setenv(key, value)
    for key in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SAGEMAKER",
        "SMTUI_ENDPOINT_URL",
        "SMTUI_REGION",
        "SMTUI_READ_ONLY",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no user config leaks in


@pytest.fixture
def smtui(emu: EmulatorProcess) -> Callable[..., Result]:
    """Run `smtui --endpoint-url <emulator> ARGS...` in-process."""
    from smtui.cli import main

    def invoke(*args: str, endpoint: bool = True, input: str | None = None) -> Result:
        prefix = ["--endpoint-url", emu.url] if endpoint else []
        return CliRunner().invoke(main, [*prefix, *args], input=input, catch_exceptions=False)

    return invoke
