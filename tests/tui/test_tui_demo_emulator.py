"""`smtui demo`'s emulator runs in a child process: on the demo's clock, and never outliving smtui."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import ClientSession

from smtui.tui.demo_emulator import DemoEmulator, simulated_clock

PARENT = """
import asyncio
from smtui.tui.demo_emulator import DemoEmulator

async def main():
    emulator = await DemoEmulator.start(time_scale=30, seed=1)
    print(emulator.process.pid, await emulator.ready(), flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie may wait for a reaper that never comes)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_the_emulator_stops_when_smtui_is_killed_outright() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pid, _url = parent.stdout.readline().split()
        assert _running(int(pid))
    finally:
        parent.kill()  # SIGKILL: no chance to stop its child itself
        parent.wait()
    # It goes within a moment of the end of its stdin; a loaded machine may take many: wait for it, up to
    # a minute (the bound is only how long a failure takes to be reported).
    deadline = time.monotonic() + 60
    while _running(int(pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(int(pid)), "the emulator outlived its parent"


async def test_elapsed_times_run_on_the_emulators_simulated_clock() -> None:
    emulator = await DemoEmulator.start(time_scale=30, seed=1)
    try:
        url = await emulator.ready()
        now = await simulated_clock(url)

        async def server_between() -> tuple[float, float, float]:
            """The local clock read before and after the emulator's, and the emulator's."""
            before = now().timestamp()
            async with ClientSession() as http, http.get(f"{url}/_emulator/clock") as response:
                server = float((await response.json())["now"])
            return before, server, now().timestamp()

        # The local clock agrees with the emulator's at any moment: its reading falls between two local ones
        # (give or take the latency of the one read `simulated_clock` made, times 30: 15 s is half a second
        # of it). A local clock at 1x would be 29 simulated seconds behind a second later, past that slack.
        for _ in range(3):
            before, server, after = await server_between()
            assert before - 1 <= server <= after + 15, (before, server, after)
            await asyncio.sleep(0.5)
        assert now() > datetime.now(UTC)
    finally:
        await emulator.stop()
    assert emulator.process.returncode is not None


async def test_an_emulator_that_does_not_start_ends_the_app_with_its_reason_exit_1() -> None:
    """The child says why on stderr and exits: the app ends, exit 1, with that reason (no traceback)."""
    from contextlib import asynccontextmanager

    from conftest import until

    from smtui.tui.app import SmtuiApp
    from smtui.tui.session import placeholder_session

    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; sys.exit('cannot listen on 127.0.0.1:0: no free port')",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    emulator = DemoEmulator(child)

    @asynccontextmanager
    async def connect():  # type: ignore[no-untyped-def]
        yield await emulator.ready()

    app = SmtuiApp(placeholder_session("starting the demo emulator…"), tick_interval=0, connect=connect)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: app.return_code is not None, pilot=pilot, what="the app to end")
    assert app.return_code == 1
    await emulator.stop()
