"""Settings: TOML at `$XDG_CONFIG_HOME/smtui/config.toml`, overridden by `SMTUI_*` environment variables,
overridden by command-line flags. Every setting is documented once, here.

```toml
profile = "ml-prod"
region = "eu-west-1"
endpoint_url = "http://127.0.0.1:4566"
read_only = false
rate = 10.0               # API calls per second the monitor may make
active_interval = 5.0
watched_interval = 1.0
discovery_interval = 30.0
```
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Settings:
    """Typed settings; each field's comment is its documentation."""

    profile: str | None = None
    """AWS profile (else the standard chain: AWS_PROFILE, environment, SSO, instance role)."""
    region: str | None = None
    """AWS region (else AWS_REGION, then AWS_DEFAULT_REGION, then the profile's `region`)."""
    endpoint_url: str | None = None
    """SageMaker endpoint URL, e.g. an emulator (else AWS_ENDPOINT_URL_SAGEMAKER / AWS_ENDPOINT_URL)."""
    read_only: bool = False
    """Hide and refuse every mutating action (start, stop, retry, launch)."""
    rate: float = 10.0
    """The monitor's call budget, in API calls per second (halved on throttling, then climbs back)."""
    active_interval: float = 5.0
    """Seconds between polls of an unfinished execution shown on screen, and of pipelines with activity."""
    watched_interval: float = 1.0
    """Seconds between polls of the execution open on screen."""
    discovery_interval: float = 30.0
    """Seconds between ListPipelines calls that discover new pipelines and new executions."""
    bell: bool = False
    """TUI: ring the terminal bell (besides the toast) when a watched execution ends."""
    keys: tuple[tuple[str, str], ...] = ()
    """TUI key remapping: a `[keys]` table of binding id = keys (`"execution.stop" = "ctrl+k"`); `?` shows
    the ids. In the environment: `SMTUI_KEYS="execution.stop=ctrl+k,app.quit=ctrl+q"`."""


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "smtui" / "config.toml"


def _coerce(name: str, value: Any) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    if "tuple" in str(kind):  # the keymap: a TOML table, or "id=key,id=key" from the environment
        if isinstance(value, str):
            pairs = [item.partition("=") for item in value.split(",") if item.strip()]
            return tuple((k.strip(), v.strip()) for k, _, v in pairs)
        if not isinstance(value, dict):
            raise ValueError("expected a table of binding id = keys")
        return tuple((str(k), str(v)) for k, v in value.items())
    if "bool" in str(kind):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    if "float" in str(kind):  # a rate or an interval: 0 would stall what it paces
        number = float(value)
        if not 0 < number < math.inf:
            raise ValueError(f"{value!r} is not a positive number")
        return number
    return None if value in ("", None) else str(value)


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


def _value(name: str, raw: Any, source: str) -> Any:
    """`raw` as the setting's type, checked; ValueError names the setting as `source` does."""
    try:
        value = _coerce(name, raw)
        if name == "endpoint_url" and value is not None:
            check_endpoint_url(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{source}: {exc}") from None
    return value


def load_settings(path: Path | None = None, env: dict[str, str] | None = None, **flags: Any) -> Settings:
    """File, then `SMTUI_<FIELD>` environment variables, then non-None `flags`. Bad values (a malformed file,
    an unknown setting, an endpoint that is not a URL) raise ValueError naming where they came from."""
    env = dict(os.environ) if env is None else env
    names = {f.name for f in fields(Settings)}
    values: dict[str, Any] = {}
    path = path or config_path()
    if path.exists():
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # unreadable, not UTF-8, not TOML (TOMLDecodeError)
            raise ValueError(f"{path}: {exc}") from exc
        for key, value in doc.items():
            key = key.replace("-", "_")
            if key not in names:
                raise ValueError(f"{path}: unknown setting {key!r} (known: {', '.join(sorted(names))})")
            values[key] = _value(key, value, f"{path}: {key}")
    for name in names:
        raw = env.get(f"SMTUI_{name.upper()}")
        if raw is not None:
            values[name] = _value(name, raw, f"SMTUI_{name.upper()}")
    for name, value in flags.items():
        if value is not None and name in names:
            values[name] = _value(name, value, f"--{name.replace('_', '-')}")
    return replace(Settings(), **values)
