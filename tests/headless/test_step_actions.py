"""`smtui callback`, `smtui approve` and `smtui start --from` against a private emulator: what reaches the
execution (outputs, approval, the steps that run), and what is refused before anything is sent (checked in
`/_emulator/stats`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from emulator_proc import EmulatorProcess, ticking

Smtui = Callable[..., Result]

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/reviews"
PROCESSING = {
    "ProcessingResources": {
        "ClusterConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30}
    },
    "AppSpecification": {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/proc:latest"},
    "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
}
# Steps take 60 simulated seconds after a 1 s start (tests/definitions/scenario.toml); RegisterModel 10 s.
REVIEW_WAITING = 120  # Prep is done and Review has been waiting for a minute
SENDS = ("SendPipelineExecutionStepSuccess", "SendPipelineExecutionStepFailure")


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def processing(step: str, **extra: Any) -> dict[str, Any]:
    return {"Name": step, "Type": "Processing", "Arguments": {**PROCESSING, **extra}}


def register(step: str, group: str) -> dict[str, Any]:
    args = {
        "ModelPackageGroupName": group,
        "InferenceSpecification": {
            "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:latest"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    }
    return {"Name": step, "Type": "RegisterModel", "Arguments": args}


def pipeline(emu: EmulatorProcess, prefix: str, *steps: dict[str, Any], **parameters: str) -> str:
    pipeline_name = name(prefix)
    declared = [{"Name": k, "Type": "String", "DefaultValue": v} for k, v in parameters.items()]
    emu.create_pipeline(
        pipeline_name, {"Version": "2020-12-01", "Parameters": declared, "Steps": list(steps)}
    )
    return pipeline_name


def callback_pipeline(emu: EmulatorProcess) -> str:
    """Prep → Review (a Callback step declaring typed outputs) → Deploy, which reads Review's `approver`."""
    review = {
        "Name": "Review",
        "Type": "Callback",
        "DependsOn": ["Prep"],
        "Arguments": {"ticket": "T-1"},
        "SqsQueueUrl": QUEUE,
        "OutputParameters": [
            {"OutputName": "approver", "OutputType": "String"},
            {"OutputName": "threshold", "OutputType": "Float"},
            {"OutputName": "ship", "OutputType": "Boolean"},
        ],
    }
    approver = {"Get": "Steps.Review.OutputParameters['approver']"}
    return pipeline(
        emu, "review", processing("Prep"), review, processing("Deploy", Environment={"APPROVER": approver})
    )


def steps_of(emu: EmulatorProcess, arn: str) -> dict[str, dict[str, Any]]:
    listed = emu.boto().list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    return {s["StepName"]: s for s in listed}


def sent(emu: EmulatorProcess, *operations: str) -> int:
    stats = emu.stats()
    return sum(stats.get(op, 0) for op in operations)


@pytest.fixture
def waiting(emu: EmulatorProcess) -> str:
    """An execution whose Callback step `Review` waits for its answer."""
    arn = emu.start_execution(callback_pipeline(emu))
    emu.advance(REVIEW_WAITING)
    assert steps_of(emu, arn)["Review"]["StepStatus"] == "Executing"
    return arn


def test_callback_success_sends_typed_outputs_and_the_step_succeeds_with_them(
    smtui: Smtui, emu: EmulatorProcess, waiting: str
) -> None:
    result = smtui(
        "callback", waiting, "Review", "--success", "-o", "approver=ana", "-o", "threshold=0.75",
        "-o", "ship=True", "--yes", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "execution": waiting,
        "arn": waiting,
        "step": "Review",
        "result": "success",
        "outputs": {"approver": "ana", "threshold": "0.75", "ship": "true"},  # Boolean as the API spells it
        "reason": None,
        "error": None,
    }
    review = steps_of(emu, waiting)["Review"]
    assert review["StepStatus"] == "Succeeded"
    assert review["Metadata"]["Callback"]["OutputParameters"] == [
        {"Name": "approver", "Value": "ana"},
        {"Name": "threshold", "Value": "0.75"},
        {"Name": "ship", "Value": "true"},
    ]
    assert emu.run_until_done(waiting) == "Succeeded"
    # The downstream step read the output: its job ran with it.
    deploy = steps_of(emu, waiting)["Deploy"]["Metadata"]["ProcessingJob"]["Arn"]
    job = emu.boto().describe_processing_job(ProcessingJobName=deploy.rsplit("/", 1)[1])
    assert job["Environment"] == {"APPROVER": "ana"}
    # Plain output: one line naming the step and the execution.
    again = emu.start_execution(callback_pipeline(emu))
    emu.advance(REVIEW_WAITING)
    line = smtui("callback", again, "Review", "--success", "--yes")
    assert line.exit_code == 0 and line.stdout == f"sent success: Review of {again}\n"


