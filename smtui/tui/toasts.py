"""The app's toasts, kept so that the AWS error toast can be replaced by the next error at once.

Textual can add a toast and clear every toast, and has no public way to change or remove one. So every
toast the app shows is kept here while it lives: replacing the error toast clears them all, then shows
the others again (the same notifications: same place, same time left, no flicker) with the new error.
"""

from __future__ import annotations

from time import monotonic
from typing import Any

from textual.app import App
from textual.notifications import Notification, Notify

TROUBLE_TOAST = 10.0  # seconds an AWS error's toast shows
TROUBLE_AGAIN = 60.0  # the same error, once its toast has gone, is told again after this long


class Toasts:
    """Every toast of the app while it shows, and the one that tells AWS errors.

    A failing endpoint fails every kind of call, each worded after its operation: the errors replace one
    another in one toast, counted (`AWS (×3)`), rather than stacking over the header.

    (A toast the user clicked away comes back, for the rest of its time, if the error toast is replaced
    meanwhile: Textual does not say which toasts were dismissed.)"""

    def __init__(self, app: App[Any]) -> None:
        self._app = app
        self._live: list[Notification] = []
        self._trouble: Notification | None = None  # the error toast, while it may show
        self._told = ""  # the error last told, and when
        self._told_at = 0.0
        self._count = 0  # errors told in the error toast since it appeared

    def show(self, notification: Notification) -> None:
        """Show a toast (what `App.notify` does), keeping it while it lives."""
        self._live = [n for n in self._live if not n.has_expired]
        self._live.append(notification)
        self._app.post_message(Notify(notification))

    def trouble(self, error: str) -> None:
        """Tell an AWS error: in the error toast if it shows (replaced at once), else in a new one. The
        same error as the one showing is not told again, nor within a minute once it has gone."""
        now = monotonic()
        showing = self._trouble is not None and not self._trouble.has_expired
        if error == self._told and (showing or now - self._told_at <= TROUBLE_AGAIN):
            return
        self._count = self._count + 1 if showing else 1
        title = "AWS" if self._count == 1 else f"AWS (×{self._count})"
        toast = Notification(error, title, "error", TROUBLE_TOAST, markup=False)
        old, self._trouble = self._trouble, toast
        self._told, self._told_at = error, now
        if not showing or old is None:
            self.show(toast)
            return
        others = [n for n in self._live if n is not old and not n.has_expired]
        # The others and the new toast are queued first, the clearing after them: when the toast rack
        # is redrawn, it finds the others still there (kept as they are) and only the old error gone.
        for notification in others:
            self._app.post_message(Notify(notification))
        self._live = others
        self.show(toast)
        self._app.clear_notifications()
