"""Step behaviour by type: what happens when an entry begins, moves phase, completes or is answered.

Everything here works through `RunView`: the run's entries and records, and its job book.
"""

from __future__ import annotations

import json
from typing import Any

from smtui.emulator import joblogs
from smtui.emulator.definition.expressions import ExpressionError
from smtui.emulator.definition.graph import StepDef
from smtui.emulator.engine import jobs, registry
from smtui.emulator.engine.cache import CACHEABLE, cache_key, duration_seconds
from smtui.emulator.engine.entries import Entry, Phase, Result
from smtui.emulator.engine.scenario import Failure
from smtui.emulator.engine.scope import output_text, synthesized_output, typed_output
from smtui.emulator.engine.view import RunView
from smtui.emulator.errors import ServiceError
from smtui.emulator.store.records import StepRecord


def begin(run: RunView, name: str, step: StepDef, entry: Entry, record: StepRecord, t: float) -> None:
    """An entry starts (status Starting): resolve its arguments, plan its attempt, maybe hit the cache."""
    plan = run.plan_for(step.name)
    rng = run.rng(name, record.attempt)
    if jobs.job_kind(step.type) is not None:
        # Named before the arguments resolve: they may read Execution.ProcessingJobName/TrainingJobName.
        entry.job_name = jobs.job_name(run.execution.execution_id, name, rng)
    delay = plan.draw_seconds(rng, plan.start_delay)
    entry.until = t + delay
    try:
        resolved = _resolve_arguments(run, name, step, entry, t)
        if step.type in CACHEABLE:
            entry.cache_key = cache_key(
                step.type, step.raw, resolved, lambda value: run.evaluate(name, entry, value, t)
            )
    except ExpressionError as exc:
        entry.failure, entry.duration = Failure(f"ClientError: {exc}", ""), 0.0
        return
    if step.type in CACHEABLE and _cache_hit(run, name, step, entry, record, t):
        return
    _plan_attempt(run, name, step, entry, record)
    book = run.book
    if jobs.job_kind(step.type) is not None:
        _launch_job(run, name, step, entry, record, resolved, t, t + delay)
    elif step.type == "Lambda":
        record.metadata = {"Lambda": {"Arn": str(step.raw.get("FunctionArn", ""))}}
        _invoke(run, name, step, entry, record, resolved, t, t + delay)
    elif step.type in ("Model", "CreateModel", "RegisterModel"):
        _create_resource(run, name, step, entry, record, resolved, t)
    else:
        found = jobs.arn_metadata(
            step.type, book.region, book.account, f"pipelines-{run.execution.execution_id}-{name}"
        )
        if found is not None:
            record.metadata, entry.resource_arn = found
        other = jobs.service_metadata(step.type, step.raw, resolved, rng, book.region, book.account, name)
        if other is not None:
            record.metadata = other


def _invoke(
    run: RunView,
    name: str,
    step: StepDef,
    entry: Entry,
    record: StepRecord,
    event: Any,
    t: float,
    start: float,
) -> None:
    """The attempt's Lambda invocation, logged to the function's log group over the step's run."""
    request = joblogs.request_id(run.rng(name, record.attempt, "request"))
    function = str(step.raw.get("FunctionArn", ""))
    run.book.invoke_lambda(run.execution, name, entry, function, event, request, t, start)


def _create_resource(
    run: RunView, name: str, step: StepDef, entry: Entry, record: StepRecord, args: Any, t: float
) -> None:
    """A Model step's model or a RegisterModel step's model package, unless the attempt is planned to fail;
    a request the service would refuse fails the step instead."""
    if entry.failure is not None:
        return
    book = run.book
    if step.type == "RegisterModel":
        try:
            entry.resource_arn = book.register_model_package(run.execution, name, args, t)
        except ServiceError as refusal:
            reason = registry.refused("CreateModelPackage", refusal.message)
            entry.failure, entry.duration = Failure(reason, ""), 0.0
            return
        record.metadata = {"RegisterModel": {"Arn": entry.resource_arn}}
    else:
        model_name = jobs.job_name(run.execution.execution_id, name, run.rng(name, record.attempt, "model"))
        entry.resource_arn = book.create_model(run.execution, name, model_name, args, t)
        record.metadata = {"Model": {"Arn": entry.resource_arn}}


def _launch_job(
    run: RunView,
    name: str,
    step: StepDef,
    entry: Entry,
    record: StepRecord,
    args: Any,
    t: float,
    start: float,
) -> None:
    """Create the attempt's job and point the step's Metadata at it."""
    kind, _ = jobs.job_kind(step.type) or ("ProcessingJob", "processing-job")
    book = run.book
    log_rate = run.plan_for(step.name).log_rate
    job_arn = book.create_job(run.execution, name, step.type, entry, args, t, start, log_rate)
    if step.type in jobs.CHECK_TYPES:
        rng = run.rng(name, record.attempt, "check")
        record.metadata = (
            jobs.service_metadata(step.type, step.raw, args, rng, book.region, book.account, name, job_arn)
            or {}
        )
    else:
        record.metadata = {kind: {"Arn": job_arn}}


