"""How the executions table paints: cached cells stay right when rows move, and ticks repaint only changes."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rich.console import Console
from rich.padding import Padding
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.renderables.styled import Styled
from textual.strip import Strip

from smtui.core.model import ExecutionStatus
from smtui.tui import format as fmt
from smtui.tui.launch import STRIP_DIVIDE_WRITTEN_FOR, uncycled_strips
from smtui.tui.widgets import execution_lines
from smtui.tui.widgets.cell_renders import render_cell
from smtui.tui.widgets.execution_rows import Cell, ExecutionRow
from smtui.tui.widgets.execution_table import ExecutionTable

T0 = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


def _row(i: int, *, status: ExecutionStatus = ExecutionStatus.SUCCEEDED, **kw: object) -> ExecutionRow:
    values: dict[str, object] = {
        "arn": f"arn:aws:sagemaker:us-east-1:1:pipeline/p/execution/e{i}",
        "status": status,
        "pipeline": "p",
        "name": f"run-{i}",
        "started": T0 + timedelta(minutes=i),
        "elapsed": timedelta(seconds=30),
        "progress": (1, 2),
        "running": (),
        "reason": None,
    }
    values.update(kw)
    return ExecutionRow(**values)  # type: ignore[arg-type]


class _TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ExecutionTable(id="t")


@asynccontextmanager
async def table_app(
    rows: Iterable[ExecutionRow],
) -> AsyncIterator[tuple[_TableApp, Pilot[None], ExecutionTable]]:
    """The table alone in a 120×12 terminal, showing `rows`, painted once."""
    app = _TableApp()
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.query_one(ExecutionTable)
        table.show(rows)
        await pilot.pause()
        yield app, pilot, table


async def test_click_selects_the_row_under_the_mouse_after_rows_moved() -> None:
    async with table_app(_row(i) for i in range(30)) as (_app, pilot, table):
        # A newer execution arrives: every row moves down one line, its cells come from the cache.
        table.upsert([_row(99)])
        await pilot.pause()
        assert table.ordered_arns()[3].endswith("/e27")
        await pilot.click(ExecutionTable, offset=(20, 4))  # header, e99, e29, e28, e27
        assert table.cursor_arn is not None and table.cursor_arn.endswith("/e27")
        await pilot.hover(ExecutionTable, offset=(20, 2))
        assert table.hover_row == 1
        # Scrolled: the row under the mouse, not the row drawn on that line before.
        table.scroll_to(y=10, animate=False, immediate=True)
        await pilot.pause()
        await pilot.click(ExecutionTable, offset=(20, 1))
        assert table.cursor_arn is not None and table.cursor_arn.endswith("/e20")
        # The header is DataTable's: a click there selects no row.
        await pilot.click(ExecutionTable, offset=(20, 0))
        assert table.cursor_arn is not None and table.cursor_arn.endswith("/e20")


async def test_the_cursor_stays_on_its_execution_when_a_row_above_goes() -> None:
    async with table_app(_row(i) for i in range(10)) as (_app, pilot, table):
        await pilot.press("down", "down", "down")
        chosen = table.cursor_arn
        assert chosen is not None and chosen.endswith("/e6")
        table.discard([_row(8).arn])  # filtered out, say
        await pilot.pause()
        assert table.cursor_arn == chosen
        assert "run-6" in "".join(s.text for s in table.render_line(1 + table.cursor_row))


async def test_the_table_keys_are_remapped_by_binding_id() -> None:
    async with table_app(_row(i) for i in range(10)) as (app, pilot, table):
        app.set_keymap({"table.cursor_down": "j", "table.cursor_up": "k"})
        await pilot.press("j", "j", "k")
        assert table.cursor_arn is not None and table.cursor_arn.endswith("/e8")


def _thumb_lines(table: ExecutionTable) -> list[int]:
    """The lines whose last two cells are the scrollbar's thumb (drawn in the bar's colour)."""
    lines = []
    for y in range(table.size.height):
        last = list(table.render_line(y))[-1]
        if last.style is not None and (last.style.reverse or last.text.strip()):
            lines.append(y)
    return lines


async def test_the_scrollbar_drawn_in_the_lines_pages_and_drags() -> None:
    async with table_app(_row(i) for i in range(60)) as (app, pilot, table):
        # No scrollbar widget beside the table (it would cut each of its lines in two at each frame).
        assert app.screen.get_widget_at(119, 5)[0] is table
        assert _thumb_lines(table)[0] == 0
        newest = table.visible_arns()[0]
        # A click on the track below the thumb pages down, and leaves the cursor where it was.
        await pilot.click(ExecutionTable, offset=(119, 10))
        await pilot.pause()
        assert table.scroll_y == 11
        assert table.cursor_arn == newest
        assert _thumb_lines(table)[0] > 0
        # Dragging the thumb to the bottom shows the oldest execution.
        top = _thumb_lines(table)[0]
        await pilot.mouse_down(ExecutionTable, offset=(119, top))
        await pilot.hover(ExecutionTable, offset=(119, 11))
        await pilot.mouse_up(ExecutionTable, offset=(119, 11))
        await pilot.pause()
        assert table.scroll_y == table.max_scroll_y
        assert table.visible_arns()[-1].endswith("/e0")
        # Down to the last line of rows (the horizontal scrollbar is under it).
        assert _thumb_lines(table)[-1] == table.scrollable_content_region.height - 1 == 10
        # A click on the track above pages back up.
        await pilot.click(ExecutionTable, offset=(119, 1))
        await pilot.pause()
        assert table.scroll_y == table.max_scroll_y - 11


def _thumb_painted(app: _TableApp) -> list[int]:
    """The lines whose last cell the screen shows as the thumb's (cached lines included: not a fresh
    render of the table)."""
    return [y for y in range(12) if app.screen.get_style_at(119, y).reverse]


async def test_the_thumb_shrinks_on_screen_when_rows_arrive_below_it() -> None:
    async with table_app(_row(i) for i in range(8, 20)) as (app, pilot, table):
        before = _thumb_painted(app)
        table.upsert(_row(i) for i in range(8))  # older: below the last line on screen
        await pilot.pause()
        after = _thumb_painted(app)
        assert after == [y for y in _thumb_lines(table) if list(table.render_line(y))[-1].style.reverse]
        assert 0 < len(after) < len(before)


async def test_repainted_lines_leave_no_garbage_for_the_cycle_collector() -> None:
    """Each second the ticking rows are painted again; their old lines must be freed as they are dropped,
    not left in reference cycles for a garbage collection (a pause the user feels, every few minutes)."""
    uncycled_strips()  # as `smtui` and `smtui demo` do at start
    running = {"status": ExecutionStatus.EXECUTING, "running": ("Train",)}
    async with table_app(_row(i, **running) for i in range(30)) as (app, pilot, table):
        gc.collect()
        # What the collector finds unreachable is kept in gc.garbage, to look at.
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            for tick in range(5):
                table.upsert(_row(i, elapsed=timedelta(seconds=31 + tick), **running) for i in range(30))
                await pilot.pause()
            shown = app.export_screenshot()
            gc.collect()
            strips = [o for o in gc.garbage if isinstance(o, Strip)]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
        assert "35s" in shown and "34s" not in shown  # the last tick's lines were painted
        assert strips == []


async def test_a_changed_cell_is_painted_and_the_others_are_not_rendered_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [_row(i, status=ExecutionStatus.EXECUTING) for i in range(5)]
    async with table_app(rows) as (_app, pilot, table):
        rendered: list[str] = []

        def counting(cell: Text, *args: Any) -> Any:
            rendered.append(cell.plain)
            return render_cell(cell, *args)

        monkeypatch.setattr(execution_lines, "render_cell", counting)
        table.upsert([_row(2, status=ExecutionStatus.EXECUTING, elapsed=timedelta(seconds=31))])
        await pilot.pause()
        assert "31s" in str(table.get_cell(rows[2].arn, "elapsed"))
        line = "".join(segment.text for segment in table.render_line(table.get_row_index(rows[2].arn) + 1))
        assert "31s" in line
        assert rendered == ["31s"]  # the one elapsed cell; the row is re-assembled from cached cells


def test_a_cell_renders_as_datatable_renders_it() -> None:
    """`render_cell` is a fast path of Rich's; the same segments, whatever the text, width and styles."""
    console = Console(width=100, color_system="truecolor")
    pre, post = Style(color="red", bgcolor="blue"), Style(bgcolor="black")
    texts = [
        Text(""),
        Text("", style="red"),
        Text("▶ Running", style="bold yellow"),
        Text("日本語の名前です", style="red"),
        Text("x" * 40),
        Text("12m30s"),
        Text("fits", style=Style(color="green", italic=True)),
        Text.assemble(("██", "green"), ("░░", "bright_black"), " 2/4"),
    ]
    for cell in (Cell(text, 0) for text in texts):
        for width in (3, 8, 14, 50):
            expected = console.render_lines(
                Styled(Padding(cell, (0, 1)), pre_style=pre, post_style=post),
                console.options.update_dimensions(width, 1).update(no_wrap=True),
            )
            assert render_cell(cell, width, 1, pre, post, console) == expected


