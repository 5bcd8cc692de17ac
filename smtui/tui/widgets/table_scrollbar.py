"""A vertical scrollbar drawn as the last columns of a line-API widget's own lines.

Textual's `ScrollBar` is a widget beside the scrolled one: the compositor then cuts every repainted line
of the table in two at each frame (two new strips a line, each with its own caches), which cost about a
third of a frame's compositing while rows tick. This one looks and handles as Textual's does: it takes
the widget's scrollbar colours (hover and grab included), a drag of the thumb scrolls, a click on the
track pages.
"""

from __future__ import annotations

from math import ceil

from rich.segment import Segment
from textual import events
from textual.scrollbar import ScrollBarRender
from textual.widget import Widget

BAR_WIDTH = 2  # columns, as Textual draws a vertical scrollbar


class LineScrollbar:
    """The scrollbar of `widget`: the piece of it beside each line, and its mouse handling.

    The widget calls `segments()` once a frame and appends `segments()[y]` to its line `y`, and hands it
    its mouse events (each handler says whether the event was the scrollbar's).
    """

    def __init__(self, widget: Widget) -> None:
        self.widget = widget
        self._state = ""  # "", "hover" (the mouse is over it) or "grab" (the thumb is being dragged)
        self._grab: tuple[int, float] | None = None  # screen y of the grab, scroll_y then
        self._memo: tuple[object, tuple[Segment, ...]] | None = None

    def _height(self) -> int:
        """The lines it spans: those the viewport shows (not a horizontal scrollbar's under them)."""
        return self.widget.scrollable_content_region.height

    def shown(self) -> bool:
        return self.widget.virtual_size.height > self._height() > 0

    def over(self, event: events.MouseEvent) -> bool:
        width = self.widget.size.width
        return self.shown() and width - BAR_WIDTH <= event.x < width and event.y < self._height()

    def thumb(self) -> tuple[int, int]:
        """The lines the thumb covers, from the first to past the last (as `ScrollBarRender` places it)."""
        height, virtual = self._height(), ceil(self.widget.virtual_size.height)
        thumb = max(1.0, height / (virtual / height))
        top = (height - thumb) * self.widget.scroll_y / max(1, virtual - height)
        return int(top), ceil(top + thumb)

    def segments(self) -> tuple[Segment, ...] | None:
        """The scrollbar's segment beside each line of the widget, in the colours of Textual's own (or
        None: all rows fit)."""
        if not self.shown():
            return None
        widget = self.widget
        styles = widget.styles
        if self._state == "grab":
            background, color = styles.scrollbar_background_active, styles.scrollbar_color_active
        elif self._state == "hover":
            background, color = styles.scrollbar_background_hover, styles.scrollbar_color_hover
        else:
            background, color = styles.scrollbar_background, styles.scrollbar_color
        if background.a < 1:
            background = widget.background_colors[0] + background
        color = background + color
        height, lines = self._height(), widget.size.height
        key = (background, color, height, lines, widget.virtual_size.height, widget.scroll_y)
        if self._memo is not None and self._memo[0] == key:
            return self._memo[1]
        bar = ScrollBarRender.render_bar(
            size=height,
            virtual_size=ceil(widget.virtual_size.height),
            window_size=height,
            position=widget.scroll_y,
            thickness=BAR_WIDTH,
            back_color=background.rich_color,
            bar_color=color.rich_color,
        )
        # Without the actions Textual's scrollbar widget carries as metadata: the mouse is handled here.
        segments = [
            Segment(segment.text, segment.style and segment.style.clear_meta_and_links())
            for segment in bar.segments
        ]
        # Under a horizontal scrollbar: lines never seen, as wide as the others.
        segments.extend(Segment(" " * BAR_WIDTH, widget.rich_style) for _ in range(lines - height))
        self._memo = (key, tuple(segments))
        return self._memo[1]

    # -- mouse --------------------------------------------------------------------------------

    def mouse_down(self, event: events.MouseDown) -> bool:
        if not self.over(event):
            return False
        widget = self.widget
        top, bottom = self.thumb()
        if event.y < top:
            widget.scroll_page_up(animate=False)
        elif event.y >= bottom:
            widget.scroll_page_down(animate=False)
        else:
            self._grab = (event.screen_y, widget.scroll_y)
            widget.capture_mouse()
            self._set_state("grab")
        return True

    def mouse_up(self, event: events.MouseUp) -> bool:
        if self._grab is None:
            return False
        self._grab = None
        self.widget.release_mouse()
        self._set_state("hover" if self.over(event) else "")
        return True

    def mouse_move(self, event: events.MouseMove) -> bool:
        """Drag the thumb, or light the bar up under the mouse; False if the mouse is elsewhere."""
        widget = self.widget
        if self._grab is not None:
            grabbed_at, scroll_y = self._grab
            rows_per_line = widget.virtual_size.height / max(1, self._height())
            widget.scroll_to(y=scroll_y + (event.screen_y - grabbed_at) * rows_per_line, animate=False)
            return True
        over = self.over(event)
        self._set_state("hover" if over else "")
        return over

    def leave(self) -> None:
        if self._grab is None:
            self._set_state("")

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.widget.refresh()
