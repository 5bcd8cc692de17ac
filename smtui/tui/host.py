"""What a screen asks of the app that shows it, and how it reports a worker's failure to it.

The app passes itself to the screens it opens, as a `Host`: screens never import the app (nor each
other), and navigate by messages that the app handles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rich.text import Text
from textual.message import Message
from textual.worker import Worker, WorkerState

from smtui.tui.session import Session


class Host(Protocol):
    """The app, as its screens see it."""

    @property
    def session(self) -> Session:
        """The session on screen (the demo replaces a placeholder by the real one once it is open)."""
        ...

    def status_text(self) -> Text:
        """The header line every screen shows."""
        ...

    def watch_execution(self, arn: str) -> None:
        """Ask to be told when this execution ends."""
        ...


class ReportsWorkerFailures:
    """Mixed into a screen that runs workers: a worker that fails is told to the app, which shows every
    such failure the same way. (Textual tells a worker's state to the node that runs it, and no further.)

    A worker catches what its calls can raise (`AwsError`, ...) and says so where the user acted; what
    reaches here is a bug, shown rather than lost, without taking the app down."""

    @dataclass
    class WorkerFailed(Message):
        """A worker of a screen raised an error it did not expect."""

        worker: str
        error: BaseException

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is WorkerState.ERROR and worker.error is not None:
            name = worker.name or worker.group
            worker.node.app.post_message(ReportsWorkerFailures.WorkerFailed(name, worker.error))
