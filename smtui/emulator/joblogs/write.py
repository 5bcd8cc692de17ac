"""What every job's log is made of: a writer for fixed lines, the time formats containers print, and the
failure tail (a traceback whose last line names the job's FailureReason)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from typing import Any

from smtui.emulator.joblogs.timeline import Fixed


class Writer:
    """Appends lines at a moving time (ms): each `line` may first move the time on by `gap` ms."""

    def __init__(self, start_ms: int) -> None:
        self.now = start_ms
        self.events: list[tuple[int, str]] = []

    def line(self, text: str, gap: int = 0) -> None:
        self.now += gap
        self.events.append((self.now, text))

    def lines(self, texts: Iterable[str], gap: int = 0) -> None:
        for text in texts:
            self.line(text, gap)

    def part(self) -> Fixed:
        return Fixed(tuple(self.events))


def toolkit_time(ms: int) -> str:
    """`2026-01-01 12:00:00,123`: Python logging's default, as the SageMaker toolkits print it."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms // 1000)) + f",{ms % 1000:03d}"


def iso_time(ms: int) -> str:
    """`2026-01-01T12:00:00.123Z`: the Lambda runtime's format."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def thousands(number: int) -> str:
    return f"{number:,}"


def dict_of(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def list_of(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# (exception line, the code line that raised it): the user's own error behind an AlgorithmError.
USER_ERRORS = (
    (
        "ValueError: Input contains NaN, infinity or a value too large for dtype('float32').",
        "model.fit(x, y)",
    ),
    ("KeyError: 'label'", "y = frame.pop('label')"),
    (
        "FileNotFoundError: [Errno 2] No such file or directory: '/opt/ml/input/data/train/train.csv'",
        "frame = pd.read_csv(path)",
    ),
    ("ValueError: could not convert string to float: 'N/A'", "frame = frame.astype('float32')"),
    (
        "MemoryError: Unable to allocate 11.2 GiB for an array with shape (1500000, 1000)",
        "x = np.stack(rows)",
    ),
)
GPU_ERROR = (
    "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 22.19 GiB total"
    " capacity; 19.87 GiB already allocated)",
    "outputs = model(**batch)",
)


def user_error(rng: random.Random, gpu: bool) -> tuple[str, str]:
    """A plausible exception a user's script died of (the same job draws the same one)."""
    choices = (*USER_ERRORS, GPU_ERROR) if gpu else USER_ERRORS
    return choices[rng.randrange(len(choices))]


def user_code_failed(reason: str) -> bool:
    """Whether the FailureReason blames the user's code (so its log shows the code's own traceback)."""
    return reason.startswith(("AlgorithmError", "ClientError", "ExecuteUserScriptError"))


def traceback(script: str, frames: Iterable[tuple[str, str]], last: str) -> list[str]:
    """A Python traceback: `frames` are (function, code line) from the outermost in, `last` the exception."""
    lines = ["Traceback (most recent call last):"]
    for number, (function, code) in enumerate(frames):
        lines.append(f'  File "{script}", line {41 + 37 * number}, in {function}')
        lines.append(f"    {code}")
    lines.extend(last.splitlines() or [last])
    return lines
