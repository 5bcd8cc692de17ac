"""Several contexts in the executions table: the context column's text, the palette's switch to one
context and back, and the login that runs `aws sso login` with the app suspended."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

from smtui.tui.palette import PaletteCommand
from smtui.tui.session import ContextsView, Session

TROUBLE = "⚠ "


def troubled(contexts: ContextsView) -> frozenset[str]:
    """The contexts whose calls fail now (expired credentials, refused, unreachable)."""
    return frozenset(
        name for name, health in contexts.healths.items() if health.error or not health.connected
    )


def context_label(session: Session, arn: str) -> str:
    """What the context column shows for an execution: its context's name, `⚠ name` while it fails."""
    contexts = session.contexts
    if contexts is None:
        return ""
    name = contexts.context_of(arn) or "?"
    return TROUBLE + name if name in troubled(contexts) else name


def context_commands(session: Session, only: str | None) -> Iterator[PaletteCommand]:
    """`context NAME` (show one context), `all contexts` (back), `login NAME` for each context."""
    contexts = session.contexts
    if contexts is None:
        return
    for name in contexts.names:
        if name != only:
            yield PaletteCommand(
                f"context {name}", f"Show only the context {name}", f"only_context('{name}')"
            )
    if only is not None:
        yield PaletteCommand("all contexts", "Show every context again", "only_context('')")
    for name in contexts.names:
        profile = contexts.profile_of(name) or "default"
        yield PaletteCommand(
            f"login {name}",
            f"Run `aws sso login --profile {profile}` (the app is suspended), then retry {name}",
            f"login('{name}')",
        )


def sso_login(profile: str | None) -> str | None:
    """Run `aws sso login` in the terminal (the caller suspended the app); None on success, else why not."""
    aws = shutil.which("aws")
    if aws is None:
        return "the aws command is not installed: log in outside smtui, the context then recovers by itself"
    command = [aws, "sso", "login", *(["--profile", profile] if profile else [])]
    try:
        code = subprocess.call(command)
    except OSError as error:
        return f"aws sso login: {error}"
    return None if code == 0 else f"aws sso login exited with {code}"
