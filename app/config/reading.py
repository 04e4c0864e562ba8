"""How a POMS_* setting is read: ConfigError, and the readers every settings module shares."""
from __future__ import annotations


class ConfigError(RuntimeError):
    """A setting that cannot work; raised at start-up, naming the variable."""


def list_of(value: str | None) -> list[str]:
    """A comma-separated setting: its non-empty items, stripped."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def integer(environ, name: str, default: int) -> int:
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None


def positive(environ, name: str, default: int) -> int:
    value = integer(environ, name, default)
    if value < 1:
        raise ConfigError(f"{name}={value} must be 1 or more")
    return value