def test_elapsed_is_cut_to_what_is_shown() -> None:
    for seconds in (0, 59, 61, 599, 600, 659, 3599, 3600, 3659, 3661, 86399, 86400, 90061, 200000):
        delta = timedelta(seconds=seconds, milliseconds=400)
        assert fmt.age(fmt.elapsed_shown(delta)) == fmt.age(delta)
    # As k9s shows ages: seconds under 10 minutes, then minutes. Rows compare equal, and are not
    # repainted, until the text changes.
    assert [fmt.age(timedelta(seconds=s)) for s in (45, 184, 599, 600, 754, 3720, 200000)] == [
        "45s",
        "3m04s",
        "9m59s",
        "10m",
        "12m",
        "1h02m",
        "2d07h",
    ]
    assert fmt.elapsed_shown(timedelta(seconds=601)) == fmt.elapsed_shown(timedelta(seconds=659))
    assert fmt.elapsed_shown(timedelta(seconds=58)) != fmt.elapsed_shown(timedelta(seconds=59))


def test_progress_not_known_yet_is_honest() -> None:
    assert fmt.progress_bar(None, running=True).plain == "…"  # being fetched
    assert fmt.progress_bar(None).plain == ""  # finished: its definition is never fetched
    assert fmt.progress_bar((3, 6)).plain == "████░░░░ 3/6"
    # A run that failed at its last step has done all it reached: its bar is full, and red.
    failed = fmt.progress_bar((2, 2), status=ExecutionStatus.FAILED)
    assert failed.plain == "████████ 2/2"
    assert "red" in str(failed.get_style_at_offset(Console(), 0))
    assert "green" in str(
        fmt.progress_bar((2, 2), status=ExecutionStatus.SUCCEEDED).get_style_at_offset(Console(), 0)
    )


