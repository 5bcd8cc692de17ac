"""The time left (`remaining_s`, `remaining`) in `ls --json` and `show --json`, and in `show`'s text: the
median of the pipeline's last successful runs minus the elapsed time, and said plainly when there is no
history or when the run is already longer than every earlier one."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime

import pytest
from click.testing import Result
from emulator_proc import DEFINITIONS, EmulatorProcess


def _definition() -> str:
    # Preprocess reads Epochs: a run with another value misses the cache, longer than the ones that hit.
    doc = json.loads((DEFINITIONS / "compare.json").read_text())
    doc["Steps"][0]["Arguments"]["AppSpecification"]["ContainerArguments"] = [
        "--epochs",
        {"Get": "Parameters.Epochs"},
    ]
    return json.dumps(doc)


def _duration(emu: EmulatorProcess, arn: str) -> float:
    reply = emu.boto().describe_pipeline_execution(PipelineExecutionArn=arn)
    start: datetime = reply["CreationTime"]
    end: datetime = reply["LastModifiedTime"]
    return (end - start).total_seconds()


def _execution(smtui: Callable[..., Result], arn: str) -> dict[str, object]:
    result = smtui("show", arn, "--json")
    assert result.exit_code == 0, result.output
    found: dict[str, object] = json.loads(result.output)["execution"]
    return found


def test_remaining_from_history_and_when_there_is_none(
    smtui: Callable[..., Result], emu: EmulatorProcess
) -> None:
    pipeline = f"cmp-{uuid.uuid4().hex[:6]}"
    emu.create_pipeline(pipeline, _definition())
    first = emu.start_execution(pipeline)
    emu.advance(10)
    doc = _execution(smtui, first)
    assert doc["remaining_s"] is None and doc["remaining"] == "no-history"
    assert "time left: unknown: no earlier successful run" in smtui("show", first).output
    assert emu.run_until_done(first) == "Succeeded"
    assert _execution(smtui, first)["remaining"] == "ended"

    second = emu.start_execution(pipeline)  # Epochs unchanged: Preprocess hits the cache
    emu.advance(30)
    doc = _execution(smtui, second)
    expected = _duration(emu, first) - float(doc["elapsed_s"])  # type: ignore[arg-type]
    assert doc["remaining_s"] == pytest.approx(expected, abs=1.0) and doc["remaining"] is None
    assert "time left: ~" in smtui("show", second).output
    rows = json.loads(smtui("ls", "--pipeline", pipeline, "--json").output)
    row = next(r for r in rows if r["arn"] == second)
    assert row["remaining_s"] == pytest.approx(expected, abs=1.0)
    assert next(r for r in rows if r["arn"] == first)["remaining"] == "ended"


def test_remaining_says_when_a_run_is_longer_than_every_earlier_one(
    smtui: Callable[..., Result], emu: EmulatorProcess
) -> None:
    pipeline = f"cmp-{uuid.uuid4().hex[:6]}"
    emu.create_pipeline(pipeline, _definition())
    runs = []
    for _ in range(6):  # the first misses the cache; the last five, the history looked at, hit it
        runs.append(emu.start_execution(pipeline))
        assert emu.run_until_done(runs[-1]) == "Succeeded"
    longest = max(_duration(emu, arn) for arn in runs[1:])
    slow = emu.start_execution(pipeline, Epochs="9")  # misses the cache: longer than each of them
    emu.advance(longest + 5)
    doc = _execution(smtui, slow)
    assert doc["status"] == "Executing"
    assert doc["remaining_s"] is None and doc["remaining"] == "longer-than-history"
    assert "already longer than every earlier successful run" in smtui("show", slow).output
