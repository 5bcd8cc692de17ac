"""Push mode's polls: the events are the source of truth, and polls only reconcile, on a budget of their own.

While the events queue is read and no event goes missing (`Updates.reconciling`), the planner paces polls
with a `PushPlan` instead of the polling intervals:

- **Lost events are detected, and only those reconciled at once** (`smtui.core.push.apply` finds them,
  `Reconciler.gap` schedules the read): each event says the status it replaces (`previousStepStatus`,
  `previousPipelineExecutionStatus`), so an event whose previous status is neither what the store holds nor
  its own status shows an event lost before it; so does a step starting while a step it depends on is shown
  running (its end was lost), and an execution ending while one of its steps is shown running. The
  execution's steps are then read `GAP_GRACE` seconds later (the gaps of a batch or two make one read).
  An execution that ends with its events consistent costs no final step read.
- **Reconciliation walks everything else, oldest-confirmed first, at a fixed rate per context**: each poll
  of a step list or a pipeline's list off screen takes the next free slot of its `Calendar` (one slot per
  `60 / STEPS_PER_MIN` s for step lists, `60 / LISTS_PER_MIN` s for pipeline lists), so that whatever the
  number of active executions, reconciliation costs `STEPS_PER_MIN + LISTS_PER_MIN` calls a minute per
  context, and a target is never reconciled more often than its floor (`Paces.pushed`: steps 20 min,
  lists 3 min at the default intervals). A small account's targets wait their floor; a large one's, the
  cycle: at issue 15's organisation (a context of 333 active executions in 67 pipelines) step lists every
  333 / 8 ≈ 42 min and pipeline lists every 67 / 3 ≈ 22 min. What a lost event left wrong and no later
  event revealed (the last status of an execution's last step) is right within that cycle.
- **What is on screen stays fresh**: the open execution's steps every 10 s (the events give the statuses;
  the read brings what they leave out) and its pipeline's list every 60 s; each row in view, its steps and
  its pipeline's list every 10 min (`Paces.pushed`).
- An execution's own end event lost: once every step of a running execution is done (as the events tell),
  its end event is due; if it has not come within `END_GRACE` seconds, one Describe reads the end.
- New executions: an event of an unknown one lists its pipeline at once (an unknown pipeline: ListPipelines,
  once per pipeline); discovery every 5 min.

The cost at issue 15's organisation (3 contexts, 30 rows in view, one open): reconciliation 3 × (8 + 3) =
33 calls/min (0.55/s); rows in view 30 step lists and at most 30 pipeline lists per 10 min (≤ 0.1/s); the
open execution 6 + 1 a minute (0.12/s); discovery 3 per 5 min (0.01/s): ≤ 0.78 calls/s in all, against
≤ 1 asked. (`benchmarks/push_bench.py` measures it: docs/benchmarks.md.)

When events go missing often (`LOSSY_SHARE` of them in the last `LOSS_WINDOW` seconds, and at least
`LOSSY_GAPS`), reconciling that slowly would leave too much wrong: the feed says `lossy` and the monitor
polls at full pace, as without events, until a window passes without a gap.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from smtui.core.poll_keys import PollKey, PollKind
from smtui.core.scheduler import Scheduler
from smtui.core.store import Store
from smtui.core.tree import latest_runs

STEPS_PER_MIN = 8.0  # step lists reconciled per minute and context (off screen)
LISTS_PER_MIN = 3.0  # pipeline lists reconciled per minute and context (off screen)
GAP_GRACE = 2.0  # seconds between a gap seen and the read it asks for
END_GRACE = 10.0  # seconds an execution whose every step is done waits for its end event before a Describe
LOSS_WINDOW = 120.0  # seconds of events the share of lost ones is measured over
LOSSY_SHARE = 0.02  # lossy from this share of events showing a gap...
LOSSY_GAPS = 5  # ...and at least this many gaps in the window


@dataclass
class Calendar:
    """Slots `spacing` seconds apart (monotonic clock): each target reconciled takes the next free one, and
    waits at least `floor`. Calls stay at most one per `spacing`, whatever the number of targets; a target
    polled again before its slot (a gap, the screen) leaves that slot empty."""

    spacing: float
    next_free: float = 0.0

    def take(self, now: float, floor: float) -> float:
        """Seconds from `now` to the next reconciliation of a target polled now."""
        at = max(now + floor, self.next_free)
        self.next_free = at + self.spacing
        return at - now


class PushPlan:
    """The calendars of one monitor in push mode (see the module's docstring)."""

    def __init__(self, now: float) -> None:
        self.steps = Calendar(60.0 / STEPS_PER_MIN, now)
        self.lists = Calendar(60.0 / LISTS_PER_MIN, now)


class LossMeter:
    """The share of recent events that showed a gap, and whether the feed counts as lossy (with hysteresis:
    lossy from `LOSSY_SHARE`, clear again after a window without a gap)."""

    def __init__(self, window: float = LOSS_WINDOW) -> None:
        self.window = window
        self._batches: deque[tuple[float, int, int]] = deque()  # (time, events, gaps)
        self.lossy = False

    def note(self, now: float, events: int, gaps: int) -> bool:
        """A batch applied: `events` admitted, `gaps` seen. Returns whether the feed is lossy now."""
        self._batches.append((now, events, gaps))
        while self._batches and now - self._batches[0][0] > self.window:
            self._batches.popleft()
        events_in = sum(b[1] for b in self._batches)
        gaps_in = sum(b[2] for b in self._batches)
        if gaps_in >= LOSSY_GAPS and gaps_in >= LOSSY_SHARE * max(1, events_in):
            self.lossy = True
        elif gaps_in == 0:
            self.lossy = False
        return self.lossy

    @property
    def share(self) -> float:
        """Gaps per event over the window."""
        events_in = sum(b[1] for b in self._batches)
        return sum(b[2] for b in self._batches) / max(1, events_in)


class Reconciler:
    """Lost events, as the events show them (`smtui.core.push` finds them): the reads and Describes they ask
    for, and which executions are suspect until their steps are read. Kept in either mode: events are
    applied while the monitor polls too."""

    def __init__(self, store: Store, scheduler: Scheduler[PollKey], now: Callable[[], float]) -> None:
        self.store = store
        self.scheduler = scheduler
        self.now = now
        self.gaps_seen = 0  # events that showed an event lost before them (`gap`)
        self.suspect: set[str] = set()  # executions with a gap seen since their last step read
        self.expecting: set[str] = set()  # running executions whose every step is done: the end is due

    def gap(self, arn: str) -> None:
        """An event showed that an event of this execution was lost before it: read its steps soon (the
        gaps of a batch or two make one read)."""
        self.gaps_seen += 1
        self.suspect.add(arn)
        if arn in self.store.runs:
            self.scheduler.schedule(PollKey(PollKind.STEPS, arn), self.now() + GAP_GRACE)

    def read(self, arn: str) -> None:
        """Its steps were read: whatever an event lost is in."""
        self.suspect.discard(arn)

    def consistent(self, arn: str) -> bool:
        """No gap seen in this execution's events since its steps were last read, and no step of it shown
        running: an end needs no final step read."""
        return arn not in self.suspect and not self.shows_running(arn)

    def shows_running(self, arn: str) -> bool:
        runs = self.store.runs.get(arn, {})
        return any(r.status.is_active for r in latest_runs(list(runs.values())).values())

    def expect_end(self, arn: str) -> None:
        """Every step of this running execution is done (as the events tell): its end event is due. If it
        has not come within `END_GRACE` seconds (lost), a Describe reads the end."""
        key = PollKey(PollKind.DESCRIBE, arn)
        busy = key in self.scheduler.due or key in self.scheduler.in_flight
        if arn not in self.expecting and not busy:
            self.expecting.add(arn)
            self.scheduler.setdefault(key, self.now() + END_GRACE)

    def end_seen(self, arn: str) -> None:
        """The end `expect_end` waited for came (an event, or a list): no Describe for it."""
        if arn in self.expecting:
            self.expecting.discard(arn)
            self.scheduler.cancel(PollKey(PollKind.DESCRIBE, arn))

    def described(self, arn: str) -> None:
        self.expecting.discard(arn)

    def forget(self, gone: Iterable[str]) -> None:
        """Executions the store forgot."""
        self.suspect.difference_update(gone)
        self.expecting.difference_update(gone)
