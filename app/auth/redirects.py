"""Where a sign-in may send people on: a path on this site, never anywhere else.

`next=` comes from a link anyone can write. Browsers forgive a great deal in a Location
header: they drop tabs and line breaks anywhere, trim spaces and control characters at
the ends, read a backslash as a slash, and take `//host` (and `/\\host`) as another site.
So a target is accepted only when it is plainly a path on this site as it stands, and
again once percent-decoded (a proxy in front may decode it before a browser sees it).

Plain Python: no Flask.
"""
from __future__ import annotations

from urllib.parse import unquote, urlsplit

MAX_TARGET = 2000  # characters; a longer `next` is no page of ours


def _plain_path(target: str) -> bool:
    if not target.startswith("/") or target[1:2] in ("/", "\\"):
        return False
    if any(ch == "\\" or ch.isspace() or not ch.isprintable() for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def is_same_site_path(target: str | None) -> bool:
    """Whether `target` may go in a Location header: a path (with query) of this site."""
    if not isinstance(target, str) or not target or len(target) > MAX_TARGET:
        return False
    if not _plain_path(target):
        return False
    decoded = unquote(target)
    # Decoded, only its start matters: a query may well hold an encoded space or slash.
    second = decoded[1:2]
    if second and (second in ("/", "\\") or second.isspace() or not second.isprintable()):
        return False
    return decoded.startswith("/")


def safe_next(target: str | None, default: str) -> str:
    """`target` when it is a path of this site, else `default`."""
    return target if is_same_site_path(target) else default