def test_callback_failure_fails_the_step_with_the_reason(
    smtui: Smtui, emu: EmulatorProcess, waiting: str
) -> None:
    result = smtui("callback", waiting, "Review", "--failure", "the data looks wrong", "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"sent failure: Review of {waiting}\n"
    review = steps_of(emu, waiting)["Review"]
    assert (review["StepStatus"], review["FailureReason"]) == ("Failed", "the data looks wrong")
    assert emu.run_until_done(waiting) == "Failed"
    assert "Deploy" not in steps_of(emu, waiting)


def test_a_stopping_execution_still_takes_its_callback_answer(
    smtui: Smtui, emu: EmulatorProcess, waiting: str
) -> None:
    emu.boto().stop_pipeline_execution(PipelineExecutionArn=waiting)
    emu.advance(30)
    assert steps_of(emu, waiting)["Review"]["StepStatus"] == "Stopping"  # it waits for the answer
    result = smtui("callback", waiting, "Review", "--failure", "stopped by hand", "--yes")
    assert result.exit_code == 0, result.output
    assert emu.run_until_done(waiting) == "Stopped"


def test_bad_outputs_are_refused_before_anything_is_sent(
    smtui: Smtui, emu: EmulatorProcess, waiting: str
) -> None:
    before = sent(emu, *SENDS)
    unknown = smtui("callback", waiting, "Review", "--success", "-o", "approved_by=ana", "--yes")
    assert unknown.exit_code == 2
    assert unknown.stderr == (
        f"smtui: {waiting}: unknown output 'approved_by' (this step declares: approver (String),"
        " threshold (Float), ship (Boolean)); nothing sent\n"
    )
    typed = smtui("callback", waiting, "Review", "--success", "-o", "threshold=high", "--yes")
    assert typed.exit_code == 2 and "output 'threshold' is a Float; got 'high'" in typed.stderr
    boolean = smtui("callback", waiting, "Review", "--success", "-o", "ship=maybe", "--yes")
    assert boolean.exit_code == 2 and "output 'ship' is a Boolean" in boolean.stderr
    for args in (
        ("--success", "-o", "approver"),  # no =VALUE
        ("--success", "--failure", "no"),  # both
        (),  # neither
        ("--failure", "no", "-o", "approver=ana"),  # outputs go with success
        ("--failure", "x" * 257),  # longer than the API takes
    ):
        refused = smtui("callback", waiting, "Review", *args, "--yes")
        assert refused.exit_code == 2, args
        assert refused.stderr.startswith("smtui: ") and refused.stderr.count("\n") == 1, refused.stderr
    assert sent(emu, *SENDS) == before
    assert steps_of(emu, waiting)["Review"]["StepStatus"] == "Executing"


def test_callback_refuses_a_step_that_is_not_a_waiting_callback(
    smtui: Smtui, emu: EmulatorProcess, waiting: str
) -> None:
    before = sent(emu, *SENDS)
    fresh = emu.start_execution(callback_pipeline(emu))  # the clock stands still: Review has not started
    cases = {
        (waiting, "Nope"): f"{waiting}: no step 'Nope' in this execution (its steps: Deploy, Prep, Review)",
        (waiting, "Prep"): "step 'Prep' is a Processing step, not a Callback step",
        (fresh, "Review"): "Callback step 'Review' has not started: it is not waiting for an answer",
        ("no-such-pipeline@latest", "Review"): "no-such-pipeline@latest",
    }
    for (execution, step), message in cases.items():
        result = smtui("callback", execution, step, "--failure", "x", "--yes")
        assert result.exit_code == 2, result.output
        assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert sent(emu, *SENDS) == before
    # Answered once, it is no longer waiting.
    assert smtui("callback", waiting, "Review", "--success", "--yes").exit_code == 0
    done = smtui("callback", waiting, "Review", "--failure", "late", "--yes")
    assert done.exit_code == 2
    assert "Callback step 'Review' is Succeeded: it is not waiting for an answer; nothing sent" in done.stderr
    assert sent(emu, *SENDS) == before + 1
    emu.boto().stop_pipeline_execution(PipelineExecutionArn=fresh)


@pytest.fixture
def registered(emu: EmulatorProcess) -> tuple[str, str]:
    """(execution, model package ARN): a finished run whose RegisterModel step registered a package."""
    arn = emu.start_execution(pipeline(emu, "reg", register("Register", name("models"))))
    assert emu.run_until_done(arn) == "Succeeded"
    return arn, steps_of(emu, arn)["Register"]["Metadata"]["RegisterModel"]["Arn"]


def test_approve_and_reject_the_registered_package_with_a_note(
    smtui: Smtui, emu: EmulatorProcess, registered: tuple[str, str]
) -> None:
    execution, package = registered
    approved = smtui("approve", execution, "--note", "AUC 0.91 on holdout", "--yes", "--json")
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.stdout) == {
        "execution": execution,
        "arn": execution,
        "step": "Register",
        "model_package_arn": package,
        "previous_status": "PendingManualApproval",
        "status": "Approved",
        "note": "AUC 0.91 on holdout",
        "result": "approved",
        "error": None,
    }
    described = emu.boto().describe_model_package(ModelPackageName=package)
    assert (described["ModelApprovalStatus"], described["ApprovalDescription"]) == (
        "Approved",
        "AUC 0.91 on holdout",
    )
    rejected = smtui("approve", execution, "--reject", "--note", "regressed on segment B", "--yes")
    assert rejected.exit_code == 0 and rejected.stdout == f"rejected: {package}\n"
    described = emu.boto().describe_model_package(ModelPackageName=package)
    assert (described["ModelApprovalStatus"], described["ApprovalDescription"]) == (
        "Rejected",
        "regressed on segment B",
    )


