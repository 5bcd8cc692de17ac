"""The `/` filter: words that must all match an execution.

`train` matches the pipeline, name, execution id, status or a parameter value;
`pipeline:x`, `name:x`, `status:failed`, `param:Key=Value` (or just `Key=Value`) narrow to one field;
`ctx:x` to the executions of a context (with several contexts; the context is the caller's to tell; `ctx:=x`
that context only).
Matching is case-insensitive substring matching, as in k9s; `pipeline:=x` is that pipeline only (what the
pipelines view's Enter sets: `train` must not bring `train-large` along).

Time: `since:24h` (`s`, `m`, `h`, `d`, `w`, combined as in `1d12h`) keeps what started that long ago or
later; `started:>2026-11-01`, `started:<2026-11-01T12:00`, with `>=`, `<=`, or a bare date for that day.
A date alone means the whole day, as in GitHub's search (`>2026-11-01` is from November 2 on); times
without a zone are local, as the table shows them. A time term that cannot be read is left out, and
`error` says why (the screen shows it under the box).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from smtui.core.model import Execution
from smtui.tui import format as fmt

_FIELDS = ("pipeline", "name", "status", "param", "ctx")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SPAN = re.compile(r"(?:\d+[smhdw])+")
_TICK = timedelta(microseconds=1)  # `>T`: strictly after T, as a bound that includes what it names


@dataclass(frozen=True, slots=True)
class Term:
    field: str | None  # None: any field
    value: str
    param_value: str | None = None  # for `Key=Value`


@dataclass(frozen=True, slots=True)
class ExecutionFilter:
    """A parsed filter; the empty filter matches everything."""

    text: str = ""
    active_only: bool = False
    terms: tuple[Term, ...] = ()
    after: datetime | None = None  # started at or after this
    before: datetime | None = None  # started before this
    relative: bool = False  # `since:`: the bound moves with the clock (the screen parses it again)
    error: str | None = None  # why a time term was left out

    @classmethod
    def parse(cls, text: str, *, active_only: bool = False, now: datetime | None = None) -> ExecutionFilter:
        """The filter of `text`; `now` is what `since:` counts back from (the session's clock)."""
        terms: list[Term] = []
        after: list[datetime] = []
        before: list[datetime] = []
        errors: list[str] = []
        relative = False
        for word in text.split():
            field, sep, rest = word.partition(":")
            lowered = field.lower()
            if sep and not rest and lowered in (*_FIELDS, "since", "started"):
                continue  # `status:` while its value is being typed: nothing to narrow by yet
            if sep and lowered in ("since", "started") and rest:
                try:
                    if lowered == "since":
                        after.append((now or datetime.now(UTC)) - _span(rest))
                        relative = True
                    else:
                        low, high = _started_bounds(rest)
                        after.extend([low] if low else [])
                        before.extend([high] if high else [])
                except ValueError as error:
                    errors.append(f"{lowered}: {error}")
            elif sep and lowered in _FIELDS and rest:
                if lowered == "param":
                    key, eq, value = rest.partition("=")
                    terms.append(Term("param", key.lower(), value.lower() if eq else None))
                else:
                    terms.append(Term(lowered, rest.lower()))
            elif "=" in word:
                key, _, value = word.partition("=")
                terms.append(Term("param", key.lower(), value.lower()))
            else:
                terms.append(Term(None, word.lower()))
        return cls(
            text=text,
            active_only=active_only,
            terms=tuple(terms),
            after=max(after, default=None),
            before=min(before, default=None),
            relative=relative,
            error="; ".join(errors) or None,
        )

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.active_only and self.after is None and self.before is None

    @property
    def reads_parameters(self) -> bool:
        """Whether a term names a parameter (`Key=Value`, `param:`): parameters must be read to match it."""
        return any(term.field == "param" for term in self.terms)

    def candidates(self, execution: Execution, context: str | None = None) -> bool:
        """Whether the terms that do not name a parameter match: the executions whose parameters to read."""
        if (self.active_only and not execution.is_active) or not self._in_time(execution):
            return False
        return all(_matches(term, execution, context) for term in self.terms if term.field != "param")

    def matches(self, execution: Execution, context: str | None = None) -> bool:
        """`context`: the name of the execution's context (several contexts), for `ctx:`."""
        if (self.active_only and not execution.is_active) or not self._in_time(execution):
            return False
        return all(_matches(term, execution, context) for term in self.terms)

    def _in_time(self, execution: Execution) -> bool:
        if self.after is None and self.before is None:
            return True
        started = execution.started
        if started is None:
            return False  # not started as far as we know: no time to compare
        return (self.after is None or started >= self.after) and (
            self.before is None or started < self.before
        )


def _span(text: str) -> timedelta:
    """`24h`, `30m`, `7d`, `2w`, `1d12h` → timedelta."""
    if not _SPAN.fullmatch(text.lower()):
        raise ValueError(f"{text!r} is not a time span (examples: 30m, 24h, 7d, 2w)")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in re.findall(r"(\d+)([smhdw])", text.lower()))
    if seconds > 100 * 365 * 86400:
        raise ValueError(f"{text!r} is longer than 100 years")
    return timedelta(seconds=seconds)


def _started_bounds(text: str) -> tuple[datetime | None, datetime | None]:
    """`>2026-11-01`, `<=2026-11-01T12:00`, `2026-11-01`: the bounds (from, until: excluded) it sets."""
    op = next((op for op in (">=", "<=", ">", "<") if text.startswith(op)), "")
    value = text[len(op) :]
    example = "(examples: >2026-11-01, <2026-11-01T12:00, 2026-11-01)"
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = _local(datetime.combine(date.fromisoformat(value), time()))
            next_day = _local(datetime.combine(date.fromisoformat(value) + timedelta(days=1), time()))
            return {
                ">": (next_day, None),
                ">=": (day, None),
                "<": (None, day),
                "<=": (None, next_day),
                "": (day, next_day),
            }[op]
        moment = _local(datetime.fromisoformat(value))
    except (ValueError, OverflowError):
        raise ValueError(f"{value!r} is not a date or a time {example}") from None
    if not op:
        raise ValueError(f"{text!r}: say > or < before a time {example}")
    return {
        ">": (moment + _TICK, None),
        ">=": (moment, None),
        "<": (None, moment),
        "<=": (None, moment + _TICK),
    }[op]


def _local(moment: datetime) -> datetime:
    """A time without a zone is the local time (the table shows local times)."""
    return moment if moment.tzinfo is not None else moment.astimezone()


def _matches(term: Term, execution: Execution, context: str | None = None) -> bool:
    if term.field == "ctx":
        if context is None:
            return False
        if term.value.startswith("="):
            return term.value[1:] == context.lower()
        return term.value in context.lower()
    params = execution.parameters or ()
    name = (execution.display_name or "").lower()
    status_words = (execution.status.value.lower(), fmt.execution_status_word(execution.status).lower())
    if term.field == "pipeline":
        if term.value.startswith("="):
            return term.value[1:] == execution.pipeline_name.lower()
        return term.value in execution.pipeline_name.lower()
    if term.field == "name":
        return term.value in name or term.value in fmt.execution_id(execution.arn)
    if term.field == "status":
        return any(word.startswith(term.value) for word in status_words)
    if term.field == "param":
        for key, value in params:
            if term.value in key.lower() and (term.param_value is None or term.param_value in value.lower()):
                return True
        return False
    haystack = [execution.pipeline_name.lower(), name, fmt.execution_id(execution.arn), *status_words]
    haystack.extend(value.lower() for _, value in params)
    return any(term.value in item for item in haystack)
