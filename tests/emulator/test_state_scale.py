"""10,000 executions loaded: no CPU while idle, every page of the history answered in order. How fast
(start-up, pages, a change with that history stored) is `benchmarks/emulator_scale_bench.py`'s business."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from wire_harness import ROLE_ARN, make_sm, simple_definition

from smtui.emulator.store.records import ExecutionRecord, PipelineRecord, PipelineVersion, StepRecord
from smtui.emulator.store.store import Store

COUNT = 10_000
T0 = 1_767_225_600.0


def _write_state(path: Path) -> list[str]:
    """A state file with one pipeline and COUNT finished executions, written through the store."""
    definition = simple_definition()
    store = Store(path)
    arn = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/history"
    store.add_pipeline(
        PipelineRecord(
            name="History",
            arn=arn,
            definition=definition,
            role_arn=ROLE_ARN,
            created=T0,
            modified=T0,
            versions=[PipelineVersion(version_id=1, created=T0, definition=definition)],
        )
    )
    arns = []
    for index in range(COUNT):
        created = T0 + 60 * index
        execution_id = f"{index:012d}"
        execution = ExecutionRecord(
            arn=f"{arn}/execution/{execution_id}",
            execution_id=execution_id,
            pipeline_name="History",
            pipeline_arn=arn,
            status="Succeeded" if index % 10 else "Failed",
            created=created,
            modified=created + 50,
            definition=definition,
            parameters=[],
            steps=[StepRecord(name="Prepare", status="Succeeded", start=created + 1, end=created + 50)],
        )
        store.add_execution(execution)
        arns.append(execution.arn)
    store.set_meta("clock", T0 + 60 * COUNT)
    store.close()
    return arns


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def test_ten_thousand_executions_idle_and_paged(
    emulator_factory: Any, tmp_path: Path, shape_checker: Any
) -> None:
    state = tmp_path / "history.db"
    arns = _write_state(state)
    process = emulator_factory("--time-scale", "1", "--state", str(state))
    sm = make_sm(process, shape_checker)

    time.sleep(0.3)  # let start-up settle
    before = _cpu_seconds(process.process.pid)
    time.sleep(1.0)
    assert _cpu_seconds(process.process.pid) - before < 0.05, "an idle emulator must not burn CPU"

    seen: list[str] = []
    token = None
    while True:
        kwargs = {"NextToken": token} if token else {}
        page = sm.list_pipeline_executions(PipelineName="History", MaxResults=100, **kwargs)
        seen.extend(e["PipelineExecutionArn"] for e in page["PipelineExecutionSummaries"])
        token = page.get("NextToken")
        if token is None:
            break
    assert seen == arns[::-1]  # all of them, newest first, none twice

    # Runs started with that history stored come first, and the history is still whole behind them.
    started = [sm.start_pipeline_execution(PipelineName="History")["PipelineExecutionArn"] for _ in range(5)]
    first = sm.list_pipeline_executions(PipelineName="History", MaxResults=100)["PipelineExecutionSummaries"]
    assert [e["PipelineExecutionArn"] for e in first[:5]] == started[::-1]
    assert [e["PipelineExecutionArn"] for e in first[5:]] == arns[::-1][:95]
