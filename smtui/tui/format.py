"""How domain values look on screen: glyphs, colours, durations, progress bars.

Every status has a glyph *and* a word, so the screen reads the same without colour (`NO_COLOR`,
monochrome terminals over SSH): colour only reinforces what the glyph already says.
"""

from __future__ import annotations

import math
import os
import re
from datetime import datetime, timedelta
from urllib.parse import quote

from rich.text import Text

from smtui.core.errors import AwsError
from smtui.core.format import EXECUTION_LOOKS, STEP_LOOKS, format_duration
from smtui.core.model import Execution, ExecutionStatus, StepStatus
from smtui.core.timing import Remaining

# (glyph, style) by status, from the one table in core (`smtui.core.format`).
EXECUTION_GLYPHS: dict[ExecutionStatus, tuple[str, str]] = {
    status: (look.glyph, look.colour) for status, look in EXECUTION_LOOKS.items()
}
STEP_GLYPHS: dict[StepStatus, tuple[str, str]] = {
    status: (look.glyph, look.colour) for status, look in STEP_LOOKS.items()
}


# Without colour, failures must still stand out: they get emphasis that survives NO_COLOR.
_MONO: dict[str, str] = {"bold red": "bold reverse", "red": "bold", "bright_black": "", "bold yellow": "bold"}


def styled(style: str) -> str:
    """`style`, or its colourless stand-in when NO_COLOR is set (Textual would grey colours out)."""
    if not os.environ.get("NO_COLOR"):
        return style
    if style in _MONO:
        return _MONO[style]
    return " ".join(
        word for word in style.split() if word in ("bold", "italic", "underline", "reverse", "dim")
    )


def execution_status_text(status: ExecutionStatus) -> Text:
    """`▶ Running`, `✘ Failed`, ... in the status colour."""
    glyph, style = EXECUTION_GLYPHS[status]
    return Text(f"{glyph} {EXECUTION_LOOKS[status].word}", style=styled(style))


def execution_status_word(status: ExecutionStatus) -> str:
    return EXECUTION_LOOKS[status].word


def step_status_text(status: StepStatus) -> Text:
    glyph, style = STEP_GLYPHS[status]
    return Text(f"{glyph} {status.value}", style=styled(style))


def step_glyph(status: StepStatus) -> Text:
    glyph, style = STEP_GLYPHS[status]
    return Text(glyph, style=styled(style))


def duration(delta: timedelta | None) -> str:
    """`7s`, `3m05s`, `1h02m`, `2d03h` (the headless commands' format); empty when unknown."""
    if delta is None:
        return ""
    return format_duration(max(delta, timedelta(0)))


def span(started: datetime | None, ended: datetime | None, now: datetime) -> timedelta | None:
    """Elapsed time of something that started: up to `ended`, or up to `now` while it runs."""
    if started is None:
        return None
    return (ended or now) - started


def timestamp(moment: datetime | None) -> str:
    """Absolute time in the local zone; the date is kept short because the year rarely matters."""
    if moment is None:
        return ""
    return moment.astimezone().strftime("%m-%d %H:%M:%S")


def day_time(moment: datetime) -> str:
    """`01-04 23:50`: the day and minute, in the local zone (a run from another day, at 80 columns)."""
    return moment.astimezone().strftime("%m-%d %H:%M")


def same_day(moment: datetime | None, now: datetime) -> bool:
    """Whether `moment` falls on the local day of `now`."""
    return moment is None or moment.astimezone().date() == now.astimezone().date()