def test_approve_refuses_what_it_cannot_pick(smtui: Smtui, emu: EmulatorProcess, waiting: str) -> None:
    before = sent(emu, "UpdateModelPackage")
    none = smtui("approve", waiting, "--yes")
    assert none.exit_code == 2 and "this execution has no RegisterModel step; nothing changed" in none.stderr
    # Prep, then two RegisterModel steps: a package is registered (and listed) as its step starts.
    a, b = ({**register(step, name("models")), "DependsOn": ["Prep"]} for step in ("RegisterA", "RegisterB"))
    two = emu.start_execution(pipeline(emu, "two", processing("Prep"), a, b))
    early = smtui("approve", two, "--step", "RegisterA", "--yes")
    assert early.exit_code == 2
    assert (
        "RegisterModel step 'RegisterA' has not started and has registered no model package" in early.stderr
    )
    assert emu.run_until_done(two) == "Succeeded"
    several = smtui("approve", two, "--yes")
    assert several.exit_code == 2 and several.stderr.count("\n") == 1
    assert "this execution has 2 RegisterModel steps: RegisterA (arn:" in several.stderr
    assert "pick one with --step NAME" in several.stderr
    wrong = smtui("approve", two, "--step", "Prep", "--yes")
    assert (
        wrong.exit_code == 2 and "step 'Prep' is a Processing step, not a RegisterModel step" in wrong.stderr
    )
    unknown = smtui("approve", two, "--step", "Nope", "--yes")
    assert unknown.exit_code == 2 and "no step 'Nope' in this execution" in unknown.stderr
    assert smtui("approve", two, "--note", "x" * 1025, "--yes").exit_code == 2
    assert sent(emu, "UpdateModelPackage") == before
    picked = smtui("approve", two, "--step", "RegisterB", "--yes", "--json")
    assert picked.exit_code == 0, picked.output
    package = json.loads(picked.stdout)["model_package_arn"]
    assert package == steps_of(emu, two)["RegisterB"]["Metadata"]["RegisterModel"]["Arn"]
    assert emu.boto().describe_model_package(ModelPackageName=package)["ModelApprovalStatus"] == "Approved"
    other = steps_of(emu, two)["RegisterA"]["Metadata"]["RegisterModel"]["Arn"]
    assert emu.boto().describe_model_package(ModelPackageName=other)["ModelApprovalStatus"] == (
        "PendingManualApproval"
    )