def _resolve_arguments(run: RunView, name: str, step: StepDef, entry: Entry, t: float) -> Any:
    args = step.arguments
    if step.type == "Condition":
        return None
    if step.type == "Fail":
        message = run.evaluate(name, entry, args.get("ErrorMessage", "") if isinstance(args, dict) else "", t)
        entry.message = output_text(message)
        return None
    if step.type == "ForEach":
        items = run.evaluate(name, entry, args.get("IterableItems"), t)
        if isinstance(items, str):
            try:
                items = json.loads(items)
            except ValueError:
                raise ExpressionError("IterableItems must resolve to a JSON list") from None
        if not isinstance(items, list):
            raise ExpressionError("IterableItems must resolve to a list")
        entry.items = items
        entry.max_concurrency = int(args.get("MaxConcurrency") or 1)
        return None
    resolved = run.evaluate(name, entry, args, t)
    entry.args = resolved
    return resolved


def _plan_attempt(run: RunView, name: str, step: StepDef, entry: Entry, record: StepRecord) -> None:
    """Draw the attempt's duration, outcome and metrics."""
    plan = run.plan_for(step.name)
    rng = run.rng(name, record.attempt, "outcome")
    duration = plan.draw_seconds(rng, plan.duration)
    failure = (
        plan.draw_failure(rng, record.attempt) if step.type not in ("Condition", "Fail", "ForEach") else None
    )
    if failure is not None:
        duration = round(duration * rng.uniform(0.3, 1.0), 3)  # a failing job dies part way through
    entry.duration = duration
    entry.failure = failure
    if step.type == "Training":
        entry.metrics = jobs.training_targets(
            entry.args, plan.draw_metrics(rng), run.rng(name, record.attempt, "m")
        )
    else:
        entry.metrics = {}


def _cache_hit(run: RunView, name: str, step: StepDef, entry: Entry, record: StepRecord, t: float) -> bool:
    config = step.raw.get("CacheConfig") or {}
    if not config.get("Enabled") or entry.cache_key is None:
        return False
    expire = duration_seconds(config.get("ExpireAfter"))
    found = run.book.cache_source(run.execution, name, entry.cache_key, t, expire)
    if found is None:
        return False
    source_arn, source_entry, source_record = found
    entry.props, entry.cache_source, entry.until = source_entry.props, source_arn, None
    record.cache_source_arn = source_arn
    record.metadata = dict(source_record.metadata) if source_record is not None else {}
    record.status = "Executing"
    run.finish_entry(name, t, Result.SUCCEEDED)
    return True


def advance_entry(run: RunView, name: str, entry: Entry, record: StepRecord, t: float) -> None:
    """The entry's current phase ends at `t`."""
    step = run.definition.steps[entry.step]
    if entry.phase == Phase.STARTING:
        record.status = "Executing"
        if entry.failure is None and step.type == "ForEach":
            entry.phase, entry.until = Phase.FOREACH, None
        elif entry.failure is None and step.type == "Callback":
            token = jobs.random_suffix(run.rng(name, record.attempt, "token"))
            entry.phase, entry.token = Phase.CALLBACK, token
            reply = run.plan_for(step.name).callback_reply_after
            entry.until = None if reply is None else t + reply
            run.book.register_callback(token, run.execution.arn, name)
            record.metadata = {
                "Callback": {"CallbackToken": token, "SqsQueueUrl": str(step.raw.get("SqsQueueUrl", ""))}
            }
        else:
            # A job is InProgress from creation until its step's attempt ends: nothing to change on it.
            entry.phase, entry.until = Phase.EXECUTING, t + entry.duration
    elif entry.phase == Phase.EXECUTING:
        complete(run, name, step, entry, record, t)
    elif entry.phase == Phase.RETRY_WAIT:
        record.attempt += 1
        entry.attempt = record.attempt
        _plan_attempt(run, name, step, entry, record)
        if jobs.job_kind(step.type) is not None:
            entry.job_name = jobs.job_name(run.execution.execution_id, name, run.rng(name, record.attempt))
            _launch_job(run, name, step, entry, record, entry.args or {}, t, t)
        elif step.type == "Lambda":
            _invoke(run, name, step, entry, record, entry.args or {}, t, t)
        entry.phase, entry.until = Phase.EXECUTING, t + entry.duration
    elif entry.phase == Phase.STOPPING:
        run.finish_entry(name, t, Result.STOPPED)
    elif entry.phase == Phase.CALLBACK:
        plan = run.plan_for(step.name)
        if plan.outcome == "Failed":
            answer_callback(run, name, t, None, "Callback failed (answered by the emulator's scenario)")
        else:
            outputs = [{"Name": k, "Value": output_text(v)} for k, v in plan.outputs.items()]
            answer_callback(run, name, t, outputs, None)


