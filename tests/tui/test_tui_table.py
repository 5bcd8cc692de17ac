"""The executions table over the emulator: live rows, filter, sort, marks, and a cursor that never jumps."""

from __future__ import annotations

import ast
import importlib
import inspect

from conftest import Emulator, idle, screen_text, text_of, tui, type_text, until
from textual import events
from textual.widgets import Input
from tui_fixed_state import fixed_app

from smtui.tui.screens.execution import ExecutionScreen
from smtui.tui.screens.executions import ExecutionsScreen


def _pipelines_on_screen(screen: ExecutionsScreen) -> list[str]:
    return [str(screen.table.get_cell(arn, "pipeline")) for arn in screen.table.ordered_arns()]


async def test_filter_and_sort_from_the_keyboard(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    await emu.create_pipeline("beta")
    first = await emu.start("beta")
    emu.advance(5)
    second = await emu.start("alpha", InstanceCount="7")
    emu.advance(5)
    third = await emu.start("beta")
    async with tui(emu) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, ExecutionsScreen)
        await until(lambda: screen.table.row_count == 3, pilot=pilot, what="three rows")
        assert screen.table.ordered_arns() == [third, second, first]  # newest first

        await pilot.press("P")  # Shift+P: by pipeline
        assert _pipelines_on_screen(screen) == ["alpha", "beta", "beta"]
        await pilot.press("P")  # again: reversed
        assert _pipelines_on_screen(screen) == ["beta", "beta", "alpha"]
        await pilot.press("T")  # back to newest first
        assert screen.table.ordered_arns() == [third, second, first]

        await pilot.press("slash")
        await type_text(pilot, "beta", "enter")
        assert set(screen.table.ordered_arns()) == {first, third}
        assert "filter: beta" in str(screen.query_one("#info").render())
        await pilot.press("slash", "ctrl+u")
        await type_text(pilot, "InstanceCount=7", "enter")
        await until(lambda: screen.table.ordered_arns() == [second], pilot=pilot, what="parameter filter")
        await pilot.press("slash", "ctrl+u", "escape")
        assert screen.table.row_count == 3

        await emu.client.call(
            "stop_pipeline_execution", PipelineExecutionArn=first, ClientRequestToken="s" * 32
        )
        emu.advance(30)
        await pilot.press("a")  # active only
        await until(lambda: first not in screen.table.ordered_arns(), pilot=pilot, what="stopped one hidden")
        assert set(screen.table.ordered_arns()) == {second, third}


async def test_cursor_stays_on_its_execution_when_rows_arrive(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    older = await emu.start("alpha")
    emu.advance(5)
    chosen = await emu.start("alpha")
    async with tui(emu) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, ExecutionsScreen)
        await until(lambda: screen.table.row_count == 2, pilot=pilot)
        await pilot.press("down", "up")
        assert screen.table.cursor_arn == chosen
        emu.advance(5)
        newer = await emu.start("alpha")
        emu.advance(60)
        await until(lambda: newer in screen.table.ordered_arns(), pilot=pilot, what="new row")
        assert screen.table.ordered_arns()[0] == newer
        assert screen.table.cursor_arn == chosen  # the new row went above; the cursor did not move with it
        assert older in screen.table.ordered_arns()


async def test_the_row_under_the_cursor_stays_in_view_when_the_filter_clears(emu: Emulator) -> None:
    """Filtered to an old run, cursor on it, Esc: the table shows every run again, and that row with them
    (Enter, `x`, `r` act on it: it must not be off screen)."""
    await emu.create_pipeline("alpha")
    oldest = await emu.start("alpha")
    for _ in range(30):
        emu.advance(5)
        await emu.start("alpha")
    async with tui(emu, size=(80, 24)) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, ExecutionsScreen)
        await until(lambda: screen.table.row_count == 31, pilot=pilot, what="every row")
        await pilot.press("slash")
        await type_text(pilot, oldest.rsplit("/", 1)[-1], "enter")
        await until(lambda: screen.table.ordered_arns() == [oldest], pilot=pilot, what="the filter")
        await pilot.press("down")  # the user moves the cursor: it stays on this run from now on
        await pilot.press("escape")  # clears the filter
        await until(lambda: screen.table.row_count == 31, pilot=pilot, what="every row again")
        assert screen.table.cursor_arn == oldest
        assert oldest in screen.table.visible_arns()


