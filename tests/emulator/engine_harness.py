"""An in-process engine with a paused clock, for engine tests that need no HTTP (fast, exact times)."""

from __future__ import annotations

import json
from typing import Any

from smtui.emulator.clock import Clock
from smtui.emulator.engine.engine import Engine
from smtui.emulator.engine.scenario import Scenario
from smtui.emulator.store.records import ExecutionRecord, PipelineRecord, PipelineVersion, StepRecord
from smtui.emulator.store.store import Store

REGION, ACCOUNT = "us-east-1", "123456789012"
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class Harness:
    """A store, a paused clock and an engine, with helpers to create pipelines and run executions."""

    def __init__(
        self, scenario: str = "", *, seed: int = 0, store: Store | None = None, start: float = T0
    ) -> None:
        self.clock = Clock(start=start, time_scale=0)
        self.store = store or Store()
        self.scenario = Scenario.from_toml(scenario, seed=seed)
        self.engine = Engine(self.store, self.clock, self.scenario, region=REGION, account=ACCOUNT)

    def pipeline(
        self, definition: dict[str, Any] | str, name: str = "p", parallelism: int | None = None
    ) -> PipelineRecord:
        text = definition if isinstance(definition, str) else json.dumps(definition)
        self.engine.validate_definition(text)
        now = self.clock.now()
        record = PipelineRecord(
            name=name,
            arn=f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{name}",
            definition=text,
            role_arn=f"arn:aws:iam::{ACCOUNT}:role/Pipelines",
            created=now,
            modified=now,
            parallelism=parallelism,
            versions=[PipelineVersion(version_id=1, created=now, definition=text)],
        )
        self.store.add_pipeline(record)
        return record

    def start(self, pipeline: PipelineRecord, **kwargs: Any) -> ExecutionRecord:
        args: dict[str, Any] = {
            "parameters": None,
            "display_name": None,
            "description": None,
            "parallelism": None,
            "selective_config": None,
            "version_id": None,
            "client_token": None,
        }
        args.update(kwargs)
        return self.engine.start_execution(pipeline, **args)

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.engine.advance_all()

    def run(self, execution: ExecutionRecord, *, limit: float = 200_000, tick: float = 600) -> str:
        """Advance until the execution ends (or `limit` simulated seconds pass); its final status."""
        waited = 0.0
        self.engine.advance(execution)
        while execution.status in ("Executing", "Stopping") and waited < limit:
            self.advance(tick)
            waited += tick
        return execution.status

    @staticmethod
    def steps(execution: ExecutionRecord) -> dict[str, StepRecord]:
        return {step.name: step for step in execution.steps}


def step(name: str, kind: str = "Processing", **extra: Any) -> dict[str, Any]:
    """A minimal step of a definition."""
    body: dict[str, Any] = {"Name": name, "Type": kind, "Arguments": extra.pop("Arguments", {})}
    body.update(extra)
    return body


def definition(*steps: dict[str, Any], parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"Version": "2020-12-01", "Metadata": {}, "Parameters": parameters or [], "Steps": list(steps)}
