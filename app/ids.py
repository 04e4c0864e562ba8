"""Row ids and page numbers as they arrive from outside: in a URL, a query or a form.

A number no table can hold names nothing: it is "not found" (404), never an overflow
deep in the database driver (SQLite holds 64 bits, PostgreSQL's `integer` ids 31). Every
`<int:...>` in a route goes through RowIdConverter (create_app installs it as `int`), and
ids and page numbers read from parameters through `row_id` and `page_number`.

The bottom layer: no Flask app, no database.
"""
from __future__ import annotations

import builtins

from werkzeug.routing import IntegerConverter

# The largest id a primary key holds on every database POMS runs on (PostgreSQL `integer`).
MAX_ID = 2**31 - 1
# Further than anyone pages; an offset past it would overflow SQLite's 64-bit integers.
MAX_PAGE = 1_000_000


def digits_up_to(limit: int) -> str:
    """A regular expression for the decimal numbers from 0 to `limit` (leading zeros
    allowed), so a larger one fails to match at all."""
    text = str(limit)
    choices = [rf"\d{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    for i, digit in enumerate(text):
        if digit != "0":
            rest = len(text) - i - 1
            choices.append(text[:i] + f"[0-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    choices.append(text)
    return "(?:" + "|".join(choices) + ")"


class RowIdConverter(IntegerConverter):
    """`<int:name>`: a whole number from 0 to MAX_ID; a larger one does not match the rule
    (404). The bound is in the regular expression, not only in to_python: a value refused
    there would make werkzeug answer 405 where another method shares the path."""

    regex = digits_up_to(MAX_ID)

    # The argument names are werkzeug's: `<int(max=10):n>` still works (and stays bounded).
    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        bound = MAX_ID if max is None else builtins.min(max, MAX_ID)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=bound, signed=signed)
        if signed:
            self.regex = r"-?" + digits_up_to(MAX_ID)


def row_id(value) -> int | None:
    """The id a parameter names, or None when it names no row (not a whole number, or out
    of every table's range)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value if value is not None else "").strip()
        if not text.isascii() or not text.isdigit() or len(text) > 10:
            return None
        number = int(text)
    return number if 0 < number <= MAX_ID else None


def page_number(value, default: int = 1, first: int = 1) -> int:
    """A page number from a parameter, from `first` to MAX_PAGE; `default` when it is not a
    number."""
    text = str(value if value is not None else "").strip()
    if not text.isascii() or not text.lstrip("-").isdigit():
        return default
    if len(text) > 12:  # a number that long is past the last page whatever it is
        return first if text.startswith("-") else MAX_PAGE
    return max(first, min(int(text), MAX_PAGE))
