"""Launch-time placeholders, filled as the original POMS fills them.

The original formats text with Python's `%` operator over a dictionary
(webservice/SubmissionsPOMS.py launch_jobs): `%(name)s` becomes the value, inserted as it is
(no quoting: the text is shell on the launch host, and so is what is inserted), and `%%`
becomes `%`. The same here, with two differences where the original breaks a launch:

- an unknown name is an error naming it, the place it was found and the names known there,
  said at the dry run and refusing the launch, where the original stops halfway through
  the launch with a KeyError;
- a `%` that starts no `%(name)s` (`date +%Y`, `100% done`) stays as it is, where Python's
  `%` would stop the launch (or, for a bare `%s`, insert the whole dictionary).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

_TOKEN = re.compile(r"%%|%\((?P<name>[^()]*)\)(?P<conv>[a-z]?)")


class PlaceholderError(ValueError):
    """An unknown or malformed placeholder; the message says which and where."""


def names_in(text: str) -> list[str]:
    return [m.group("name") for m in _TOKEN.finditer(text or "") if m.group("name") is not None]


def expand(text: str, values: dict[str, str], where: str, *,
           not_here: Iterable[str] = (), not_here_why: str = "") -> str:
    """`text` with its placeholders filled from `values`, as Python's `%` would.

    not_here: names that exist elsewhere but are not filled in this place (campaign
    keywords in a login setup); an error for one of them says `not_here_why`.
    """
    not_here = set(not_here)

    def one(match: re.Match) -> str:
        if match.group(0) == "%%":
            return "%"
        name, conv = match.group("name"), match.group("conv")
        if conv != "s":
            raise PlaceholderError(
                f"{where}: placeholder %({name}){conv} must end in 's', as in %({name})s"
            )
        if name in values:
            return str(values[name])
        if name in not_here:
            raise PlaceholderError(f"{where}: %({name})s is not filled here: {not_here_why}")
        known = ", ".join(f"%({k})s" for k in sorted(values)) or "none"
        raise PlaceholderError(f"{where}: unknown placeholder %({name})s (known here: {known})")

    return _TOKEN.sub(one, text or "")


def expand_if_placeholders(text: str, values: dict[str, str], where: str, **kwargs) -> str:
    """As the original fills the dataset, the version and the group: only when the text
    holds both `%(` and `)s`, so a dataset written `a%%b` without placeholders stays as it
    is (its `%%` is not halved)."""
    text = text or ""
    if "%(" in text and ")s" in text:
        return expand(text, values, where, **kwargs)
    return text
