"""Which log group and streams hold a step's lines, or why it has none.

- Training, Processing, Transform steps (and the processing job of a QualityCheck/ClarifyCheck step): the job
  named by the step's Metadata ARN. ARNs may carry the job name lower-cased (older service output, and the
  Developer Guide's examples) while stream names use its exact case, so the name comes from Describe*Job
  (which finds a job whatever the case), one SageMaker call, through the SageMaker client. Streams:
  `/aws/sagemaker/<Kind>Jobs`, prefix `<job>/`: one per instance (`algo-1`…`algo-n`, processing hosts).
- Lambda steps: `/aws/lambda/<function>` over the step's StartTime–EndTime window (their Metadata has the
  function's ARN only, no invocation id: other invocations of the same function in that window show too).
- Every other step runs no job whose logs CloudWatch holds: one line says why.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

from smtui.core.errors import AwsError
from smtui.core.logs import LogSource, NoLogs, epoch_ms
from smtui.core.model import StepNode, StepRun, StepStatus, StepTree

# ARN resource → (Describe* operation, its name parameter (and reply member), log group, kind)
_JOBS: dict[str, tuple[str, str, str, str]] = {
    "training-job": ("describe_training_job", "TrainingJobName", "/aws/sagemaker/TrainingJobs", "Training"),
    "processing-job": (
        "describe_processing_job",
        "ProcessingJobName",
        "/aws/sagemaker/ProcessingJobs",
        "Processing",
    ),
    "transform-job": (
        "describe_transform_job",
        "TransformJobName",
        "/aws/sagemaker/TransformJobs",
        "Transform",
    ),
}
# Lambda log lines are stamped by the function, Step times by Pipelines: a little slack on each side.
LAMBDA_SLACK = timedelta(seconds=2)

# Steps that run no job of their own, and what to say instead of lines.
_NO_JOB = {
    "Condition": "a Condition step evaluates its conditions inside Pipelines: it runs no job and has no logs",
    "Fail": "a Fail step ends the execution with its message: it runs no job and has no logs",
    "Callback": (
        "a Callback step waits for SendPipelineExecutionStepSuccess/Failure: its work runs outside "
        "SageMaker, so its logs are wherever the consumer of its queue writes them"
    ),
    "Model": "a Model step calls CreateModel: it runs no job and has no logs",
    "CreateModel": "a Model step calls CreateModel: it runs no job and has no logs",
    "RegisterModel": "a RegisterModel step registers a model package: it runs no job and has no logs",
    "EMR": "an EMR step logs to S3 (its Metadata.EMR.LogFilePath), not to CloudWatch Logs",
    "EMRServerless": "an EMR Serverless step logs where its job run's monitoring configuration says",
    "Tuning": (
        "a Tuning step's trials are training jobs that log under /aws/sagemaker/TrainingJobs as "
        "<tuning job>-NNN-…: not followed here"
    ),
    "AutoML": "an AutoML step's candidate jobs log under their own names: not followed here",
}
# Metadata keys → the definition's step type (the API gives no type, only the Metadata key).
_KIND_TYPES = {
    "TrainingJob": "Training",
    "ProcessingJob": "Processing",
    "TransformJob": "Transform",
    "TuningJob": "Tuning",
    "AutoMLJob": "AutoML",
}


class _Caller(Protocol):
    async def call(self, operation: str, **params: Any) -> dict[str, Any]: ...


def step_type(node: StepNode) -> str:
    """The step's type: the definition's, else from its Metadata key."""
    if node.type and node.type != "?":
        return node.type
    kind = node.run.metadata_kind if node.run is not None else None
    return _KIND_TYPES.get(kind or "", kind or "?")


def without_logs(node: StepNode) -> NoLogs | None:
    """Why this step has no lines (now or ever), from what is known of it without a call; None if it may."""
    name, kind, run = node.name, step_type(node), node.run
    if kind in _NO_JOB:
        detail = ""
        if run is not None and kind == "Condition" and run.condition_outcome is not None:
            detail = f" (it evaluated to {run.condition_outcome})"
        elif run is not None and kind == "Fail" and run.fail_message:
            detail = f" (its message: {run.fail_message})"
        return NoLogs(f"{name}: {_NO_JOB[kind]}{detail}")
    if node.children or kind == "ForEach":
        first = node.children[0].name if node.children else f"{name}-0"
        return NoLogs(f"{name} is a ForEach step: its iterations ({first}, …) have the logs")
    if run is None:
        if node.status is StepStatus.SKIPPED:
            why = f" ({node.skip_reason})" if node.skip_reason else ""
            return NoLogs(f"{name} did not run{why}: it has no logs")
        return NoLogs(f"{name} has not started yet", final=False)
    if kind == "Lambda":
        return None if run.job_arn else NoLogs(f"{name}: the step names no Lambda function", final=False)
    if run.job_arn is None or _job_resource(run.job_arn) is None:
        if run.status.is_active:
            return NoLogs(f"{name}: its job has not been created yet", final=False)
        if run.cache_source_arn:
            return NoLogs(f"{name} reused the result of {run.cache_source_arn}: it ran no job now")
        return NoLogs(f"{name}: a {kind} step runs no SageMaker job with CloudWatch logs")
    return None


async def resolve_source(sm: _Caller, node: StepNode) -> LogSource | NoLogs:
    """The log source of a step that may have logs (see `without_logs`), with one Describe*Job for a job."""
    reason = without_logs(node)
    if reason is not None:
        return reason
    run = node.run
    assert run is not None and run.job_arn is not None
    if step_type(node) == "Lambda":
        return lambda_source(run)
    resource, name = _job_resource(run.job_arn) or ("", "")
    operation, parameter, group, kind = _JOBS[resource]
    try:
        reply = await sm.call(operation, **{parameter: name})
    except AwsError as exc:
        # An unknown job is a ValidationException ("Requested resource not found."), not ResourceNotFound.
        if exc.is_not_found or exc.code == "ValidationException":
            return NoLogs(f"{node.name}: its job {name} cannot be described ({exc.message or exc.code})")
        raise
    exact = str(reply.get(parameter) or name)
    return LogSource(
        group=group,
        stream_prefix=f"{exact}/",
        job_name=exact,
        resolved_from=run.job_arn,
        instances=_instances(reply, kind),
    )


def lambda_source(run: StepRun) -> LogSource:
    function = function_name(run.job_arn or "")
    start = epoch_ms(run.started - LAMBDA_SLACK) if run.started is not None else None
    end = epoch_ms(run.ended + LAMBDA_SLACK) if run.ended is not None else None
    return LogSource(
        group=f"/aws/lambda/{function}",
        resolved_from=run.job_arn,
        start_ms=start,
        end_ms=end,
        kind="lambda",
    )


def function_name(arn: str) -> str:
    """`arn:aws:lambda:<region>:<account>:function:NAME[:QUALIFIER]`, or a bare `NAME[:QUALIFIER]` → NAME."""
    parts = arn.split(":")
    if arn.startswith("arn:") and len(parts) >= 7:
        return parts[6]
    return parts[0]


def _job_resource(arn: str) -> tuple[str, str] | None:
    """(resource type, name) of a training, processing or transform job ARN; None for any other ARN."""
    resource = arn.split(":", 5)[-1]
    kind, _, name = resource.partition("/")
    return (kind, name) if kind in _JOBS and name else None


def _instances(reply: dict[str, Any], kind: str) -> int:
    member = {
        "Training": "ResourceConfig",
        "Processing": "ProcessingResources",
        "Transform": "TransformResources",
    }
    config = reply.get(member[kind]) or {}
    config = config.get("ClusterConfig", config)  # Processing nests it one level deeper
    try:
        return max(1, int(config.get("InstanceCount") or 1))
    except (TypeError, ValueError):
        return 1


def same_source(node: StepNode, source: LogSource) -> bool:
    """Whether `source` is still this step's: a new attempt runs a new job (another Metadata ARN), and a
    Lambda step's window closes when it ends."""
    run = node.run
    if run is None or run.job_arn != source.resolved_from:
        return False
    return not (source.kind == "lambda" and source.end_ms is None and run.ended is not None)


def steps_to_show(tree: StepTree) -> list[StepNode]:
    """The steps meant when an execution's logs are asked for without a step (`l` on a row, `smtui logs
    EXECUTION`): its failed steps, else its running ones (iterations, not their ForEach); else none."""
    leaves = [node for _, node in tree.walk() if not node.children]
    failed = [n for n in leaves if n.status is StepStatus.FAILED]
    return failed or [n for n in leaves if n.status.is_active]
