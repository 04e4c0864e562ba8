"""What may be called what in UconDB: folders, objects, keys, tags, databases.

The folder rule: a POMS dataset's FCL files live in the folder named like the dataset with
every `.` replaced by `_` (`cnf.mu2e.tutorial.fcl` -> `cnf_mu2e_tutorial_fcl`). UconDB keeps
a folder as PostgreSQL tables (`<folder>_versions`, `<folder>_tags`, `<folder>_data`) and
reads a dot in a name as `namespace.folder`, so a folder name may hold letters, digits and `_`
only, may not start with a digit, and must leave room for the table suffixes in PostgreSQL's
63-character identifiers. A name that breaks these rules is refused with a sentence saying
why; nothing is silently rewritten beyond the dot rule.

Object names and version keys travel in URL paths (`/data/<folder>/<object>`) and are FCL
file names in practice: no `/`, no `\\`, no `..`, no control characters. The real server
refuses any value with `'` or `;` (its guard against SQL injection), so those are refused here
too: what the embedded server accepts, Fermilab's accepts.
"""
from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

FOLDER_MAX = 54  # 63 (PostgreSQL identifiers) - len("_versions")
NAME_MAX = 255
TAG_MAX = 128

_FOLDER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DATABASE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class InvalidName(ValueError):
    """A folder, object, key, tag or database name UconDB cannot hold; str() says why."""


def folder_for_dataset(dataset: str) -> str:
    """The UconDB folder that holds a dataset's FCL files: `.` -> `_`, then checked."""
    if not dataset or not dataset.strip():
        raise InvalidName("the dataset name is empty: it gives no UconDB folder name")
    folder = dataset.replace(".", "_")
    try:
        check_folder(folder)
    except InvalidName as err:
        raise InvalidName(f"dataset {dataset!r} gives UconDB folder {folder!r}: {err}") from None
    return folder


def check_folder(name: str | None) -> str:
    if not name:
        raise InvalidName("a folder name is needed")
    if "." in name:
        raise InvalidName(
            f"folder {name!r} has a dot: UconDB reads a dot as namespace.folder "
            "(a dataset's folder replaces every . by _)"
        )
    if len(name) > FOLDER_MAX:
        raise InvalidName(f"folder {name!r} is longer than {FOLDER_MAX} characters")
    if not _FOLDER.fullmatch(name):
        bad = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c == "_"))})
        if bad:
            shown = " ".join(repr(c) for c in bad)
            raise InvalidName(
                f"folder {name!r} has {shown}: folder names may hold only letters, digits and _"
            )
        raise InvalidName(f"folder {name!r} starts with a digit: it must start with a letter or _")
    return name


def check_database(name: str | None) -> str:
    if not name or not _DATABASE.fullmatch(name):
        raise InvalidName(
            f"database {name!r} is not a UconDB database name (letters, digits and _, "
            "not starting with a digit, at most 63 characters)"
        )
    return name


def _check_text(kind: str, value: str | None, limit: int) -> str:
    if value is None or value == "":
        raise InvalidName(f"{kind} is empty")
    if len(value) > limit:
        raise InvalidName(f"{kind} {value[:40]!r}... is longer than {limit} characters")
    if "/" in value or "\\" in value:
        raise InvalidName(f"{kind} {value!r} has a slash")
    if ".." in value:
        raise InvalidName(f"{kind} {value!r} has '..'")
    if _CONTROL.search(value):
        raise InvalidName(f"{kind} {value!r} has a control character")
    if "'" in value or ";" in value:
        raise InvalidName(f"{kind} {value!r} has ' or ; (the UconDB server refuses both)")
    if value != value.strip():
        raise InvalidName(f"{kind} {value!r} starts or ends with blanks")
    return value


def check_object(name: str | None) -> str:
    return _check_text("object name", name, NAME_MAX)


def check_key(key: str | None) -> str:
    return _check_text("version key", key, NAME_MAX)


def check_tag(tag: str | None) -> str:
    return _check_text("tag", tag, TAG_MAX)


# The embedded server's API root (app/blueprints/ucondb/server.py's url_prefix).
_EMBEDDED = re.compile(r"^/ucondb/([A-Za-z_][A-Za-z0-9_]{0,62})/app$")


def pages_url(base_url: str, folder: str | None = None) -> str:
    """Where a person browses the UconDB that `base_url` (POMS_UCONDB_URL) names: its UI
    pages, `<base>/UI/index` or `<base>/UI/folder?folder=F`, as Fermilab's server has them.
    When it is this POMS's embedded server, the link is a path on this site, so it works
    whatever name the browser reached POMS by."""
    parts = urlsplit(base_url.rstrip("/"))
    base = parts.path if _EMBEDDED.match(parts.path) else base_url.rstrip("/")
    if folder is None:
        return f"{base}/UI/index"
    return f"{base}/UI/folder?{urlencode({'folder': folder})}"
