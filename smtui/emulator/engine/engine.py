"""The execution engine: starts, stops, retries and lazily advances pipeline executions.

Nothing runs in the background: `advance(execution)` replays the events due up to `clock.now()` (see
`run.Run`), and returns at once when the execution's next event is still in the future, so
thousands of idle executions cost nothing. Outcomes and durations come from the scenario through RNGs
keyed by (seed, pipeline, execution ordinal, step, attempt): the same seed gives the same run.
"""

from __future__ import annotations

import random
import string
from typing import Any

from smtui.emulator.clock import Clock
from smtui.emulator.definition import graph as definitions
from smtui.emulator.engine.book import JobBook
from smtui.emulator.engine.changes import Observer
from smtui.emulator.engine.entries import Phase, Result, RunState, run_state
from smtui.emulator.engine.params import execution_parameters
from smtui.emulator.engine.run import Run
from smtui.emulator.engine.scenario import Scenario
from smtui.emulator.engine.scope import typed_output
from smtui.emulator.engine.select import apply_selection
from smtui.emulator.engine.steps import answer_callback
from smtui.emulator.errors import ServiceError, not_found, validation
from smtui.emulator.store.records import ExecutionRecord, PipelineRecord
from smtui.emulator.store.store import Store, pipeline_key

_ID_CHARS = string.ascii_lowercase + string.digits


