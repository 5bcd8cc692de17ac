"""A fixed, hand-made monitor state for snapshot tests: the screens render it at a frozen clock.

This stands in for the monitor (not for AWS): flows that talk to AWS run against the emulator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from smtui.core.events import Health, PipelineParametersRead
from smtui.core.jobs import JobInfo
from smtui.core.model import (
    Execution,
    ExecutionStatus,
    ForEachInfo,
    Parameter,
    Pipeline,
    StepNode,
    StepRun,
    StepStatus,
    StepTree,
)
from smtui.tui.session import EmptyMonitor

NOW = datetime(2026, 11, 26, 9, 30, 0, tzinfo=UTC)
ACCOUNT = "123456789012"


def arn(pipeline: str, execution_id: str) -> str:
    return f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:pipeline/{pipeline.lower()}/execution/{execution_id}"


def _ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def _executions() -> list[Execution]:
    rows = [
        ("churn-training", "k3j9d0a1b2c3", ExecutionStatus.EXECUTING, 4, None, None),
        ("fraud-detector", "p0o9i8u7y6t5", ExecutionStatus.EXECUTING, 12, None, None),
        (
            "churn-training",
            "a1s2d3f4g5h6",
            ExecutionStatus.FAILED,
            55,
            31,
            "Step Train failed: AlgorithmError: loss is NaN",
        ),
        ("nightly-etl", "z9x8c7v6b5n4", ExecutionStatus.SUCCEEDED, 90, 40, None),
        ("fraud-detector", "m1n2b3v4c5x6", ExecutionStatus.STOPPED, 130, 120, None),
        ("nightly-etl", "q1w2e3r4t5y6", ExecutionStatus.SUCCEEDED, 1500, 1440, None),
    ]
    out = []
    for pipeline, eid, status, started, ended, reason in rows:
        out.append(
            Execution(
                arn=arn(pipeline, eid),
                pipeline_name=pipeline,
                execution_id=eid,
                status=status,
                started=_ago(started),
                ended=_ago(ended) if ended is not None else None,
                failure_reason=reason,
                parameters=(("InstanceType", "ml.m5.xlarge"), ("Epochs", "20"), ("Threshold", "0.7")),
            )
        )
    return out


def _tree(execution_arn: str) -> StepTree:
    def run(name: str, status: StepStatus, started: float, ended: float | None = None, **kw: Any) -> StepRun:
        return StepRun(
            name=name,
            status=status,
            started=_ago(started),
            ended=_ago(ended) if ended is not None else None,
            **kw,
        )

    prep = StepNode(
        "Preprocess",
        "Processing",
        StepStatus.SUCCEEDED,
        run(
            "Preprocess",
            StepStatus.SUCCEEDED,
            4,
            3,
            metadata_kind="ProcessingJob",
            job_arn=f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:processing-job/pipelines-k3j9d0a1b2c3-preprocess-ab12cd34ef",
        ),
    )
    iterations = tuple(
        StepNode(
            f"TrainModel-{i}",
            "Training",
            status,
            run(
                f"TrainModel-{i}",
                status,
                3,
                1 if status is StepStatus.SUCCEEDED else None,
                parent_step="TrainEach",
                iteration_index=i,
                iteration_item=item,
                attempt=2 if i == 1 else 1,
                metadata_kind="TrainingJob",
            ),
        )
        for i, (item, status) in enumerate(
            [
                ("xgboost", StepStatus.SUCCEEDED),
                ("lightgbm", StepStatus.EXECUTING),
                ("catboost", StepStatus.EXECUTING),
            ]
        )
    )
    foreach = StepNode(
        "TrainEach",
        "ForEach",
        StepStatus.EXECUTING,
        run("TrainEach", StepStatus.EXECUTING, 3, foreach=ForEachInfo(item_count=3, total=3, succeeded=1)),
        depends_on=("Preprocess",),
        children=iterations,
    )
    register = StepNode("Register", "RegisterModel", StepStatus.PENDING, None, branch="if")
    fail = StepNode(
        "TooWeak",
        "Fail",
        StepStatus.SKIPPED,
        None,
        branch="else",
        skip_reason="branch not taken",
        not_taken=True,
    )
    check = StepNode(
        "CheckAccuracy",
        "Condition",
        StepStatus.PENDING,
        None,
        depends_on=("TrainEach",),
        children=(register, fail),
    )
    cached = StepNode(
        "Baseline",
        "Processing",
        StepStatus.SUCCEEDED,
        run(
            "Baseline",
            StepStatus.SUCCEEDED,
            4,
            4,
            cache_source_arn=arn("churn-training", "a1s2d3f4g5h6"),
        ),
    )
    return StepTree(execution_arn, (prep, cached, foreach, check))


class FixedMonitor(EmptyMonitor):
    """Serves a fixed state through the `MonitorView` protocol; records what the screens ask for."""

    def __init__(self) -> None:
        self._executions = {e.arn: e for e in _executions()}
        self._pipelines = {
            name: Pipeline(arn=f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:pipeline/{name}", name=name)
            for name in sorted({e.pipeline_name for e in self._executions.values()})
        }
        self._health = Health(connected=True, throttled=False, last_refresh=NOW - timedelta(seconds=2))
        self.watched: list[str] = []
        self.visible: list[str] = []
        self._subscribers: list[Callable[[Any], None]] = []

    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def job(self, job_arn: str) -> JobInfo | None:
        """Every job is the one Preprocess ran, as DescribeProcessingJob told it."""
        return JobInfo(
            arn=job_arn,
            kind="Processing",
            name=job_arn.rsplit("/", 1)[-1],
            status="Completed",
            instance_type="ml.m5.xlarge",
            instance_count=2,
            started=_ago(4),
            ended=_ago(3),
        )

    def want_pipeline_parameters(self, pipeline_name: str) -> None:
        parameters = (
            Parameter("InstanceType", "String", "ml.m5.xlarge", ("ml.m5.xlarge", "ml.g5.2xlarge")),
            Parameter("Epochs", "Integer", 20),
            Parameter("Threshold", "Float", 0.7),
        )
        for callback in list(self._subscribers):
            callback(PipelineParametersRead(pipeline_name, parameters))

    @property
    def executions(self) -> Mapping[str, Execution]:
        return self._executions

    @property
    def pipelines(self) -> Mapping[str, Pipeline]:
        return self._pipelines

    def tree(self, execution_arn: str) -> StepTree | None:
        return _tree(execution_arn) if execution_arn in self._executions else None

    def progress(self, execution_arn: str) -> tuple[int, int] | None:
        execution = self._executions[execution_arn]
        if execution.status is ExecutionStatus.SUCCEEDED:
            return (7, 7)
        if execution.status is ExecutionStatus.EXECUTING:
            tree = self.tree(execution_arn)
            return tree.progress if tree else None
        return (3, 7)

    def running_steps(self, execution_arn: str) -> tuple[str, ...]:
        if self._executions[execution_arn].is_active:
            return ("TrainModel-1", "TrainModel-2")
        return ()

    def watch(self, execution_arn: str) -> None:
        self.watched.append(execution_arn)

    def set_visible(self, arns: Iterable[str]) -> None:
        self.visible = list(arns)


def fixed_app(*, read_only: bool = False) -> Any:
    from smtui.tui.app import SmtuiApp
    from smtui.tui.session import Session

    session = Session(
        monitor=FixedMonitor(),
        actions=None,
        endpoint_label=f"us-east-1 · {ACCOUNT}",
        now=lambda: NOW,
        read_only=read_only,
    )
    # No ticking: the picture must not depend on when the snapshot is taken.
    return SmtuiApp(session, tick_interval=0)
