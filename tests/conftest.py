"""The shared test harness: an emulator process per test session (per xdist worker), clients pointed at it,
and a strict check of every response body those clients receive.

Fixtures:
- `emulator` (session): `smtui emulator --port 0 --time-scale 0 --seed 7` as a subprocess; `.url`,
  `.advance(seconds)`, `.set_time_scale(x)`, `.now()`, `.stats()`, `.reset_stats()`, `.faults(dict)`.
  Shared by every test of the worker: never assume it is empty (use `unique_name`). Faults and time scale a
  test sets are reset after it.
- `emulator_factory` (function): start more emulator processes with custom arguments (`--state` restarts);
  each is stopped at teardown.
- `sm`, `logs` (boto3) and `asm`, `alogs` (aiobotocore): clients on the session emulator, dummy credentials,
  us-east-1, no retries (a test sees throttling as it happens); `wire_harness.make_sm(emulator)` for more.
- `unique_name(prefix)`: a fresh valid pipeline name; `pipeline_name`: one per test.
- `definitions`: the directory of reference pipeline definitions (`tests/definitions/`).
- `make_definition(*steps, parameters=...)`: a definition JSON (default: one Processing step);
  `make_pipeline(name=None, definition=None, **extra)`: CreatePipeline on `sm`, returns (name, arn).
- `shape_checker`: every client above reports each response body to it; a violation fails the test.

Helpers and the `EmulatorProcess` class live in `tests/wire_harness.py` (import them from there).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from shape_check import ShapeChecker  # tests/ is on sys.path (pytest's rootdir-relative import)
from wire_harness import (
    CREDENTIALS,
    DEFINITIONS,
    REGION,
    EmulatorProcess,
    client_config,
    create_pipeline,
    make_logs,
    make_sm,
    new_name,
    simple_definition,
)


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorProcess]:
    process = EmulatorProcess(["--port", "0", "--time-scale", "0", "--seed", "7"])
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def _no_retry_setting_of_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """No `AWS_MAX_ATTEMPTS` from the developer's shell: it would replace the attempts smtui and the tests
    choose (the user's setting wins over smtui's)."""
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)


@pytest.fixture
def one_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    """One attempt per AWS call (`AWS_MAX_ATTEMPTS=1`), for a test about what smtui does with a throttled or
    failed call (says it waits, backs off on its own clock, tries again): botocore's retries are not what it
    checks; they would only wait (seconds of real backoff before smtui sees the failure)."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")


@pytest.fixture(autouse=True)
def _reset_emulator_knobs(request: pytest.FixtureRequest) -> Iterator[None]:
    """Faults and time scale one test sets must not leak into the next test of the same worker."""
    yield
    if "emulator" in request.fixturenames:
        process: EmulatorProcess = request.getfixturevalue("emulator")
        if process.touched:
            process.control("faults", {})
            process.control("clock", {"time_scale": 0})
            process.touched = False


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., EmulatorProcess]]:
    started: list[EmulatorProcess] = []

    def start(*args: str, env: dict[str, str] | None = None) -> EmulatorProcess:
        arguments = list(args)
        if "--port" not in arguments:
            arguments += ["--port", "0"]
        process = EmulatorProcess(arguments, env)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def shape_checker() -> Iterator[ShapeChecker]:
    checker = ShapeChecker()
    yield checker
    assert not checker.violations, "responses broke botocore's output shapes:\n" + "\n".join(
        checker.violations
    )


@pytest.fixture
def sm(emulator: EmulatorProcess, shape_checker: ShapeChecker) -> Any:
    return make_sm(emulator, shape_checker)


@pytest.fixture
def logs(emulator: EmulatorProcess, shape_checker: ShapeChecker) -> Any:
    return make_logs(emulator, shape_checker)


@pytest.fixture
async def asm(emulator: EmulatorProcess, shape_checker: ShapeChecker) -> AsyncIterator[Any]:
    from aiobotocore.session import get_session

    async with get_session().create_client(
        "sagemaker", endpoint_url=emulator.url, region_name=REGION, config=client_config(), **CREDENTIALS
    ) as client:
        yield shape_checker.attach(client)


@pytest.fixture
async def alogs(emulator: EmulatorProcess, shape_checker: ShapeChecker) -> AsyncIterator[Any]:
    from aiobotocore.session import get_session

    async with get_session().create_client(
        "logs", endpoint_url=emulator.url, region_name=REGION, config=client_config(), **CREDENTIALS
    ) as client:
        yield shape_checker.attach(client)


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    return new_name


@pytest.fixture
def pipeline_name(request: pytest.FixtureRequest) -> str:
    base = "".join(c if c.isalnum() else "-" for c in request.node.name)[:40].strip("-") or "test"
    while "--" in base:
        base = base.replace("--", "-")
    return new_name(base)


@pytest.fixture
def definitions() -> Path:
    return DEFINITIONS


@pytest.fixture
def make_definition() -> Callable[..., str]:
    return simple_definition


@pytest.fixture
def make_pipeline(sm: Any, unique_name: Callable[[str], str]) -> Callable[..., tuple[str, str]]:
    def make(name: str | None = None, definition: str | None = None, **extra: Any) -> tuple[str, str]:
        name = name or unique_name("pipe")
        return name, create_pipeline(sm, name, definition, **extra)

    return make


def pytest_collection_finish(session: pytest.Session) -> None:
    """Fewer, shorter garbage collections in each worker. What every test module imported by now
    (botocore, Textual, smtui) lives as long as the worker: frozen, a full collection no longer walks it.
    A young generation of 50,000 objects (not 700) lets a test's short-lived objects die before a
    collection promotes them. Measured on three TUI test files: 10.6 s of 43 s of CPU went to collections,
    4.6 s after."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
