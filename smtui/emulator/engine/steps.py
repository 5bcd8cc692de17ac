"""Step behaviour by type: what happens when an entry begins, moves phase, completes or is answered."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from smtui.emulator.definition.expressions import ExpressionError, drill, parse_path
from smtui.emulator.definition.graph import StepDef
from smtui.emulator.engine import jobs
from smtui.emulator.engine.cache import CACHEABLE, cache_key, duration_seconds
from smtui.emulator.engine.scope import RUNNING_PHASES, output_text, synthesized_output, typed_output
from smtui.emulator.store.records import StepRecord

if TYPE_CHECKING:
    from smtui.emulator.engine.run import Run


def begin(run: Run, name: str, step: StepDef, entry: dict[str, Any], record: StepRecord, t: float) -> None:
    """An entry starts (status Starting): resolve its arguments, plan its attempt, maybe hit the cache."""
    plan = run.plan_for(step.name)
    rng = run.rng(name, record.attempt)
    if jobs.job_kind(step.type) is not None:
        # Named before the arguments resolve: they may read Execution.ProcessingJobName/TrainingJobName.
        entry["job_name"] = jobs.job_name(run.execution.execution_id, name, rng)
    delay = plan.draw_seconds(rng, plan.start_delay)
    entry["until"] = t + delay
    try:
        resolved = _resolve_arguments(run, name, step, entry, t)
        if step.type in CACHEABLE:
            entry["cache_key"] = cache_key(
                step.type, step.raw, resolved, lambda value: run.evaluate(name, entry, value, t)
            )
    except ExpressionError as exc:
        entry.update(failure=[f"ClientError: {exc}", ""], duration=0.0)
        return
    if step.type in CACHEABLE and _cache_hit(run, name, step, entry, record, t):
        return
    _plan_attempt(run, name, step, entry, record, t + delay)
    if jobs.job_kind(step.type) is not None:
        _launch_job(run, name, step, entry, record, resolved, t, t + delay)
    elif step.type == "Lambda":
        record.metadata = {"Lambda": {"Arn": str(step.raw.get("FunctionArn", ""))}}
    else:
        resource_name = f"pipelines-{run.execution.execution_id}-{name}"
        if step.type == "RegisterModel" and isinstance(resolved, dict):
            resource_name = str(resolved.get("ModelPackageGroupName") or resource_name)
        found = jobs.arn_metadata(step.type, run.engine.region, run.engine.account, resource_name)
        if found is not None:
            record.metadata, entry["resource_arn"] = found
        other = jobs.service_metadata(
            step.type, step.raw, resolved, rng, run.engine.region, run.engine.account, name
        )
        if other is not None:
            record.metadata = other


def _launch_job(
    run: Run,
    name: str,
    step: StepDef,
    entry: dict[str, Any],
    record: StepRecord,
    args: Any,
    t: float,
    start: float,
) -> None:
    """Create the attempt's job and point the step's Metadata at it."""
    kind, resource = jobs.job_kind(step.type) or ("ProcessingJob", "processing-job")
    run.engine.create_job(run.execution, name, step.type, entry, args, t, start)
    job_arn = jobs.arn(run.engine.region, run.engine.account, resource, entry["job_name"])
    if step.type in jobs.CHECK_TYPES:
        rng = run.rng(name, record.attempt, "check")
        region, account = run.engine.region, run.engine.account
        record.metadata = (
            jobs.service_metadata(step.type, step.raw, args, rng, region, account, name, job_arn) or {}
        )
    else:
        record.metadata = {kind: {"Arn": job_arn}}


def _resolve_arguments(run: Run, name: str, step: StepDef, entry: dict[str, Any], t: float) -> Any:
    args = step.arguments
    if step.type == "Condition":
        return None
    if step.type == "Fail":
        message = run.evaluate(name, entry, args.get("ErrorMessage", "") if isinstance(args, dict) else "", t)
        entry["message"] = output_text(message)
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
        entry["items"] = items
        entry["max"] = int(args.get("MaxConcurrency") or 1)
        return None
    resolved = run.evaluate(name, entry, args, t)
    entry["args"] = resolved
    return resolved


def _plan_attempt(
    run: Run, name: str, step: StepDef, entry: dict[str, Any], record: StepRecord, at: float
) -> None:
    plan = run.plan_for(step.name)
    rng = run.rng(name, record.attempt, "outcome")
    duration = plan.draw_seconds(rng, plan.duration)
    failure = (
        plan.draw_failure(rng, record.attempt) if step.type not in ("Condition", "Fail", "ForEach") else None
    )
    if failure is not None:
        duration = round(duration * rng.uniform(0.3, 1.0), 3)  # a failing job dies part way through
    entry["duration"] = duration
    entry["failure"] = None if failure is None else [failure.reason, failure.exception]
    entry["metrics"] = plan.draw_metrics(rng) if step.type == "Training" else {}


def _cache_hit(
    run: Run, name: str, step: StepDef, entry: dict[str, Any], record: StepRecord, t: float
) -> bool:
    config = step.raw.get("CacheConfig") or {}
    if not config.get("Enabled"):
        return False
    found = run.engine.cache_source(
        run.execution, name, entry["cache_key"], t, duration_seconds(config.get("ExpireAfter"))
    )
    if found is None:
        return False
    source_arn, source_entry, source_record = found
    entry.update(props=source_entry.get("props"), cache_source=source_arn, until=None)
    record.cache_source_arn = source_arn
    record.metadata = dict(source_record.metadata) if source_record is not None else {}
    record.status = "Executing"
    run.finish_entry(name, t, "Succeeded")
    return True


def advance_entry(run: Run, name: str, entry: dict[str, Any], record: StepRecord, t: float) -> None:
    """The entry's current phase ends at `t`."""
    step = run.definition.steps[entry["step"]]
    phase = entry["phase"]
    if phase == "starting":
        record.status = "Executing"
        if entry.get("failure") is None and step.type == "ForEach":
            entry.update(phase="foreach", until=None)
        elif entry.get("failure") is None and step.type == "Callback":
            token = jobs.random_suffix(run.rng(name, record.attempt, "token"))
            entry.update(phase="callback", token=token)
            reply = run.plan_for(step.name).callback_reply_after
            entry["until"] = None if reply is None else t + reply
            run.engine.store.register_callback(token, run.execution.arn, name)
            record.metadata = {
                "Callback": {"CallbackToken": token, "SqsQueueUrl": str(step.raw.get("SqsQueueUrl", ""))}
            }
        else:
            entry.update(phase="executing", until=t + entry.get("duration", 0.0))
            run.engine.job_running(entry)
    elif phase == "executing":
        complete(run, name, step, entry, record, t)
    elif phase == "retry_wait":
        record.attempt += 1
        entry["attempt"] = record.attempt
        _plan_attempt(run, name, step, entry, record, t)
        if jobs.job_kind(step.type) is not None:
            entry["job_name"] = jobs.job_name(run.execution.execution_id, name, run.rng(name, record.attempt))
            _launch_job(run, name, step, entry, record, entry.get("args") or {}, t, t)
        entry.update(phase="executing", until=t + entry["duration"])
    elif phase == "stopping":
        run.finish_entry(name, t, "Stopped")
    elif phase == "callback":
        plan = run.plan_for(step.name)
        if plan.outcome == "Failed":
            answer_callback(run, name, t, None, "Callback failed (answered by the emulator's scenario)")
        else:
            outputs = [{"Name": k, "Value": output_text(v)} for k, v in plan.outputs.items()]
            answer_callback(run, name, t, outputs, None)


