"""Fixtures for the core tests: an emulator with the deterministic scenario of
`tests/definitions/scenario.toml`, as if started for the test (one process per xdist worker, reset before each
test: nothing created, no calls counted, no faults, the clock at the wall clock's time), a client of it, and
dummy AWS credentials in the environment."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from emulator_proc import CREDS, EmulatorProcess, fresh_emulator

from smtui.core.client import AwsTarget, SageMakerClient


@pytest.fixture(scope="session")
def _worker_emu() -> Iterator[list[EmulatorProcess]]:
    processes: list[EmulatorProcess] = []  # the one running (a new one if a test stopped it)
    yield processes
    for process in processes:
        process.stop()


@pytest.fixture
def emu(_worker_emu: list[EmulatorProcess]) -> EmulatorProcess:
    """The worker's emulator, reset: what a private one would be, without starting a process (~0.5 s)."""
    return fresh_emulator(_worker_emu)


@pytest.fixture
async def client(emu: EmulatorProcess) -> AsyncIterator[SageMakerClient]:
    """A client of that emulator with botocore's retries off: every call counted is one the code made."""
    target = AwsTarget(region="us-east-1", endpoint_url=emu.url)
    async with SageMakerClient.create(target, max_attempts=1) as sm:
        yield sm


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in CREDS.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SAGEMAKER", "SMTUI_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
