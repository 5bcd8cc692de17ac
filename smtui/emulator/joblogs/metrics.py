"""Training metrics as SageMaker makes them: `AlgorithmSpecification.MetricDefinitions[{Name, Regex}]` matched
against the job's log lines, the first group of the last match of each regex being its final value.

The emulator writes the log first and reads the metrics back from it, so `FinalMetricDataList` always
agrees with what a client extracting metrics from the log would find. To write a line a regex matches,
`example_line` builds one from the regex itself (its literal parts kept, each class or wildcard replaced by
a character it accepts, its first group replaced by the value) and checks it with `re.search`.
"""

from __future__ import annotations

import math
import random
import re
import string
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

NUMBER = r"[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"
# Metrics that fall as a model learns; every other metric (accuracy, auc, f1, ...) rises.
_FALLING = re.compile(r"loss|error|err\b|rmse|mse|mae|mape|perplexity|wer|cer", re.IGNORECASE)


@dataclass(frozen=True)
class MetricDefinition:
    """One metric and the regex that finds its values in the log."""

    name: str
    regex: str


def definitions(args: dict[str, Any]) -> list[MetricDefinition]:
    """The MetricDefinitions of a CreateTrainingJob request (resolved step Arguments)."""
    spec = args.get("AlgorithmSpecification")
    found = spec.get("MetricDefinitions") if isinstance(spec, dict) else None
    return [
        MetricDefinition(str(d["Name"]), str(d["Regex"]))
        for d in found or []
        if isinstance(d, dict) and d.get("Name") and d.get("Regex")
    ]


def implicit(names: Sequence[str]) -> list[MetricDefinition]:
    """Definitions for metrics the scenario names when the job declares none (a built-in algorithm's
    metrics, which SageMaker extracts with definitions of its own): lines `name=value`."""
    return [MetricDefinition(name, re.escape(name) + "=(" + NUMBER + ")") for name in names]


def falling(name: str) -> bool:
    return _FALLING.search(name) is not None


def synthesized_target(name: str, rng: random.Random) -> float:
    """A plausible final value for a declared metric the scenario gives no value for."""
    return round(rng.uniform(0.05, 0.6) if falling(name) else rng.uniform(0.7, 0.97), 4)