def complete(run: Run, name: str, step: StepDef, entry: dict[str, Any], record: StepRecord, t: float) -> None:
    """An attempt's run time is over: succeed, fail, or wait to retry."""
    failure = entry.get("failure")
    if failure is not None:
        wait = _retry_wait(step, entry, failure[1], t)
        if wait is not None:
            run.engine.finish_job(entry, "Failed", failure[0], t)
            entry.update(phase="retry_wait", until=t + wait)
            return
        run.finish_entry(name, t, "Failed", failure[0])
        return
    if step.type == "Condition":
        try:
            outcome = run.condition_outcome(name, entry, t)
        except ExpressionError as exc:
            run.finish_entry(name, t, "Failed", f"ClientError: {exc}")
            return
        entry["props"] = {"Outcome": outcome}
        record.metadata = {"Condition": {"Outcome": "True" if outcome else "False"}}
        run.finish_entry(name, t, "Succeeded")
    elif step.type == "Fail":
        message = entry.get("message", "")
        record.metadata = {"Fail": {"ErrorMessage": message[:3072]}}
        run.state.update(fail_step=name, fail_message=message[:1300])
        run.finish_entry(name, t, "Failed", message)
    elif step.type == "Lambda":
        plan = run.plan_for(step.name)
        rng = run.rng(name, record.attempt, "outputs")
        values: dict[str, Any] = {}
        for declared in step.raw.get("OutputParameters") or []:
            out, kind = declared.get("OutputName"), declared.get("OutputType", "String")
            raw = plan.outputs[out] if out in plan.outputs else synthesized_output(kind, rng, out)
            try:
                values[out] = typed_output(kind, raw, out)
            except ValueError as exc:
                run.finish_entry(name, t, "Failed", f"ClientError: {exc}")
                return
        entry["props"] = {"OutputParameters": values, "FunctionArn": step.raw.get("FunctionArn")}
        metadata = record.metadata.setdefault("Lambda", {"Arn": str(step.raw.get("FunctionArn", ""))})
        metadata["OutputParameters"] = [
            {"Name": k, "Value": output_text(v)[:1024]} for k, v in values.items()
        ]
        run.finish_entry(name, t, "Succeeded")
    else:
        job = run.engine.job_of(entry)
        if job is not None:
            job.metrics = dict(entry.get("metrics") or {})
        entry["props"] = jobs.properties(
            step.type, entry.get("job_name"), _resource_arn(run, step, entry), entry.get("args"), job, {}
        )
        run.finish_entry(name, t, "Succeeded")


