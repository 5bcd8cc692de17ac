"""`--state FILE`: pipelines and executions survive a restart (clean or killed), running ones carry on."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from logs_harness import definition, events, job_name, run, steps, training
from wire_harness import create_pipeline, make_logs, make_sm

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


def test_model_packages_approvals_and_job_logs_survive_a_restart(
    emulator_factory: Any, tmp_path: Path, shape_checker: Any
) -> None:
    state = tmp_path / "state.db"
    first = emulator_factory("--time-scale", "0", "--state", str(state))
    sm, logs = make_sm(first, shape_checker), make_logs(first, shape_checker)
    register = {"Name": "Register", "Type": "RegisterModel", "Arguments": {"ModelPackageGroupName": "kept"}}
    create_pipeline(sm, "Registry", definition(training(), {**register, "DependsOn": ["Train"]}))
    arn = sm.start_pipeline_execution(PipelineName="Registry")["PipelineExecutionArn"]
    assert run(sm, first, arn) == "Succeeded"
    listed = steps(sm, arn)
    package = listed["Register"]["Metadata"]["RegisterModel"]["Arn"]
    sm.update_model_package(ModelPackageArn=package, ModelApprovalStatus="Rejected", ApprovalDescription="no")
    job = job_name(sm, listed["Train"])
    before = events(logs, "/aws/sagemaker/TrainingJobs", logStreamNamePrefix=job + "/")
    metrics = sm.describe_training_job(TrainingJobName=job)["FinalMetricDataList"]
    assert first.stop(signal.SIGTERM) == 0

    second = emulator_factory("--time-scale", "0", "--state", str(state))
    sm, logs = make_sm(second, shape_checker), make_logs(second, shape_checker)
    described = sm.describe_model_package(ModelPackageName=package)
    assert (described["ModelApprovalStatus"], described["ApprovalDescription"]) == ("Rejected", "no")
    assert sm.describe_model_package_group(ModelPackageGroupName="kept")["ModelPackageGroupName"] == "kept"
    # The log is not stored: it is written again from the job's seed, the same to the last line.
    assert events(logs, "/aws/sagemaker/TrainingJobs", logStreamNamePrefix=job + "/") == before
    assert sm.describe_training_job(TrainingJobName=job)["FinalMetricDataList"] == metrics
    again = sm.start_pipeline_execution(PipelineName="Registry")["PipelineExecutionArn"]
    assert run(sm, second, again) == "Succeeded"
    assert steps(sm, again)["Register"]["Metadata"]["RegisterModel"]["Arn"].endswith("/kept/2")
