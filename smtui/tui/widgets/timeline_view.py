"""The execution screen's Gantt view (`t`): the model and the characters of `smtui.core.timeline`, drawn
line by line with a cursor over the steps.

A line-API widget: the axis stays on the top two lines and the legend at the bottom, the bars scroll
between them. Each bar's line is rendered once per model and width and kept; a key press repaints the
two lines the cursor left and reached (and, when it scrolls, the lines that came into view, from the
cache). A new model (the steps were read again, or the clock ticked under running steps) or a new width
drops the cache; only the lines on screen are drawn again.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from smtui.core.model import StepNode, StepStatus
from smtui.core.timeline import (
    CACHED,
    CRITICAL,
    EARLIER,
    FILL,
    WAIT,
    Axis,
    Bar,
    Timeline,
    axis_for,
    bar_cells,
    bar_label,
    bar_tail,
    legend_lines,
    ruler_lines,
)
from smtui.tui import format as fmt

HEADER = 2  # the axis' lines
NARROW = 100  # below this width the tails are short (`(w 3s)`, `>max`)

# The colour of each cell character: colour only adds to what the character already says.
_CELL_COLOURS: dict[str, str] = {
    FILL[StepStatus.SUCCEEDED]: "green",
    FILL[StepStatus.EXECUTING]: "bold yellow",
    FILL[StepStatus.STARTING]: "yellow",
    FILL[StepStatus.FAILED]: "bold red",
    FILL[StepStatus.STOPPING]: "magenta",
    FILL[StepStatus.STOPPED]: "bright_black",
    CACHED: "blue",
    WAIT: "bright_black",
    EARLIER: "red",
}


def _style(name: str) -> Style:
    return Style.parse(fmt.styled(name)) if name else Style()


class TimelineView(ScrollView, can_focus=True):
    """One bar per step on a time axis as wide as the widget; `↑`/`↓` move over the steps, Enter chooses
    one (the screen shows it in the tree). `show()` gives it a new model."""

    ALLOW_SELECT = False

    COMPONENT_CLASSES: ClassVar[set[str]] = {"timeline-view--cursor"}

    DEFAULT_CSS = """
    TimelineView {
        background: $surface;
        scrollbar-size-horizontal: 0;
        & > .timeline-view--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
        }
        &:focus > .timeline-view--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
        }
    }
    """

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("up", "cursor(-1)", "Up", show=False, id="timeline.up"),
        Binding("down", "cursor(1)", "Down", show=False, id="timeline.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="timeline.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="timeline.page_down"),
        Binding("home", "cursor(-1000000)", "First step", show=False, id="timeline.first"),
        Binding("end", "cursor(1000000)", "Last step", show=False, id="timeline.last"),
        Binding("enter", "choose", "Show in the tree", show=False, id="timeline.choose"),
    ]

    class StepHighlighted(Message):
        """The cursor is on another bar (`index`, in the tree's order)."""

        def __init__(self, index: int, node: StepNode | None) -> None:
            super().__init__()
            self.index = index
            self.node = node

    class StepChosen(Message):
        """Enter on a bar."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.timeline: Timeline | None = None
        self.cursor = 0
        self._lines: dict[tuple[int, bool], Strip] = {}  # (bar, under the cursor) → its line
        self._fixed: dict[int, Strip] = {}  # the axis and legend lines, by position on screen
        self._axis: Axis | None = None
        self._legend: list[str] = []
        self._width = 0
        self._look: tuple[Style, Style] | None = None

    # -- what the screen calls ----------------------------------------------------------------

    @property
    def bars(self) -> tuple[Bar, ...]:
        return self.timeline.bars if self.timeline is not None else ()

    def show(self, timeline: Timeline) -> None:
        """A new model: the lines are drawn again (those on screen, when painted)."""
        if timeline == self.timeline:
            return
        self.timeline = timeline
        self._refit()
        self.cursor = max(0, min(self.cursor, len(timeline.bars) - 1))
        self.refresh()

    def move_to(self, index: int) -> None:
        """Put the cursor on bar `index` (scrolled into view), quietly: the screen asked for it."""
        self._move(index, announce=False)

    def text_lines(self) -> list[str]:
        """What the view shows, as plain text (the lines in view; tests and screenshots read it)."""
        return [self.render_line(y).text for y in range(self.size.height)]

    # -- keys and mouse -----------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        self._move(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move(self.cursor + direction * max(1, self._body_height()))

    def action_choose(self) -> None:
        if self.bars:
            self.post_message(self.StepChosen(self.cursor))

    def on_click(self, event: events.Click) -> None:
        index = event.y - HEADER + int(self.scroll_y)
        if HEADER <= event.y < HEADER + self._body_height() and 0 <= index < len(self.bars):
            event.stop()
            if index == self.cursor:
                self.post_message(self.StepChosen(index))
            else:
                self._move(index)

    def on_resize(self) -> None:
        self._refit()

    def on_focus(self) -> None:
        self._restyle()

    def on_blur(self) -> None:
        self._restyle()

    def _restyle(self) -> None:
        """The cursor's colours follow the focus: its line is drawn again."""
        self._look = None
        self._lines = {key: line for key, line in self._lines.items() if not key[1]}
        self._refresh_bars(self.cursor)

    # -- internals ----------------------------------------------------------------------------

    def _body_height(self) -> int:
        return max(1, self.size.height - HEADER - len(self._legend))

    def _refit(self) -> None:
        """Lay the axis out for the current width (the scrollbar's column left out); drop every line."""
        self._lines.clear()
        self._fixed.clear()
        self._look = None
        width = max(20, self.scrollable_content_region.width)
        self._width = width
        self._legend = legend_lines(width)
        if self.timeline is None:
            self._axis = None
            return
        narrow = width < NARROW
        self._axis = axis_for(self.timeline, width, label_max=20 if narrow else 30, short=narrow)
        # The bars scroll between the axis and the legend; the virtual height makes the scroll range so.
        size = Size(width, len(self.timeline.bars) + HEADER + len(self._legend))
        if size != self.virtual_size:
            self.virtual_size = size

    def _move(self, index: int, *, announce: bool = True) -> None:
        count = len(self.bars)
        if not count:
            return
        index = max(0, min(index, count - 1))
        old, self.cursor = self.cursor, index
        top, height = int(self.scroll_y), self._body_height()
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, immediate=True)
        else:
            self._refresh_bars(old, index)
        if announce and index != old:
            bar = self.bars[index]
            self.post_message(self.StepHighlighted(index, bar.node))

    def _refresh_bars(self, *indexes: int) -> None:
        top, width = int(self.scroll_y), self.size.width
        regions = [
            Region(0, HEADER + i - top, width, 1) for i in indexes if 0 <= i - top < self._body_height()
        ]
        if regions:
            self.refresh(*regions)

    def _styles(self) -> tuple[Style, Style]:
        if self._look is None:
            self._look = (self.rich_style, self.get_component_rich_style("timeline-view--cursor"))
        return self._look

    def render_line(self, y: int) -> Strip:
        base, cursor_style = self._styles()
        width = self._width or self.size.width
        legend_at = self.size.height - len(self._legend)
        if y < HEADER or y >= legend_at:
            line = self._fixed.get(y)
            if line is None:
                line = self._fixed_line(y, legend_at, width, base)
                self._fixed[y] = line
            return line
        index = y - HEADER + int(self.scroll_y)
        if self._axis is None or index >= len(self.bars):
            return Strip.blank(width, base)
        key = (index, index == self.cursor)
        line = self._lines.get(key)
        if line is None:
            line = self._bar_line(self.bars[index], self._axis, width, base)
            if key[1]:  # over the bar's own colours (`apply_style` would go under them)
                line = Strip(Segment.apply_style(line, post_style=cursor_style), line.cell_length)
            self._lines[key] = line
        return line

    def _fixed_line(self, y: int, legend_at: int, width: int, base: Style) -> Strip:
        if y >= legend_at:
            text, style = self._legend[y - legend_at], _style("bright_black")
        elif self._axis is None:
            text, style = ("loading the steps…" if y == 0 else ""), _style("bright_black")
        else:
            text, style = ruler_lines(self._axis)[y], _style("bright_black")
        return Strip([Segment(text, style)]).crop_extend(0, width, base).apply_style(base)

    def _bar_line(self, bar: Bar, axis: Axis, width: int, base: Style) -> Strip:
        label = bar_label(bar, axis)
        name_style = Style(bold=True) if bar.critical else Style()
        segments = [
            Segment(CRITICAL if bar.critical else " ", _style("bold magenta")),
            Segment(label[1:], name_style),
            Segment(" "),
        ]
        cells = bar_cells(bar, axis)
        run_start = 0
        for i in range(1, len(cells) + 1):  # one segment per run of the same character
            if i == len(cells) or cells[i] != cells[run_start]:
                char = cells[run_start]
                segments.append(Segment(char * (i - run_start), _style(_CELL_COLOURS.get(char, ""))))
                run_start = i
        tail = bar_tail(bar, short=width < NARROW)
        tail_style = "yellow" if bar.left is not None and bar.left.note == "longer-than-history" else ""
        segments.append(Segment(" " + tail, _style(tail_style)))
        return Strip(segments).crop_extend(0, width, base).apply_style(base)