def _resource_arn(run: Run, step: StepDef, entry: dict[str, Any]) -> str | None:
    kind = jobs.job_kind(step.type)
    if kind is not None and entry.get("job_name"):
        return jobs.arn(run.engine.region, run.engine.account, kind[1], entry["job_name"])
    arn: str | None = entry.get("resource_arn")
    return arn


def _retry_wait(step: StepDef, entry: dict[str, Any], exception: str, t: float) -> float | None:
    """Seconds until the next attempt when a RetryPolicy covers this failure, else None.

    MaxAttempts counts retries after the first attempt (SDK `RetryPolicy.max_attempts`);
    ExpireAfterMin bounds the time since the first attempt started.
    """
    if not exception:
        return None
    retries = int(entry.get("retries", 0))
    for policy in step.raw.get("RetryPolicies") or []:
        types = policy.get("ExceptionType") or []
        if exception not in ([types] if isinstance(types, str) else types):
            continue
        max_attempts, expire = policy.get("MaxAttempts"), policy.get("ExpireAfterMin")
        if max_attempts is not None and retries >= int(max_attempts):
            return None
        if expire is not None and t - entry["first_start"] >= float(expire) * 60:
            return None
        if max_attempts is None and expire is None and retries >= 5:
            return None
        entry["retries"] = retries + 1
        interval = float(policy.get("IntervalSeconds", 1))
        # At least a second: a zero wait with zero-length attempts would never let the clock move.
        return max(1.0, interval * float(policy.get("BackoffRate", 2.0)) ** retries)
    return None


def answer_callback(
    run: Run, name: str, t: float, outputs: list[dict[str, str]] | None, reason: str | None
) -> None:
    """SendPipelineExecutionStepSuccess (outputs) or ...Failure (reason) for a waiting Callback step."""
    entry, record = run.entries[name], run.records[name]
    step = run.definition.steps[entry["step"]]
    if outputs is None:
        run.finish_entry(name, t, "Failed", reason or "Callback step failed")
        return
    declared = {
        d.get("OutputName"): d.get("OutputType", "String") for d in step.raw.get("OutputParameters") or []
    }
    values = {o["Name"]: typed_output(declared[o["Name"]], o["Value"], o["Name"]) for o in outputs}
    entry["props"] = {"OutputParameters": values}
    record.metadata.setdefault("Callback", {})["OutputParameters"] = [
        {"Name": o["Name"], "Value": o["Value"]} for o in outputs
    ]
    run.finish_entry(name, t, "Succeeded")


def foreach_summary(run: Run, parent: str) -> tuple[dict[str, Any], bool]:
    """The ForEach step's counts, and whether all its children are done."""
    entry = run.entries[parent]
    body = run.definition.bodies[parent]
    items = entry.get("items") or []
    counts = {"Succeeded": 0, "Failed": 0, "Stopped": 0}
    running = startable = False
    for index in range(len(items)):
        for step_name in body:
            child = run.entries.get(f"{step_name}-{index}")
            if child is None:
                inner = [d for d in run.definition.steps[step_name].deps if d in body]
                ok = all(run.entries.get(f"{d}-{index}", {}).get("result") == "Succeeded" for d in inner)
                startable = startable or ok
            elif child["phase"] in RUNNING_PHASES:
                running = True
            elif child.get("result") in counts:
                counts[child["result"]] += 1
    summary: dict[str, Any] = {
        "InputItemCount": len(items),
        "TotalStepCount": len(items) * len(body),
        "SucceededStepCount": counts["Succeeded"],
        "FailedStepCount": counts["Failed"],
        "StoppedStepCount": counts["Stopped"],
    }
    stopping = run.execution.status == "Stopping"
    finished = not running and (stopping or not startable)
    if finished:
        entry["props"] = _foreach_props(run, parent, summary)
        selected = entry["props"].get("_selector")
        if selected is not None:
            summary["Selector"] = selected
        entry["props"].pop("_selector", None)
    return summary, finished


def _foreach_props(run: Run, parent: str, summary: dict[str, Any]) -> dict[str, Any]:
    body = run.definition.bodies[parent]
    entry = run.entries[parent]
    outputs = []
    for index in range(len(entry.get("items") or [])):
        outputs.append({b: (run.entries.get(f"{b}-{index}") or {}).get("props") or {} for b in body})
    props: dict[str, Any] = dict(summary, IterationOutputs=outputs)
    selector = run.definition.steps[parent].arguments.get("Selector")
    field = (selector or {}).get("Field", {}).get("Get", "") if isinstance(selector, dict) else ""
    if isinstance(selector, dict) and isinstance(field, str) and field.startswith("IterationOutput."):
        path = parse_path(field.removeprefix("IterationOutput."))
        scored = []
        for index, output in enumerate(outputs):
            try:
                scored.append((float(drill(output.get(str(path[0])), path[1:], field)), index))
            except (ExpressionError, TypeError, ValueError):
                continue
        if scored:
            pick = max(scored) if selector.get("Pick") == "MaxBy" else min(scored)
            props["Selected"] = outputs[pick[1]][str(path[0])]
            props["_selector"] = {"StepName": str(path[0]), "Index": pick[1]}
    return props
