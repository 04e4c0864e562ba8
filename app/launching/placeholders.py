"""Launch-time placeholders: `%(name)s` becomes its value, `%%` becomes `%`.

The original expands with Python's `%` operator, which turns an unknown name into a crash
halfway through a launch and a stray `%` into garbage. Here every placeholder is checked
before anything runs: an unknown one is an error naming it and the place it was found.
A `%` that starts no placeholder (a file pattern's `%.art`) stays as it is.
"""
from __future__ import annotations

import re
import shlex

BUILTIN = ("dataset", "experiment", "experimenter", "version", "group", "role", "parameter")

_TOKEN = re.compile(r"%%|%\((?P<name>[^()]*)\)(?P<conv>[a-z]?)")


class PlaceholderError(ValueError):
    """An unknown or malformed placeholder; the message says which and where."""


def names_in(text: str) -> list[str]:
    return [m.group("name") for m in _TOKEN.finditer(text or "") if m.group("name") is not None]


def expand(text: str, values: dict[str, str], where: str, *, shell: bool = False) -> str:
    """`text` with its placeholders replaced.

    shell=True is for trusted shell text (a login setup, a launch script): a value that is
    not a plain word is inserted shell-quoted, so a dataset name holding `; rm -rf ~` stays
    one word instead of becoming a command. Plain values (v1_0, mu2e, a dataset name) are
    inserted as they are, exactly as the original did.
    """

    def one(match: re.Match) -> str:
        if match.group(0) == "%%":
            return "%"
        name, conv = match.group("name"), match.group("conv")
        if conv != "s":
            raise PlaceholderError(
                f"{where}: placeholder %({name}){conv} must end in 's', as in %({name})s"
            )
        if name not in values:
            known = ", ".join(f"%({k})s" for k in sorted(values))
            raise PlaceholderError(f"{where}: unknown placeholder %({name})s (known: {known})")
        value = str(values[name])
        return shlex.quote(value) if shell else value

    return _TOKEN.sub(one, text or "")