async def test_mark_several_then_stop_them_all(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    arns = [await emu.start("alpha") for _ in range(3)]
    async with tui(emu) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, ExecutionsScreen)
        await until(lambda: screen.table.row_count == 3, pilot=pilot)
        await pilot.press("space", "space")  # marks the first two rows (the cursor moves down)
        marked = set(screen.table.ordered_arns()[:2])
        assert screen.marked == marked
        await pilot.press("x", "y")
        await until(
            lambda: all("Stopping" in str(screen.table.get_cell(a, "status")) for a in marked), pilot=pilot
        )
        statuses = {arn: await emu.status(arn) for arn in arns}
        assert sorted(statuses.values()) == ["Executing", "Stopping", "Stopping"]


async def test_open_shows_the_live_step_tree(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    arn = await emu.start("alpha")
    emu.advance(10)
    async with tui(emu) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, ExecutionsScreen)
        await until(lambda: screen.table.cursor_arn == arn, pilot=pilot)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, ExecutionScreen), pilot=pilot)
        detail = app.screen
        assert isinstance(detail, ExecutionScreen)
        tree = detail.tree_view

        def labels() -> list[str]:  # the tree's lines on screen
            box = tree.region
            return [line[box.x : box.right] for line in screen_text(app)[box.y : box.bottom]]

        await until(lambda: any("Preprocess" in label for label in labels()), pilot=pilot, what="tree")
        assert any("Preprocess" in label and "Executing" in label for label in labels())
        # The first step is selected: its details come from DescribeProcessingJob, fetched on demand.
        details = detail.query_one("#step-details")
        await until(lambda: "Job status" in text_of(details), pilot=pilot, what="job details")
        shown = text_of(details)
        assert "InProgress" in shown and "1 × ml.m5.xlarge" in shown
        assert "processing-job/" in shown
        assert "ProcessingInstanceType" in text_of(detail.query_one("#parameters"))
        assert any("TooInaccurate" in label for label in labels())  # the Fail branch is shown too
        emu.advance(3600)  # everything ends: the Condition evaluates, its else branch (a Fail step) runs
        await until(
            lambda: (
                any("Preprocess" in label and "Succeeded" in label for label in labels())
                and any("TooInaccurate" in label and "Failed" in label for label in labels())
            ),
            pilot=pilot,
            wait=15,
            what="the final tree",
        )
        assert any("else" in label and "TooInaccurate" in label for label in labels())
        assert any("ScoreAll" in label and "skipped" in label for label in labels())  # the if branch
        await pilot.press("escape")
        assert isinstance(app.screen, ExecutionsScreen)


async def test_a_parameter_filter_finds_runs_never_shown_and_idle_rows_read_no_parameters(
    emu: Emulator,
) -> None:
    await emu.create_pipeline("sweep")
    wanted = await emu.start("sweep", InstanceCount="7")  # the oldest: below the bottom of the screen
    emu.advance(5)
    others = []
    for _ in range(14):
        others.append(await emu.start("sweep", InstanceCount="3"))
        emu.advance(5)
    async with tui(emu, size=(120, 12)) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, ExecutionsScreen)
        await until(lambda: screen.table.row_count == 15, pilot=pilot, what="fifteen rows")
        assert wanted not in screen.table.visible_arns()
        await idle(pilot, 1.0)
        # Rows on screen cost no parameter reads: only a filter that names a parameter asks for them.
        assert emu.calls().get("SageMaker.ListPipelineParametersForExecution", 0) == 0

        await pilot.press("slash")
        await type_text(pilot, "InstanceCount=7", "enter")
        await until(lambda: screen.table.ordered_arns() == [wanted], pilot=pilot, what="the run never shown")
        assert emu.calls()["SageMaker.ListPipelineParametersForExecution"] == 15  # each candidate once
        assert "reading the parameters" not in str(screen.query_one("#info").render())

        # `pipeline:` narrows the candidates: a filter on another pipeline reads nothing more.
        await pilot.press("slash", "ctrl+u")
        await type_text(pilot, "pipeline:nothing InstanceCount=3", "enter")
        await idle(pilot, 0.5)
        assert screen.table.row_count == 0
        assert emu.calls()["SageMaker.ListPipelineParametersForExecution"] == 15


_TABLE_MODULES = (
    "cell_renders",
    "execution_lines",
    "execution_rows",
    "execution_table",
    "shown_rows",
    "table_scrollbar",
)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _dependency_attributes(cls: type) -> set[str]:
    """What the first Textual or Rich class `cls` derives from has: its methods, slots and the attributes
    an instance gets."""
    for base in cls.__mro__[1:]:
        if base.__module__.split(".")[0] in ("textual", "rich"):
            return set(dir(base()))
    return set()