class Engine:
    """Runs pipeline definitions on the simulated clock; every change lands in the store's records."""

    def __init__(self, store: Store, clock: Clock, scenario: Scenario, *, region: str, account: str) -> None:
        self.store = store
        self.clock = clock
        self.scenario = scenario
        self.region = region
        self.account = account
        self.book = JobBook(store, region=region, account=account)
        # Told of every execution and step status change as the clock passes it (the event bus listens).
        self.observer: Observer | None = None

    # ---- API operations --------------------------------------------------------------------------

    def validate_definition(self, definition: str) -> None:
        """Create/UpdatePipeline's check; raises ServiceError(ValidationException)."""
        definitions.check(definition)

    def start_execution(
        self,
        pipeline: PipelineRecord,
        *,
        parameters: list[dict[str, str]] | None,
        display_name: str | None,
        description: str | None,
        parallelism: int | None,
        selective_config: dict[str, Any] | None,
        version_id: int | None,
        client_token: str | None,
    ) -> ExecutionRecord:
        """StartPipelineExecution: validate, create the record, start the first steps."""
        scope = f"Start:{pipeline_key(pipeline.name)}"
        if client_token:
            earlier = self.store.token_result(scope, client_token)
            existing = self.store.get_execution(earlier) if earlier else None
            if existing is not None:
                return existing
        text = pipeline.definition
        if version_id is not None:
            version = next((v for v in pipeline.versions if v.version_id == version_id), None)
            if version is None:
                raise not_found(f"Pipeline version {version_id} of pipeline {pipeline.arn} does not exist.")
            text = version.definition
        parsed = definitions.parse(text)
        values = execution_parameters(parsed, parameters or [])
        limit = self.scenario.max_concurrent_executions
        if limit:
            self.advance_all()  # executions run lazily: bring them to now, or ended ones would still count
        elif any((step.raw.get("CacheConfig") or {}).get("Enabled") for step in parsed.steps.values()):
            # Likewise for the cache: an earlier run's step that has ended by now must count as one to reuse.
            for other in self.store.active_executions():
                if pipeline_key(other.pipeline_name) == pipeline_key(pipeline.name):
                    self.advance(other)
        if limit and len(self.store.active_executions()) >= limit:
            raise ServiceError(
                "ResourceLimitExceeded",
                "The account-level service limit 'Maximum number of concurrent pipeline executions' is"
                f" {limit} executions, with current utilization of {limit} executions.",
            )
        now = self.clock.now()
        ordinal = len(self.store.executions_of(pipeline))
        execution_id = self._new_id(pipeline, ordinal)
        execution = ExecutionRecord(
            arn=self.execution_arn(pipeline, execution_id),
            execution_id=execution_id,
            pipeline_name=pipeline.name,
            pipeline_arn=pipeline.arn,
            status="Executing",
            created=now,
            modified=now,
            definition=text,
            parameters=values,
            display_name=display_name or f"execution-{round(now * 1000)}",  # as CreationTime (ms)
            description=description,
            pipeline_version_id=version_id if version_id is not None else _latest_version(pipeline),
            parallelism=parallelism or pipeline.parallelism,
            selective_config=selective_config,
            client_token=client_token,
            engine_state=RunState(seed=self.scenario.seed, ordinal=ordinal),
        )
        run = self._run(execution, parsed, fresh=True)
        if selective_config:
            apply_selection(run, self.store, selective_config, now)
        self.store.add_execution(execution)
        run.settle(now)
        pipeline.last_run = now
        for version in pipeline.versions:
            if version.version_id == execution.pipeline_version_id:
                version.last_execution_arn = execution.arn
        self.store.touch(pipeline)
        if client_token:
            self.store.remember_token(scope, client_token, execution.arn)
        return execution

    def stop_execution(self, execution: ExecutionRecord) -> None:
        """StopPipelineExecution: Executing -> Stopping -> Stopped; unstarted steps never start."""
        self.advance(execution)
        if execution.status != "Executing":
            raise validation("Only pipelines with 'Executing' status can be stopped")
        now = self.clock.now()
        run = self._run(execution)
        rng = run.rng("stop", len(execution.steps))
        execution.status = "Stopping"
        run.state.stop_until = now + _draw(rng, self.scenario.stop_delay)
        for name in run.running():
            entry, record = run.entries[name], run.records[name]
            step_type = run.definition.steps[entry.step].type
            if step_type == "Lambda" and entry.phase == Phase.EXECUTING:
                continue  # a running function cannot be stopped: the step ends when it does
            record.status = "Stopping"
            if entry.phase == Phase.FOREACH:
                entry.phase = Phase.STOPPING  # it ends when its children have stopped
                continue
            if entry.phase == Phase.CALLBACK:
                continue  # a Callback step waits for its answer
            entry.phase, entry.until = Phase.STOPPING, now + _draw(rng, self.scenario.stop_delay)
            self.book.stop_job(entry, now)
        run.settle(now)

    def retry_execution(self, execution: ExecutionRecord, parallelism: int | None) -> None:
        """RetryPipelineExecution: same ARN; failed and unstarted steps run again, succeeded ones stay."""
        self.advance(execution)
        if execution.status != "Failed":
            raise validation(
                f"Pipeline execution {execution.arn} cannot be retried because its status is"
                f" {execution.status}; only Failed executions can be retried."
            )
        fail_step = run_state(execution).fail_step
        if fail_step:
            raise validation(
                f"Pipeline execution {execution.arn} cannot be retried because it ended with a Fail step"
                f" ({fail_step})."
            )
        now = self.clock.now()
        run = self._run(execution)
        for name, entry in list(run.entries.items()):
            if entry.result not in (Result.FAILED, Result.STOPPED):
                continue
            if run.definition.steps[entry.step].type == "ForEach":
                record = run.records[name]
                record.attempt += 1
                record.status, record.end, record.failure_reason = "Executing", None, None
                entry.phase, entry.until, entry.result, entry.props = Phase.FOREACH, None, None, None
            else:
                del run.entries[name]
        run.state.halted, run.state.ended = False, None
        execution.status, execution.failure_reason = "Executing", None
        if parallelism:
            execution.parallelism = parallelism
        run.settle(now)

    def send_step_success(self, token: str, outputs: list[dict[str, str]]) -> ExecutionRecord:
        """SendPipelineExecutionStepSuccess for a waiting Callback step."""
        run, name = self._callback(token)
        step = run.definition.steps[run.entries[name].step]
        declared = {
            d.get("OutputName"): d.get("OutputType", "String") for d in step.raw.get("OutputParameters") or []
        }
        for output in outputs:
            if output.get("Name") not in declared:
                raise validation(
                    f"Output parameter '{output.get('Name')}' is not declared by callback step '{step.name}'"
                )
            try:
                typed_output(declared[output["Name"]], output.get("Value", ""), output["Name"])
            except ValueError as exc:
                raise validation(str(exc)) from None
        now = self.clock.now()
        answer_callback(run, name, now, outputs, None)
        run.settle(now)
        return run.execution

    def send_step_failure(self, token: str, reason: str | None) -> ExecutionRecord:
        """SendPipelineExecutionStepFailure for a waiting Callback step."""
        run, name = self._callback(token)
        now = self.clock.now()
        answer_callback(run, name, now, None, reason)
        run.settle(now)
        return run.execution

    def advance(self, execution: ExecutionRecord) -> None:
        """Bring the execution up to `clock.now()`; cheap when nothing is due."""
        if execution.status not in ("Executing", "Stopping"):
            return
        due = run_state(execution).next_due
        now = self.clock.now()
        if due is None or due > now:
            return
        self._run(execution).process(now)

    def advance_all(self) -> None:
        """Advance every active execution."""
        for execution in self.store.active_executions():
            self.advance(execution)

    def next_due(self) -> float | None:
        """The earliest simulated time an active execution has something due (None: nothing scheduled)."""
        times = [run_state(e).next_due for e in self.store.active_executions()]
        return min((t for t in times if t is not None), default=None)

    def ended_at(self, execution: ExecutionRecord) -> float | None:
        """When the execution last ended (None while it runs, or if it never did)."""
        return run_state(execution).ended

    # ---- internals -------------------------------------------------------------------------------

    def _run(
        self,
        execution: ExecutionRecord,
        definition: definitions.Definition | None = None,
        *,
        fresh: bool = False,
    ) -> Run:
        parsed = definition or definitions.parse(execution.definition)
        return Run(self.store, self.book, self.scenario, execution, parsed, self.observer, fresh=fresh)

    def _callback(self, token: str) -> tuple[Run, str]:
        found = self.store.resolve_callback(token)
        execution = self.store.get_execution(found[0]) if found else None
        if found is None or execution is None:
            raise validation(f"Callback token {token} is not valid or has expired")
        self.advance(execution)
        run = self._run(execution)
        entry = run.entries.get(found[1])
        if entry is None or entry.token != token or entry.phase != Phase.CALLBACK:
            raise validation(f"Callback token {token} is not valid or has expired")
        return run, found[1]

    def execution_arn(self, pipeline: PipelineRecord, execution_id: str) -> str:
        return f"{pipeline.arn}/execution/{execution_id}"

    def _new_id(self, pipeline: PipelineRecord, ordinal: int) -> str:
        # Keyed by a store-wide start counter as well: a pipeline deleted and created again under the same
        # name must never hand out an ARN a client may remember from its deleted executions.
        starts = int(self.store.meta.get("engine.starts", 0))
        self.store.set_meta("engine.starts", starts + 1)
        rng = random.Random(f"{self.scenario.seed}/{pipeline.name}/{ordinal}/{starts}/id")
        while True:
            execution_id = "".join(rng.choice(_ID_CHARS) for _ in range(12))
            if self.store.get_execution(self.execution_arn(pipeline, execution_id)) is None:
                return execution_id


def _draw(rng: random.Random, knob: Any) -> float:
    if isinstance(knob, (list, tuple)) and len(knob) == 2:
        return rng.uniform(float(knob[0]), float(knob[1]))
    return float(knob)


def _latest_version(pipeline: PipelineRecord) -> int | None:
    return max((v.version_id for v in pipeline.versions), default=None)


__all__ = ["Engine"]
