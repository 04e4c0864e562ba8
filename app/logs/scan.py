"""Matching the signatures against a log, chunk by chunk: for each signature still able
to win, the first line it matches (signatures are narrowed by the literals every match must
contain: signatures.required_literals). The order of the list given is the order of
preference (analysis.py passes it by root cause: precedence.py).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.logs.reading import cached_triggers, decode_line, iter_chunks, line_at
from app.logs.signatures import LINE_CAP, Signature


@dataclass(frozen=True)
class SignatureHit:
    name: str
    category: str
    action: str
    line: int | None  # 1-based line number; None when only the exit code matched
    text: str  # the matched line (first 500 characters), "" for an exit-code match
    signature_id: int | None = None
    key: str | None = None


class SignatureScan:
    """Finds, for each signature still relevant, the first line it matches."""

    def __init__(self, signatures: Sequence[Signature]):
        self.signatures = list(signatures)
        self.hits: dict[int, tuple[int, str]] = {}  # index -> (line number, text)
        self.best = len(self.signatures)  # signatures at or after this cannot win
        self.trigger = cached_triggers(
            frozenset(lit for sig in self.signatures for lit in sig.literals or ()))

    def active(self) -> list[int]:
        return [i for i in range(self.best)
                if i not in self.hits and self.signatures[i].compiled is not None]

    def done(self) -> bool:
        return not self.active()

    def chunk(self, chunk: bytes, line_base: int) -> None:
        indices = self.active()
        if not indices:
            return
        lowered = None
        ascii_only = None
        text_lines = None
        present: dict[bytes, bool] = {}
        for i in indices:
            if i >= self.best:
                break
            sig = self.signatures[i]
            if sig.literals is not None:
                if ascii_only is None:
                    ascii_only = chunk.isascii()
                if ascii_only or not sig.ignore_case:
                    if lowered is None:
                        lowered = chunk.lower()
                    literals = []
                    for literal in sig.literals:
                        trigger = self.trigger[literal]
                        if trigger not in present:
                            present[trigger] = trigger in lowered
                        if present[trigger]:
                            literals.append(literal)
                    if not literals:
                        continue
                    found = _first_literal_line(sig, literals, chunk, lowered)
                    if found is not None:
                        start, text = found
                        self._hit(i, line_base + chunk.count(b"\n", 0, start) + 1, text)
                    continue
            if text_lines is None:
                text_lines = chunk.decode("utf-8", "replace").split("\n")
            search = sig.compiled.search
            for number, line in enumerate(text_lines):
                if search(line.rstrip("\r"), 0, LINE_CAP):
                    self._hit(i, line_base + number + 1, line.rstrip("\r"))
                    break

    def _hit(self, index: int, line: int, text: str) -> None:
        self.hits[index] = (line, text[:500])
        self.best = min(self.best, index)

    def result(self, exit_code: int | None) -> SignatureHit | None:
        if self.hits:
            index = min(self.hits)
            line, text = self.hits[index]
            return hit_of(self.signatures[index], line, text)
        if exit_code is not None:
            for sig in self.signatures:
                if exit_code in sig.exit_codes:
                    return hit_of(sig, None, "")
        return None


def hit_of(sig: Signature, line: int | None, text: str) -> SignatureHit:
    return SignatureHit(name=sig.name, category=sig.category, action=sig.action, line=line,
                        text=text, signature_id=sig.id, key=sig.key)


def _first_literal_line(sig: Signature, literals: list[bytes], chunk: bytes,
                        lowered: bytes) -> tuple[int, str] | None:
    """The start offset and text of the first line in the chunk the signature matches."""
    best: tuple[int, str] | None = None
    search = sig.compiled.search
    for literal in literals:
        limit = best[0] if best else len(lowered)
        pos = lowered.find(literal, 0, limit)
        while pos >= 0:
            start, end = line_at(lowered, pos)
            text = decode_line(chunk[start:end])
            if search(text, 0, LINE_CAP):
                best = (start, text)
                break
            pos = lowered.find(literal, end + 1, limit)
    return best


def first_matching_line(signature: Signature, stream) -> tuple[int, str] | None:
    """The first line (number, text) of a binary stream the signature's pattern matches;
    reading stops there. Exit codes are not tried (a log alone does not say how its job
    ended)."""
    if signature.compiled is None:
        return None
    scan = SignatureScan([signature])
    lines = 0
    for chunk in iter_chunks(stream):
        scan.chunk(chunk, lines)
        if scan.done():
            break
        lines += chunk.count(b"\n")
    return scan.hits.get(0)