def test_the_table_uses_no_private_api_of_textual_or_rich() -> None:
    """A Textual or Rich release may change anything private: the table imports, reads, sets and overrides
    only their public API. An attribute with an underscore is the module's own: defined there, and not
    one of the Textual or Rich class it derives from's."""
    for name in _TABLE_MODULES:
        module = importlib.import_module(f"smtui.tui.widgets.{name}")
        tree = ast.parse(inspect.getsource(module))
        own: set[str] = set()  # the names the module defines: its functions, classes and attributes
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                own.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                own.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                own.add(node.attr)
        classes = {  # nested ones too (messages)
            cls.__name__: cls
            for top in vars(module).values()
            if inspect.isclass(top) and top.__module__ == module.__name__
            for cls in (top, *(v for v in vars(top).values() if inspect.isclass(v)))
        }
        wrong: list[str] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                if any(_private(part) for part in node.module.split(".")):
                    wrong.append(f"from {node.module} import")
                wrong += [f"import {alias.name}" for alias in node.names if _private(alias.name)]
            elif isinstance(node, ast.Import):
                wrong += [f"import {a.name}" for a in node.names if any(map(_private, a.name.split(".")))]
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("_on_"):
                wrong.append(f"def {node.name} (a private Textual handler)")
            elif isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in own:
                wrong.append(f".{node.attr} (line {node.lineno})")
            elif isinstance(node, ast.ClassDef):
                theirs = _dependency_attributes(classes[node.name])
                wrong += [
                    f"{node.name}: .{use.attr} is {node.name}'s base's (line {use.lineno})"
                    for use in ast.walk(node)
                    if isinstance(use, ast.Attribute) and _private(use.attr) and use.attr in theirs
                ]
                wrong += [
                    f"{node.name}: def {use.name} overrides its base's"
                    for use in node.body
                    if isinstance(use, ast.FunctionDef | ast.AsyncFunctionDef)
                    and _private(use.name)
                    and use.name in theirs
                ]
        assert wrong == [], f"{name}.py: {wrong}"


async def test_keys_typed_fast_after_slash_go_to_the_filter(emu: Emulator) -> None:
    """`/churn` typed fast: every key after `/` is the filter's, none is the table's (c copies, r retries,
    n starts), however busy the app is when they come."""
    await emu.create_pipeline("churn")
    arn = await emu.start("churn")
    async with tui(emu) as (app, pilot):
        screen = app.screen
        await until(lambda: screen.table.cursor_arn == arn, pilot=pilot)
        sent = emu.mutating_calls()
        # As the terminal's driver does with what it read at once: every key is queued before the first
        # is handled. (`pilot.press` waits for the app to be idle after each key: it never shows this.)
        for key in ("slash", *"churn"):
            app.post_message(events.Key(key, "/" if key == "slash" else key))
        await idle(pilot, 0.3)
        assert screen.query_one("#filter", Input).value == "churn"
        assert "filter: churn" in text_of(screen.query_one("#info"))
        assert isinstance(app.screen, ExecutionsScreen)  # no start form (n), no retry question (r)
        assert app.clipboard == ""  # nothing copied (c)
        await pilot.press("escape", "slash", *"churn", "slash")  # one key at a time; `/` in the box is text
        await pilot.pause(0.3)
        assert screen.query_one("#filter", Input).value == "churn/"
        assert isinstance(app.screen, ExecutionsScreen) and app.clipboard == ""
    assert emu.mutating_calls() == sent


async def test_keys_typed_while_the_app_starts_are_not_lost_in_a_hidden_box() -> None:
    """`/churn` typed before the screen is up (a slow start, the demo's): the filter opens with `churn`.
    The hidden filter box used to be focused for a moment and took the keys, `/` included, out of sight."""
    app = fixed_app()
    for key in ("slash", *"churn"):  # queued before the app reads anything
        app.post_message(events.Key(key, "/" if key == "slash" else key))
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause(0.3)
        screen = app.screen
        assert isinstance(screen, ExecutionsScreen)
        box = screen.query_one("#filter", Input)
        assert (box.value, box.display, box.has_focus) == ("churn", True, True)
        assert "filter: churn" in text_of(screen.query_one("#info"))
