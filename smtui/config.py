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

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Settings:
    """Typed settings; each field's comment is its documentation."""

    profile: str | None = None
    """AWS profile (else the standard chain: AWS_PROFILE, environment, SSO, instance role)."""
    region: str | None = None
    """AWS region (else the profile's or AWS_REGION)."""
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
        return tuple((str(k), str(v)) for k, v in dict(value).items())
    if "bool" in str(kind):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    if "float" in str(kind):
        return float(value)
    return None if value in ("", None) else str(value)


def load_settings(path: Path | None = None, env: dict[str, str] | None = None, **flags: Any) -> Settings:
    """File, then `SMTUI_<FIELD>` environment variables, then non-None `flags`. Bad files raise ValueError."""
    env = dict(os.environ) if env is None else env
    names = {f.name for f in fields(Settings)}
    values: dict[str, Any] = {}
    path = path or config_path()
    if path.exists():
        try:
            doc = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        for key, value in doc.items():
            key = key.replace("-", "_")
            if key not in names:
                raise ValueError(f"{path}: unknown setting {key!r} (known: {', '.join(sorted(names))})")
            values[key] = _coerce(key, value)
    for name in names:
        raw = env.get(f"SMTUI_{name.upper()}")
        if raw is not None:
            values[name] = _coerce(name, raw)
    for name, value in flags.items():
        if value is not None and name in names:
            values[name] = _coerce(name, value)
    return replace(Settings(), **values)
