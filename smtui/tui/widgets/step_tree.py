"""The step tree of one execution: every step of the definition, live."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from smtui.core.format import left_text
from smtui.core.model import StepNode, StepStatus, StepTree
from smtui.core.timing import Remaining, step_elapsed, step_remaining
from smtui.tui import format as fmt


def node_path(parents: tuple[str, ...], node: StepNode) -> str:
    return "/".join((*parents, node.name))


History = Mapping[str, Sequence[float]]  # step name → its durations in earlier successful runs


def left_cell(left: Remaining) -> Text:
    """A running step's time left: dim when it is an estimate, yellow when it has outrun every earlier
    run, and said in words when there is no history."""
    style = "yellow" if left.note == "longer-than-history" else "bright_black"
    return Text(left_text(left), style=fmt.styled(style))


def step_label(node: StepNode, now: datetime, history: History | None = None) -> Text:
    """`✔ Train  Training · 3m05s · attempt 2 · cached · reason` — one line, argo style. A running step
    shows its time left (`~2m left`, `no history`) when `history` is given."""
    run = node.run
    label = Text()
    if node.branch is not None:
        label.append(f"{node.branch} ", style="italic bright_black")
    label.append_text(fmt.step_glyph(node.status))
    label.append(" ")
    if run is not None and run.iteration_index is not None:
        label.append(f"[{run.iteration_index}] ", style="bold")
    label.append(node.display_name or node.name, style="bold" if node.status.is_active else "")
    details: list[Text] = [Text(node.type, style="cyan")]
    if node.status is not StepStatus.PENDING and node.status is not StepStatus.SKIPPED:
        details.append(Text(node.status.value))
    if run is not None:
        elapsed = step_elapsed(node, now)  # stops at a finished execution's end, whatever the step said
        if elapsed is not None:
            details.append(Text(fmt.duration(elapsed)))
        left = step_remaining(node, history.get(node.name, ()), now) if history is not None else None
        if left is not None:
            details.append(left_cell(left))
        if run.attempt > 1:
            details.append(Text(f"attempt {run.attempt}", style="yellow"))
        if run.cache_source_arn:
            details.append(Text("cache hit", style="blue"))
        if run.condition_outcome is not None:
            branch = "if" if run.condition_outcome else "else"
            details.append(Text(f"outcome {str(run.condition_outcome).lower()} → {branch}", style="bold"))
        if run.iteration_item is not None:
            details.append(Text(f"item {fmt.shorten(run.iteration_item, 30)}"))
        if run.foreach is not None and run.foreach.total:
            info = run.foreach
            details.append(Text(f"{info.succeeded or 0}/{info.total} iterations done"))
        reason = run.failure_reason or run.fail_message
        if reason:
            details.append(Text(fmt.shorten(reason, 60), style=fmt.styled("red")))
    if node.skip_reason:
        details.append(Text(f"skipped: {node.skip_reason}", style="italic bright_black"))
    elif node.status is StepStatus.PENDING:
        details.append(Text("pending", style="bright_black"))
    label.append("  ")
    label.append_text(Text(" · ", style="bright_black").join(details))
    return label


class StepTreeView(Tree[StepNode]):
    """Condition branches and ForEach iterations nested under their step; labels refresh in place.

    The tree is rebuilt only when its shape changes (a new iteration appears); otherwise only the
    labels change, so the cursor and the expanded nodes stay where the user left them.

    `←`/`→` fold and unfold, as tree views do in k9s and lazygit; `<`/`>` scroll sideways (Textual's
    scroll views put that on the arrows). Space marks a step (by name) for "rerun from the marked steps".
    """

    class MarksChanged(Message):
        """A step was marked or unmarked."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("right", "unfold", "Unfold / to child", show=False, id="tree.unfold"),
        Binding("left", "fold", "Fold / to parent", show=False, id="tree.fold"),
        Binding("less_than_sign", "scroll_left", "Scroll left", show=False, id="tree.scroll_left"),
        Binding("greater_than_sign", "scroll_right", "Scroll right", show=False, id="tree.scroll_right"),
        Binding("space", "toggle_mark", "Mark step", show=False, id="tree.mark"),
    ]

    def __init__(
        self,
        *,
        now: Callable[[], datetime],
        history: Callable[[], History] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__("steps", id=id)
        self.show_root = False
        self.guide_depth = 3
        self._now = now
        self._history = history  # read at each relabelling: the estimates move with the clock
        self._step_nodes: dict[str, TreeNode[StepNode]] = {}
        self._shape: tuple[str, ...] = ()
        self._tree: StepTree | None = None
        self.marked: list[str] = []  # step names, in the order marked

    @property
    def step_tree(self) -> StepTree | None:
        return self._tree

    def show_tree(self, tree: StepTree) -> None:
        self._tree = tree
        entries = _flatten(tree)
        shape = tuple(path for path, _, _ in entries)
        now = self._now()
        if shape != self._shape:
            self._rebuild(entries)
            self._shape = shape
            return
        history = self._history() if self._history is not None else None
        for path, _, node in entries:
            tree_node = self._step_nodes[path]
            tree_node.data = node
            self._relabel(tree_node, node, now, history)

    def tick(self) -> None:
        """Re-render the labels of running steps so their durations move."""
        if self._tree is None:
            return
        now = self._now()
        history = self._history() if self._history is not None else None
        for tree_node in self._step_nodes.values():
            node = tree_node.data
            if node is not None and node.status.is_active:
                self._relabel(tree_node, node, now, history)

    def _relabel(
        self, tree_node: TreeNode[StepNode], node: StepNode, now: datetime, history: History | None = None
    ) -> None:
        # set_label repaints the node's lines (and a ForEach's children): only when the text changed.
        label = self._label(tree_node, node, now, history)
        if label != tree_node.label:
            tree_node.set_label(label)

    def action_unfold(self) -> None:
        """On a folded node: unfold it. On an unfolded one: go to its first child."""
        node = self.cursor_node
        if node is None or not node.allow_expand:
            return
        if not node.is_expanded:
            node.expand()
        elif node.children:
            self.move_cursor(node.children[0], animate=False)

    def action_fold(self) -> None:
        """On an unfolded node: fold it. Otherwise: go to its parent."""
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.is_expanded:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent, animate=False)

    def action_toggle_mark(self) -> None:
        node = self.selected_step()
        if node is None:
            return
        if node.name in self.marked:
            self.marked.remove(node.name)
        else:
            self.marked.append(node.name)
        now = self._now()
        history = self._history() if self._history is not None else None
        for tree_node in self._step_nodes.values():  # every run of that step (ForEach iterations)
            if tree_node.data is not None and tree_node.data.name == node.name:
                self._relabel(tree_node, tree_node.data, now, history)
        self.post_message(self.MarksChanged())

    def cursor_index(self) -> int:
        """The cursor's step, as an index in display order (the timeline's order of bars)."""
        nodes = list(self._step_nodes.values())
        return nodes.index(self.cursor_node) if self.cursor_node in nodes else 0

    def select_index(self, index: int, *, scroll: bool = True) -> None:
        """Put the cursor on the step at `index` in display order, unfolding its parents. Without
        `scroll` (the tree is hidden), the cursor moves and the tree stays where it is scrolled to."""
        nodes = list(self._step_nodes.values())
        if not 0 <= index < len(nodes):
            return
        target = nodes[index]
        parent, unfolded = target.parent, False
        while parent is not None and parent is not self.root:
            if not parent.is_expanded:
                parent.expand()
                unfolded = True
            parent = parent.parent
        if unfolded:
            _ = self.last_line  # lays the lines out again: the target's line is known only then
        if scroll:
            self.move_cursor(target, animate=False)
        else:
            self.cursor_line = target.line

    def selected_step(self) -> StepNode | None:
        node = self.cursor_node
        return None if node is None else node.data

    def _label(
        self, tree_node: TreeNode[StepNode], node: StepNode, now: datetime, history: History | None = None
    ) -> Text:
        label = step_label(node, now, history)
        if node.name in self.marked:
            label = Text("● ", style="bold magenta").append_text(label)
        if tree_node.parent is self.root and not node.children:
            # Top-level leaves get no guide: indent them to line up with the "▼ " of expandable ones.
            return Text("  ").append_text(label)
        return label

    def _rebuild(self, entries: list[tuple[str, str | None, StepNode]]) -> None:
        keep = None
        if self.cursor_node is not None and self.cursor_node.data is not None:
            keep = next((path for path, tn in self._step_nodes.items() if tn is self.cursor_node), None)
        collapsed = {path for path, tn in self._step_nodes.items() if tn.allow_expand and not tn.is_expanded}
        self.clear()
        self._step_nodes = {}
        now = self._now()
        history = self._history() if self._history is not None else None
        for path, parent, node in entries:
            attach = self.root if parent is None else self._step_nodes[parent]
            label = step_label(node, now, history)
            if node.children:
                tree_node = attach.add(label, data=node, expand=path not in collapsed)
            else:
                tree_node = attach.add_leaf(label, data=node)
            if (parent is None and not node.children) or node.name in self.marked:
                tree_node.set_label(self._label(tree_node, node, now, history))
            self._step_nodes[path] = tree_node
        target = self._step_nodes.get(keep) if keep else None
        if target is not None:
            self.move_cursor(target, animate=False)
        elif self._step_nodes:
            self.move_cursor(next(iter(self._step_nodes.values())), animate=False)


def _flatten(tree: StepTree) -> list[tuple[str, str | None, StepNode]]:
    out: list[tuple[str, str | None, StepNode]] = []

    def visit(node: StepNode, parents: tuple[str, ...]) -> None:
        path = node_path(parents, node)
        out.append((path, "/".join(parents) or None, node))
        for child in node.children:
            visit(child, (*parents, node.name))

    for root in tree.roots:
        visit(root, ())
    return out
