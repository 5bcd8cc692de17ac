"""Settings: TOML at `$XDG_CONFIG_HOME/smtui/config.toml`, overridden by `SMTUI_*` environment variables,
overridden by command-line flags. Every setting is documented once, here, on its field of `Settings`:

| setting | type | default | environment |
|---|---|---|---|
| `profile` | text | the standard chain | `SMTUI_PROFILE` |
| `region` | text | `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's | `SMTUI_REGION` |
| `endpoint_url` | URL | AWS (`AWS_ENDPOINT_URL_SAGEMAKER`, `AWS_ENDPOINT_URL`) | `SMTUI_ENDPOINT_URL` |
| `read_only` | true/false | false | `SMTUI_READ_ONLY` |
| `rate` | calls/s > 0 | 10 | `SMTUI_RATE` |
| `active_interval` | seconds > 0 | 5 | `SMTUI_ACTIVE_INTERVAL` |
| `watched_interval` | seconds > 0 | 1 | `SMTUI_WATCHED_INTERVAL` |
| `discovery_interval` | seconds > 0 | 30 | `SMTUI_DISCOVERY_INTERVAL` |
| `logs_rate` | calls/s > 0 | 2 | `SMTUI_LOGS_RATE` |
| `logs_lines` | lines ≥ 1 | 100000 | `SMTUI_LOGS_LINES` |
| `history` | count ≥ 1 | 100 | `SMTUI_HISTORY` |
| `bell` | true/false | false | `SMTUI_BELL` |
| `events_queue` | SQS queue URL | none (polling only) | `SMTUI_EVENTS_QUEUE` |
| `keys` | table of binding id = keys | none | `SMTUI_KEYS="execution.stop=ctrl+k,app.quit=ctrl+q"` |
| `contexts` | tables `[contexts.NAME]` | none | (file only; picked by `--context`/`--all-contexts` alone) |

```toml
profile = "ml-prod"
region = "eu-west-1"
endpoint_url = "http://127.0.0.1:4566"
read_only = false
rate = 10.0               # API calls per second the monitor may make
active_interval = 5.0
watched_interval = 1.0
discovery_interval = 30.0
logs_rate = 2.0           # CloudWatch Logs calls per second, a budget of its own
logs_lines = 100000       # lines a log view keeps (the oldest are dropped)
history = 100             # finished executions kept per pipeline
bell = true
events_queue = "https://sqs.eu-west-1.amazonaws.com/123456789012/smtui-events"  # push updates

[keys]
"execution.stop" = "ctrl+k"

[contexts.prod]           # `--context prod`, `--all-contexts`
profile = "ml-prod"
region = "eu-west-1"
[contexts.dev]
profile = "ml-dev"
region = "us-east-1"
endpoint_url = "http://127.0.0.1:4566"   # optional, as is events_queue
```

A value of the wrong type is an error that names the setting and where it came from
(`SMTUI_RATE: setting 'rate' expects a number > 0, got 'abc'`); nothing is silently coerced
(`bell = "nope"` is refused, not read as false). Environment values are text, so there
`true/false/1/0/yes/no/on/off` are booleans and numbers are parsed.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec

Positive = Annotated[float, msgspec.Meta(gt=0)]
Count = Annotated[int, msgspec.Meta(ge=1)]


class Context(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A named place to monitor, as in k9s: `[contexts.NAME]` in the file; `--context NAME` picks it."""

    region: str
    """AWS region (required: a context is one account's one region)."""
    profile: str | None = None
    """AWS profile (else the standard chain)."""
    endpoint_url: str | None = None
    """SageMaker endpoint URL (e.g. an emulator)."""
    events_queue: str | None = None
    """Push updates for this context (see `events_queue` below)."""