def clock_time(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    return moment.astimezone().strftime("%H:%M:%S")


def progress_bar(
    progress: tuple[int, int] | None,
    width: int = 8,
    *,
    running: bool = False,
    status: ExecutionStatus | None = None,
) -> Text:
    """`███░░░░░ 3/8`; while the definition is not known yet, `…` for a running execution (it is being
    fetched) and nothing for a finished one (its definition is never fetched: it would cost a call).

    The bar is red for a failed execution and yellow for a stopped one. Its total counts the steps such a run
    never reached (`StepTree.progress`): one stopped in the first of six steps reads `1/6`; one that failed
    at its last step has a full bar, and the colour keeps it from reading as a success."""
    if progress is None:
        return Text("…", style=styled("bright_black")) if running else Text("")
    done, total = progress
    filled = 0 if total <= 0 else round(width * done / total)
    bar = Text("█" * filled, style=styled(_BAR_TONES.get(status, "green")))
    bar.append("░" * (width - filled), style=styled("bright_black"))
    bar.append(f" {done}/{total}")
    return bar


_BAR_TONES: dict[ExecutionStatus | None, str] = {
    ExecutionStatus.FAILED: "red",
    ExecutionStatus.STOPPED: "yellow",
    ExecutionStatus.STOPPING: "yellow",
}


def shorten(text: str | None, limit: int) -> str:
    """One line, at most `limit` characters, with an ellipsis when cut."""
    if not text:
        return ""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def execution_id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


# SageMaker names every run `execution-<epoch ms>` unless told otherwise: such names all look alike in a
# column, so the (unique, short) execution id is shown instead.
_DEFAULT_DISPLAY_NAME = re.compile(r"execution-\d{10,}")


def execution_name(execution: Execution) -> str:
    name = execution.display_name
    if not name or _DEFAULT_DISPLAY_NAME.fullmatch(name):
        return execution_id(execution.arn)
    return name


def region_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else None


def console_url(arn: str, pipeline_name: str) -> str:
    """The execution's page in the SageMaker console.

    The console's fragment routes are not documented; this is the pipelines route the console
    uses (`#/pipelines/<name>/executions/<id>`), in the execution's own region.
    """
    region = region_of(arn) or "us-east-1"
    return (
        f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}"
        f"#/pipelines/{quote(pipeline_name)}/executions/{quote(execution_id(arn))}"
    )


AGE_SECONDS_UNDER = 600  # the table's elapsed times show seconds under 10 minutes, as k9s's AGE does


def age(delta: timedelta | None) -> str:
    """The executions table's elapsed time: `45s`, `3m04s` under 10 minutes, then `12m`, `1h02m`, `2d03h`.

    As k9s shows ages: seconds matter while a run is young. Past that a running row changes once a
    minute, not every second, so a screen of long runs stays still (and costs nothing to draw) between
    real changes. The execution screen keeps the exact duration.
    """
    if delta is None:
        return ""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < AGE_SECONDS_UNDER:
        return format_duration(timedelta(seconds=seconds))
    if seconds < 3600:
        return f"{seconds // 60}m"
    return format_duration(timedelta(seconds=seconds))


# The table's own note: the pipeline's successful runs are known, their end times not read yet.
READING_HISTORY = Remaining(None, "reading-history")


def left_shown(left: Remaining) -> Remaining:
    """The time-left estimate cut to what `time_left()` shows (whole minutes, rounded up): a ticking row
    compares equal, and is not repainted, until its text would change."""
    if left.seconds is None:
        return left
    return Remaining(float(math.ceil(left.seconds / 60) * 60), None)


def time_left(left: Remaining | None) -> Text:
    """The executions table's time left of a running row: `~12m left` (minutes, rounded up; `<1m left`),
    `no history` (no earlier successful run to go by), `> longest` (already longer than every one of those),
    `…` while the end times of those runs are being read; nothing for a finished row."""
    if left is None or left.note == "ended":
        return Text("")
    if left == READING_HISTORY:
        return Text("…", style=styled("bright_black"))
    if left.note == "no-history":
        return Text("no history", style=styled("bright_black"))
    if left.note == "longer-than-history":
        return Text("> longest", style=styled("yellow"))
    if left.seconds is None:
        return Text("")
    minutes = math.ceil(left.seconds / 60)
    if minutes < 1:
        return Text("<1m left")
    return Text(
        f"~{minutes}m left" if minutes < 60 else f"~{format_duration(timedelta(minutes=minutes))} left"
    )


def elapsed_shown(delta: timedelta | None) -> timedelta | None:
    """`delta` cut to what `age()` shows (seconds under 10 minutes, minutes under two days, then hours):
    rows compare equal, and nothing is repainted, until the text on screen would change."""
    if delta is None:
        return None
    seconds = max(0, int(delta.total_seconds()))
    unit = 1 if seconds < AGE_SECONDS_UNDER else 60 if seconds < 48 * 3600 else 3600
    return timedelta(seconds=seconds - seconds % unit)


def aws_message(error: AwsError | ValueError) -> str:
    """What AWS said, verbatim (`AwsError.message`, after its code), else the error's own line (a value
    that the core's checks refused)."""
    if isinstance(error, AwsError) and error.message:
        return f"{error.code}: {error.message}" if error.code else error.message
    return str(error) or type(error).__name__
