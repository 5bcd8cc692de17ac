"""`smtui ls --csv`: a header row, then the fields of `--json` for each row (RFC 4180 as Python's csv module
writes it: CRLF line ends, quoted where needed, null as an empty field); `--csv` with `--json` is a usage
error."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable

from click.testing import Result
from emulator_proc import DEFINITIONS, EmulatorProcess

Smtui = Callable[..., Result]
HEADER = (
    "arn,pipeline,execution_id,display_name,status,started,ended,elapsed_s,failure_reason,"
    "remaining_s,remaining"
)


def test_csv_has_the_fields_of_json(smtui: Smtui, emu: EmulatorProcess) -> None:
    pipeline = f"broken-{uuid.uuid4().hex[:6]}"  # its Train step fails: a failure reason to quote
    emu.create_pipeline(pipeline, (DEFINITIONS / "train-retry-cache.json").read_text())
    failed = emu.start_execution(pipeline)
    assert emu.run_until_done(failed) == "Failed"
    running = emu.start_execution(pipeline)
    emu.advance(5)

    result = smtui("ls", "--pipeline", pipeline, "--csv")
    assert result.exit_code == 0, result.output
    raw = result.stdout_bytes.decode()
    assert raw.startswith(HEADER + "\r\n") and raw.endswith("\r\n")
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    expected = json.loads(smtui("ls", "--pipeline", pipeline, "--json").output)
    assert [row["arn"] for row in rows] == [running, failed]
    for row, doc in zip(rows, expected, strict=True):
        # The same values; a null is an empty field, a number its JSON spelling. The running row's elapsed
        # time is the server's now less its start, and the two commands read the server's now a moment apart.
        if row["arn"] == running:
            assert abs(float(row.pop("elapsed_s")) - doc.pop("elapsed_s")) < 1
        assert row == {k: "" if v is None else str(v) for k, v in doc.items()}
    assert rows[0]["status"] == "Executing" and rows[0]["remaining"] == "no-history"
    assert rows[1]["failure_reason"] and rows[1]["ended"] and rows[1]["remaining"] == "ended"


def test_csv_with_no_rows_is_a_header(smtui: Smtui, emu: EmulatorProcess) -> None:
    pipeline = f"empty-{uuid.uuid4().hex[:6]}"
    emu.create_pipeline(pipeline, (DEFINITIONS / "train-retry-cache.json").read_text())
    result = smtui("ls", "--pipeline", pipeline, "--csv")
    assert result.exit_code == 0
    assert result.stdout_bytes.decode() == HEADER + "\r\n"


def test_csv_and_json_together_are_a_usage_error(smtui: Smtui) -> None:
    result = smtui("ls", "--csv", "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("smtui: --csv and --json: choose one")
    assert result.stderr.count("\n") == 1