def value_text(value: float) -> str:
    """A metric value as the job prints it: plain decimal, never an exponent (regexes like `[0-9.]+`)."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def history(final: float, name: str, progress: float, noise: float) -> float:
    """The metric after `progress` (0..1] of the training: converging to `final`, exactly at 1."""
    if progress >= 1.0:
        return final
    remaining = (1.0 - progress) ** 1.5
    # Where it starts: a loss well above its final value, a score well below.
    start = final * 2.5 + 0.4 if falling(name) else final * 0.55 if final > 0 else final - 0.5
    jitter = (noise - 0.5) * 0.08 * abs(start - final + 1e-9) * math.sqrt(1.0 - progress)
    return float(round(final + (start - final) * remaining + jitter, 4))


def extract(regex: str, message: str) -> float | None:
    """The value a metric definition reads from one line (its first group), or None."""
    pattern = _compiled(regex)
    match = pattern.search(message) if pattern is not None else None
    if match is None or not match.groups() or match.group(1) is None:
        return None
    try:
        return float(match.group(1))
    except ValueError:
        return None


def example_line(regex: str, value: float, counter: int = 1) -> str | None:
    """A line `regex` matches with `value` in its first group; None when the regex defeats the builder."""
    text = value_text(value)
    pattern = _compiled(regex)
    if pattern is None:
        return None
    try:
        line = _Builder(regex, text, str(counter)).build()
    except (IndexError, ValueError, re.error):
        return None
    found = extract(regex, line)
    return line if found is not None and math.isclose(found, float(text)) else None


_CACHE: dict[str, re.Pattern[str] | None] = {}


def _compiled(regex: str) -> re.Pattern[str] | None:
    if regex not in _CACHE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a user's regex may trip FutureWarnings ("nested set")
            try:
                _CACHE[regex] = re.compile(regex)
            except re.error:
                _CACHE[regex] = None
    return _CACHE[regex]


_ESCAPES = {"d": "0", "D": "x", "s": " ", "S": "x", "w": "a", "W": " ", "t": "\t", "n": " ", "r": " "}


class _Builder:
    """Writes one string a (simple) regex matches: literals kept, classes replaced by a member, each
    quantified item repeated its minimum number of times, the first alternative of each `|`, lookarounds
    and anchors dropped; the first capturing group replaced by the value, runs of digits by `counter`."""

    def __init__(self, regex: str, value: str, counter: str) -> None:
        self.regex = regex
        self.value = value
        self.counter = counter
        self.pos = 0
        self.captured = False

    def build(self) -> str:
        text = self._sequence()
        if self.pos != len(self.regex):
            raise ValueError("unbalanced regex")
        return text

    def _sequence(self) -> str:
        out: list[str] = []
        while self.pos < len(self.regex) and self.regex[self.pos] not in "|)":
            out.append(self._quantified())
        if self.pos < len(self.regex) and self.regex[self.pos] == "|":
            self._skip_alternatives()
        return "".join(out)

    def _skip_alternatives(self) -> None:
        depth = 0
        while self.pos < len(self.regex):
            char = self.regex[self.pos]
            if char == "\\":
                self.pos += 2
                continue
            if char == "[":
                self._class()
                continue
            if char == "(":
                depth += 1
            elif char == ")":
                if depth == 0:
                    return
                depth -= 1
            self.pos += 1

    def _quantified(self) -> str:
        start = self.pos
        atom, digits = self._atom()
        low = self._quantifier()
        if low is None:
            return atom
        if digits and low >= 1 and self.regex[start:].startswith(("\\d", "[0-9]")):
            return self.counter  # a run of digits: the epoch or round number reads better than 0
        return atom * low

    def _quantifier(self) -> int | None:
        if self.pos >= len(self.regex):
            return None
        char = self.regex[self.pos]
        low: int | None = None
        if char in "*?":
            low, self.pos = 0, self.pos + 1
        elif char == "+":
            low, self.pos = 1, self.pos + 1
        elif char == "{":
            close = self.regex.index("}", self.pos)
            low = int(self.regex[self.pos + 1 : close].split(",")[0] or 0)
            self.pos = close + 1
        if low is not None and self.pos < len(self.regex) and self.regex[self.pos] in "?+":
            self.pos += 1  # lazy or possessive: the same minimum
        return low

    def _atom(self) -> tuple[str, bool]:
        char = self.regex[self.pos]
        if char == "\\":
            escaped = self.regex[self.pos + 1]
            self.pos += 2
            if escaped in "bBAZ":
                return "", False
            return _ESCAPES.get(escaped, escaped), escaped == "d"
        if char == "[":
            member = self._class()
            return member, member.isdigit()
        if char == "(":
            return self._group(), False
        self.pos += 1
        if char in "^$":
            return "", False
        if char == ".":
            return "x", False
        return char, False

    def _class(self) -> str:
        close = self.pos + 1
        if close < len(self.regex) and self.regex[close] == "^":
            close += 1
        if close < len(self.regex) and self.regex[close] == "]":
            close += 1
        while self.regex[close] != "]":
            close += 2 if self.regex[close] == "\\" else 1
        body = self.regex[self.pos + 1 : close]
        self.pos = close + 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pattern = re.compile("[" + body + "]")
        for candidate in "0a x.-_:=A" + string.printable:
            if pattern.fullmatch(candidate):
                return candidate
        raise ValueError("no member found")

    def _group(self) -> str:
        self.pos += 1
        capturing = True
        if self.regex.startswith("?", self.pos):
            if self.regex.startswith(("?=", "?!", "?<=", "?<!"), self.pos):
                self._skip_group()
                return ""
            capturing = self.regex.startswith("?P<", self.pos)
            self.pos = (
                self.regex.index(">", self.pos) + 1 if capturing else self.regex.index(":", self.pos) + 1
            )
        first = capturing and not self.captured
        if first:
            self.captured = True
        inner = self._sequence()
        if self.regex[self.pos] != ")":
            raise ValueError("unbalanced group")
        self.pos += 1
        return self.value if first else inner

    def _skip_group(self) -> None:
        depth = 1
        while depth:
            char = self.regex[self.pos]
            if char == "\\":
                self.pos += 2
                continue
            depth += {"(": 1, ")": -1}.get(char, 0)
            self.pos += 1


def final_values(
    definitions: Sequence[MetricDefinition], lines: Callable[[], Any]
) -> dict[str, tuple[float, int]]:
    """Each metric's last matched value and the time (ms) of its line, scanning `lines()` — an iterable of
    (timestamp, message) newest first — until every metric is found."""
    found: dict[str, tuple[float, int]] = {}
    wanted = {d.name: d.regex for d in definitions}
    if not wanted:
        return found
    for timestamp, message in lines():
        for name, regex in list(wanted.items()):
            value = extract(regex, message)
            if value is not None:
                found[name] = (value, timestamp)
                del wanted[name]
        if not wanted:
            break
    return found