CONTEXT_KEYS = tuple(Context.__struct_fields__)


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Typed settings; each field's docstring is its documentation."""

    profile: str | None = None
    """AWS profile (else the standard chain: AWS_PROFILE, environment, SSO, instance role)."""
    region: str | None = None
    """AWS region (else AWS_REGION, then AWS_DEFAULT_REGION, then the profile's `region`)."""
    endpoint_url: str | None = None
    """SageMaker endpoint URL, e.g. an emulator (else AWS_ENDPOINT_URL_SAGEMAKER / AWS_ENDPOINT_URL)."""
    read_only: bool = False
    """Hide and refuse every mutating action (start, stop, retry, launch)."""
    rate: Positive = 10.0
    """The monitor's call budget, in API calls per second (halved on throttling, then climbs back)."""
    active_interval: Positive = 5.0
    """Seconds between polls of an unfinished execution shown on screen, and of pipelines with activity."""
    watched_interval: Positive = 1.0
    """Seconds between polls of the execution open on screen."""
    discovery_interval: Positive = 30.0
    """Seconds between ListPipelines calls that discover new pipelines and new executions."""
    logs_rate: Positive = 2.0
    """Step logs: CloudWatch Logs calls per second (a budget of its own, beside `rate`; halved on throttling,
    then climbs back). Logs read quotas are per account and low: FilterLogEvents 5/s, GetLogEvents 10/s."""
    logs_lines: Count = 100_000
    """Step logs: the newest lines a log view keeps in memory; older ones are dropped (a ring buffer)."""
    history: Count = 100
    """Finished executions kept per pipeline, the newest (as a session opened now would load them): older
    ones leave the table as new ones arrive, unless marked, open or in view; unfinished ones always stay.
    This keeps a session of weeks as small as a new one. The first load reads as many (pages of 100)."""
    bell: bool = False
    """TUI: ring the terminal bell (besides the toast) when a watched execution ends."""
    events_queue: str | None = None
    """Push updates: the URL of the SQS queue that `smtui events setup` made (SageMaker's status changes,
    through EventBridge). The monitor applies each event at once and polls only to reconcile, slower; it
    falls back to full polling while the queue cannot be read or stays silent. Also `--events URL`."""
    keys: tuple[tuple[str, str], ...] = ()
    """TUI key remapping: a `[keys]` table of binding id = keys (`"execution.stop" = "ctrl+k"`); `?` shows
    the ids. In the environment: `SMTUI_KEYS="execution.stop=ctrl+k,app.quit=ctrl+q"`."""
    contexts: dict[str, Context] = {}
    """Named contexts, `[contexts.NAME]` tables of `profile`, `region` (required), `endpoint_url`,
    `events_queue`: `--context NAME` (repeatable) or `--all-contexts` monitors them instead of the
    top-level `profile`/`region`/`endpoint_url`. Only in the file."""


NAMES = frozenset(Settings.__struct_fields__)

_EXPECTS = {
    "float": "a number",
    "int": "a whole number",
    "bool": "true or false",
    "str": "text",
    "array": "a table",
    "null": "nothing",
}


FLAGS = "command line"
_WORDS = {"yes": True, "on": True, "no": False, "off": False}


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "smtui" / "config.toml"


def _checked(raw: Mapping[str, Any], source: str, *, from_text: bool) -> dict[str, Any]:
    """The settings of one source, each checked against its field's type: only the ones the source sets.

    `from_text`: the values are strings (environment, flags), parsed as their field's type; a TOML file's
    values must already be of it.
    """
    values = {key.replace("-", "_"): value for key, value in raw.items()}
    for key in values:
        if key not in NAMES:
            raise ValueError(f"{source}: unknown setting {key!r} (known: {', '.join(sorted(NAMES))})")
    if "contexts" in values:
        if from_text:
            raise ValueError(f"{source}: setting 'contexts' is only read from the config file")
        values["contexts"] = _contexts(values["contexts"], source)
    if "keys" in values:
        keys = values["keys"]
        if isinstance(keys, str):  # "id=key,id=key"
            pairs = [item.partition("=") for item in keys.split(",") if item.strip()]
            values["keys"] = [(k.strip(), v.strip()) for k, _, v in pairs]
        elif isinstance(keys, Mapping):
            values["keys"] = list(keys.items())
    for key, value in values.items():
        if key == "contexts":
            continue
        if from_text and isinstance(value, str) and Settings.__annotations__[key] == "bool":
            value = _WORDS.get(value.strip().lower(), value)  # yes/no, on/off, as shells and INI files say
        try:
            msgspec.convert({key: value}, Settings, strict=not from_text)
        except msgspec.ValidationError as error:
            raise ValueError(f"{_where(source, key)} {_expects(str(error))}, got {value!r}") from None
        if key in ("endpoint_url", "events_queue") and value:
            try:
                check_endpoint_url(value)
            except ValueError as error:
                raise ValueError(f"{_where(source, key)}: {error}") from None
        values[key] = value
    return values


