"""Following a step's logs as a view would, for the tests: on a simulated clock whose every wait advances the
emulator's clock instead of sleeping (so time is exact and tests are fast), the test standing in for the
monitor's step polls; what the follower published, with the simulated time of each line."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from emulator_proc import DEFINITIONS, EmulatorProcess
from served_logs import Event

from smtui.core.client import SageMakerClient
from smtui.core.definition import parse_definition
from smtui.core.log_follow import LogFollows
from smtui.core.logs import LogEvent, LogFollowChanged, LogLinesRead, LogState
from smtui.core.logs_client import LogsClient
from smtui.core.model import StepNode, StepTree
from smtui.core.tree import build_tree

TRAIN = (DEFINITIONS / "train-retry-cache.json").read_text()
CF = (DEFINITIONS / "condition-foreach.json").read_text()


class SimClock:
    """Simulated seconds: `sleep(s)` advances the emulator's clock by s and returns at once, after
    `after_advance` (the test's stand-in for the monitor's step polls). Only the follower sleeps on it, so
    simulated time is exactly the sum of its waits."""

    def __init__(
        self, emu: EmulatorProcess, after_advance: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self.emu = emu
        self.t = 0.0
        self.after_advance = after_advance

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds
        self.emu.advance(seconds)
        if self.after_advance is not None:
            await self.after_advance()


@dataclass
class Followed:
    """What a follow published, with the simulated time of each event."""

    lines: list[tuple[float, Event]] = field(default_factory=list)  # (sim time published, the line)
    states: list[LogFollowChanged] = field(default_factory=list)
    final: LogState | None = None
    rates: list[float] = field(default_factory=list)

    @property
    def events(self) -> list[Event]:
        return [event for _, event in self.lines]

    @property
    def messages(self) -> list[str]:
        return [event.message for _, event in self.lines]

    @property
    def jobs(self) -> list[str]:
        """The jobs it read, in order."""
        names = [s.source.job_name for s in self.states if s.source is not None and s.source.job_name]
        return list(dict.fromkeys(names))


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def tree_of(client: SageMakerClient, arn: str) -> StepTree:
    execution = await client.describe_execution(arn)
    graph = parse_definition(await client.definition(arn))
    return build_tree(graph, execution, await client.list_steps(arn), now=client.now())


def node_of(tree: StepTree, step: str) -> StepNode:
    return next(node for _, node in tree.walk() if node.name == step)


def advance_until(emu: EmulatorProcess, arn: str, step: str, status: str, limit: int = 200) -> None:
    sm = emu.boto()
    for _ in range(limit):
        steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
        if any(s["StepName"] == step and s["StepStatus"] == status for s in steps):
            return
        emu.advance(1)
    raise AssertionError(f"{step} never {status}")


async def follow(
    client: SageMakerClient,
    emu: EmulatorProcess,
    arn: str,
    step: str,
    *,
    follow: bool = True,
    interval: float = 2.0,
    max_interval: float = 10.0,
    quiet_after: float = 30.0,
    rate: float = 2.0,
    mode: str = "filter",
    on_logs: Callable[[LogsClient], None] | None = None,
) -> Followed:
    """Follow `step` as a view would, the test standing in for the monitor: it reads the step each time the
    follower's clock advances (with `follow`), and passes the tree on."""
    follows: LogFollows | None = None

    async def step_poll() -> None:
        if follow and follows is not None:
            follows.tree_changed(arn, await tree_of(client, arn))

    clock = SimClock(emu, step_poll)
    seen = Followed()
    async with LogsClient(client, rate=rate, clock=clock) as logs:
        if on_logs is not None:
            on_logs(logs)

        def publish(event: LogEvent) -> None:
            seen.rates.append(logs.budget.rate)
            if isinstance(event, LogLinesRead):
                seen.lines += [(clock.t, Event(x.timestamp, x.stream, x.message)) for x in event.lines]
            else:
                seen.states.append(event)

        follows = LogFollows(
            logs,
            client,
            publish=publish,
            interval=interval,
            max_interval=max_interval,
            quiet_after=quiet_after,
            mode=mode,
        )
        tree = await tree_of(client, arn)
        follows.follow(arn, node_of(tree, step), follow=follow)
        states = await follows.join()
        seen.final = states[(arn, step)]
    return seen
