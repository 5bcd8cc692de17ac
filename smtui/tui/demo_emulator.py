"""The emulator of `smtui demo`, in a child process: the TUI's process then does only the TUI's work, as
it does against AWS (the emulator and its demo traffic cost as much CPU as the screen did).

The child is `smtui emulator --demo --exit-on-eof`: it prints its URL once it listens, and stops when its
stdin closes, which happens when this process goes away in any way, SIGKILL included.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from smtui.tui.session import SessionFailed

# The emulator yields the CPU to the screen: started together, on a busy machine it otherwise doubled the
# time to the first frame (the TUI's imports and the emulator's start compete for the same cores).
NICE = 10


class DemoEmulatorError(SessionFailed):
    """The emulator process did not start; the message carries what it said on stderr."""


class DemoEmulator:
    """`start()` spawns the child at once (before Textual is imported, so both start together);
    `ready()` waits for its URL; `stop()` ends it."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._drain: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, *, time_scale: float, seed: int, account: str | None = None) -> DemoEmulator:
        command = ["-m", "smtui", "emulator", "--demo", "--exit-on-eof", "--nice", str(NICE)]
        command += ["--time-scale", str(time_scale), "--seed", str(seed)]
        command += ["--account", account] if account else []
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *command,
            stdin=asyncio.subprocess.PIPE,  # never written: its end is how the child knows we are gone
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,  # not the terminal: the TUI owns it
        )
        return cls(process)

    async def ready(self) -> str:
        """The URL, once the emulator accepts connections."""
        assert self.process.stdout is not None and self.process.stderr is not None
        url = (await self.process.stdout.readline()).decode().strip()
        if not url:
            said = (await self.process.stderr.read()).decode(errors="replace").strip()
            raise DemoEmulatorError(f"the demo emulator did not start: {said or 'no output'}")
        # Warnings later must not fill the pipe and stall the child.
        self._drain = asyncio.ensure_future(_discard(self.process.stderr))
        return url

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._drain is not None:
            self._drain.cancel()


async def simulated_clock(url: str) -> Callable[[], datetime]:
    """`now` on the emulator's simulated clock, read once and then run locally at its time scale.

    (The client's own correction by the `Date` header has a resolution of one second, thirty simulated
    seconds at the demo's pace: elapsed times would jitter.)
    """
    from aiohttp import ClientSession

    async with ClientSession() as http, http.get(f"{url}/_emulator/clock") as response:
        state = await response.json()
        at = time.monotonic()
    now, scale = float(state["now"]), float(state["time_scale"])
    return lambda: datetime.fromtimestamp(now + (time.monotonic() - at) * scale, UTC)


async def _discard(stream: asyncio.StreamReader) -> None:
    while await stream.read(65536):
        pass