def chain(emu: EmulatorProcess, prefix: str = "chain") -> tuple[str, str]:
    """(pipeline, a succeeded execution of it): A → B → C, started with Mode=fast (default slow)."""
    pipeline_name = pipeline(
        emu,
        prefix,
        processing("A"),
        {**processing("B"), "DependsOn": ["A"]},
        {**processing("C"), "DependsOn": ["B"]},
        Mode="slow",
    )
    arn = emu.start_execution(pipeline_name, Mode="fast")
    assert emu.run_until_done(arn) == "Succeeded"
    return pipeline_name, arn


def test_start_from_runs_only_the_selected_steps_with_the_source_parameters(
    smtui: Smtui, emu: EmulatorProcess
) -> None:
    pipeline_name, source = chain(emu)
    result = smtui("start", pipeline_name, "--from", source, "--steps", "B", "--yes", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["source"], doc["steps"], doc["reused"]) == (source, ["B"], ["A"])
    new = doc["arn"]
    described = emu.boto().describe_pipeline_execution(PipelineExecutionArn=new)
    assert described["SelectiveExecutionConfig"] == {
        "SourcePipelineExecutionArn": source,
        "SelectedSteps": [{"StepName": "B"}],
    }
    params = emu.boto().list_pipeline_parameters_for_execution(PipelineExecutionArn=new)["PipelineParameters"]
    assert params == [{"Name": "Mode", "Value": "fast"}]  # the source's, not the default
    assert emu.run_until_done(new) == "Succeeded"
    steps = steps_of(emu, new)
    assert set(steps) == {"A", "B"}  # C, downstream and not selected, does not run
    assert steps["A"]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": source}
    assert steps["B"].get("SelectiveExecutionResult") is None and steps["B"]["StepStatus"] == "Succeeded"
    assert (
        steps["B"]["Metadata"]["ProcessingJob"]["Arn"]
        != steps_of(emu, source)["B"]["Metadata"]["ProcessingJob"]["Arn"]
    )  # it ran again: a new job

    # -p overrides one of the source's parameters; --wait follows the new run to its end (the clock ticking
    # 15 simulated seconds every 50 ms meanwhile).
    with ticking(emu):
        waited = smtui(
            "start", pipeline_name, "--from", f"{pipeline_name}@latest", "--steps", "B,C", "-p", "Mode=x",
            "--yes", "--wait", "--interval", "0.05",
        )  # fmt: skip
    assert waited.exit_code == 0, waited.output
    again, *progress = waited.stdout.splitlines()
    assert progress[-1].startswith("✔ ") and "Succeeded  3/3 steps" in progress[-1]
    params = emu.boto().list_pipeline_parameters_for_execution(PipelineExecutionArn=again)[
        "PipelineParameters"
    ]
    assert params == [{"Name": "Mode", "Value": "x"}]
    assert {s: v.get("SelectiveExecutionResult") is None for s, v in steps_of(emu, again).items()} == {
        "A": False,
        "B": True,
        "C": True,
    }


def test_start_from_refuses_bad_selections_before_starting(smtui: Smtui, emu: EmulatorProcess) -> None:
    pipeline_name, source = chain(emu)
    _, elsewhere = chain(emu, "other")
    before = sent(emu, "StartPipelineExecution")
    cases = {
        ("--from", source, "--steps", "B,Nope"): "no step 'Nope' in this pipeline (its steps: A, B, C)",
        ("--from", source): "--from EXECUTION and --steps A,B go together",
        ("--steps", "B"): "--from EXECUTION and --steps A,B go together",
        ("--from", source, "--steps", " , "): "--steps expects step names",
        ("--from", elsewhere, "--steps", "B"): f"{elsewhere} is not an execution of pipeline {pipeline_name}",
        ("--from", f"{pipeline_name}/nosuchid1234", "--steps", "B"): "ResourceNotFound",
        ("--from", source, "--steps", "B", "-p", "Nope=1"): "unknown parameter 'Nope'",
    }
    for args, message in cases.items():
        result = smtui("start", pipeline_name, *args, "--yes")
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert sent(emu, "StartPipelineExecution") == before


