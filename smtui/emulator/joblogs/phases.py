"""A job's life on the simulated clock: instances provisioned, input downloaded, the container running, output
uploaded — and the secondary statuses DescribeTrainingJob reports for it.

All of it is planned when the job is created (its step's attempt drew the duration and the outcome), so the
phases, like the log, follow from the job record alone; a stop cuts them where it came. The split of a run
into phases is ours (the service documents none): provisioning takes 8 % of the run (at most 150 s), the
download 4 % (at most 60 s), the upload 3 % (at most 45 s).
"""

from __future__ import annotations

from dataclasses import dataclass

from smtui.emulator.store.records import JobRecord

# Failures that happen before any instance runs the container: such a job writes no log at all.
PROVISIONING_FAILURES = ("CapacityError", "ResourceLimitExceeded", "InsufficientInstanceCapacity")
_DEFAULT_DURATION = 600.0


@dataclass(frozen=True)
class Life:
    """When each part of a job's run happens (epoch seconds), as planned."""

    created: float
    ready: float | None  # instances provisioned: downloading starts (TrainingStartTime); None: never
    container_start: float | None  # the container starts: its first log line; None: it never runs
    container_end: float  # the container exits (or dies, for a failing job)
    end: float  # the job ends, output uploaded
    failure: str | None  # the FailureReason it is planned to end with


@dataclass(frozen=True)
class Transition:
    """One SecondaryStatusTransitions entry."""

    status: str
    start: float
    end: float | None
    message: str


def planned_duration(job: JobRecord) -> float:
    """The run time planned from `job.start` (an older state file did not record it: inferred)."""
    if job.duration > 0:
        return job.duration
    if job.end is not None and job.start is not None:
        return max(job.end - job.start, 1.0)
    return _DEFAULT_DURATION


def life(job: JobRecord) -> Life:
    """The job's planned phases."""
    start = job.start if job.start is not None else job.created
    run = max(planned_duration(job), 1.0)
    end = start + run
    failure = job.planned_failure
    if job.kind == "LambdaInvocation":
        return Life(job.created, start, start, end, end, failure)
    if failure is not None and failure.startswith(PROVISIONING_FAILURES):
        return Life(job.created, None, None, end, end, failure)
    ready = start + min(0.08 * run, 150.0)
    container_start = ready + min(0.04 * run, 60.0)
    container_end = end if failure is not None else end - min(0.03 * run, 45.0)
    return Life(job.created, ready, container_start, container_end, end, failure)


def cut_time(job: JobRecord) -> float | None:
    """When a stop cut the job short (nothing it would have done later ever happens), or None."""
    if job.status in ("Stopping", "Stopped"):
        return job.stopping if job.stopping is not None else job.end
    return None


_MESSAGES = {
    "Starting": "Preparing the instances for training",
    "Downloading": "Downloading input data",
    "Training": "Training image download completed. Training in progress.",
    "Uploading": "Uploading generated training model",
    "Completed": "Training job completed",
    "Stopping": "Stopping the training job",
    "Stopped": "Training job stopped",
}


def training_transitions(job: JobRecord, now: float) -> list[Transition]:
    """SecondaryStatusTransitions as of `now`: Starting → Downloading → Training → Uploading → Completed,
    or ending Failed (with the failure reason as its message), or Stopping → Stopped."""
    plan = life(job)
    if plan.ready is None or plan.container_start is None:
        phases = [("Starting", plan.created, plan.end)]
    else:
        phases = [
            ("Starting", plan.created, plan.ready),
            ("Downloading", plan.ready, plan.container_start),
            ("Training", plan.container_start, plan.container_end),
        ]
        if plan.failure is None:
            phases.append(("Uploading", plan.container_end, plan.end))
    cut = cut_time(job)
    result: list[Transition] = []
    for status, begin, finish in phases:
        if begin > now or (cut is not None and begin >= cut):
            break
        if cut is not None:
            finish = min(finish, cut)
        result.append(Transition(status, begin, finish if finish <= now else None, _MESSAGES[status]))
    if cut is not None and cut <= now:
        stopped = job.end if job.status == "Stopped" else None
        result.append(Transition("Stopping", cut, stopped, _MESSAGES["Stopping"]))
        if stopped is not None:
            result.append(Transition("Stopped", stopped, stopped, _MESSAGES["Stopped"]))
    elif job.end is not None and job.status in ("Completed", "Failed"):
        message = _MESSAGES["Completed"] if job.status == "Completed" else job.failure_reason or "Failed"
        result.append(Transition(job.status, job.end, job.end, message))
    return result