def _contexts(raw: Any, source: str) -> dict[str, dict[str, Any]]:
    """`[contexts.NAME]` tables, each checked: an error names `contexts.NAME.key` and the file."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"{source}: setting 'contexts' expects tables [contexts.NAME], got {raw!r}")
    out: dict[str, dict[str, Any]] = {}
    for name, table in raw.items():
        where = f"{source}: setting 'contexts.{name}"
        if not isinstance(table, Mapping):
            raise ValueError(f"{where}' expects a table (profile, region, endpoint_url), got {table!r}")
        for key, value in table.items():
            if key not in CONTEXT_KEYS:
                raise ValueError(f"{where}.{key}': unknown (known: {', '.join(CONTEXT_KEYS)})")
            if not isinstance(value, str):
                raise ValueError(f"{where}.{key}' expects text, got {value!r}")
            if key in ("endpoint_url", "events_queue"):
                try:
                    check_endpoint_url(value)
                except ValueError as error:
                    raise ValueError(f"{where}.{key}': {error}") from None
        if not table.get("region"):
            raise ValueError(f"{where}.region' is missing (a context is a profile and a region)")
        out[str(name)] = dict(table)
    return out


def _where(source: str, key: str) -> str:
    """`FILE: setting 'rate'`, `SMTUI_RATE: setting 'rate'`, or the flag itself: `--endpoint-url`."""
    return f"--{key.replace('_', '-')}" if source == FLAGS else f"{source}: setting {key!r}"


def check_endpoint_url(url: str) -> str:
    """The URL itself, or ValueError: botocore's own check lets `ftp://x` through and answers `notaurl`
    with a bare ValueError from deep inside client creation."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 -- reading it validates it
    except ValueError:
        raise ValueError(f"{url!r} has an invalid port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL (e.g. http://127.0.0.1:4566)")
    return url


def _expects(message: str) -> str:
    """msgspec's "Expected `float` > 0.0, got `str` - at `$.rate`" as "expects a number > 0"."""
    found = re.match(r"Expected `(\w+)`(?: (?P<bound>[<>]=? \S+?))?(?:\.0)?(?:,| -)", message)
    if found is None:
        return f"is invalid ({message})"
    words = _EXPECTS.get(found.group(1), found.group(1))
    bound = found.group("bound")
    if bound:
        words += " " + bound.removesuffix(".0")
    return f"expects {words}"


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None, **flags: Any) -> Settings:
    """File, then `SMTUI_<FIELD>` environment variables, then non-None `flags`. A bad value raises ValueError
    naming the setting and its source."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    path = path or config_path()
    if path.exists():
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # unreadable, not UTF-8, not TOML (TOMLDecodeError)
            raise ValueError(f"{path}: {exc}") from exc
        values.update(_checked(doc, str(path), from_text=False))
    for name in sorted(NAMES - {"contexts"}):
        raw = env.get(f"SMTUI_{name.upper()}")
        if raw is not None:
            values.update(_checked({name: raw}, f"SMTUI_{name.upper()}", from_text=True))
    given = {name: value for name, value in flags.items() if value is not None and name in NAMES}
    values.update(_checked(given, FLAGS, from_text=True))
    for key in ("profile", "region", "endpoint_url", "events_queue"):
        if values.get(key) == "":
            values[key] = None  # an empty variable means unset, as in the AWS tools
    return msgspec.convert(values, Settings, strict=False)


def pick_contexts(settings: Settings, names: Sequence[str], every: bool) -> list[tuple[str, Context]]:
    """The contexts `--context NAME...` / `--all-contexts` name, in the order given (the file's order for
    all); none when neither was given. ValueError on an unknown name, or on `--all-contexts` without any."""
    if every:
        if not settings.contexts:
            raise ValueError("--all-contexts: no [contexts.NAME] in the config file")
        return list(settings.contexts.items())
    out: list[tuple[str, Context]] = []
    for name in dict.fromkeys(names):
        if name not in settings.contexts:
            known = ", ".join(settings.contexts) or "none defined in the config file"
            raise ValueError(f"--context: unknown context {name!r} (known: {known})")
        out.append((name, settings.contexts[name]))
    return out