def test_start_from_a_selection_the_service_refuses_exits_1(smtui: Smtui, emu: EmulatorProcess) -> None:
    # The scenario fails the `Train` step of every `broken-*` pipeline.
    train, after = (
        {**processing("Train"), "DependsOn": ["Prep"]},
        {**processing("After"), "DependsOn": ["Train"]},
    )
    pipeline_name = pipeline(emu, "broken", processing("Prep"), train, after)
    failed = emu.start_execution(pipeline_name)
    assert emu.run_until_done(failed) == "Failed"
    # After needs Train, which did not succeed in the source: nothing to reuse.
    result = smtui("start", pipeline_name, "--from", failed, "--steps", "After", "--yes")
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(
        f"smtui: {pipeline_name}: ValidationException (StartPipelineExecution): Step 'Train' did not"
    )
    assert result.stderr.count("\n") == 1


def test_read_only_refuses_each_action(
    smtui: Smtui,
    emu: EmulatorProcess,
    waiting: str,
    registered: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    execution, _ = registered
    pipeline_name = waiting.split("/")[1]
    actions = [
        ("callback", waiting, "Review", "--success", "--yes"),
        ("approve", execution, "--yes"),
        ("approve", execution, "--reject", "--yes"),
        ("start", pipeline_name, "--from", waiting, "--steps", "Deploy", "--yes"),
    ]
    before = sent(emu, *SENDS, "UpdateModelPackage", "StartPipelineExecution")
    for args in actions:
        result = smtui("--read-only", *args)
        assert result.exit_code == 2 and "read-only mode: refusing to" in result.stderr, args
    config = tmp_path / "config" / "smtui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("read_only = true\n")
    for args in actions:
        result = smtui(*args)
        assert result.exit_code == 2 and "read-only mode: refusing to" in result.stderr, args
    assert sent(emu, *SENDS, "UpdateModelPackage", "StartPipelineExecution") == before
    assert steps_of(emu, waiting)["Review"]["StepStatus"] == "Executing"


def test_without_yes_off_a_terminal_each_action_refuses(
    smtui: Smtui, emu: EmulatorProcess, waiting: str, registered: tuple[str, str]
) -> None:
    execution, package = registered
    pipeline_name = waiting.split("/")[1]
    before = sent(emu, *SENDS, "UpdateModelPackage", "StartPipelineExecution")
    calls = sum(emu.stats().values())
    for args in (
        ("callback", waiting, "Review", "--success"),
        ("approve", execution),
        ("start", pipeline_name, "--from", waiting, "--steps", "Deploy"),
    ):
        result = smtui(*args)  # CliRunner's stdin is not a terminal
        assert result.exit_code == 2, result.output
        assert "refusing without --yes because stdin is not a terminal" in result.stderr
    assert sum(emu.stats().values()) == calls  # refused before any call
    assert sent(emu, *SENDS, "UpdateModelPackage", "StartPipelineExecution") == before
    assert emu.boto().describe_model_package(ModelPackageName=package)["ModelApprovalStatus"] == (
        "PendingManualApproval"
    )


@pytest.mark.usefixtures("one_attempt")
def test_the_service_refusing_the_answer_or_the_approval_exits_1(
    smtui: Smtui,
    emu: EmulatorProcess,
    waiting: str,
    registered: tuple[str, str],
) -> None:
    execution, package = registered
    emu.faults(throttle={"SendPipelineExecutionStepFailure": 1.0, "UpdateModelPackage": 1.0})
    try:
        answer = smtui("callback", waiting, "Review", "--failure", "no", "--yes")
        approve = smtui("approve", execution, "--yes", "--json")
    finally:
        emu.faults()
    assert answer.exit_code == 1 and answer.stderr.count("\n") == 1
    assert answer.stderr.startswith("smtui: throttled by SageMaker (SendPipelineExecutionStepFailure)")
    assert approve.exit_code == 1
    doc = json.loads(approve.stdout)
    assert doc["result"] == "error" and doc["error"].startswith("throttled by SageMaker (UpdateModelPackage)")
    assert steps_of(emu, waiting)["Review"]["StepStatus"] == "Executing"
    assert emu.boto().describe_model_package(ModelPackageName=package)["ModelApprovalStatus"] == (
        "PendingManualApproval"
    )
