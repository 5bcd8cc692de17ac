"""Step graphs read once per distinct definition: which executions must share one, and which one reads it.

DescribePipelineDefinitionForExecution answers for one execution, and a monitor opened on 1,000 running
executions of 20 pipelines spent its first minute and a half on 1,000 of them for 20 distinct definitions
(issue 15, "Cold start at scale"). What says which executions share a definition:

- An execution runs a version of its pipeline that existed when it started: the one StartPipelineExecution's
  `PipelineVersionId` names, by default the latest. ListPipelineVersions (one call per pipeline) gives each
  version's creation time, so an execution for which only one version had been created when it started ran
  that one: every execution of a pipeline with one version, and those that started before the second version
  existed. A version's `LastExecutionPipelineExecutionArn` names one more.
- Those executions share one read: one of them reads its definition (the most urgent: a row in view before one
  off screen), and the others get its graph when it arrives. Only an execution that could have run another
  version reads its own.
- The versions list answers for executions that started before it was read (less `MARGIN`, the clock skew
  the client may not have noticed). Several that started later ask for it again, once for all of them; if
  they started within the margin of a read, once more `MARGIN` later (just-started runs: `smtui wait` after
  a sweep), and after that each reads its own.
- A lone execution (`smtui wait`, a new run) reads its own at once, and so do two (`SHARE_FROM`). While
  the versions are read, the pipeline's most urgent execution reads its own too (rows in view do not wait for
  the list), and its graph serves its version once the list says which.
- A pipeline whose versions cannot be listed (a policy without `sagemaker:ListPipelineVersions`): each of its
  executions reads its own, as before.

`Definitions` only decides: each method returns a `Plan` (reads to schedule or cancel, versions to list,
graphs to hand out) that the `Planner` carries out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from smtui.core.definition import StepGraph
from smtui.core.model import Execution, PipelineVersion
from smtui.core.store import Store

MARGIN = timedelta(seconds=3)  # a skew under the client's tolerance (2 s) goes unnoticed; and a little more
# Waiting runs of a pipeline from which its versions list is worth it: the list and one read for all (and, for
# runs that had just started, a second list) against a read each.
SHARE_FROM = 3
RECENT = 10.0  # seconds after a versions read during which a second one is made only once (`MARGIN` later)


@dataclass
class Plan:
    """What a decision asks for: DEFINITION polls to schedule (`read`) or cancel, VERSIONS polls, graphs."""

    read: list[str] = field(default_factory=list)
    cancel: list[str] = field(default_factory=list)
    versions: list[tuple[str, float]] = field(default_factory=list)  # (pipeline, when: monotonic)
    give: list[tuple[str, StepGraph]] = field(default_factory=list)


@dataclass
class _Versions:
    as_of: datetime  # executions that started before this are covered by the list
    versions: list[PipelineVersion]
    read_at: float  # monotonic time of the read
    again: bool  # this read was the second of a short while: uncovered runs now read their own


class Definitions:
    """Which executions wait for a definition, which one reads it for its version (see the module)."""

    def __init__(
        self,
        store: Store,
        priority: Callable[[str], int],
        busy: Callable[[str], bool],
        now: Callable[[], float],
    ) -> None:
        self.store = store
        self._priority = priority  # of an execution: 0 on screen, 1 in view, 2 the rest
        self._busy = busy  # whether its definition read is in flight (it can no longer be cancelled)
        self._now = now
        self.versions: dict[str, _Versions] = {}
        self.refused: set[str] = set()  # pipelines whose versions cannot be listed
        self.shared: dict[tuple[str, int], StepGraph] = {}  # (pipeline, version) → its graph
        self.wanting: dict[str, set[str]] = {}  # pipeline → executions waiting for a graph
        self.reading: dict[str, set[str]] = {}  # pipeline → executions whose read is scheduled or in flight
        self.listing: set[str] = set()  # pipelines whose versions are being listed
        self._again: set[str] = set()  # pipelines whose next list is the second of a short while
        # pipeline → executions read by a call whose version the list does not tell yet → their graphs
        self._own: dict[str, dict[str, StepGraph]] = {}

    # -- what the planner tells -------------------------------------------------------------------

    def want(self, arn: str) -> Plan:
        """This execution is shown or running: it needs its graph."""
        execution = self.store.executions.get(arn)
        if execution is None or arn in self.store.graphs:
            return Plan()
        wanting = self.wanting.setdefault(execution.pipeline_name, set())
        if arn in wanting and (
            arn in self.reading.get(execution.pipeline_name, ()) or self._priority(arn) > 1
        ):
            return Plan()  # nothing new (a row in view may take over its version's read: see `plan`)
        wanting.add(arn)
        return self.plan(execution.pipeline_name)

    def versions_read(self, name: str, versions: list[PipelineVersion], as_of: datetime) -> Plan:
        self.listing.discard(name)
        again = name in self._again
        self._again.discard(name)
        self.versions[name] = _Versions(as_of - MARGIN, versions, self._now(), again)
        return self.plan(name)

    def versions_refused(self, name: str) -> Plan:
        """ListPipelineVersions failed for good (access denied, not supported): each reads its own."""
        self.listing.discard(name)
        self.refused.add(name)
        return self.plan(name)

    def read(self, arn: str, graph: StepGraph) -> Plan:
        """This execution's own read answered: its graph, and its version's once the list says which."""
        execution = self.store.executions.get(arn)
        if execution is None:
            return Plan()
        name = execution.pipeline_name
        self.reading.get(name, set()).discard(arn)
        self.wanting.get(name, set()).discard(arn)
        if name not in self.refused:
            self._own.setdefault(name, {})[arn] = graph
        plan = self.plan(name)
        plan.give.insert(0, (arn, graph))
        return plan

    def dropped(self, arn: str, name: str) -> Plan:
        """Its read will not answer (the service no longer knows it): another one reads for its version."""
        self.reading.get(name, set()).discard(arn)
        self.wanting.get(name, set()).discard(arn)
        return self.plan(name)

    def forget(self, arns: Iterable[str]) -> None:
        """Evicted executions (their polls are cancelled by the planner): the next `want` re-plans."""
        gone = set(arns)
        for table in (self.wanting, self.reading):
            for arns_of in table.values():
                arns_of.difference_update(gone)
        for own in self._own.values():
            for arn in gone & own.keys():
                del own[arn]

    def priority(self, name: str) -> int:
        """Of the pipeline's versions list: that of the most urgent execution it would serve."""
        return min((self._priority(arn) for arn in self.wanting.get(name, ())), default=2)

    # -- deciding ---------------------------------------------------------------------------------

    def version_of(self, execution: Execution) -> int | None:
        """The version this execution must have run, if the versions list says (None: it could be any of
        several, or the list does not cover it)."""
        known = self.versions.get(execution.pipeline_name)
        started = execution.started
        if known is None or started is None or started > known.as_of:
            return None
        for version in known.versions:
            if version.last_execution_arn == execution.arn:
                return version.version_id
        candidates = [v for v in known.versions if v.created is None or v.created <= started]
        return candidates[0].version_id if len(candidates) == 1 else None

    def _covered(self, execution: Execution) -> bool:
        known = self.versions.get(execution.pipeline_name)
        started = execution.started
        return known is not None and started is not None and started <= known.as_of

    def plan(self, name: str) -> Plan:
        """Everything the pipeline's waiting executions need now."""
        plan = Plan()
        store = self.store
        reading = self.reading.setdefault(name, set())
        # Graphs read by a call: each serves its version once the list says which.
        own = self._own.get(name, {})
        for arn, graph in list(own.items()):
            execution = store.executions.get(arn)
            if execution is None:
                del own[arn]
            elif self._covered(execution):
                del own[arn]
                version = self.version_of(execution)
                if version is not None:
                    self.shared.setdefault((name, version), graph)
        groups: dict[int, list[str]] = {}
        uncovered: list[str] = []
        wanting = self.wanting.get(name, set())
        for arn in list(wanting):
            execution = store.executions.get(arn)
            if execution is None or arn in store.graphs:
                wanting.discard(arn)
                continue
            if name in self.refused:
                self._read(arn, plan, reading)
                continue
            if not self._covered(execution):
                uncovered.append(arn)
                continue
            version = self.version_of(execution)
            shared = None if version is None else self.shared.get((name, version))
            if shared is not None:
                wanting.discard(arn)
                plan.give.append((arn, shared))
                if arn in reading and not self._busy(arn):  # its read was for the others: not needed
                    reading.discard(arn)
                    plan.cancel.append(arn)
            elif version is None:
                self._read(arn, plan, reading)  # it could have run another version
            else:
                groups.setdefault(version, []).append(arn)
        for members in groups.values():
            self._one_reads(members, plan, reading)
        if uncovered:
            known = self.versions.get(name)
            recent = known is not None and self._now() - known.read_at < RECENT
            if len(uncovered) < SHARE_FROM or (known is not None and recent and known.again):
                for arn in uncovered:  # few, or not covered by two lists in a row: each reads its own
                    self._read(arn, plan, reading)
            else:
                if name not in self.listing:
                    self.listing.add(name)
                    at = self._now()
                    if known is not None and recent:  # started within the margin of that read
                        at = known.read_at + MARGIN.total_seconds() + 0.5
                        self._again.add(name)
                    plan.versions.append((name, at))
                # The most urgent does not wait for the list: it reads its own (once: the next waits for
                # the list unless it is more urgent than the one read).
                probed = min((self._priority(arn) for arn in own), default=None)
                if probed is None or probed > min(self._priority(arn) for arn in uncovered):
                    self._one_reads(uncovered, plan, reading)
        return plan

    def _read(self, arn: str, plan: Plan, reading: set[str]) -> None:
        if arn not in reading:
            reading.add(arn)
            plan.read.append(arn)

    def _one_reads(self, members: list[str], plan: Plan, reading: set[str]) -> None:
        """One of these reads for all: the most urgent; another that is not in flight yet gives way to it."""
        best = min(members, key=self._priority)
        readers = [arn for arn in members if arn in reading]
        if any(self._busy(arn) for arn in readers):
            return
        if readers and min(self._priority(arn) for arn in readers) <= self._priority(best):
            best = min(readers, key=self._priority)
        for arn in readers:
            if arn != best:
                reading.discard(arn)
                plan.cancel.append(arn)
        self._read(best, plan, reading)
