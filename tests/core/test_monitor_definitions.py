"""Definitions read once per version (`smtui.core.definitions`), and what rows in view need read first,
against an emulator over HTTP on virtual time. Counts come from `/_emulator/stats`; the order of calls from
the client's per-attempt listener."""

from __future__ import annotations

import json
from typing import Any

from emulator_proc import EmulatorProcess
from test_monitor import definition, make_monitor, name
from virtual_time import VirtualTime

from smtui.core.client import SageMakerClient
from smtui.core.monitor import Monitor

DEFINITION_CALLS = ("DescribePipelineDefinitionForExecution", "ListPipelineVersions")


def spent_since(emu: EmulatorProcess, before: dict[str, int]) -> dict[str, int]:
    after = emu.stats()
    return {op: n - before.get(op, 0) for op, n in after.items() if n - before.get(op, 0)}


def with_audit_step() -> dict[str, Any]:
    """train-retry-cache.json with one more step: a second version a tree tells apart from the first."""
    parsed: dict[str, Any] = json.loads(definition("train-retry-cache.json"))
    audit = json.loads(json.dumps(parsed["Steps"][0]))  # a Processing step
    audit["Name"] = "Audit"
    audit["DependsOn"] = ["Train"]
    parsed["Steps"].append(audit)
    return parsed


def step_names(monitor: Monitor, arn: str) -> set[str]:
    graph = monitor.graph(arn)
    assert graph is not None
    return set(graph.steps)


async def test_a_pipeline_with_one_version_reads_its_definition_once(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = name("onever")
    emu.create_pipeline(pipeline, definition("train-retry-cache.json"))
    arns = [emu.start_execution(pipeline) for _ in range(6)]
    emu.advance(10)  # each one in its first step
    before = emu.stats()
    vt = VirtualTime(emu)
    monitor = make_monitor(client, vt, pipeline)
    await monitor.start()
    try:
        await vt.until(lambda: all(monitor.progress(a) is not None for a in arns))
        await vt.settle(monitor)
        spent = spent_since(emu, before)
        # Six executions, one version: one versions list and one definition, shared by all six.
        assert {op: spent.get(op, 0) for op in DEFINITION_CALLS} == {
            "DescribePipelineDefinitionForExecution": 1,
            "ListPipelineVersions": 1,
        }, spent
        for arn in arns:
            assert step_names(monitor, arn) == {"Preprocess", "Train", "Register"}
            tree = monitor.tree(arn)
            assert tree is not None and [n.name for n in tree.roots] == ["Preprocess", "Train", "Register"]
    finally:
        await monitor.stop()


async def test_after_an_update_old_runs_share_their_version_and_new_ones_read_their_own(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipeline = name("updated")
    emu.create_pipeline(pipeline, definition("train-retry-cache.json"))
    old = [emu.start_execution(pipeline) for _ in range(4)]
    emu.advance(10)
    sm = emu.boto()
    assert (
        sm.update_pipeline(PipelineName=pipeline, PipelineDefinition=json.dumps(with_audit_step()))[
            "PipelineVersionId"
        ]
        == 2
    )
    emu.advance(10)
    # After the update: two runs of the latest version (the default), and one started on the first
    # version explicitly: each could have run either, as far as creation times tell.
    new = [emu.start_execution(pipeline) for _ in range(2)]
    pinned = sm.start_pipeline_execution(PipelineName=pipeline, PipelineVersionId=1)["PipelineExecutionArn"]
    emu.advance(10)
    before = emu.stats()
    vt = VirtualTime(emu)
    monitor = make_monitor(client, vt, pipeline)
    await monitor.start()
    try:
        everything = [*old, *new, pinned]
        await vt.until(lambda: all(monitor.progress(a) is not None for a in everything))
        await vt.settle(monitor)
        spent = spent_since(emu, before)
        # The four old runs started before version 2 existed: they share one read. Of the three that started
        # after, the list names the latest run of each version (`LastExecutionPipelineExecutionArn`: the
        # pinned one for version 1, which then shares the old runs' read, and new[1] for version 2); new[0]
        # could have run either and reads its own. One read per version, and one.
        assert spent.get("ListPipelineVersions", 0) == 1, spent
        assert spent.get("DescribePipelineDefinitionForExecution", 0) == 2 + 1, spent
        for arn in old:
            assert step_names(monitor, arn) == {"Preprocess", "Train", "Register"}
        for arn in new:
            assert step_names(monitor, arn) == {"Preprocess", "Train", "Register", "Audit"}
        assert step_names(monitor, pinned) == {
            "Preprocess",
            "Train",
            "Register",
        }  # what it ran, not the latest
    finally:
        await monitor.stop()


async def test_rows_in_view_get_their_definition_and_steps_before_anything_off_screen(
    emu: EmulatorProcess, client: SageMakerClient
) -> None:
    pipelines = [name(f"view{i}") for i in range(3)]
    arns: dict[str, list[str]] = {}
    for pipeline in pipelines:
        emu.create_pipeline(pipeline, definition("train-retry-cache.json"))
        arns[pipeline] = [emu.start_execution(pipeline) for _ in range(8)]
    emu.advance(10)
    in_view = [arns[pipelines[0]][0], arns[pipelines[0]][1], arns[pipelines[2]][3]]
    off_screen = [a for runs in arns.values() for a in runs if a not in in_view]
    calls: list[str] = []
    unlisten = client.add_listener(lambda operation, code: calls.append(operation))
    vt = VirtualTime(emu)
    # A tight budget: what goes first is the planner's choice, not the order the calls happen to end in.
    monitor = make_monitor(client, vt, *pipelines, rate=2.0, max_in_flight=1)
    monitor.set_visible(in_view)
    await monitor.start()
    seen: list[list[str]] = []
    off_screen_read: list[bool] = []

    def see() -> None:
        if not seen and all(monitor.progress(a) is not None for a in in_view):
            seen.append(list(calls))
            off_screen_read.append(any(monitor.steps_refreshed(a) for a in off_screen))

    try:
        await vt.observe(see, 30.0)
        assert seen, "the rows in view never showed progress"
        first = seen[0]
        # By then: the pipelines listed, and for the rows in view their steps (one read each) and the
        # definitions of their two pipelines (with the versions lists that let the other rows share them):
        # not one step read, nor one definition, of a row off screen.
        assert first.count("ListPipelineExecutionSteps") == len(in_view), first
        assert first.count("DescribePipelineDefinitionForExecution") <= 2, first
        assert first.count("ListPipelineExecutions") == len(pipelines), first
        assert off_screen_read == [False]
        await vt.until(lambda: all(monitor.progress(a) is not None for a in off_screen))
        assert calls.count("DescribePipelineDefinitionForExecution") <= len(pipelines) + 1, calls
    finally:
        unlisten()
        await monitor.stop()
