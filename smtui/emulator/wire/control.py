"""The control endpoints under `/_emulator/`: outside the AWS protocol, for tests, benchmarks and drills.

- `GET  /_emulator/health` → `{"status": "ok", "now": <simulated epoch seconds>, ...}`
- `GET  /_emulator/stats` → `{"calls": {"SageMaker.ListPipelines": n, ...}, "agents": {"<User-Agent>": n},
  "events": {"emitted": n, "delivered": n, "dropped": n, ...}}`, every request by target and by client since
  start (throttled and failed ones included), and what became of the status-change events;
  `POST /_emulator/reset-stats` zeroes both.
- `GET|POST /_emulator/faults` → `{"throttle": {"ListPipelineExecutionSteps": 0.2}, "latency_ms": 50,
  "error_rate": 0.01, "expired_token": false, "events": {"drop": 0.2, "duplicate": 0.1, "delay": 0.5,
  "delay_seconds": [5, 60], "reorder": 0.1}}`; posting `{}` clears every fault. `expired_token` refuses every
  call with ExpiredTokenException, as AWS refuses an expired SSO session's.
- `GET|POST /_emulator/clock` → `{"advance": seconds}` and/or `{"time_scale": x}`;
  answers `{"now", "time_scale"}`.
- `POST /_emulator/reset` → the emulator as it started (nothing created, statistics zeroed, faults cleared,
  the clock at the wall clock's time and the start's time scale); answers `{"now", "time_scale"}`, or 400 with
  `--state` or `--demo`. A test suite resets one emulator between tests instead of starting one per test.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from smtui.emulator.wire.server import Protocol


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise web.HTTPBadRequest(text=json.dumps({"message": "body is not JSON"})) from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text=json.dumps({"message": "body must be a JSON object"}))
    return body


def add_routes(app: web.Application, protocol: Protocol) -> None:
    """Register the control endpoints for one emulator (whose backend `reset` replaces: read it each time)."""

    def clock_state() -> dict[str, Any]:
        clock = protocol.backend.clock
        return {"now": clock.now(), "time_scale": clock.time_scale}

    async def health(request: web.Request) -> web.Response:
        backend = protocol.backend
        return _json(
            {
                "status": "ok",
                **clock_state(),
                "pipelines": len(backend.store.pipelines()),
                "active_executions": len(backend.store.active_executions()),
            }
        )

    async def stats(request: web.Request) -> web.Response:
        return _json(
            {
                "calls": dict(protocol.calls),
                "agents": dict(protocol.agents),
                "events": dict(protocol.backend.bus.stats),
            }
        )

    async def reset_stats(request: web.Request) -> web.Response:
        protocol.calls.clear()
        protocol.agents.clear()
        protocol.backend.bus.stats.clear()
        return _json({"calls": {}, "agents": {}, "events": {}})

    def faults_state() -> dict[str, Any]:
        return {**protocol.faults.describe(), "events": protocol.backend.bus.faults.describe()}

    async def get_faults(request: web.Request) -> web.Response:
        return _json(faults_state())

    async def set_faults(request: web.Request) -> web.Response:
        body = await _body(request)
        backend = protocol.backend
        try:
            # Checked before either is applied: a malformed setting changes nothing.
            trial = type(backend.bus.faults)()
            trial.configure(body.get("events"))
            protocol.faults.configure({k: v for k, v in body.items() if k != "events"})
            backend.bus.faults.configure(body.get("events"))
        except (TypeError, ValueError) as exc:
            return _json({"message": str(exc)}, 400)
        return _json(faults_state())

    async def get_clock(request: web.Request) -> web.Response:
        return _json(clock_state())

    async def set_clock(request: web.Request) -> web.Response:
        body = await _body(request)
        backend = protocol.backend
        try:
            if body.get("time_scale") is not None:
                backend.clock.set_time_scale(float(body["time_scale"]))
            if body.get("advance") is not None:
                backend.clock.advance(float(body["advance"]))
        except (TypeError, ValueError) as exc:
            return _json({"message": str(exc)}, 400)
        # A jump may make many things due at once: settle the running executions now, in order.
        backend.engine.advance_all()
        backend.store.flush()
        backend.bus.clock_moved()  # long polls look again: a visibility timeout may have ended
        return _json(clock_state())

    async def reset(request: web.Request) -> web.Response:
        try:
            protocol.reset()
        except ValueError as exc:
            return _json({"message": str(exc)}, 400)
        return _json(clock_state())

    app.router.add_get("/_emulator/health", health)
    app.router.add_get("/_emulator/stats", stats)
    app.router.add_post("/_emulator/reset-stats", reset_stats)
    app.router.add_get("/_emulator/faults", get_faults)
    app.router.add_post("/_emulator/faults", set_faults)
    app.router.add_get("/_emulator/clock", get_clock)
    app.router.add_post("/_emulator/clock", set_clock)
    app.router.add_post("/_emulator/reset", reset)
