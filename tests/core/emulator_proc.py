"""An `smtui emulator` process for the core and headless tests: one per worker, reset before each test or
module (`fresh_emulator`: counts are never polluted by other tests), or one of a test's own (the restart
tests kill it and start it again with `--state`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = ROOT / "tests" / "definitions"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
CREDS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class EmulatorProcess:
    """`smtui emulator --port 0` in a subprocess, with the control endpoints wrapped."""

    def __init__(
        self,
        *args: str,
        state: Path | None = None,
        port: int = 0,
        time_scale: float = 0,
        scenario: bool = True,
    ) -> None:
        if scenario:
            args = ("--scenario", str(DEFINITIONS / "scenario.toml"), *args)
        self.args = args
        self.state = state
        self.port = port
        self.time_scale = time_scale
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self._boto: tuple[str, Any] | None = None

    def start(self) -> EmulatorProcess:
        cmd = [
            sys.executable,
            "-m",
            "smtui",
            "emulator",
            "--port",
            str(self.port),
            "--time-scale",
            str(self.time_scale),
            *self.args,
        ]
        if self.state is not None:
            cmd += ["--state", str(self.state)]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, **CREDS}
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http"):
            self.proc.kill()
            raise RuntimeError(f"emulator did not start: {line!r}")
        self.url = line
        self.port = int(line.rsplit(":", 1)[1])
        return self

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None

    def _control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + "/_emulator/" + path, data=data, method="POST" if data else "GET"
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            result: dict[str, Any] = json.loads(resp.read())
            return result

    def stats(self) -> dict[str, int]:
        calls: dict[str, int] = self._control("stats")["calls"]
        return {k.split(".", 1)[-1]: v for k, v in calls.items()}

    def agents(self) -> dict[str, int]:
        """Requests by User-Agent header since start."""
        agents: dict[str, int] = self._control("stats")["agents"]
        return agents

    def advance(self, seconds: float) -> None:
        self._control("clock", {"advance": seconds})

    def now(self) -> datetime:
        """The emulator's simulated time."""
        return datetime.fromtimestamp(float(self._control("clock")["now"]), UTC)

    @property
    def alive(self) -> bool:
        return self.proc is not None

    def faults(self, **faults: Any) -> None:
        self._control("faults", faults)

    def reset(self) -> None:
        """As just started (`POST /_emulator/reset`): nothing created, no calls counted, no faults."""
        self._control("reset", {})

    def boto(self) -> Any:
        """A boto3 SageMaker client on this emulator, made once per address (a new client builds a method for
        each of SageMaker's ~400 operations: 10-30 ms each time)."""
        if self._boto is None or self._boto[0] != self.url:
            client = boto3.client(
                "sagemaker",
                endpoint_url=self.url,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            self._boto = (self.url, client)
        return self._boto[1]

    def create_pipeline(self, name: str, definition: str | dict[str, Any]) -> str:
        text = definition if isinstance(definition, str) else json.dumps(definition)
        resp = self.boto().create_pipeline(PipelineName=name, PipelineDefinition=text, RoleArn=ROLE)
        return str(resp["PipelineArn"])

    def start_execution(self, name: str, **params: str) -> str:
        resp = self.boto().start_pipeline_execution(
            PipelineName=name, PipelineParameters=[{"Name": k, "Value": v} for k, v in params.items()]
        )
        return str(resp["PipelineExecutionArn"])

    def status(self, arn: str) -> str:
        return str(
            self.boto().describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        )

    def run_until_done(self, arn: str, step: float = 60, limit: int = 500) -> str:
        for _ in range(limit):
            status = self.status(arn)
            if status not in ("Executing", "Stopping"):
                return status
            self.advance(step)
        raise AssertionError(f"{arn} still running")


def fresh_emulator(pool: list[EmulatorProcess]) -> EmulatorProcess:
    """The emulator of `pool` (one per worker: started once, or again if a test stopped it), reset."""
    if pool and (pool[0].proc is None or pool[0].proc.poll() is not None):
        pool.pop().stop()
    if not pool:
        pool.append(EmulatorProcess().start())
        return pool[0]
    pool[0].reset()
    return pool[0]


def wait_until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@contextmanager
def ticking(emu: EmulatorProcess, seconds: float = 15.0) -> Iterator[None]:
    """Advance the emulator's clock in the background while a command blocks, as time would pass: `seconds`
    simulated seconds every 50 ms."""
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(0.05):
            emu.advance(seconds)

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
