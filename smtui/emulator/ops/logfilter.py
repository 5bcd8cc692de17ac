"""FilterLogEvents' `filterPattern`: the subset of CloudWatch Logs' pattern syntax the emulator supports.

- `ERROR timeout`: every term must occur (case-sensitive substrings);
- `"Failed to invoke"`: a quoted phrase is one term, spaces included;
- `?ERROR ?Traceback`: at least one of the `?` terms must occur (besides every plain term);
- `ERROR -DEBUG`: a `-` term must not occur;
- `%regex%`: the message must match the regular expression (Python's syntax, close to CloudWatch's);
- empty or blank: every event.

JSON patterns (`{ $.level = "ERROR" }`) and space-delimited ones (`[ip, user, ...]`) are refused with
InvalidParameterException, so a client relying on them learns it here rather than from silently wrong
results.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from smtui.emulator.errors import ServiceError

Matcher = Callable[[str], bool]
_TERM = re.compile(r'([?-]?)(?:"((?:[^"\\]|\\.)*)"|(\S+))')


def _invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message)


def compile_pattern(pattern: str | None) -> Matcher:
    """A predicate on an event's message; InvalidParameterException for patterns outside the subset."""
    text = (pattern or "").strip()
    if not text:
        return lambda message: True
    if text[0] in "{[":
        raise _invalid(
            "Invalid filter pattern: the emulator supports term patterns (terms, quoted phrases, ?term,"
            " -term) and %regex%, not JSON or space-delimited patterns."
        )
    if len(text) >= 2 and text[0] == "%" and text[-1] == "%":
        try:
            regex = re.compile(text[1:-1])
        except re.error as exc:
            raise _invalid(f"Invalid regular expression in filter pattern: {exc}") from None
        return lambda message: regex.search(message) is not None
    required: list[str] = []
    optional: list[str] = []
    excluded: list[str] = []
    for prefix, quoted, bare in _TERM.findall(text):
        term = quoted.replace('\\"', '"') if quoted or bare == "" else bare
        if not term:
            continue
        {"": required, "?": optional, "-": excluded}[prefix].append(term)

    def matches(message: str) -> bool:
        if any(term in message for term in excluded):
            return False
        if not all(term in message for term in required):
            return False
        return not optional or any(term in message for term in optional)

    return matches
