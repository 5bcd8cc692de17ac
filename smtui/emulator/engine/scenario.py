"""Scenarios: what simulated steps do — durations, outcomes, outputs — seeded so runs are reproducible.

A scenario is TOML (format in docs/emulator.md and in `scenarios/default.toml`):
`seed`, `stop_delay`, `max_concurrent_executions`, a `[defaults]` table of step knobs, `[types.<StepType>]`
tables, and `[pipelines."<glob>"]` tables whose knobs apply to every step of matching pipelines, with
`[pipelines."<glob>".steps."<glob>"]` for single steps. Later, more specific tables win. A user's file is
layered over the bundled default, so it only needs to say what differs.
"""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from importlib import resources
from pathlib import Path
from typing import Any

KNOBS = frozenset(
    {
        "start_delay",  # seconds in Starting
        "duration",  # seconds in Executing (per attempt)
        "failure_probability",  # chance an attempt fails
        "failures",  # [{reason, exception}] a failing attempt picks from; exception feeds RetryPolicies
        "outcome",  # "Succeeded" | "Failed": forces every attempt's outcome
        "fail_attempts",  # the first N attempts fail (then the usual rules apply): exercises RetryPolicies
        "outputs",  # Lambda/Callback output parameters {name: value}
        "property_files",  # {PropertyFileName: JSON document} for Std:JsonGet
        "metrics",  # training metrics {name: value or [min, max]}
        "callback_reply_after",  # seconds after which the emulator answers a Callback step itself
        "log_rate",  # progress lines a job logs per simulated minute per instance (besides fixed lines)
    }
)


@dataclass(frozen=True)
class Failure:
    """How a failing attempt fails: the FailureReason and the RetryPolicies exception type ("" = none)."""

    reason: str
    exception: str


@dataclass(frozen=True)
class StepPlan:
    """The knobs for one step of one pipeline, with `draw_*` helpers for the seeded choices."""

    start_delay: Any
    duration: Any
    failure_probability: float
    failures: tuple[Failure, ...]
    outcome: str | None = None
    fail_attempts: int = 0
    outputs: dict[str, Any] = field(default_factory=dict)
    property_files: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    callback_reply_after: float | None = None
    log_rate: float | None = None

    def draw_seconds(self, rng: random.Random, knob: Any) -> float:
        return round(_draw(rng, knob), 3)

    def draw_failure(self, rng: random.Random, attempt: int) -> Failure | None:
        """None when the attempt succeeds. Always consumes the same RNG draws, whatever the knobs."""
        roll, pick = rng.random(), rng.random()
        failures = self.failures or (Failure("InternalServerError: We encountered an internal error.", ""),)
        failure = failures[int(pick * len(failures)) % len(failures)]
        if self.outcome == "Succeeded":
            return None
        if self.outcome == "Failed" or attempt <= self.fail_attempts:
            return failure
        return failure if roll < self.failure_probability else None

    def draw_metrics(self, rng: random.Random) -> dict[str, float]:
        return {name: round(_draw(rng, knob), 4) for name, knob in sorted(self.metrics.items())}


def _draw(rng: random.Random, knob: Any) -> float:
    if isinstance(knob, (list, tuple)) and len(knob) == 2:
        return rng.uniform(float(knob[0]), float(knob[1]))
    return float(knob)


class ScenarioError(ValueError):
    """A scenario file that cannot be used (bad TOML, unknown knob)."""


