"""Acting on a step from the execution screen, with the keys a user presses: answer a Callback step (`b`),
approve or reject the registered model package (`A`), rerun from the marked steps (Space, `R`). What the
emulator holds afterwards is checked, and what the screen says when the service refuses."""

from __future__ import annotations

import json
from typing import Any

from conftest import Emulator, idle, screen_text, text_of, toasts_shown, tui, type_text, until
from textual.widgets import Input, Static

from smtui.tui.screens.approval import ApprovalScreen
from smtui.tui.screens.callback import CallbackScreen
from smtui.tui.screens.confirm import ConfirmScreen
from smtui.tui.screens.execution import ExecutionScreen
from smtui.tui.screens.executions import ExecutionsScreen

PROCESSING = {
    "ProcessingResources": {
        "ClusterConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30}
    },
    "AppSpecification": {"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/proc:latest"},
    "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
}
REVIEW = {
    "Name": "Review",
    "Type": "Callback",
    "DependsOn": ["Prep"],
    "Arguments": {"ticket": "T-1"},
    "SqsQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/reviews",
    "OutputParameters": [
        {"OutputName": "approver", "OutputType": "String"},
        {"OutputName": "threshold", "OutputType": "Float"},
    ],
}
REGISTER = {
    "Name": "Register",
    "Type": "RegisterModel",
    "Arguments": {
        "ModelPackageGroupName": "churn-models",
        "InferenceSpecification": {
            "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:latest"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    },
}
MUTATING_KEYS = {"answer_callback", "approve_model", "rerun_from_steps"}


def processing(name: str, *after: str) -> dict[str, Any]:
    step: dict[str, Any] = {"Name": name, "Type": "Processing", "Arguments": PROCESSING}
    return {**step, "DependsOn": list(after)} if after else step


def definition(*steps: dict[str, Any], **parameters: str) -> str:
    declared = [{"Name": k, "Type": "String", "DefaultValue": v} for k, v in parameters.items()]
    return json.dumps({"Version": "2020-12-01", "Parameters": declared, "Steps": list(steps)})


async def steps_of(emu: Emulator, arn: str) -> dict[str, dict[str, Any]]:
    reply = await emu.client.call("list_pipeline_execution_steps", PipelineExecutionArn=arn)
    return {s["StepName"]: s for s in reply["PipelineExecutionSteps"]}


async def waiting_review(emu: Emulator) -> str:
    """An execution whose Callback step Review waits for its answer."""
    await emu.create_pipeline("review", definition(processing("Prep"), REVIEW))
    arn = await emu.start("review")
    emu.advance(3600)  # Prep is long done; a Callback step waits for as long as it takes
    assert (await steps_of(emu, arn))["Review"]["StepStatus"] == "Executing"
    return arn


async def open_execution(app: Any, pilot: Any, arn: str) -> ExecutionScreen:
    table = app.screen
    assert isinstance(table, ExecutionsScreen)
    await until(lambda: table.table.cursor_arn == arn, pilot=pilot, what="the row")
    await pilot.press("enter")
    await until(lambda: isinstance(app.screen, ExecutionScreen), pilot=pilot, what="the execution")
    screen = app.screen
    await until(lambda: screen.tree_view.step_tree is not None, pilot=pilot, what="the tree")
    return screen  # type: ignore[no-any-return]


async def select(pilot: Any, screen: ExecutionScreen, step: str) -> None:
    """Move the tree's cursor to `step` with the arrow keys."""
    for _ in range(20):
        node = screen.tree_view.selected_step()
        if node is not None and node.name == step:
            return
        await pilot.press("down")
    raise AssertionError(f"no step {step} in the tree")


def details(screen: ExecutionScreen) -> str:
    return text_of(screen.query_one("#step-details", Static))


async def test_answer_a_callback_with_typed_outputs(emu: Emulator) -> None:
    arn = await waiting_review(emu)
    async with tui(emu) as (app, pilot):
        screen = await open_execution(app, pilot, arn)
        await select(pilot, screen, "Review")
        await pilot.press("b")
        await until(lambda: isinstance(app.screen, CallbackScreen), pilot=pilot, what="the callback form")
        form = app.screen
        # Typed by the step's declared outputs.
        labels = " ".join(str(label.render()) for label in form.query("Label"))
        assert "approver  String" in labels and "threshold  Float" in labels
        await type_text(pilot, "alice", "tab")
        await type_text(pilot, "high")
        await pilot.press("ctrl+s")
        error = form.query_one("#callback-error", Static)
        await until(lambda: "Float" in str(error.render()), pilot=pilot, what="the type error")
        assert "threshold" in str(error.render()) and app.screen is form
        form.query_one("#output-threshold", Input).value = "0.8"
        await pilot.press("ctrl+s")
        await until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot, what="the question")
        assert "approver=alice, threshold=0.8" in " ".join(screen_text(app))
        assert emu.calls().get("SageMaker.SendPipelineExecutionStepSuccess") is None  # asked first
        await pilot.press("y")
        await until(lambda: app.screen is screen, pilot=pilot, what="back on the execution")
        review = (await steps_of(emu, arn))["Review"]
        assert review["StepStatus"] == "Succeeded"
        outputs = {o["Name"]: o["Value"] for o in review["Metadata"]["Callback"]["OutputParameters"]}
        assert outputs == {"approver": "alice", "threshold": "0.8"}
        # The details pane shows the outputs as the monitor reads them back.
        await until(lambda: "→ approver" in details(screen), pilot=pilot, what="the outputs in the details")
        assert "alice" in details(screen) and "→ threshold" in details(screen)


