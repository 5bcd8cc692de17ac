"""The job book: what a run's steps leave in the store besides their execution — the jobs and Lambda
invocations they run, the models and model packages they create, the callback tokens they wait on — and where
the cache looks for an earlier run to reuse."""

from __future__ import annotations

from typing import Any

from smtui.emulator import joblogs
from smtui.emulator.engine import jobs, registry
from smtui.emulator.engine.entries import Entry, Result, run_state
from smtui.emulator.store.records import (
    ExecutionRecord,
    JobRecord,
    ModelPackageRecord,
    ModelRecord,
    StepRecord,
)
from smtui.emulator.store.store import Store

_JOB_STATUS = {Result.SUCCEEDED: "Completed", Result.FAILED: "Failed", Result.STOPPED: "Stopped"}


class JobBook:
    """Jobs, invocations, models, callback tokens and cache lookups of every run, in one account and
    region."""

    def __init__(self, store: Store, *, region: str, account: str) -> None:
        self._store = store
        self.region = region
        self.account = account

    def arn(self, resource: str, name: str) -> str:
        """The ARN of a resource this account's steps create (`training-job`, `model`, ...)."""
        return jobs.arn(self.region, self.account, resource, name)

    def create_job(
        self,
        execution: ExecutionRecord,
        name: str,
        step_type: str,
        entry: Entry,
        args: Any,
        t: float,
        start: float,
        log_rate: float | None = None,
    ) -> str:
        """The job of the entry's current attempt (InProgress until its step's attempt ends); its ARN."""
        kind, resource = jobs.job_kind(step_type) or ("ProcessingJob", "processing-job")
        job_name = entry.job_name or ""
        return self._add(
            entry, kind, job_name, self.arn(resource, job_name), execution, name, args, t, start, log_rate
        )

    def invoke_lambda(
        self,
        execution: ExecutionRecord,
        name: str,
        entry: Entry,
        function_arn: str,
        event: Any,
        request_id: str,
        t: float,
        start: float,
    ) -> None:
        """The entry's current attempt invokes its function at `start` (a `LambdaInvocation` that logs)."""
        self._add(entry, "LambdaInvocation", request_id, function_arn, execution, name, event, t, start, None)

    def _add(
        self,
        entry: Entry,
        kind: str,
        job_name: str,
        job_arn: str,
        execution: ExecutionRecord,
        name: str,
        args: Any,
        t: float,
        start: float,
        log_rate: float | None,
    ) -> str:
        job = jobs.new_job(
            kind,
            job_name,
            job_arn,
            execution_arn=execution.arn,
            step=name,
            args=args if isinstance(args, dict) else {},
            created=t,
            start=start,
            duration=entry.duration,
            failure=None if entry.failure is None else entry.failure.reason,
            metrics=dict(entry.metrics),
            log_seed=f"{run_state(execution).seed}/{execution.arn}/{name}/{entry.attempt}",
            log_rate=log_rate,
        )
        entry.job = (kind, job.name)
        self._store.add_job(job)
        return job.arn

    def job_of(self, entry: Entry) -> JobRecord | None:
        return self._store.get_job(*entry.job) if entry.job else None

    def read_metrics(self, job: JobRecord) -> None:
        """Set the job's final metrics the way SageMaker does: from what its log's metric lines say."""
        job.metrics = {name: value for name, (value, _) in joblogs.final_metrics(job).items()}
        self._store.touch(job)

    def finish_job(self, entry: Entry, result: Result, reason: str | None, t: float) -> None:
        """The attempt's job ends as its step did: Completed, Failed or Stopped."""
        job = self.job_of(entry)
        if job is None or job.status in ("Completed", "Failed", "Stopped"):
            return
        job.status = _JOB_STATUS[result]
        job.end = t
        if result == Result.FAILED:
            job.failure_reason = reason
        if job.kind == "TrainingJob" and not job.metrics:
            self.read_metrics(job)  # a failed or stopped job reports what it logged before it ended
        self._store.touch(job)

    def stop_job(self, entry: Entry, t: float) -> None:
        """StopPipelineExecution reached the entry: its running job goes Stopping, its container killed."""
        job = self.job_of(entry)
        if job is not None and job.status == "InProgress":
            job.status = "Stopping"
            job.stopping = t
            self._store.touch(job)

    def create_model(
        self, execution: ExecutionRecord, name: str, model_name: str, args: Any, t: float
    ) -> str:
        """The model a Model step creates; its ARN."""
        model: ModelRecord = registry.create_model(
            self._store, self.region, self.account, model_name, args, t=t, execution=execution.arn, step=name
        )
        return model.arn

    def register_model_package(self, execution: ExecutionRecord, name: str, args: Any, t: float) -> str:
        """The model package a RegisterModel step registers; its ARN. Raises the service's ServiceError."""
        pipeline = self._store.get_pipeline(execution.pipeline_name)
        role = pipeline.role_arn if pipeline is not None else f"arn:aws:iam::{self.account}:role/SageMaker"
        session = f"arn:aws:sts::{self.account}:assumed-role/{role.rsplit('/', 1)[-1]}/SageMaker"
        creator = {"IamIdentity": {"Arn": session, "PrincipalId": f"AROA{self.account}:SageMaker"}}
        package: ModelPackageRecord = registry.register_model_package(
            self._store,
            self.region,
            self.account,
            args,
            t=t,
            execution=execution.arn,
            step=name,
            creator=creator,
        )
        return package.arn

    def register_callback(self, token: str, execution_arn: str, name: str) -> None:
        self._store.register_callback(token, execution_arn, name)

    def forget_callback(self, token: str) -> None:
        self._store.forget_callback(token)

    def cache_source(
        self, execution: ExecutionRecord, name: str, key: str, t: float, expire: float | None
    ) -> tuple[str, Entry, StepRecord | None] | None:
        """The newest earlier successful run of this step with the same cache key, within ExpireAfter:
        (the execution it ran in, its entry, its step record).

        A cache hit is not a run: ExpireAfter counts from the run whose results are reused, so reusing them
        again and again never keeps them fresh past it.
        """
        pipeline = self._store.get_pipeline(execution.pipeline_name)
        if pipeline is None:
            return None
        for other in reversed(self._store.executions_of(pipeline)):
            if other is execution:
                continue
            entry = run_state(other).entries.get(name)
            if entry is None or not entry.succeeded or entry.cache_key != key or entry.cache_source:
                continue
            record = next((s for s in other.steps if s.name == name), None)
            if record is None or record.end is None or (expire is not None and t - record.end > expire):
                continue
            return other.arn, entry, record
        return None
