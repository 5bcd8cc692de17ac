"""Push updates: SageMaker's EventBridge events, as an SQS queue delivers them, turned into store updates.

SageMaker publishes each pipeline execution's and each step's status changes to EventBridge (source
`aws.sagemaker`, detail types `EXECUTION_CHANGE` and `STEP_CHANGE`, `resources` = [pipeline ARN, execution
ARN]); a rule sends them to a queue that `smtui.core.push_feed` long-polls. Delivery is best-effort and
SageMaker "may send multiple events for each state change", so nothing here trusts an event blindly:
- `Ledger` drops what it has seen (by event id, and by content: SageMaker's own duplicates carry new ids) and
  what is older than what it already applied to the same execution or step: events are ordered by event time,
  then by status rank (Executing before Succeeded in the same second). A later event time wins, so a retry
  (Failed, then Executing again under the same ARN) is a real change, while a late Executing never replaces
  the Succeeded that followed it;
- `apply` also drops an event older than the poll that last confirmed the execution (or its steps): that poll
  read the state after it;
- and it finds lost events: each event says the status it replaces (`previous`). One whose previous status is
  neither what the store holds nor its own (nor older than what it holds) shows a gap; so does a step's first
  event while a step it depends on is shown running, and an execution's end while a step of it is shown
  running. `Reconciler.gap` then reads that execution's steps (`smtui.core.reconcile`: in push mode, polls
  only reconcile, and gaps are how the few reads that matter are chosen).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from smtui.core import convert
from smtui.core.events import StepsChanged
from smtui.core.model import ExecutionStatus, StepRun, StepStatus
from smtui.core.planner import Planner
from smtui.core.poll_keys import PollKey, PollKind

EXECUTION_CHANGE = "SageMaker Model Building Pipeline Execution Status Change"
STEP_CHANGE = "SageMaker Model Building Pipeline Execution Step Status Change"
DETAIL_TYPES = (EXECUTION_CHANGE, STEP_CHANGE)
SOURCE = "aws.sagemaker"

# An event no older than this before the poll that last confirmed its subject may still be news: the list
# APIs may lag a status change by a moment, and event times have a resolution of one second.
POLL_TOLERANCE = timedelta(seconds=2)
REMEMBERED = 20_000  # event ids and contents remembered for de-duplication (the oldest are forgotten)

# Within one second, a status further along wins: Starting < Executing < Stopping < any end.
_RANK = {"Starting": 0, "Executing": 1, "Stopping": 2}
_END_RANK = 3


def status_rank(status: str) -> int:
    return _RANK.get(status, _END_RANK)


@dataclass(frozen=True, slots=True)
class PipelineEvent:
    """One status change of an execution (`step` None) or of one of its steps, as SageMaker published it."""

    id: str
    time: datetime
    execution_arn: str
    pipeline_arn: str
    status: str  # currentPipelineExecutionStatus or currentStepStatus
    previous: str | None = None  # previousPipelineExecutionStatus or previousStepStatus (None: the first)
    step: str | None = None
    started: datetime | None = None
    ended: datetime | None = None
    failure_reason: str | None = None
    display_name: str | None = None
    run: StepRun | None = None  # a step event as a ListPipelineExecutionSteps entry would give it
    content: Hashable = ()  # what identifies the change, whatever the event id (a digest: `REMEMBERED` of
    # them are kept per queue, and 20,000 event bodies took ~20 MiB a context in `benchmarks/push_bench.py`)

    @property
    def order(self) -> tuple[datetime, int]:
        return self.time, status_rank(self.status)


def parse_message(body: str) -> PipelineEvent | None:
    """An SQS message body (an EventBridge event, as EventBridge sends it to a queue) as a `PipelineEvent`;
    None for anything else (another detail type, an unreadable body): deleted and ignored."""
    try:
        event = json.loads(body)
    except ValueError:
        return None
    if not isinstance(event, dict) or event.get("source") != SOURCE:
        return None
    kind, detail = event.get("detail-type"), event.get("detail")
    if kind not in DETAIL_TYPES or not isinstance(detail, dict):
        return None
    resources = [r for r in event.get("resources") or () if isinstance(r, str)]
    # Interned: the ledger keeps an entry per step of each execution, each naming it.
    execution_arn = sys.intern(str(detail.get("pipelineExecutionArn") or next(iter(resources[1:]), "")))
    pipeline_arn = str(detail.get("pipelineArn") or next(iter(resources), ""))
    when = _time(event.get("time"))
    if not execution_arn or when is None:
        return None
    body = f"{kind}|{execution_arn}|{json.dumps(detail, sort_keys=True, default=str)}"
    content = hashlib.blake2b(body.encode(), digest_size=16).digest()
    common: dict[str, Any] = {
        "id": str(event.get("id") or ""),
        "time": when,
        "execution_arn": execution_arn,
        "pipeline_arn": pipeline_arn,
        "content": content,
    }
    previous_key = "previousPipelineExecutionStatus" if kind == EXECUTION_CHANGE else "previousStepStatus"
    common["previous"] = str(detail.get(previous_key) or "") or None
    if kind == EXECUTION_CHANGE:
        status = str(detail.get("currentPipelineExecutionStatus") or "")
        if status not in ExecutionStatus._value2member_map_:
            return None
        return PipelineEvent(
            status=status,
            started=_time(detail.get("executionStartTime")),
            ended=_time(detail.get("executionEndTime")),
            failure_reason=detail.get("failureReason") or None,
            display_name=detail.get("pipelineExecutionDisplayName") or None,
            **common,
        )
    status, step = str(detail.get("currentStepStatus") or ""), sys.intern(str(detail.get("stepName") or ""))
    if status not in StepStatus._value2member_map_ or not step:
        return None
    run = convert.step_run(
        {
            "StepName": step,
            "StepStatus": status,
            "StartTime": _time(detail.get("stepStartTime")),
            "EndTime": _time(detail.get("stepEndTime")),
            "FailureReason": detail.get("failureReason"),
            "AttemptCount": detail.get("attemptCount"),
            "CacheHitResult": _pascal(detail.get("cacheHitResult")),
            "Metadata": _pascal(detail.get("metadata")),
        }
    )
    return PipelineEvent(status=status, step=step, started=run.started, ended=run.ended, run=run, **common)


class Ledger:
    """What has been applied: event ids and contents seen, and the latest (time, rank) per execution and per
    step. `admit` says whether an event is news; events of one batch go through it in `order`."""

    def __init__(self, remembered: int = REMEMBERED) -> None:
        self.remembered = remembered
        self._seen: OrderedDict[Hashable, None] = OrderedDict()
        # Bounded too: an entry forgotten lets a late event through, and `apply` then drops it if a poll has
        # confirmed its subject since.
        self._latest: OrderedDict[tuple[str, str | None], tuple[datetime, int]] = OrderedDict()
        self.duplicates = 0
        self.stale = 0

    def admit(self, event: PipelineEvent) -> bool:
        keys = [event.content] if not event.id else [event.id, event.content]  # a str, and a digest's bytes
        if any(key in self._seen for key in keys):
            self.duplicates += 1
            return False
        for key in keys:
            self._seen[key] = None
        while len(self._seen) > self.remembered:
            self._seen.popitem(last=False)
        subject = (event.execution_arn, event.step)
        latest = self._latest.get(subject)
        if latest is not None and event.order <= latest:
            self.stale += 1  # late, or the same state again: what was applied is as new or newer
            return False
        self._latest[subject] = event.order
        self._latest.move_to_end(subject)
        if len(self._latest) > self.remembered:
            self._latest.popitem(last=False)
        return True


def apply_batch(events: list[PipelineEvent], ledger: Ledger, planner: Planner) -> tuple[int, int]:
    """Apply one batch of events in event order, those the ledger admits; returns (admitted, changed
    something). A step's first event while a step it depends on is shown running shows that step's end
    lost: checked once the whole batch is in (within one second, a step's start sorts before the end of
    the step it waited for)."""
    events.sort(key=lambda e: e.order)
    admitted = applied = 0
    started: list[tuple[str, str]] = []
    for event in events:
        if not ledger.admit(event):
            continue
        admitted += 1
        if apply(event, planner, started):
            applied += 1
    for arn, step in started:
        if _waits_on_running(planner, arn, step):
            planner.reconciler.gap(arn)
    return admitted, applied


def apply(event: PipelineEvent, planner: Planner, started: list[tuple[str, str]] | None = None) -> bool:
    """Apply one admitted event to the planner's store, as a poll would have; True if it changed something.

    An execution the store does not know (a new run) lists its pipeline at once: the list brings it with the
    name ListPipelines spells. Steps of an execution never polled wait for its first full step list.
    A step seen for the first time is added to `started` (`apply_batch` checks what it waited for).
    """
    store = planner.store
    execution = store.executions.get(event.execution_arn)
    if execution is None:
        name = _pipeline_named(planner, event.pipeline_arn)
        if name is not None:
            planner.nudge_pipeline(name)
        else:
            planner.unknown_pipeline(event.pipeline_arn)
        return False
    if event.step is None:
        confirmed = store.polled.get(event.execution_arn)
        if confirmed is not None and event.time < confirmed - POLL_TOLERANCE:
            return False
        if not _follows(execution.status.value, event):
            planner.reconciler.gap(event.execution_arn)
        status = ExecutionStatus(event.status)
        # A failure reason is not in the documented detail: a failed run without one keeps no end time, so
        # that a Describe (which gives both) reads them, as it does after a poll.
        ends = status.is_terminal and (status is not ExecutionStatus.FAILED or event.failure_reason)
        fresh = dataclasses.replace(
            execution,
            status=status,
            started=event.started or execution.started,
            display_name=event.display_name or execution.display_name,
            ended=event.ended if ends else None,
            failure_reason=event.failure_reason if status.is_terminal else None,
        )
        if (
            status.is_terminal
            and execution.is_active
            and planner.reconciler.shows_running(event.execution_arn)
        ):
            planner.reconciler.gap(
                event.execution_arn
            )  # it ended while a step is shown running: that end was lost
        merged = store.merge_described(fresh, polled=False)
        planner.merged(*merged)
        return bool(merged[0])
    runs = store.runs.get(event.execution_arn)
    run = event.run
    if runs is None or run is None:
        planner.scheduler.setdefault(PollKey(PollKind.STEPS, event.execution_arn), planner.now())
        return False
    confirmed = store.steps_polled.get(event.execution_arn)
    if confirmed is not None and event.time < confirmed - POLL_TOLERANCE:
        return False
    attempts = [r for r in runs.values() if r.name == run.name]
    latest = max(attempts, key=lambda r: r.attempt, default=None)
    if not _follows(None if latest is None else latest.status.value, event):
        planner.reconciler.gap(event.execution_arn)
    elif latest is None and started is not None:
        started.append((event.execution_arn, run.name))
    if latest is not None and run.attempt == 1 and latest.attempt > 1:
        run = dataclasses.replace(run, attempt=latest.attempt)  # the event does not say the attempt
    if latest is not None and latest.attempt == run.attempt:
        run = _merged_run(latest, run)
    if not store.merge_runs(event.execution_arn, [run], full=False, polled=False):
        return False
    planner.quiet[event.execution_arn] = 0
    planner.emit(StepsChanged(event.execution_arn))
    if run.status.is_done and execution.is_active and planner.push is not None:
        tree = store.tree(event.execution_arn)
        if tree is not None and all(node.status.is_done for _, node in tree.walk()):
            planner.reconciler.expect_end(event.execution_arn)  # its own end event is due
    return True


def _follows(held: str | None, event: PipelineEvent) -> bool:
    """Whether the event follows what the store holds without a lost event between: its previous status
    is the one held, or it brings what is held already (a poll read it first), or something older (late)."""
    if held is None:
        return event.previous is None or event.previous == "Starting"  # a Starting may never be seen
    return held in (event.previous, event.status) or status_rank(held) > status_rank(event.status)


def _waits_on_running(planner: Planner, arn: str, step: str) -> bool:
    """Whether this step, starting, depends on a step the store shows running: that step's end was lost."""
    graph = planner.store.graphs.get(arn)
    if graph is None or step not in graph:
        return False
    depends = set(graph[step].depends_on)
    if not depends:
        return False
    runs = planner.store.runs.get(arn, {})
    return any(r.name in depends and r.status.is_active for r in runs.values())


