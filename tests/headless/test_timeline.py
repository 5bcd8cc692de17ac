"""`smtui show --timeline`: the Gantt chart of an execution against the emulator: a bar per step, the
ForEach iterations under their step, the wait before a step kept apart, the attempts of a retried
execution as segments of their own, and the critical path."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from click.testing import Result
from emulator_proc import DEFINITIONS, EmulatorProcess


def _bar(lines: list[str], name: str) -> str:
    return next(line for line in lines if line[1:].lstrip().startswith(name + " "))


def test_timeline_draws_steps_iterations_and_the_critical_path(
    smtui: Callable[..., Result], emu: EmulatorProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = f"cmp-{uuid.uuid4().hex[:6]}"
    emu.create_pipeline(pipeline, (DEFINITIONS / "compare.json").read_text())
    arn = emu.start_execution(pipeline)
    assert emu.run_until_done(arn) == "Succeeded"
    monkeypatch.setenv("COLUMNS", "100")
    result = smtui("show", arn, "--timeline")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert all(len(line) <= 100 for line in lines)
    order = [lines.index(_bar(lines, n)) for n in ("Preprocess", "Train", "Shards", "Score-0", "Score-1")]
    assert order == sorted(order)
    # Preprocess, then Train, then the ForEach: each one's bar starts where the one before ended.
    pre, train, shards = _bar(lines, "Preprocess"), _bar(lines, "Train"), _bar(lines, "Shards")
    assert pre.index("█") < train.index("█") < shards.index("█")
    assert all(bar.startswith("*") for bar in (pre, train, shards))  # the chain that decided the total
    assert "  Score-" in _bar(lines, "Score-0")  # an iteration, indented under its step
    assert sum(_bar(lines, f"Score-{i}").startswith("*") for i in (0, 1)) == 1  # the one that ended last
    assert "█ succeeded" in "\n".join(lines[-2:]) and "· waiting" in "\n".join(lines[-2:])


def test_timeline_shows_a_failed_attempt_and_its_retry_apart(
    smtui: Callable[..., Result], emu: EmulatorProcess
) -> None:
    pipeline = f"flaky-{uuid.uuid4().hex[:6]}"
    emu.create_pipeline(pipeline, (DEFINITIONS / "train-retry-cache.json").read_text())
    arn = emu.start_execution(pipeline)
    assert emu.run_until_done(arn) == "Failed"
    emu.advance(120)
    emu.boto().retry_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=uuid.uuid4().hex)
    assert emu.run_until_done(arn) == "Succeeded"
    lines = smtui("show", arn, "--timeline").output.splitlines()
    train = _bar(lines, "Train")
    # The failed attempt's times are not listed any more (the entry is reused): drawn apart, before the last.
    assert "░" in train and "█" in train and train.rindex("░") < train.index("█")
    assert "·" not in train and train.rstrip().endswith("×2")
    assert "░ earlier attempts" in "\n".join(lines[-2:])