async def test_fail_a_callback_with_a_reason(emu: Emulator) -> None:
    arn = await waiting_review(emu)
    async with tui(emu) as (app, pilot):
        screen = await open_execution(app, pilot, arn)
        await pilot.press("b")  # not on Review: the only waiting Callback step is meant
        await until(lambda: isinstance(app.screen, CallbackScreen), pilot=pilot, what="the callback form")
        app.screen.query_one("#failure-reason", Input).focus()
        await type_text(pilot, "data drift", "ctrl+f")
        await until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot, what="the question")
        await pilot.press("y")
        await until(lambda: app.screen is screen, pilot=pilot, what="back on the execution")
        review = (await steps_of(emu, arn))["Review"]
        assert (review["StepStatus"], review["FailureReason"]) == ("Failed", "data drift")


async def test_the_service_refusing_an_answer_is_shown_in_the_form(emu: Emulator) -> None:
    arn = await waiting_review(emu)
    async with tui(emu) as (app, pilot):
        await open_execution(app, pilot, arn)
        await pilot.press("b")
        await until(lambda: isinstance(app.screen, CallbackScreen), pilot=pilot, what="the callback form")
        form = app.screen
        # Someone else answers first: the token the form holds is spent.
        token = (await steps_of(emu, arn))["Review"]["Metadata"]["Callback"]["CallbackToken"]
        await emu.client.call(
            "send_pipeline_execution_step_failure", CallbackToken=token, FailureReason="from elsewhere"
        )
        await type_text(pilot, "bob", "ctrl+s")
        await until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot)
        await pilot.press("y")
        error = form.query_one("#callback-error", Static)
        await until(lambda: "sending" not in str(error.render()) and str(error.render()), pilot=pilot)
        assert app.screen is form  # still open, saying why
        assert "Validation" in str(error.render()) or "token" in str(error.render()).lower()
        assert (await steps_of(emu, arn))["Review"]["FailureReason"] == "from elsewhere"


async def test_b_on_an_execution_with_no_waiting_callback_says_why(emu: Emulator) -> None:
    await emu.create_pipeline("plain", definition(processing("Prep")))
    arn = await emu.start("plain")
    async with tui(emu, toasts=True) as (app, pilot):
        screen = await open_execution(app, pilot, arn)
        await pilot.press("b")
        await until(lambda: toasts_shown(app, "warning"), pilot=pilot, what="a warning")
        assert app.screen is screen and "Callback" in toasts_shown(app, "warning")[0]


async def test_approve_then_reject_the_registered_package_with_a_note(emu: Emulator) -> None:
    await emu.create_pipeline("reg", definition(processing("Train"), {**REGISTER, "DependsOn": ["Train"]}))
    arn = await emu.start("reg")
    emu.advance(3600)
    package = (await steps_of(emu, arn))["Register"]["Metadata"]["RegisterModel"]["Arn"]
    async with tui(emu) as (app, pilot):
        screen = await open_execution(app, pilot, arn)
        await select(pilot, screen, "Register")
        # The details: the package's ARN and its approval status (DescribeModelPackage).
        await until(lambda: "PendingManualApproval" in details(screen), pilot=pilot, what="the status")
        assert "Model package" in details(screen) and "churn-models" in details(screen)
        await pilot.press("A")
        await until(lambda: isinstance(app.screen, ApprovalScreen), pilot=pilot, what="the dialog")
        about = text_of(app.screen.query_one("#approval-about", Static))
        assert "churn-models, version 1" in about and "PendingManualApproval" in about
        await type_text(pilot, "AUC 0.91", "ctrl+s")
        await until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot, what="the question")
        await pilot.press("y")
        await until(lambda: app.screen is screen, pilot=pilot, what="back on the execution")
        described = await emu.client.call("describe_model_package", ModelPackageName=package)
        assert (described["ModelApprovalStatus"], described["ApprovalDescription"]) == (
            "Approved",
            "AUC 0.91",
        )
        await until(lambda: "Approved" in details(screen), pilot=pilot, what="the new status shown")
        assert "AUC 0.91" in details(screen)

        await pilot.press("A")
        await until(lambda: isinstance(app.screen, ApprovalScreen), pilot=pilot)
        await type_text(pilot, "regressed", "ctrl+f", "y")
        await until(lambda: app.screen is screen, pilot=pilot)
        described = await emu.client.call("describe_model_package", ModelPackageName=package)
        assert (described["ModelApprovalStatus"], described["ApprovalDescription"]) == (
            "Rejected",
            "regressed",
        )


