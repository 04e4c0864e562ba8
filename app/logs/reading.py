"""Reading a job log: a path (gzip or not) or a binary stream, in blocks of whole lines,
with bounded memory; and the literal "triggers" that let one bytes search rule out many
markers or signatures at once. Shared by the analysis, the search and the trial.
"""
from __future__ import annotations

import functools
import gzip
import os
from collections.abc import Iterator
from contextlib import contextmanager

CHUNK = 1 << 20
MAX_LINE_BYTES = 64 * 1024


@contextmanager
def binary_stream(source):
    """A binary stream of the log; a gzip-compressed file is read through gzip."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as raw:
            if raw.read(2) == b"\x1f\x8b":
                raw.seek(0)
                with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                    yield stream
                return
            raw.seek(0)
            yield raw
    else:
        yield source


def iter_chunks(stream, chunk_size: int = CHUNK,
                max_line: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """Blocks of whole lines (each ending in b"\\n"); over-long lines cut to max_line."""
    carry = b""
    skipping = False
    while True:
        block = stream.read(chunk_size)
        if not block:
            break
        if skipping:
            newline = block.find(b"\n")
            if newline < 0:
                continue
            block = block[newline:]
            skipping = False
        data = carry + block if carry else block
        cut = data.rfind(b"\n") + 1
        if cut:
            yield data[:cut]
            carry = data[cut:]
        else:
            carry = data
        if len(carry) > max_line:
            carry = carry[:max_line]
            skipping = True
    if carry:
        yield carry + b"\n"


def line_at(chunk: bytes, pos: int) -> tuple[int, int]:
    return chunk.rfind(b"\n", 0, pos) + 1, chunk.find(b"\n", pos)


def decode_line(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").rstrip("\r")


@functools.lru_cache(maxsize=64)
def cached_triggers(literals: frozenset[bytes]) -> dict[bytes, bytes]:
    """triggers() for a set of literals seen before (the same signatures, log after log):
    working them out costs more than scanning a small log."""
    return triggers(set(literals))


def triggers(literals: set[bytes]) -> dict[bytes, bytes]:
    """For each literal, a piece of it shared with as many other literals as possible.

    A chunk without the piece has none of the literals that contain it, so one search
    rules out a whole family ("---- ProductNotFound begin", "---- FileOpenError begin",
    ... all contain " begin").
    """
    assigned: dict[bytes, bytes] = {}
    remaining = set(literals)
    while remaining:
        counts: dict[bytes, int] = {}
        for literal in remaining:
            pieces = {literal[i:i + k] for k in range(6, 11)
                      for i in range(len(literal) - k + 1)}
            for piece in pieces:
                counts[piece] = counts.get(piece, 0) + 1
        best = max(counts, key=lambda p: (counts[p], len(p), p)) if counts else None
        if best is None or counts[best] < 2:
            for literal in remaining:
                assigned[literal] = literal
            break
        for literal in [lit for lit in remaining if best in lit]:
            assigned[literal] = best
            remaining.discard(literal)
    return assigned
