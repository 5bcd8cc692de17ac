"""Clients of the emulator's SQS and EventBridge, checked against botocore's output shapes like the others."""

from __future__ import annotations

from typing import Any

import pytest
from shape_check import ShapeChecker
from wire_harness import EmulatorProcess, make_client


@pytest.fixture
def sqs(emulator: EmulatorProcess, shape_checker: ShapeChecker) -> Any:
    return make_client("sqs", emulator, shape_checker)


@pytest.fixture
def events(emulator: EmulatorProcess, shape_checker: ShapeChecker) -> Any:
    return make_client("events", emulator, shape_checker)