def _merged_run(old: StepRun, new: StepRun) -> StepRun:
    """A step run as an event updates it: what the event leaves out (its metadata on a status change that
    carries none, a display name) stays as the poll read it."""
    keep_metadata = new.metadata_kind is None
    return dataclasses.replace(
        new,
        started=new.started or old.started,
        display_name=new.display_name or old.display_name,
        cache_source_arn=new.cache_source_arn or old.cache_source_arn,
        selective_source_arn=old.selective_source_arn,
        metadata_kind=old.metadata_kind if keep_metadata else new.metadata_kind,
        job_arn=old.job_arn if keep_metadata else new.job_arn,
        condition_outcome=old.condition_outcome if keep_metadata else new.condition_outcome,
        callback_token=old.callback_token if keep_metadata else new.callback_token,
        outputs=old.outputs if keep_metadata else new.outputs,
        fail_message=old.fail_message if keep_metadata else new.fail_message,
        parent_step=old.parent_step,
        iteration_index=old.iteration_index,
        iteration_item=old.iteration_item,
        foreach=old.foreach if keep_metadata else new.foreach,
    )


def _pipeline_named(planner: Planner, pipeline_arn: str) -> str | None:
    """The name ListPipelines gives the pipeline of this ARN (an ARN spells it in lower case)."""
    name = pipeline_arn.rsplit(":pipeline/", 1)[-1].split("/", 1)[0].lower()
    for known in planner.store.pipelines:
        if known.lower() == name:
            return known
    return None


# The metadata of a step event is the API's `Metadata` in camel case (`{"trainingJob": {"arn": ...}}`); a
# few kinds are spelled otherwise in the API.
_SPELLED = {"emr": "EMR", "autoMLJob": "AutoMLJob", "automlJob": "AutoMLJob"}


def _pascal(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {_SPELLED.get(k, k[:1].upper() + k[1:]): _pascal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_pascal(v) for v in value]
    return value


def _time(value: Any) -> datetime | None:
    """An event's time: ISO 8601 (`2021-10-25T01:52:12Z`) or epoch seconds/milliseconds."""
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
