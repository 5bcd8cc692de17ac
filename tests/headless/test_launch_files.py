"""`smtui launch` reads what spreadsheets write (UTF-8 with or without a BOM, UTF-16 with one, tab-separated
"Unicode Text"), and a file it cannot use is one line on stderr, exit 2, no journal and nothing started."""

from __future__ import annotations

import codecs
import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from emulator_proc import DEFINITIONS, EmulatorProcess

Smtui = Callable[..., Result]


@pytest.fixture(scope="module")
def pipeline(emu: EmulatorProcess) -> str:
    """A pipeline declaring InstanceType (String), Epochs (Integer) and Deploy (Boolean)."""
    name = f"sheet-{uuid.uuid4().hex[:8]}"
    emu.create_pipeline(name, (DEFINITIONS / "train-retry-cache.json").read_text())
    return name


def starts(emu: EmulatorProcess) -> int:
    return emu.stats().get("StartPipelineExecution", 0)


def parameters(emu: EmulatorProcess, arn: str) -> dict[str, str]:
    listed = emu.boto().list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)
    return {p["Name"]: p["Value"] for p in listed["PipelineParameters"]}


SHEET = "Epochs,InstanceType,_display_name\r\n7,ml.c5.xlarge,from-a-sheet\r\n"


@pytest.mark.parametrize(
    "content",
    [
        SHEET.encode("utf-8"),
        codecs.BOM_UTF8 + SHEET.encode("utf-8"),  # Excel's "CSV UTF-8"
        SHEET.encode("utf-16"),  # a BOM, then little-endian here
        codecs.BOM_UTF16_BE + SHEET.encode("utf-16-be"),
        SHEET.replace(",", "\t").encode("utf-16"),  # Excel's "Unicode Text": UTF-16, tab-separated
    ],
    ids=["utf8", "utf8-bom", "utf16-le", "utf16-be", "utf16-tabs"],
)
def test_launch_reads_the_encodings_spreadsheets_save(
    smtui: Smtui, emu: EmulatorProcess, pipeline: str, tmp_path: Path, content: bytes
) -> None:
    sheet = tmp_path / "runs.csv"
    sheet.write_bytes(content)
    result = smtui("launch", str(sheet), "--pipeline", pipeline, "--json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)["rows"]
    assert row["result"] == "started"
    assert parameters(emu, row["arn"])["Epochs"] == "7"  # not "\ufeffEpochs", an unknown parameter
    assert parameters(emu, row["arn"])["InstanceType"] == "ml.c5.xlarge"
    described = emu.boto().describe_pipeline_execution(PipelineExecutionArn=row["arn"])
    assert described["PipelineExecutionDisplayName"] == "from-a-sheet"
    emu.boto().stop_pipeline_execution(PipelineExecutionArn=row["arn"])


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "no rows to launch"),
        (b"Epochs,InstanceType\n", "no rows to launch"),  # a header alone
        (b"\n\n", "no rows to launch"),
        (b"Epochs\n\xe9t\xe9\n", "not UTF-8 or UTF-16 text"),  # Latin-1
        (codecs.BOM_UTF16_LE + b"\x00\xd8", "not UTF-8 or UTF-16 text"),  # a lone surrogate
        (b'Epochs\n"' + b"1" * 200_000 + b'"\n', "not a CSV file"),  # past the csv module's field limit
        (b'Epochs,InstanceType\n7,"ml.c5\n', "not a CSV file"),  # a quote never closed
        (b"Epochs,InstanceType\n7,ml.c5.xlarge,oops\n", "not a CSV file: row 1 has more values"),
    ],
    ids=[
        "empty",
        "header-only",
        "blank-lines",
        "latin-1",
        "bad-utf16",
        "huge-field",
        "open-quote",
        "extra-value",
    ],
)
def test_a_file_launch_cannot_use_is_one_line_exit_2_and_nothing_written(
    smtui: Smtui, emu: EmulatorProcess, pipeline: str, tmp_path: Path, content: bytes, says: str
) -> None:
    sheet = tmp_path / "runs.csv"
    sheet.write_bytes(content)
    before = starts(emu)
    result = smtui("launch", str(sheet), "--pipeline", pipeline)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"smtui: {sheet}: {says}"), result.stderr
    assert not (tmp_path / "runs.csv.journal.jsonl").exists()
    assert starts(emu) == before


def test_an_empty_jsonl_file_is_refused_too(
    smtui: Smtui, emu: EmulatorProcess, pipeline: str, tmp_path: Path
) -> None:
    runs = tmp_path / "runs.jsonl"
    runs.write_text("\n  \n")
    result = smtui("launch", str(runs), "--pipeline", pipeline)
    assert result.exit_code == 2 and "no rows to launch" in result.stderr
    assert not (tmp_path / "runs.jsonl.journal.jsonl").exists()


def test_a_journal_that_cannot_be_read_or_written_is_one_line(
    smtui: Smtui, emu: EmulatorProcess, pipeline: str, tmp_path: Path
) -> None:
    runs = tmp_path / "runs.csv"
    runs.write_text("Epochs\n1\n")
    journal = tmp_path / "journal.jsonl"
    # A journal edited by hand (a row that is not a number) is read as far as it makes sense.
    journal.write_text(json.dumps({"launch_id": "x", "row": "one", "state": "started"}) + "\n\xff\n")
    before = starts(emu)
    result = smtui("launch", str(runs), "-P", pipeline, "--launch-id", "x", "--journal", str(journal))
    assert result.exit_code == 0, result.output
    assert starts(emu) == before + 1
    arn = result.output.split()[3]
    emu.boto().stop_pipeline_execution(PipelineExecutionArn=arn)

    missing_dir = tmp_path / "nowhere" / "journal.jsonl"
    result = smtui("launch", str(runs), "-P", pipeline, "--journal", str(missing_dir))
    assert result.exit_code == 2 and "cannot write the journal" in result.stderr
    assert result.stderr.count("\n") == 1 and starts(emu) == before + 1
