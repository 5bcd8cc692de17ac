"""Fixtures for the core tests: an emulator of their own (per xdist worker, so no other tests' calls reach it:
tests count the calls made between two readings of its stats) with the deterministic scenario of
`tests/definitions/scenario.toml`, a client of it, and dummy AWS credentials in the environment."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from emulator_proc import CREDS, EmulatorProcess

from smtui.core.client import AwsTarget, SageMakerClient


@pytest.fixture(scope="session")
def shared_emu() -> Iterator[EmulatorProcess]:
    process = EmulatorProcess().start()
    yield process
    process.stop()


@pytest.fixture
def emu(shared_emu: EmulatorProcess) -> Iterator[EmulatorProcess]:
    """The worker's emulator; the faults a test sets end with it."""
    yield shared_emu
    shared_emu.faults()


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
