"""The `/` filter: words that must all match an execution.

`train` matches the pipeline, name, execution id, status or a parameter value;
`pipeline:x`, `name:x`, `status:failed`, `param:Key=Value` (or just `Key=Value`) narrow to one field;
`ctx:x` to the executions of a context (with several contexts; the context is the caller's to tell).
Matching is case-insensitive substring matching, as in k9s.
"""

from __future__ import annotations

from dataclasses import dataclass

from smtui.core.model import Execution
from smtui.tui import format as fmt

_FIELDS = ("pipeline", "name", "status", "param", "ctx")


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

    @classmethod
    def parse(cls, text: str, *, active_only: bool = False) -> ExecutionFilter:
        terms: list[Term] = []
        for word in text.split():
            field, sep, rest = word.partition(":")
            lowered = field.lower()
            if sep and lowered in _FIELDS and rest:
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
        return cls(text=text, active_only=active_only, terms=tuple(terms))

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.active_only

    @property
    def reads_parameters(self) -> bool:
        """Whether a term names a parameter (`Key=Value`, `param:`): parameters must be read to match it."""
        return any(term.field == "param" for term in self.terms)

    def candidates(self, execution: Execution, context: str | None = None) -> bool:
        """Whether the terms that do not name a parameter match: the executions whose parameters to read."""
        if self.active_only and not execution.is_active:
            return False
        return all(_matches(term, execution, context) for term in self.terms if term.field != "param")

    def matches(self, execution: Execution, context: str | None = None) -> bool:
        """`context`: the name of the execution's context (several contexts), for `ctx:`."""
        if self.active_only and not execution.is_active:
            return False
        return all(_matches(term, execution, context) for term in self.terms)


def _matches(term: Term, execution: Execution, context: str | None = None) -> bool:
    if term.field == "ctx":
        return context is not None and term.value in context.lower()
    params = execution.parameters or ()
    name = (execution.display_name or "").lower()
    status_words = (execution.status.value.lower(), fmt.execution_status_word(execution.status).lower())
    if term.field == "pipeline":
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
