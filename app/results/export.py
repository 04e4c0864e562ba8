"""CSV and JSON of results tables: rows of plain values in, text out (streamed for CSV)."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    text = str(value)
    # A cell a spreadsheet would run as a formula is written as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_lines(fields: list[str], records: Iterable[dict]) -> Iterator[str]:
    """The CSV document a line at a time (header first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(fields)
    yield buffer.getvalue()
    for record in records:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(record.get(f)) for f in fields])
        yield buffer.getvalue()


def csv_text(fields: list[str], records: Iterable[dict]) -> str:
    return "".join(csv_lines(fields, records))


def json_text(value) -> str:
    return json.dumps(value, indent=1, default=str)