class Scenario:
    """Defaults by step type, overrides per pipeline and per step, and the seed."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.seed = int(document.get("seed", 0))
        self.stop_delay: Any = document.get("stop_delay", [2, 6])
        self.max_concurrent_executions = int(document.get("max_concurrent_executions", 0))
        self._plans: dict[tuple[str, str, str], StepPlan] = {}
        _check(document)

    @classmethod
    def default(cls, seed: int | None = None) -> Scenario:
        """The bundled scenario (`scenarios/default.toml`)."""
        scenario = cls(_bundled())
        if seed is not None:
            scenario.seed = seed
        return scenario

    @classmethod
    def from_toml(cls, text: str, *, seed: int | None = None) -> Scenario:
        """A scenario from TOML text, layered over the bundled default."""
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"scenario: {exc}") from None
        scenario = cls(_merge(_bundled(), document))
        if seed is not None:
            scenario.seed = seed
        return scenario

    @classmethod
    def load(cls, path: str | Path, *, seed: int | None = None) -> Scenario:
        """A scenario file (`--scenario FILE`), layered over the bundled default."""
        return cls.from_toml(Path(path).read_text(encoding="utf-8"), seed=seed)

    def with_overrides(self, document: dict[str, Any]) -> Scenario:
        """This scenario with more tables layered on top (the demo adds its pipelines' knobs this way)."""
        merged = Scenario(_merge(self.document, document))
        merged.seed = self.seed
        return merged

    def plan(self, pipeline: str, step: str, step_type: str) -> StepPlan:
        """The knobs that apply to one step of one pipeline (memoized: the run loop asks often)."""
        key = (pipeline, step, step_type)
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) > 50_000:
                self._plans.clear()
            plan = self._plans[key] = self._plan(pipeline, step, step_type)
        return plan

    def _plan(self, pipeline: str, step: str, step_type: str) -> StepPlan:
        knobs: dict[str, Any] = dict(self.document.get("defaults", {}))
        knobs.update(self.document.get("types", {}).get(step_type, {}))
        for pattern, table in self.document.get("pipelines", {}).items():
            if fnmatchcase(pipeline, pattern):
                knobs.update({k: v for k, v in table.items() if k != "steps"})
                for step_pattern, step_table in table.get("steps", {}).items():
                    if fnmatchcase(step, step_pattern):
                        knobs.update(step_table)
        failures = tuple(
            Failure(str(f.get("reason", "")), str(f.get("exception", ""))) for f in knobs.get("failures", [])
        )
        reply = knobs.get("callback_reply_after")
        rate = knobs.get("log_rate")
        return StepPlan(
            start_delay=knobs.get("start_delay", 1),
            duration=knobs.get("duration", 60),
            failure_probability=float(knobs.get("failure_probability", 0.0)),
            failures=failures,
            outcome=knobs.get("outcome"),
            fail_attempts=int(knobs.get("fail_attempts", 0)),
            outputs=dict(knobs.get("outputs", {})),
            property_files=dict(knobs.get("property_files", {})),
            metrics=dict(knobs.get("metrics", {})),
            callback_reply_after=None if reply is None else float(reply),
            log_rate=None if rate is None else float(rate),
        )


def _bundled() -> dict[str, Any]:
    text = (
        resources.files("smtui.emulator.engine")
        .joinpath("scenarios/default.toml")
        .read_text(encoding="utf-8")
    )
    return tomllib.loads(text)


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge tables; knob values (including lists and the JSON of property files) replace."""
    result = dict(base)
    for key, value in top.items():
        nested = isinstance(value, dict) and isinstance(result.get(key), dict)
        if nested and key not in ("property_files", "outputs", "metrics"):
            result[key] = _merge(result[key], value)
        else:
            result[key] = value
    return result


def _check(document: dict[str, Any]) -> None:
    top = {"seed", "stop_delay", "max_concurrent_executions", "defaults", "types", "pipelines"}
    for key in document:
        if key not in top:
            raise ScenarioError(f"scenario: unknown key '{key}' (expected one of {', '.join(sorted(top))})")
    tables: list[tuple[str, dict[str, Any]]] = [("defaults", document.get("defaults", {}))]
    tables += [(f"types.{k}", v) for k, v in document.get("types", {}).items()]
    for pattern, table in document.get("pipelines", {}).items():
        tables.append((f"pipelines.{pattern}", {k: v for k, v in table.items() if k != "steps"}))
        tables += [(f"pipelines.{pattern}.steps.{k}", v) for k, v in table.get("steps", {}).items()]
    for where, table in tables:
        if not isinstance(table, dict):
            raise ScenarioError(f"scenario: [{where}] must be a table")
        for key in table:
            if key not in KNOBS:
                raise ScenarioError(f"scenario: unknown knob '{key}' in [{where}]")
        outcome = table.get("outcome")
        if outcome not in (None, "Succeeded", "Failed"):
            raise ScenarioError(f"scenario: outcome in [{where}] must be Succeeded or Failed")