_DIVIDED_WHOLE = """
import gc, logging, sys
import textual
textual.__version__ = sys.argv[1]
from rich.segment import Segment
from textual.strip import Strip
from smtui.tui.launch import STRIP_DIVIDE_WRITTEN_FOR, uncycled_strips

print(uncycled_strips())
gc.collect()
gc.disable()
for _ in range(100):
    Strip([Segment("x" * 80)], 80).divide([80])  # as the compositor paints a line nothing overlaps
print(gc.collect())
"""


@pytest.mark.parametrize("version", [STRIP_DIVIDE_WRITTEN_FOR, "8.9.0"])
def test_the_strip_divide_patch_applies_only_to_the_textual_it_was_written_for(version: str) -> None:
    run = subprocess.run(
        [sys.executable, "-c", _DIVIDED_WHOLE, version], capture_output=True, text=True, check=True
    )
    patched, garbage = run.stdout.split()
    if version == STRIP_DIVIDE_WRITTEN_FOR:
        assert (patched, garbage, run.stderr) == ("True", "0", "")
    else:
        # Left as it is: each line is a strip in a reference cycle, as Textual made it; one line says so.
        assert (patched, int(garbage) >= 100) == ("False", True)
        assert run.stderr == (
            f"smtui: Textual {version}, not {STRIP_DIVIDE_WRITTEN_FOR}: Strip.divide not patched "
            "(docs/upstream/textual-strip-divide.md)\n"
        )
