"""Where a finished job's log is, read as one stream: its stdout, then its stderr.

    open_job_log(config, batch_job_id, fetch=None) -> context manager of a binary stream
                                                        (None when there is no log)
    log_window(stream, line, before, after) -> LogWindow: the lines around `line`

The log of a job is what `fetch_log` shows, whole: "== stdout ==", the job's stdout,
"== stderr ==", its stderr. Line numbers (the analysis' matched line) count in that stream.

The local engine's logs are files in its spool (clusters/C/P/stdout and stderr), read in
place, streaming. Other engines' logs are fetched once through the engine and kept under
POMS_JOB_LOG_DIR (default: POMS_BATCH_DIR/fetched_logs), so the analysis and the log page
read the same bytes later.
"""
from __future__ import annotations

import io
import os
import re
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from app.batch.local import SpoolFile, job_file
from app.logs.reading import iter_chunks

HEADERS = (b"== stdout ==\n", b"== stderr ==\n")
MAX_WINDOW_LINES = 400
MAX_SHOWN_LINE = 4000  # characters of one line shown


def _local_parts(config, batch_job_id: str) -> list[SpoolFile] | None:
    """A local-engine job's stdout and stderr (in the service's spool or a launch account's
    area, read without following links); None for another engine's job."""
    parts = [job_file(config, batch_job_id, name) for name in ("stdout", "stderr")]
    return parts if all(parts) else None


def fetched_log_path(config, batch_job_id: str) -> Path:
    base = config.get("POMS_JOB_LOG_DIR") or os.path.join(config.get("POMS_BATCH_DIR", "."),
                                                          "fetched_logs")
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in batch_job_id)
    return Path(base) / f"{safe}.log"


class _Chained(io.RawIOBase):
    """stdout and stderr with their headers, as one readable binary stream."""

    def __init__(self, paths: list[SpoolFile]):
        self._pieces = []
        for header, path in zip(HEADERS, paths, strict=False):
            if path.exists():
                self._pieces.append(header)
                self._pieces.append(path)
        self._current = None
        self._last = b"\n"

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = 1 << 20 if size is None or size < 0 else size
        while True:
            if self._current is None:
                if not self._pieces:
                    return b""
                piece = self._pieces.pop(0)
                if isinstance(piece, bytes):
                    # each part starts on its own line
                    data = (b"" if self._last == b"\n" else b"\n") + piece
                    self._last = b"\n"
                    return data
                try:
                    self._current = piece.open()
                except OSError:  # gone, or a link a launch account put there: no part
                    continue
            data = self._current.read(size)
            if data:
                self._last = data[-1:]
                return data
            self._current.close()
            self._current = None

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
        super().close()


def has_local_log(config, batch_job_id: str) -> bool:
    parts = _local_parts(config, batch_job_id)
    return bool(parts) and any(p.exists() for p in parts)


@contextmanager
def open_job_log(config, batch_job_id: str, fetch: Callable[[str], str] | None = None):
    """The job's whole log as a binary stream, or None when it has none (yet).

    `fetch` (an engine's fetch_log) is asked once for engines whose logs are not local
    files; what it returns is kept, so later readers see the same log.
    """
    parts = _local_parts(config, batch_job_id)
    if parts and any(p.exists() for p in parts):
        stream = _Chained(parts)
        try:
            yield stream
        finally:
            stream.close()
        return
    kept = fetched_log_path(config, batch_job_id)
    if not kept.exists() and fetch is not None and not parts:
        try:
            text = fetch(batch_job_id)
        except Exception:  # the engine cannot say (BatchError, a gone schedd): no log
            text = None
        if text:
            kept.parent.mkdir(parents=True, exist_ok=True)
            tmp = kept.with_name(f".{kept.name}.{os.getpid()}.tmp")
            tmp.write_bytes(text.encode("utf-8", "replace"))
            os.replace(tmp, kept)
    if kept.exists():
        with open(kept, "rb") as stream:
            yield stream
        return
    yield None


@dataclass
class LogWindow:
    first: int  # line number of lines[0]
    lines: list[str] = field(default_factory=list)
    total_lines: int | None = None  # known when the window reached the end
    more_before: bool = False
    more_after: bool = False


def log_window(stream, line: int, before: int = 40, after: int = 60) -> LogWindow:
    """Lines line-before .. line+after of the stream (1-based), reading it once, streaming:
    memory is bounded by the window, whatever the size of the log."""
    before = max(0, min(before, MAX_WINDOW_LINES))
    after = max(0, min(after, MAX_WINDOW_LINES))
    line = max(1, line)
    first = max(1, line - before)
    last = line + after
    kept: deque[str] = deque()
    seen = 0
    more_after = False
    for chunk in iter_chunks(stream):
        count = chunk.count(b"\n")
        if seen + count < first:
            seen += count
            continue
        for raw in chunk.split(b"\n")[:-1] if chunk.endswith(b"\n") else chunk.split(b"\n"):
            seen += 1
            if seen < first:
                continue
            if seen > last:
                more_after = True
                break
            text = raw.decode("utf-8", "replace").rstrip("\r")
            kept.append(text[:MAX_SHOWN_LINE])
        if more_after:
            break
    window = LogWindow(first=first, lines=list(kept), more_before=first > 1,
                       more_after=more_after)
    if not more_after:
        window.total_lines = seen
    return window


_UNITS = {"": 1.0, "m": 1.0, "mb": 1.0, "mib": 1.0, "g": 1024.0, "gb": 1024.0, "gib": 1024.0,
          "k": 1 / 1024, "kb": 1 / 1024, "kib": 1 / 1024}


def memory_mb(text: str | None) -> float | None:
    """jobsub's --memory value in MB: "2000MB", "2GB", "2000"; None when unreadable."""
    found = re.fullmatch(r"\s*([\d.]+)\s*([A-Za-z]*)\s*", text or "")
    if not found:
        return None
    unit = _UNITS.get(found[2].lower())
    try:
        return float(found[1]) * unit if unit is not None else None
    except ValueError:
        return None


def requested_memory_mb(config, batch_job_id: str) -> float | None:
    """The memory the job's cluster asked for, where the engine keeps it (local engine)."""
    spec = job_file(config, batch_job_id, "cluster.json", of_cluster=True)
    data = spec.read_json() if spec else None
    return memory_mb(data.get("memory")) if isinstance(data, dict) else None
