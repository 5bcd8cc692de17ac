"""Fixtures for the core tests: a private emulator per test (call counts must be exact) with the
deterministic scenario of `tests/definitions/scenario.toml`, a client of it, and dummy AWS credentials in the
environment. A module marked `shared_emulator` gets one emulator per xdist worker instead (no other tests'
calls reach it while a test runs: its tests count the calls made between two readings of its stats)."""

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
def emu(request: pytest.FixtureRequest) -> Iterator[EmulatorProcess]:
    """A private emulator, or the worker's (`shared_emulator`), whose faults end with the test."""
    if request.node.get_closest_marker("shared_emulator") is not None:
        shared: EmulatorProcess = request.getfixturevalue("shared_emu")
        yield shared
        shared.faults()
        return
    process = EmulatorProcess().start()
    yield process
    process.stop()


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
