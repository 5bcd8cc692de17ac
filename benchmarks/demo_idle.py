"""Idle CPU of `smtui demo` in a real terminal: nobody touches the keyboard, the demo's traffic runs.

    uv run --no-sync python benchmarks/demo_idle.py [--scales 10,30,1] [--warm 90] [--window 60]

For each time scale, `smtui demo --time-scale S` runs in a detached tmux window (200×50 by default). After
`--warm` seconds (the first minute loads definitions, parameters and steps of what is on screen), the CPU
time of the TUI's process and of its emulator child is read from /proc over `--window` seconds, with the
API calls the emulator served meanwhile (`/_emulator/stats`). Prints one line per scale.

The demo's default scale is 10: ten simulated seconds a second, so every running row changes about as often
as ten real accounts' would (30 packs in three times more). Scale 1 is an account at the pace of life. Needs
Linux and tmux.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, control, proc_stats

SMTUI = ROOT / ".venv" / "bin" / "smtui"


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                out.append(int(entry.name))
    return out


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def measure(scale: float, warm: float, window: float, size: tuple[int, int]) -> None:
    session = f"smtui-idle-{os.getpid()}"
    command = f"exec {SMTUI} demo --time-scale {scale:g}"
    tmux("new-session", "-d", "-s", session, "-x", str(size[0]), "-y", str(size[1]), command)
    try:
        tui = int(tmux("display-message", "-p", "-t", session, "#{pane_pid}").strip())
        time.sleep(warm)
        screen = tmux("capture-pane", "-p", "-t", session)
        found = re.search(r"http://127\.0\.0\.1:\d+", screen)
        emulators = children(tui)
        if found is None or not emulators:
            print(f"  scale {scale:g}: the demo did not come up:\n{screen}", file=sys.stderr)
            return
        url, emulator = found.group(0), emulators[0]
        control(url, "reset-stats", {})
        tui_before, emu_before, start = proc_stats(tui)[1], proc_stats(emulator)[1], time.monotonic()
        time.sleep(window)
        elapsed = time.monotonic() - start
        tui_cpu = (proc_stats(tui)[1] - tui_before) / elapsed
        emu_cpu = (proc_stats(emulator)[1] - emu_before) / elapsed
        calls = control(url, "stats").get("calls", {})
        assert isinstance(calls, dict)
        total = sum(int(n) for n in calls.values())
        steps = int(calls.get("SageMaker.ListPipelineExecutionSteps", 0))
        header = tmux("capture-pane", "-p", "-t", session).splitlines()[0]
        running = re.search(r"▶ (\d+)", header)
        print(
            f"  {scale:>5g}×   TUI {100 * tui_cpu:5.2f} %   emulator {100 * emu_cpu:5.2f} %   "
            f"calls/s {total / elapsed:5.2f} (steps {steps / elapsed:4.2f})   "
            f"running {running.group(1) if running else '?'}"
        )
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", default="10,30,1", help="demo time scales, comma-separated")
    parser.add_argument("--warm", type=float, default=90.0, help="seconds before measuring")
    parser.add_argument("--window", type=float, default=60.0, help="seconds measured")
    parser.add_argument("--size", default="200x50", help="terminal size, COLSxROWS")
    args = parser.parse_args()
    if shutil.which("tmux") is None or not SMTUI.exists():
        sys.exit("needs tmux and the project's environment (./scripts/uv sync)")
    cols, rows = (int(n) for n in args.size.split("x"))
    print(
        f"Idle CPU of `smtui demo` in tmux {cols}×{rows}, "
        f"measured over {args.window:g} s after {args.warm:g} s:"
    )
    for scale in (float(s) for s in args.scales.split(",")):
        measure(scale, args.warm, args.window, (cols, rows))


if __name__ == "__main__":
    main()
