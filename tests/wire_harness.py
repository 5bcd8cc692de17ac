"""Helpers for tests that drive an `smtui emulator` process over HTTP (used by `tests/conftest.py`).

Import them as `from wire_harness import ...` (tests/ is on sys.path); the fixtures live in conftest.
"""

from __future__ import annotations

import ctypes
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from shape_check import ShapeChecker  # tests/ is on sys.path (pytest's rootdir-relative import)

ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = Path(__file__).resolve().parent / "definitions"
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerPipelineRole"
REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "AKIAEMULATOR", "aws_secret_access_key": "emulator-secret"}
STARTUP_TIMEOUT = 30.0


# Resolved here, in the parent: the child only calls it (no import or lookup between fork and exec).
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


def _die_with_parent() -> None:
    """Linux: SIGTERM the emulator if the test process dies, so a killed run leaves no orphan behind."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


class EmulatorProcess:
    """A running `smtui emulator` subprocess and its control endpoints."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        command = [sys.executable, "-m", "smtui", "emulator", *args]
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the process)
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            # A file, not a pipe: a long session's log could fill a pipe nobody reads and block the emulator.
            stderr=self._stderr,
            env={**os.environ, **(env or {})},
            preexec_fn=_die_with_parent,
        )
        self.url = self._read_url()
        self.touched = False  # a test changed faults or the time scale: reset them afterwards

    def _read_url(self) -> str:
        assert self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        ready = selector.select(timeout=STARTUP_TIMEOUT)
        selector.close()
        line = self.process.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("http://"):
            self.process.kill()
            self.process.wait(timeout=10)
            raise RuntimeError(f"emulator did not start (first line {line!r}): {self.stderr_text()[-2000:]}")
        return line

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """GET (no body) or POST (JSON body) a `/_emulator/...` endpoint; the decoded JSON reply."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/_emulator/{path}", data=data, method="GET" if data is None else "POST"
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def advance(self, seconds: float) -> float:
        """Move the simulated clock forward; returns the new simulated now."""
        return float(self.control("clock", {"advance": seconds})["now"])

    def set_time_scale(self, scale: float) -> None:
        self.touched = True
        self.control("clock", {"time_scale": scale})

    def now(self) -> float:
        return float(self.control("clock")["now"])

    def stats(self) -> dict[str, int]:
        """Calls by `X-Amz-Target` since start (or the last `reset_stats`)."""
        calls: dict[str, int] = self.control("stats")["calls"]
        return calls

    def reset_stats(self) -> None:
        self.control("reset-stats", {})

    def faults(self, settings: dict[str, Any]) -> dict[str, Any]:
        self.touched = True
        reply: dict[str, Any] = self.control("faults", settings)
        return reply

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        """Signal the process and wait; returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode

    def stderr_text(self) -> str:
        """Everything the process wrote to stderr so far."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")


def client_config(**overrides: Any) -> Any:
    from botocore.config import Config

    # One attempt, no retries (`max_attempts` counts retries; `total_max_attempts` counts every attempt).
    settings: dict[str, Any] = {
        "retries": {"mode": "standard", "total_max_attempts": 1},
        "connect_timeout": 5,
    }
    settings.update(overrides)
    return Config(**settings)


def make_sm(emulator: EmulatorProcess, checker: ShapeChecker | None = None, **config: Any) -> Any:
    """A boto3 SageMaker client on `emulator` (checked by `checker` if given)."""
    import boto3

    client = boto3.client(
        "sagemaker",
        endpoint_url=emulator.url,
        region_name=REGION,
        config=client_config(**config),
        **CREDENTIALS,
    )
    return checker.attach(client) if checker is not None else client


def make_logs(emulator: EmulatorProcess, checker: ShapeChecker | None = None, **config: Any) -> Any:
    """A boto3 CloudWatch Logs client on `emulator`."""
    import boto3

    client = boto3.client(
        "logs", endpoint_url=emulator.url, region_name=REGION, config=client_config(**config), **CREDENTIALS
    )
    return checker.attach(client) if checker is not None else client


def make_client(
    service: str, emulator: EmulatorProcess, checker: ShapeChecker | None = None, **config: Any
) -> Any:
    """A boto3 client of any service the emulator serves (`sqs`, `events`, ...) on `emulator`."""
    import boto3

    client = boto3.client(
        service, endpoint_url=emulator.url, region_name=REGION, config=client_config(**config), **CREDENTIALS
    )
    return checker.attach(client) if checker is not None else client


def new_name(prefix: str = "test") -> str:
    """A pipeline name no other test (or xdist worker) uses: letters, digits and hyphens only."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def simple_definition(*steps: dict[str, Any], parameters: list[dict[str, Any]] | None = None) -> str:
    """A pipeline definition JSON with the given steps (default: one quick Processing step)."""
    if not steps:
        steps = (
            {
                "Name": "Prepare",
                "Type": "Processing",
                "Arguments": {
                    "ProcessingResources": {
                        "ClusterConfig": {
                            "InstanceType": "ml.m5.xlarge",
                            "InstanceCount": 1,
                            "VolumeSizeInGB": 30,
                        }
                    },
                    "AppSpecification": {
                        "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/prep:latest"
                    },
                    "RoleArn": ROLE_ARN,
                },
            },
        )
    return json.dumps(
        {"Version": "2020-12-01", "Metadata": {}, "Parameters": parameters or [], "Steps": list(steps)}
    )


def create_pipeline(client: Any, name: str, definition: str | None = None, **extra: Any) -> str:
    """CreatePipeline with a sensible role and a default definition; returns the pipeline ARN."""
    reply = client.create_pipeline(
        PipelineName=name, PipelineDefinition=definition or simple_definition(), RoleArn=ROLE_ARN, **extra
    )
    arn: str = reply["PipelineArn"]
    return arn
