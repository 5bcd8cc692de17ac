"""The emulator's state: every record in memory, optionally persisted to SQLite (`--state FILE`).

Records are mutable dataclasses (`records.py`). Whoever changes one in place calls `touch(record)` so
that the next `flush()` writes it; a flush writes only what was touched since the last one, so persisting
after each request stays cheap with 10,000 executions loaded. The simulated clock's "now" is persisted
alongside, which is all the clock-driven engine needs for running executions to carry on after a restart.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from smtui.emulator.store.records import (
    ExecutionRecord,
    JobRecord,
    ModelPackageGroupRecord,
    ModelPackageRecord,
    ModelRecord,
    PipelineRecord,
    PipelineVersion,
    StepRecord,
)

ACTIVE_EXECUTION_STATUSES = frozenset({"Executing", "Stopping"})

# Resources steps leave behind besides jobs, kept by lower-cased ARN; the row kind each persists under.
Resource = ModelRecord | ModelPackageGroupRecord | ModelPackageRecord
R = TypeVar("R", ModelRecord, ModelPackageGroupRecord, ModelPackageRecord)
RESOURCE_KINDS: dict[type[Any], str] = {
    ModelRecord: "model",
    ModelPackageGroupRecord: "model-package-group",
    ModelPackageRecord: "model-package",
}
Record = PipelineRecord | ExecutionRecord | JobRecord | Resource


def pipeline_key(name_or_arn: str) -> str:
    """A pipeline's store key: its lower-cased name (ARNs lower-case it, so names clash case-blind)."""
    if name_or_arn.startswith("arn:"):
        _, _, resource = name_or_arn.partition(":pipeline/")
        name_or_arn = resource.split("/", 1)[0]
    return name_or_arn.lower()