async def test_rerun_from_the_marked_steps(emu: Emulator) -> None:
    chain = definition(processing("A"), processing("B", "A"), processing("C", "B"), Mode="slow")
    await emu.create_pipeline("chain", chain)
    source = await emu.start("chain", Mode="fast")
    emu.advance(3600)
    assert await emu.status(source) == "Succeeded"
    async with tui(emu) as (app, pilot):
        table = app.screen
        screen = await open_execution(app, pilot, source)
        await select(pilot, screen, "B")
        await pilot.press("space")
        assert "● " in str(screen.tree_view.cursor_node.label)  # type: ignore[union-attr]
        await pilot.press("R")
        await until(lambda: isinstance(app.screen, ConfirmScreen), pilot=pilot, what="the question")
        said = " ".join(screen_text(app))
        assert "Rerun chain from B as a new execution?" in said and "Reused from" in said and ": A." in said
        assert await emu.executions("chain") and len(await emu.executions("chain")) == 1  # asked first
        await pilot.press("y")
        await until(lambda: app.screen is table, pilot=pilot, what="back to the table")
        runs = await emu.executions("chain")
        assert len(runs) == 2
        new = next(r["PipelineExecutionArn"] for r in runs if r["PipelineExecutionArn"] != source)
        await until(lambda: table.table.cursor_arn == new, pilot=pilot, what="cursor on the new run")
        described = await emu.client.call("describe_pipeline_execution", PipelineExecutionArn=new)
        assert described["SelectiveExecutionConfig"] == {
            "SourcePipelineExecutionArn": source,
            "SelectedSteps": [{"StepName": "B"}],
        }
        assert await emu.parameters(new) == {"Mode": "fast"}  # the source's
        emu.advance(3600)
        steps = await steps_of(emu, new)
        assert set(steps) == {"A", "B"}
        assert steps["A"]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": source}
        assert "SelectiveExecutionResult" not in steps["B"] and steps["B"]["StepStatus"] == "Succeeded"


async def test_read_only_has_no_step_actions(emu: Emulator) -> None:
    arn = await waiting_review(emu)
    async with tui(emu, read_only=True) as (app, pilot):
        screen = await open_execution(app, pilot, arn)
        await select(pilot, screen, "Review")
        enabled = {b.binding.action for b in screen.active_bindings.values() if b.enabled}
        assert not enabled & MUTATING_KEYS
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert not [
            t for t in titles if t.startswith("step: ") and not t.startswith(("step: copy", "step: logs"))
        ]
        await pilot.press("question_mark")
        keys = " ".join(screen_text(app))
        assert "Answer callback" not in keys and "Rerun from" not in keys and "Approve" not in keys
        await pilot.press("escape", "b", "A", "space", "R")
        await idle(pilot, 0.3)
        assert app.screen is screen
    sends = ("SendPipelineExecutionStepSuccess", "SendPipelineExecutionStepFailure", "UpdateModelPackage")
    assert not [op for op in emu.calls() if op.split(".")[-1] in sends]
    assert (await steps_of(emu, arn))["Review"]["StepStatus"] == "Executing"
    assert len(await emu.executions("review")) == 1


async def test_keys_and_palette_list_the_step_actions(emu: Emulator) -> None:
    arn = await waiting_review(emu)
    async with tui(emu) as (app, pilot):
        await open_execution(app, pilot, arn)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert {"step: answer callback", "step: approve / reject model", "step: rerun from marked"} <= set(
            titles
        )
        await pilot.press("question_mark")
        rows = [
            line.strip("│ ").split("  ")[0:1] + line.strip("│ ").split()[1:2] for line in screen_text(app)
        ]
        for key, what in (("b", "Answer"), ("A", "Approve"), ("R", "Rerun")):
            assert [key, what] in rows, (what, screen_text(app))
