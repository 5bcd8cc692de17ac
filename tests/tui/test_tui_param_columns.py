"""Parameter columns: the palette's `columns` picks which of a pipeline's parameters the table shows; their
values are read through the monitor (ListPipelineParametersForExecution, once each) for the rows in view
only, and say `…` until read."""

from __future__ import annotations

from conftest import Emulator, from_palette, screen_text, tui, until
from textual.widgets import SelectionList

from smtui.tui.screens.columns import ColumnsScreen
from smtui.tui.screens.executions import ExecutionsScreen


def _params_reads(emu: Emulator) -> int:
    return sum(n for op, n in emu.calls().items() if op.endswith("ListPipelineParametersForExecution"))


async def test_columns_from_the_palette_show_parameters_of_rows_in_view(emu: Emulator) -> None:
    await emu.create_pipeline("alpha")
    arns = []
    for count in range(1, 13):  # twelve runs; a 16-line terminal shows fewer rows than that
        arns.append(await emu.start("alpha", InstanceCount=str(count), AccuracyThreshold="0.5"))
        emu.advance(1)
    newest_first = arns[::-1]
    async with tui(emu, size=(150, 16)) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, ExecutionsScreen)
        table = screen.table
        await until(lambda: table.row_count == 12, pilot=pilot, what="twelve rows")
        assert _params_reads(emu) == 0  # nothing asks for parameters yet

        await from_palette(pilot, "columns")
        dialog = await until(lambda: isinstance(app.screen, ColumnsScreen) and app.screen, pilot=pilot)
        picked = dialog.query_one(SelectionList)
        await until(lambda: picked.option_count == 3, pilot=pilot, what="the pipeline's parameters listed")
        names = [str(picked.get_option_at_index(i).prompt) for i in range(3)]
        assert names == ["ProcessingInstanceType", "InstanceCount", "AccuracyThreshold"]
        await pilot.press("down", "space", "down", "space", "escape")  # InstanceCount, AccuracyThreshold
        await until(lambda: app.screen is screen, pilot=pilot)
        assert table.parameter_columns == ("InstanceCount", "AccuracyThreshold")

        in_view = table.visible_arns()
        assert 0 < len(in_view) < 12

        def value(arn: str) -> str:
            return str(table.get_cell(arn, "param:InstanceCount"))

        await until(
            lambda: all(value(arn) != "…" for arn in in_view),
            pilot=pilot,
            what="the values of the rows in view",
        )
        for arn in in_view:
            assert value(arn) == str(arns.index(arn) + 1)
            assert str(table.get_cell(arn, "param:AccuracyThreshold")) == "0.5"
        lines = screen_text(app)
        assert "InstanceCount" in lines[2] and "AccuracyThreshold" in lines[2]  # the header
        assert "12" in lines[3]  # the newest run's InstanceCount, on its row
        out_of_view = [arn for arn in newest_first if arn not in in_view]
        assert all(value(arn) == "…" for arn in out_of_view)  # not read: not in view
        assert _params_reads(emu) == len(in_view)  # once each, for the rows in view only

        # Scrolled down: the rows that come into view are read in turn; none is read twice.
        await pilot.press("ctrl+end")
        await until(lambda: value(newest_first[-1]) == "1", pilot=pilot, what="the oldest row's value")
        assert _params_reads(emu) <= 12

        # Chosen for the session: the dialog opens with them ticked; unticking one removes its column.
        await from_palette(pilot, "columns")
        dialog = await until(lambda: isinstance(app.screen, ColumnsScreen) and app.screen, pilot=pilot)
        picked = dialog.query_one(SelectionList)
        await until(lambda: picked.option_count == 3, pilot=pilot)
        assert sorted(picked.selected) == ["AccuracyThreshold", "InstanceCount"]
        await pilot.press("down", "space", "escape")
        await until(lambda: app.screen is screen, pilot=pilot)
        assert table.parameter_columns == ("AccuracyThreshold",)
        assert "InstanceCount" not in screen_text(app)[2]
