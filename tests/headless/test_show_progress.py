"""`smtui show` counts progress as the TUI does (both read `StepTree.progress`): the steps a failed or
stopped run never reached are part of its total."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

from click.testing import Result
from emulator_proc import DEFINITIONS, EmulatorProcess


def test_show_counts_the_steps_a_run_never_reached(
    smtui: Callable[..., Result], emu: EmulatorProcess
) -> None:
    cf, broken = f"cf-{uuid.uuid4().hex[:8]}", f"broken-{uuid.uuid4().hex[:8]}"
    emu.create_pipeline(cf, (DEFINITIONS / "condition-foreach.json").read_text())
    emu.create_pipeline(broken, (DEFINITIONS / "train-retry-cache.json").read_text())
    stopped = emu.start_execution(cf)
    emu.advance(30)  # Preprocess, the first of six steps, is running
    emu.boto().stop_pipeline_execution(PipelineExecutionArn=stopped)
    assert emu.run_until_done(stopped) == "Stopped"
    failed = emu.start_execution(broken)
    assert emu.run_until_done(failed) == "Failed"  # Preprocess succeeded, Train failed, Register never ran

    doc = json.loads(smtui("show", stopped, "--json").output)
    assert doc["progress"] == {"done": 1, "total": 6}
    assert "Stopped  1/6 steps" in smtui("show", stopped).output.splitlines()[0]
    doc = json.loads(smtui("show", failed, "--json").output)
    assert doc["progress"] == {"done": 2, "total": 3}
