"""`--state FILE`: pipelines and executions survive a restart (clean or killed), running ones carry on."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from wire_harness import create_pipeline, make_sm

LONG_ENOUGH = 4 * 3600


def _status(sm: Any, arn: str) -> str:
    return str(sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"])


def _steps(sm: Any, arn: str) -> list[tuple[str, str]]:
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    return [(s["StepName"], s["StepStatus"]) for s in steps]


def test_restart_keeps_history_and_running_executions_carry_on(
    emulator_factory: Any, tmp_path: Path, shape_checker: Any
) -> None:
    state = tmp_path / "state.db"
    first = emulator_factory("--time-scale", "0", "--state", str(state))
    sm = make_sm(first, shape_checker)
    arn = create_pipeline(sm, "Persisted")
    finished = sm.start_pipeline_execution(PipelineName="Persisted")["PipelineExecutionArn"]
    first.advance(LONG_ENOUGH)
    running = sm.start_pipeline_execution(PipelineName="Persisted")["PipelineExecutionArn"]
    first.advance(10)
    assert _status(sm, running) == "Executing"
    finished_steps, now = _steps(sm, finished), first.now()
    assert first.stop(signal.SIGTERM) == 0

    second = emulator_factory("--time-scale", "0", "--state", str(state))
    sm = make_sm(second, shape_checker)
    assert second.now() >= now  # the simulated clock resumes where it was
    assert sm.describe_pipeline(PipelineName="Persisted")["PipelineArn"] == arn
    listed = sm.list_pipeline_executions(PipelineName="Persisted")["PipelineExecutionSummaries"]
    assert [e["PipelineExecutionArn"] for e in listed] == [running, finished]
    assert _status(sm, finished) == "Succeeded" and _steps(sm, finished) == finished_steps
    assert _status(sm, running) == "Executing"
    second.advance(LONG_ENOUGH)
    assert _status(sm, running) == "Succeeded"


def test_state_survives_a_kill_without_shutdown(
    emulator_factory: Any, tmp_path: Path, shape_checker: Any
) -> None:
    state = tmp_path / "state.db"
    first = emulator_factory("--time-scale", "0", "--state", str(state))
    sm = make_sm(first, shape_checker)
    create_pipeline(sm, "Killed")
    token = "0123456789abcdef0123456789abcdef"
    arn = sm.start_pipeline_execution(
        PipelineName="Killed", PipelineExecutionDisplayName="kept", ClientRequestToken=token
    )["PipelineExecutionArn"]
    first.stop(signal.SIGKILL)  # every request was persisted as it was answered

    second = emulator_factory("--time-scale", "0", "--state", str(state))
    sm = make_sm(second, shape_checker)
    assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionDisplayName"] == "kept"
    # The idempotency token outlives the restart: the same start does not run twice.
    again = sm.start_pipeline_execution(
        PipelineName="Killed", PipelineExecutionDisplayName="kept", ClientRequestToken=token
    )["PipelineExecutionArn"]
    assert again == arn
    assert len(sm.list_pipeline_executions(PipelineName="Killed")["PipelineExecutionSummaries"]) == 1