class Store:
    """All pipelines, executions, jobs, models and model packages, and callback tokens, with the lookups
    operations and engine need."""

    def __init__(self, path: str | Path | None = None) -> None:
        self._pipelines: dict[str, PipelineRecord] = {}
        self._executions: dict[str, ExecutionRecord] = {}
        self._folded: dict[str, str] = {}  # lower-cased ARN -> ARN, for case-blind lookups
        # Per pipeline key, oldest first by (created, arn): listing pages slice it, never sort it.
        self._by_pipeline: dict[str, list[ExecutionRecord]] = {}
        # Insertion sequence per execution ARN: breaks ties between executions created at the same simulated
        # instant (a paused clock), so "newest first" means "started last" and survives a restart.
        self._seq: dict[str, int] = {}
        self._next_seq = 0
        self._jobs: dict[tuple[str, str], JobRecord] = {}
        self._jobs_by_execution: dict[str, list[JobRecord]] = {}
        self._resources: dict[str, dict[str, Any]] = {kind: {} for kind in RESOURCE_KINDS.values()}
        self._callbacks: dict[str, tuple[str, str]] = {}
        self._tokens: dict[str, str] = {}
        # Executions that may be running: the engine's advance_all() walks these, not all 10,000.
        self._maybe_active: set[str] = set()
        # (kind, key) -> what to write: a record, a JSON-able value (tokens), or None to delete the row.
        self._dirty: dict[tuple[str, str], Any] = {}
        self._meta_dirty = False
        self._meta: dict[str, Any] = {}
        self._db: sqlite3.Connection | None = None
        # Set by the server to the simulated clock: each flush records "now" so a restart resumes from it.
        self.now_source: Callable[[], float] | None = None
        if path is not None:
            self._open(Path(path))

    # ---- pipelines -------------------------------------------------------------------------------

    def add_pipeline(self, pipeline: PipelineRecord) -> None:
        """Insert a new pipeline (the caller has checked that the name is free)."""
        key = pipeline_key(pipeline.name)
        self._pipelines[key] = pipeline
        self._by_pipeline.setdefault(key, [])
        self.touch(pipeline)

    def get_pipeline(self, name_or_arn: str) -> PipelineRecord | None:
        """A pipeline by name (case-insensitive) or by ARN; None when there is none.

        An ARN must be the pipeline's own: the same name in another account's (or partition's) ARN names a
        pipeline this account does not have.
        """
        pipeline = self._pipelines.get(pipeline_key(name_or_arn))
        if pipeline is not None and name_or_arn.startswith("arn:"):
            given, own = name_or_arn.split(":"), pipeline.arn.split(":")
            if given[1:2] != own[1:2] or given[4:5] != own[4:5]:  # partition, account
                return None
        return pipeline

    def pipelines(self) -> list[PipelineRecord]:
        """Every pipeline, in no particular order."""
        return list(self._pipelines.values())

    def delete_pipeline(self, pipeline: PipelineRecord) -> None:
        """Remove a pipeline with all its executions and callback tokens (not the jobs they ran)."""
        key = pipeline_key(pipeline.name)
        for execution in self._by_pipeline.pop(key, []):
            self._drop_execution(execution)
        self._pipelines.pop(key, None)
        self._dirty[("pipeline", key)] = None

    # ---- executions ------------------------------------------------------------------------------

    def add_execution(self, execution: ExecutionRecord) -> None:
        """Insert a new execution; it joins its pipeline's list in creation order."""
        self._executions[execution.arn] = execution
        self._folded[execution.arn.lower()] = execution.arn
        self._next_seq += 1
        self._seq[execution.arn] = self._next_seq
        ordered = self._by_pipeline.setdefault(pipeline_key(execution.pipeline_name), [])
        key = self.order_key(execution)
        if not ordered or self.order_key(ordered[-1]) <= key:
            ordered.append(execution)  # the usual case: the newest goes last, O(1)
        else:
            ordered.insert(bisect.bisect_right(ordered, key, key=self.order_key), execution)
        self.touch(execution)

    def order_key(self, execution: ExecutionRecord) -> tuple[float, int]:
        """(creation time, insertion sequence): the order of `executions_of`."""
        return (execution.created, self._seq.get(execution.arn, 0))

    def get_execution(self, arn: str) -> ExecutionRecord | None:
        """An execution by its ARN; None when there is none.

        The pipeline part of an ARN is case-blind, as pipeline names are: the lower-cased form older service
        output shows (and the service still writes into FailureReason texts) finds the same execution.
        """
        found = self._executions.get(arn)
        if found is None:
            exact = self._folded.get(arn.lower())
            found = self._executions.get(exact) if exact is not None else None
        return found

    def executions_of(self, pipeline: PipelineRecord) -> list[ExecutionRecord]:
        """The pipeline's executions, oldest first by creation. The list is the store's own: do not mutate."""
        return self._by_pipeline.get(pipeline_key(pipeline.name), [])

    def executions(self) -> Iterator[ExecutionRecord]:
        """Every execution, in no particular order."""
        return iter(self._executions.values())

    def active_executions(self) -> list[ExecutionRecord]:
        """Executions whose status is Executing or Stopping (cheap: a set maintained by `touch`)."""
        result = []
        for arn in list(self._maybe_active):
            execution = self._executions.get(arn)
            if execution is None or execution.status not in ACTIVE_EXECUTION_STATUSES:
                self._maybe_active.discard(arn)
            else:
                result.append(execution)
        return result

    # ---- jobs ------------------------------------------------------------------------------------

    def add_job(self, job: JobRecord) -> None:
        """Insert (or replace) a job; looked up later by (kind, name) case-insensitively."""
        key = (job.kind, job.name.lower())
        previous = self._jobs.get(key)
        if previous is not None:
            siblings = self._jobs_by_execution.get(previous.execution_arn, [])
            if previous in siblings:
                siblings.remove(previous)
        self._jobs[key] = job
        self._jobs_by_execution.setdefault(job.execution_arn, []).append(job)
        self.touch(job)

    def get_job(self, kind: str, name: str) -> JobRecord | None:
        """A job by kind ("TrainingJob" | "ProcessingJob" | "TransformJob") and name, case-insensitive."""
        return self._jobs.get((kind, name.lower()))

    def jobs(self, kind: str | None = None) -> Iterator[JobRecord]:
        """Every job, or every job of one kind."""
        return (job for job in self._jobs.values() if kind is None or job.kind == kind)

    def jobs_of_execution(self, execution_arn: str) -> list[JobRecord]:
        """The jobs an execution's steps ran, in creation order."""
        return list(self._jobs_by_execution.get(execution_arn, []))

    # ---- models, model packages and their groups -------------------------------------------------

    def add_resource(self, record: Resource) -> None:
        """Insert (or replace) a model, model package or model package group, keyed by its ARN."""
        self._resources[RESOURCE_KINDS[type(record)]][record.arn.lower()] = record
        self.touch(record)

    def get_resource(self, cls: type[R], arn: str) -> R | None:
        """A resource of that type by its ARN (case-insensitive, as the service's names are)."""
        found: R | None = self._resources[RESOURCE_KINDS[cls]].get(arn.lower())
        return found

    def resources(self, cls: type[R]) -> list[R]:
        """Every resource of that type, oldest first."""
        return list(self._resources[RESOURCE_KINDS[cls]].values())

    # ---- callback and idempotency tokens ---------------------------------------------------------

    def register_callback(self, token: str, execution_arn: str, step_name: str) -> None:
        """Remember which execution step a Callback token belongs to."""
        self._callbacks[token] = (execution_arn, step_name)
        self._dirty[("callback", token)] = [execution_arn, step_name]

    def resolve_callback(self, token: str) -> tuple[str, str] | None:
        """(execution ARN, step name) of a callback token, or None if unknown."""
        return self._callbacks.get(token)

    def forget_callback(self, token: str) -> None:
        """Drop a callback token once its step has ended."""
        if self._callbacks.pop(token, None) is not None:
            self._dirty[("callback", token)] = None

    def remember_token(self, scope: str, token: str, result: str) -> None:
        """Record an idempotent call's result under (scope, ClientRequestToken), e.g. "Start:<pipeline>"."""
        self._tokens[f"{scope}\n{token}"] = result
        self._dirty[("token", f"{scope}\n{token}")] = result

    def token_result(self, scope: str, token: str) -> str | None:
        """The result recorded for (scope, ClientRequestToken), or None on first use."""
        return self._tokens.get(f"{scope}\n{token}")

    # ---- persistence -----------------------------------------------------------------------------

    def touch(self, record: Record) -> None:
        """Mark a record changed: the next `flush()` writes it. Call after changing a record in place."""
        if isinstance(record, PipelineRecord):
            self._dirty[("pipeline", pipeline_key(record.name))] = record
        elif isinstance(record, ExecutionRecord):
            self._dirty[("execution", record.arn)] = record
            if record.status in ACTIVE_EXECUTION_STATUSES:
                self._maybe_active.add(record.arn)
        elif isinstance(record, JobRecord):
            self._dirty[("job", f"{record.kind}\n{record.name.lower()}")] = record
        else:
            self._dirty[(RESOURCE_KINDS[type(record)], record.arn.lower())] = record

    @property
    def meta(self) -> dict[str, Any]:
        """Small JSON-able values persisted with the state (e.g. the clock's now, the engine's counters)."""
        return self._meta

    def set_meta(self, key: str, value: Any) -> None:
        """Set a persisted meta value."""
        self._meta[key] = value
        self._meta_dirty = True

    @property
    def persistent(self) -> bool:
        return self._db is not None

    def flush(self) -> int:
        """Write what changed since the last flush (no-op without `--state`). Returns the rows written."""
        if self._db is None:
            self._dirty.clear()
            return 0
        if not self._dirty and not self._meta_dirty:
            return 0
        if self.now_source is not None:
            self._meta["clock"] = self.now_source()
        rows = [
            (kind, key, _dump(value), self._seq.get(key, 0)) for (kind, key), value in self._dirty.items()
        ]
        gone = [(kind, key) for (kind, key), value in self._dirty.items() if value is None]
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO records (kind, key, body, seq) VALUES (?, ?, ?, ?)",
                [row for row in rows if row[2] is not None],
            )
            if gone:
                self._db.executemany("DELETE FROM records WHERE kind = ? AND key = ?", gone)
            self._db.execute(
                "INSERT OR REPLACE INTO records (kind, key, body, seq) VALUES ('meta', 'meta', ?, 0)",
                (json.dumps(self._meta),),
            )
        written = len(rows)
        self._dirty.clear()
        self._meta_dirty = False
        return written

    def close(self) -> None:
        """Flush and close the database."""
        if self._db is not None:
            self._meta_dirty = True  # record the clock's final "now" even when no record changed
            self.flush()
            self._db.close()
            self._db = None

    def _drop_execution(self, execution: ExecutionRecord) -> None:
        self._executions.pop(execution.arn, None)
        self._folded.pop(execution.arn.lower(), None)
        self._maybe_active.discard(execution.arn)
        self._dirty[("execution", execution.arn)] = None
        # The jobs its steps ran stay: training, processing and transform jobs are resources of their own
        # that outlive the pipeline (DescribeTrainingJob and their CloudWatch logs still answer).
        stale = [token for token, (arn, _) in self._callbacks.items() if arn == execution.arn]
        for token in stale:
            self.forget_callback(token)

    def _open(self, path: Path) -> None:
        self._db = sqlite3.connect(path)
        # WAL keeps the per-request flushes cheap and a reader never blocks the server.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS records"
            " (kind TEXT, key TEXT, body TEXT, seq INTEGER, PRIMARY KEY (kind, key))"
        )
        executions: list[ExecutionRecord] = []
        for kind, key, body, seq in self._db.execute("SELECT kind, key, body, seq FROM records"):
            data = json.loads(body)
            if kind == "pipeline":
                pipeline = _load_pipeline(data)
                self._pipelines[pipeline_key(pipeline.name)] = pipeline
                self._by_pipeline.setdefault(pipeline_key(pipeline.name), [])
            elif kind == "execution":
                executions.append(_load_execution(data))
                self._seq[key] = seq
                self._next_seq = max(self._next_seq, seq)
            elif kind == "job":
                job = _load_job(data)
                self._jobs[(job.kind, job.name.lower())] = job
                self._jobs_by_execution.setdefault(job.execution_arn, []).append(job)
            elif kind in _RESOURCE_LOADERS:
                resource = _RESOURCE_LOADERS[kind](**_fields(_RESOURCE_LOADERS[kind], data))
                self._resources[kind][key] = resource
            elif kind == "callback":
                self._callbacks[key] = (data[0], data[1])
            elif kind == "token":
                self._tokens[key] = data
            elif kind == "meta":
                self._meta = data
        executions.sort(key=self.order_key)
        for execution in executions:
            self._executions[execution.arn] = execution
            self._folded[execution.arn.lower()] = execution.arn
            self._by_pipeline.setdefault(pipeline_key(execution.pipeline_name), []).append(execution)
            if execution.status in ACTIVE_EXECUTION_STATUSES:
                self._maybe_active.add(execution.arn)
        for jobs in self._jobs_by_execution.values():
            jobs.sort(key=lambda job: job.created)
        for kind, table in self._resources.items():
            self._resources[kind] = dict(sorted(table.items(), key=lambda item: item[1].created))


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    return json.dumps(value, separators=(",", ":"))


def _fields(cls: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Only the keys the dataclass knows: a state file from a newer/older emulator still loads."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _load_pipeline(data: dict[str, Any]) -> PipelineRecord:
    values = _fields(PipelineRecord, data)
    values["versions"] = [PipelineVersion(**_fields(PipelineVersion, v)) for v in data.get("versions", [])]
    return PipelineRecord(**values)


def _load_execution(data: dict[str, Any]) -> ExecutionRecord:
    values = _fields(ExecutionRecord, data)
    values["steps"] = [StepRecord(**_fields(StepRecord, s)) for s in data.get("steps", [])]
    return ExecutionRecord(**values)


def _load_job(data: dict[str, Any]) -> JobRecord:
    values = _fields(JobRecord, data)
    lines = data.get("log_lines") or []
    if "duration" not in data and lines:
        # An older state file stored the log itself; its last line fell at the end of the planned run.
        values["duration"] = max(float(offset) for offset, _ in lines)
    return JobRecord(**values)


_RESOURCE_LOADERS: dict[str, type[Any]] = {kind: cls for cls, kind in RESOURCE_KINDS.items()}
