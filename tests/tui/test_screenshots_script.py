"""`scripts/screenshots` keeps working: it makes a picture of the demo at its fixed clock."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "screenshots.py"


async def test_the_screenshots_script_draws_the_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "screenshots")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "screenshots")
    time.tzset()
    spec = importlib.util.spec_from_file_location("screenshots", SCRIPT)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    try:
        [path] = await script.make(tmp_path, ["executions-80x24"])
    finally:
        monkeypatch.undo()
        time.tzset()
    svg = path.read_text()
    assert 'xml:space="preserve"' in svg  # librsvg keeps the spaces between columns
    assert "demo&#160;emulator" in svg or "demo emulator" in svg
    assert "Running" in svg and "churn" in svg
