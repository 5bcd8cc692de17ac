"""How the executions table paints: cached cells stay right when rows move, and ticks repaint only changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult
from textual.renderables.styled import Styled

from smtui.core.model import ExecutionStatus
from smtui.tui import format as fmt
from smtui.tui.widgets.execution_table import ExecutionRow, ExecutionTable

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


async def test_click_selects_the_row_under_the_mouse_after_rows_moved() -> None:
    app = _TableApp()
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.query_one(ExecutionTable)
        table.show(_row(i) for i in range(5))
        await pilot.pause()
        # A newer execution arrives: every row moves down one line, its cells come from the cache.
        table.upsert([_row(9)])
        await pilot.pause()
        assert table.ordered_arns()[2].endswith("/e3")
        await pilot.click(ExecutionTable, offset=(20, 3))  # header, e9, e4, e3
        assert table.cursor_arn is not None and table.cursor_arn.endswith("/e3")


async def test_a_changed_cell_is_painted_and_the_others_are_not_rendered_again() -> None:
    app = _TableApp()
    async with app.run_test(size=(120, 12)) as pilot:
        table = app.query_one(ExecutionTable)
        rows = [_row(i, status=ExecutionStatus.EXECUTING) for i in range(5)]
        table.show(rows)
        await pilot.pause()
        rendered: list[object] = []
        original = app.console.render_lines

        def counting(*args: object, **kwargs: object) -> object:
            if isinstance(args[0], Styled):  # how DataTable renders a cell
                rendered.append(args[0])
            return original(*args, **kwargs)  # type: ignore[arg-type]

        app.console.render_lines = counting  # type: ignore[method-assign]
        table.upsert([_row(2, status=ExecutionStatus.EXECUTING, elapsed=timedelta(seconds=31))])
        await pilot.pause()
        app.console.render_lines = original  # type: ignore[method-assign]
        assert "31s" in str(table.get_cell(rows[2].arn, "elapsed"))
        line = "".join(segment.text for segment in table.render_line(table.get_row_index(rows[2].arn) + 1))
        assert "31s" in line
        assert len(rendered) == 1  # the one elapsed cell; the row is re-assembled from cached cells


def test_elapsed_is_cut_to_what_is_shown() -> None:
    for seconds in (0, 59, 61, 3599, 3600, 3659, 3661, 86399, 86400, 90061):
        delta = timedelta(seconds=seconds, milliseconds=400)
        assert fmt.duration(fmt.elapsed_shown(delta)) == fmt.duration(delta)
    # Over an hour the text moves by minutes: rows compare equal, and are not repainted, meanwhile.
    assert fmt.elapsed_shown(timedelta(seconds=3601)) == fmt.elapsed_shown(timedelta(seconds=3659))
    assert fmt.elapsed_shown(timedelta(seconds=58)) != fmt.elapsed_shown(timedelta(seconds=59))


def test_progress_not_known_yet_is_honest() -> None:
    assert fmt.progress_bar(None, running=True).plain == "…"  # being fetched
    assert fmt.progress_bar(None).plain == ""  # finished: its definition is never fetched
    assert fmt.progress_bar((3, 6)).plain == "████░░░░ 3/6"
