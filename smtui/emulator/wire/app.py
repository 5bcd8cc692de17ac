"""The aiohttp application: the AWS endpoint on `POST /` and the control endpoints beside it."""

from __future__ import annotations

from aiohttp import web

from smtui.emulator.wire import control
from smtui.emulator.wire.server import Protocol


def build_app(protocol: Protocol) -> web.Application:
    """The application serving one emulator's protocol and its control endpoints."""
    # 1 MiB definitions plus JSON escaping: allow well above aiohttp's 1 MiB default body limit.
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_post("/", protocol.handle)
    control.add_routes(app, protocol)
    return app
