"""Search within one job log: the numbers of the lines holding a text, and that text marked
on a shown line.

    search_log(stream, query) -> LogSearch     one streaming pass, bounded memory
    marked(line, query) -> [(piece, is_match)] a shown line cut around the matches

The query is plain text (not a pattern: a shifter types what they see), matched without
regard to case: ASCII letters exactly, others as Python's casefold does where the line
decodes. Lines count as the analysis counts them (joblog.py: the stream's 1-based line
numbers), so a match and the matched signature's line are the same numbers. Matches are
found in the first MAX_LINE_BYTES of a line (reading.iter_chunks); the first MAX_HITS
line numbers are kept, and how many lines matched in all.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from app.logs.reading import iter_chunks

MAX_HITS = 2000
MAX_QUERY = 200  # characters


class BadQuery(ValueError):
    """A search a person must change, said so they can."""


@dataclass
class LogSearch:
    query: str
    lines: list[int] = field(default_factory=list)  # 1-based, ascending, at most MAX_HITS
    matched: int = 0  # lines holding the text, in all
    total_lines: int = 0

    @property
    def truncated(self) -> bool:
        return self.matched > len(self.lines)

    def as_dict(self) -> dict:
        return {"query": self.query, "lines": self.lines, "matched": self.matched,
                "truncated": self.truncated, "total_lines": self.total_lines}


def check_query(query: str | None) -> str:
    """The query as searched; BadQuery when it cannot be."""
    query = (query or "").strip("\r\n")
    if not query.strip():
        raise BadQuery("type some text to find in the log")
    if len(query) > MAX_QUERY:
        raise BadQuery(f"search for at most {MAX_QUERY} characters, not {len(query)}")
    if "\n" in query or "\r" in query:
        raise BadQuery("a search finds text within one line: leave out the line break")
    return query


def search_log(stream, query: str, *, max_hits: int = MAX_HITS) -> LogSearch:
    """Every line of the binary stream holding `query` (checked with check_query)."""
    query = check_query(query)
    result = LogSearch(query=query)
    needle = query.encode("utf-8").lower()
    folded = None if query.isascii() else query.casefold()
    seen = 0
    for chunk in iter_chunks(stream):
        if folded is None:
            lowered = chunk.lower()
            pos = lowered.find(needle)
            while pos >= 0:
                start = lowered.rfind(b"\n", 0, pos) + 1
                end = lowered.find(b"\n", pos)
                _hit(result, seen + chunk.count(b"\n", 0, start) + 1, max_hits)
                pos = lowered.find(needle, end + 1)
        else:
            text = chunk.decode("utf-8", "replace").split("\n")
            for number, line in enumerate(text[:-1] if chunk.endswith(b"\n") else text):
                if folded in line.casefold():
                    _hit(result, seen + number + 1, max_hits)
        seen += chunk.count(b"\n")
    result.total_lines = seen
    return result


def _hit(result: LogSearch, line: int, max_hits: int) -> None:
    result.matched += 1
    if len(result.lines) < max_hits:
        result.lines.append(line)


def marked(line: str, query: str | None) -> list[tuple[str, bool]]:
    """The line cut into pieces, each saying whether it is a match of the query."""
    if not query:
        return [(line, False)]
    haystack, needle = line.casefold(), query.casefold()
    if len(haystack) != len(line):  # casefold changed lengths (ß -> ss): no marks
        return [(line, False)]
    pieces, at = [], 0
    pos = haystack.find(needle)
    while pos >= 0 and needle:
        if pos > at:
            pieces.append((line[at:pos], False))
        pieces.append((line[pos:pos + len(needle)], True))
        at = pos + len(needle)
        pos = haystack.find(needle, at)
    if at < len(line):
        pieces.append((line[at:], False))
    return pieces or [(line, False)]