def complete(run: RunView, name: str, step: StepDef, entry: Entry, record: StepRecord, t: float) -> None:
    """An attempt's run time is over: succeed, fail, or wait to retry."""
    if entry.failure is not None:
        wait = _retry_wait(step, entry, entry.failure.exception, t)
        if wait is not None:
            run.book.finish_job(entry, Result.FAILED, entry.failure.reason, t)
            entry.phase, entry.until = Phase.RETRY_WAIT, t + wait
            return
        run.finish_entry(name, t, Result.FAILED, entry.failure.reason)
        return
    if step.type == "Condition":
        try:
            outcome = run.condition_outcome(name, entry, t)
        except ExpressionError as exc:
            run.finish_entry(name, t, Result.FAILED, f"ClientError: {exc}")
            return
        entry.props = {"Outcome": outcome}
        record.metadata = {"Condition": {"Outcome": "True" if outcome else "False"}}
        run.finish_entry(name, t, Result.SUCCEEDED)
    elif step.type == "Fail":
        record.metadata = {"Fail": {"ErrorMessage": entry.message[:3072]}}
        run.state.fail_step, run.state.fail_message = name, entry.message[:1300]
        run.finish_entry(name, t, Result.FAILED, entry.message)
    elif step.type == "Lambda":
        _complete_lambda(run, name, step, entry, record, t)
    else:
        job = run.book.job_of(entry)
        if job is not None and job.kind == "TrainingJob":
            run.book.read_metrics(job)
        entry.props = jobs.properties(
            step.type, entry.job_name, _resource_arn(run, step, entry), entry.args, job, {}
        )
        run.finish_entry(name, t, Result.SUCCEEDED)


def _complete_lambda(
    run: RunView, name: str, step: StepDef, entry: Entry, record: StepRecord, t: float
) -> None:
    plan = run.plan_for(step.name)
    rng = run.rng(name, record.attempt, "outputs")
    values: dict[str, Any] = {}
    for declared in step.raw.get("OutputParameters") or []:
        out, kind = declared.get("OutputName"), declared.get("OutputType", "String")
        raw = plan.outputs[out] if out in plan.outputs else synthesized_output(kind, rng, out)
        try:
            values[out] = typed_output(kind, raw, out)
        except ValueError as exc:
            run.finish_entry(name, t, Result.FAILED, f"ClientError: {exc}")
            return
    entry.props = {"OutputParameters": values, "FunctionArn": step.raw.get("FunctionArn")}
    invocation = run.book.job_of(entry)
    if invocation is not None:
        invocation.outputs = dict(values)  # what the function's log says it returned
    metadata = record.metadata.setdefault("Lambda", {"Arn": str(step.raw.get("FunctionArn", ""))})
    metadata["OutputParameters"] = [{"Name": k, "Value": output_text(v)[:1024]} for k, v in values.items()]
    run.finish_entry(name, t, Result.SUCCEEDED)


def _resource_arn(run: RunView, step: StepDef, entry: Entry) -> str | None:
    kind = jobs.job_kind(step.type)
    if kind is not None and entry.job_name:
        return run.book.arn(kind[1], entry.job_name)
    return entry.resource_arn


def _retry_wait(step: StepDef, entry: Entry, exception: str, t: float) -> float | None:
    """Seconds until the next attempt when a RetryPolicy covers this failure, else None.

    MaxAttempts counts retries after the first attempt (SDK `RetryPolicy.max_attempts`);
    ExpireAfterMin bounds the time since the first attempt started.
    """
    if not exception:
        return None
    retries = entry.retries
    for policy in step.raw.get("RetryPolicies") or []:
        types = policy.get("ExceptionType") or []
        if exception not in ([types] if isinstance(types, str) else types):
            continue
        max_attempts, expire = policy.get("MaxAttempts"), policy.get("ExpireAfterMin")
        if max_attempts is not None and retries >= int(max_attempts):
            return None
        if expire is not None and t - entry.first_start >= float(expire) * 60:
            return None
        if max_attempts is None and expire is None and retries >= 5:
            return None
        entry.retries = retries + 1
        interval = float(policy.get("IntervalSeconds", 1))
        # At least a second: a zero wait with zero-length attempts would never let the clock move.
        return max(1.0, interval * float(policy.get("BackoffRate", 2.0)) ** retries)
    return None


def answer_callback(
    run: RunView, name: str, t: float, outputs: list[dict[str, str]] | None, reason: str | None
) -> None:
    """SendPipelineExecutionStepSuccess (outputs) or ...Failure (reason) for a waiting Callback step."""
    entry, record = run.entries[name], run.records[name]
    step = run.definition.steps[entry.step]
    if outputs is None:
        run.finish_entry(name, t, Result.FAILED, reason or "Callback step failed")
        return
    declared = {
        d.get("OutputName"): d.get("OutputType", "String") for d in step.raw.get("OutputParameters") or []
    }
    values = {o["Name"]: typed_output(declared[o["Name"]], o["Value"], o["Name"]) for o in outputs}
    entry.props = {"OutputParameters": values}
    record.metadata.setdefault("Callback", {})["OutputParameters"] = [
        {"Name": o["Name"], "Value": o["Value"]} for o in outputs
    ]
    run.finish_entry(name, t, Result.SUCCEEDED)
