"""Export of the rows shown (after the filter, in the table's order) to CSV (`Ctrl+S`, or the palette) or
JSON (the palette): the fields of `smtui ls --json` plus the parameter columns shown, in a file that the
toast names."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from conftest import Emulator, from_palette, toasts_shown, tui, type_text, until
from textual.widgets import SelectionList

from smtui.tui.screens.columns import ColumnsScreen
from smtui.tui.screens.executions import ExecutionsScreen

HEADER = [
    "arn",
    "pipeline",
    "execution_id",
    "display_name",
    "status",
    "started",
    "ended",
    "elapsed_s",
    "failure_reason",
    "remaining_s",
    "remaining",
]


def _exported(directory: Path, extension: str) -> list[Path]:
    return sorted(directory.glob(f"*.{extension}"))


async def test_export_the_rows_shown(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    await emu.create_pipeline("alpha")
    await emu.create_pipeline("beta")
    first = await emu.start("alpha", InstanceCount="2", ProcessingInstanceType="ml.m5.xlarge,spot")
    emu.advance(5)
    await emu.start("beta")
    emu.advance(5)
    second = await emu.start("alpha", InstanceCount="4")
    emu.advance(5)
    async with tui(emu, toasts=True) as (app, pilot):
        screen = app.screen
        assert isinstance(screen, ExecutionsScreen)
        table = screen.table
        await until(lambda: table.row_count == 3, pilot=pilot, what="three rows")
        await pilot.press("slash")
        await type_text(pilot, "pipeline:alpha", "enter")
        await pilot.press("P")  # sorted by pipeline, then by start: oldest first
        assert table.ordered_arns() == [first, second]

        await from_palette(pilot, "columns")
        dialog = await until(lambda: isinstance(app.screen, ColumnsScreen) and app.screen, pilot=pilot)
        picked = dialog.query_one(SelectionList)
        await until(lambda: picked.option_count == 3, pilot=pilot, what="the pipeline's parameters listed")
        await pilot.press("space", "down", "space", "escape")  # ProcessingInstanceType, InstanceCount
        await until(lambda: str(table.get_cell(second, "param:InstanceCount")) == "4", pilot=pilot)

        await pilot.press("ctrl+s")
        toast = await until(lambda: [t for t in toasts_shown(app) if "Exported 2 rows" in t], pilot=pilot)
        [path] = _exported(tmp_path, "csv")
        # Named after the local time of the export, and told in the toast.
        stamp = re.fullmatch(r"smtui-executions-(\d{8}-\d{6})\.csv", path.name)
        assert stamp is not None, path.name
        assert str(path) in toast[0]
        raw = path.read_bytes().decode()
        assert raw.count("\r\n") == 3  # RFC 4180 line ends: a header and two rows
        assert '"ml.m5.xlarge,spot"' in raw  # a comma in a value: quoted
        with path.open(newline="") as f:
            rows = list(csv.reader(f))
        assert rows[0] == [*HEADER, "param:ProcessingInstanceType", "param:InstanceCount"]
        records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
        assert [r["arn"] for r in records] == [first, second]  # the rows shown, in their order
        assert [r["param:InstanceCount"] for r in records] == ["2", "4"]
        assert records[0]["param:ProcessingInstanceType"] == "ml.m5.xlarge,spot"
        assert (
            records[1]["param:ProcessingInstanceType"] == "ml.m5.xlarge"
        )  # the default, as the API lists it
        assert all(r["status"] == "Executing" and r["pipeline"] == "alpha" for r in records)
        assert records[0]["remaining"] == "no-history" and records[0]["ended"] == ""

        # JSON from the palette: the same rows; a second export in the same second gets a file of its own.
        await from_palette(pilot, "export JSON")
        await until(lambda: list(_exported(tmp_path, "json")), pilot=pilot, what="the JSON file")
        [json_path] = _exported(tmp_path, "json")
        docs = json.loads(json_path.read_text())
        assert [d["arn"] for d in docs] == [first, second]
        assert set(docs[0]) == {*HEADER, "parameters"}
        assert docs[1]["parameters"] == {"ProcessingInstanceType": "ml.m5.xlarge", "InstanceCount": "4"}
        assert docs[0]["started"] == (await _started(emu, first))
        await pilot.press("ctrl+s")
        await until(lambda: len(list(_exported(tmp_path, "csv"))) == 2, pilot=pilot, what="a second CSV")
        assert path.read_bytes().decode() == raw  # the first one is not overwritten


async def _started(emu: Emulator, arn: str) -> str:
    reply = await emu.client.call("describe_pipeline_execution", PipelineExecutionArn=arn)
    return str(reply["CreationTime"].isoformat())


async def test_export_that_cannot_be_written_says_why(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()  # the current directory no longer exists: no file can be written there
    await emu.create_pipeline("alpha")
    await emu.start("alpha")
    async with tui(emu, toasts=True) as (app, pilot):
        screen = app.screen
        await until(lambda: screen.table.row_count == 1, pilot=pilot)
        await pilot.press("ctrl+s")
        toast = await until(lambda: toasts_shown(app, "error"), pilot=pilot, what="an error toast")
        assert "Not exported" in toast[0] and "No such file or directory" in toast[0]
        assert isinstance(app.screen, ExecutionsScreen)


def test_an_export_never_overwrites_a_file(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from smtui.tui.export import ExportFormat, export_executions

    at = datetime(2026, 12, 2, 7, 30, tzinfo=UTC)

    def export() -> Path:
        return export_executions(
            [],
            now=at,
            left=lambda e: None,
            parameters=(),
            form=ExportFormat.CSV,
            directory=tmp_path,
            named_at=at,
        )

    stamp = at.astimezone().strftime("%Y%m%d-%H%M%S")
    assert [export().name for _ in range(3)] == [
        f"smtui-executions-{stamp}.csv",
        f"smtui-executions-{stamp}-2.csv",
        f"smtui-executions-{stamp}-3.csv",
    ]
