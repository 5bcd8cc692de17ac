"""SVG snapshots of each screen at a fixed clock and size (update with `pytest --snapshot-update`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from tui_fixed_state import fixed_app

from smtui.tui.screens.start import StartScreen


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Times are shown in the local zone: pin it so the pictures do not depend on the machine.
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("size", [(80, 24), (140, 30)])
def test_executions_screen(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(fixed_app(), terminal_size=size)


@pytest.mark.parametrize(
    ("size", "press"),
    [
        ((80, 24), ["enter", "_", "_"]),  # the first step, with its job's details (DescribeProcessingJob)
        ((140, 30), ["enter", "_", "down", "down", "down", "down"]),  # the retried ForEach iteration
    ],
)
def test_execution_screen(snap_compare: Any, size: tuple[int, int], press: list[str]) -> None:
    assert snap_compare(fixed_app(), press=press, terminal_size=size)


def test_start_form(snap_compare: Any) -> None:
    async def open_form(pilot: Any) -> None:
        await pilot.app.push_screen(StartScreen(pilot.app))
        await pilot.press("enter")
        await pilot.pause(0.2)

    assert snap_compare(fixed_app(), run_before=open_form, terminal_size=(100, 30))


def test_keys_help(snap_compare: Any) -> None:
    assert snap_compare(fixed_app(), press=["question_mark"], terminal_size=(80, 40))


def test_filtered_and_sorted(snap_compare: Any) -> None:
    assert snap_compare(fixed_app(), press=["slash", *"churn", "enter", "S"], terminal_size=(100, 20))


def test_no_color_read_only(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(fixed_app(read_only=True), terminal_size=(80, 24))
