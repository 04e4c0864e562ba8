"""How a POMS_* setting is read: ConfigError, and the readers every settings module shares."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


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


def not_negative(environ, name: str, default: int) -> int:
    value = integer(environ, name, default)
    if value < 0:
        raise ConfigError(f"{name}={value} must be 0 or more")
    return value


def kept_secret(instance_path: Path, name: str, make: Callable[[], str]) -> str:
    """instance/NAME (0600), made once by make(). Written aside, then linked in place: no
    process reads a half-written file, and when several start at once (a server's workers,
    the test suite's) the first link wins for all of them."""
    path = instance_path / name
    if not path.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=instance_path, prefix=f".{name}.")  # mode 0600
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(make())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()
