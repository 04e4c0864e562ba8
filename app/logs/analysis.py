"""Stream-parse one job log into a LogAnalysis: how the job ended and the first known failure.

Entry point for the RQ `analysis` job (and the `poms analyze-log` command):

    analyze_job_log(path_or_binary_stream, exit_code, signatures) -> LogAnalysis

A path may name a gzip-compressed log (read through gzip, still streaming).

Memory stays bounded whatever the size of the log: the log is read in CHUNK-byte blocks cut
at line ends; a line longer than MAX_LINE_BYTES keeps its first MAX_LINE_BYTES bytes; file
lists keep the first MAX_FILES names. Nothing else grows with the log.

Speed: the log is never split into Python lines. Each value below has a literal marker;
markers are found with bytes.find (C speed) and only the lines that hold one are decoded
and matched. Signatures are narrowed the same way by literals every match must contain
(signatures.required_literals); a signature without such literals is tried on every line.

What is read (the formats below are the ones these programs print):

  exit code  the last of: art "Art has completed and will exit with status N",
             jobsub "... COMPLETED with exit status N", HTCondor "(1) Normal termination
             (return value N)" / "(0) Abnormal termination (signal N)" (exit 128+N) /
             "Job terminated of its own accord at T with exit-code N", GNU time -v
             "Exit status: N" / "Command exited with non-zero status N". An exit code given
             by the batch engine (`exit_code`) overrides them all.
  signal     HTCondor "Abnormal termination (signal N)" / "... of its own accord at T with
             signal N", GNU time "Command terminated by signal N", "killed by signal N";
             else, for exit codes 129..159, exit code - 128 (the shell's convention).
             None when the job exited 0.
  wall, CPU  HTCondor first ("Usr d hh:mm:ss, Sys d hh:mm:ss - Total Remote Usage" for CPU,
             "Job executing" to "Job terminated" event times for wall), else GNU time -v
             ("User time" + "System time", "Elapsed (wall clock) time"), else art
             ("TimeReport CPU = c Real = r", summed over art processes).
  memory     peak resident MiB, the largest of: art MemReport / MemoryTracker VmHWM (base-10
             MB, converted), GNU time "Maximum resident set size (kbytes)", HTCondor
             "Memory (MB) : usage request allocated", "Peak usage: N megabytes",
             "MemoryUsage = N". Only if none is there, art's VmPeak (virtual).
             Requested memory: HTCondor's "Memory (MB)" request column or "memory limit of N
             megabytes".
  files      input: art "Opened input file", ifdh cp / ifdh fetchInput with a remote source
             and a local destination; output: art "Closed output file", ifdh cp with a
             local source and a remote destination (root://, https://, /pnfs/, ...).
  site       "GLIDEIN_Site = X", "GLIDEIN_<EXP>Site = X", "JOB_Site = X".
  signature  see signatures.py; reported only for a job that did not succeed (exit code not
             0, a signal, or no exit code known). Several matching: the root cause wins
             (precedence.py: category rank, then table order).
"""
from __future__ import annotations

import dataclasses
import functools
import gzip
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from app.logs.precedence import by_root_cause
from app.logs.signatures import LINE_CAP, Signature, starting_signatures

CHUNK = 1 << 20
MAX_LINE_BYTES = 64 * 1024
MAX_FILES = 1000
MIB = 1024 * 1024


@dataclass(frozen=True)
class SignatureHit:
    name: str
    category: str
    action: str
    line: int | None  # 1-based line number; None when only the exit code matched
    text: str  # the matched line (first 500 characters), "" for an exit-code match
    signature_id: int | None = None
    key: str | None = None


@dataclass
class LogAnalysis:
    exit_code: int | None = None
    signal: int | None = None
    wall_time_s: float | None = None
    cpu_time_s: float | None = None
    peak_memory_mb: float | None = None  # MiB, resident where known
    memory_requested_mb: float | None = None
    site: str | None = None
    input_files: list[str] = field(default_factory=list)
    output_files: list[str] = field(default_factory=list)
    files_truncated: bool = False  # more than MAX_FILES names in a list
    signature: SignatureHit | None = None
    lines: int = 0
    bytes: int = 0

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0 and self.signal is None

    @property
    def failed(self) -> bool:
        """Known to have failed: a non-zero exit, a signal, or a failure signature."""
        if self.signal is not None or (self.exit_code is not None and self.exit_code != 0):
            return True
        return self.exit_code is None and self.signature is not None

    @property
    def cpu_efficiency(self) -> float | None:
        if self.cpu_time_s is None or not self.wall_time_s:
            return None
        return self.cpu_time_s / self.wall_time_s

    def as_dict(self) -> dict:
        """Plain JSON-able values (what a Job row will keep), read back by from_dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> LogAnalysis:
        values = dict(values)
        hit = values.pop("signature", None)
        return cls(**values, signature=SignatureHit(**hit) if hit else None)

    def as_command_json(self) -> dict:
        """What `poms analyze-log --json` prints, in this key order."""
        hit = self.signature
        return {
            "exit_code": self.exit_code,
            "signal": self.signal,
            "peak_memory_mb": None if self.peak_memory_mb is None
            else int(round(self.peak_memory_mb)),
            "signature": hit.name if hit else None,
            "category": hit.category if hit else None,
            "line": hit.line if hit else None,
        }


# --- reading --------------------------------------------------------------------------


@contextmanager
def _binary(source):
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


def _line_at(chunk: bytes, pos: int) -> tuple[int, int]:
    return chunk.rfind(b"\n", 0, pos) + 1, chunk.find(b"\n", pos)


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").rstrip("\r")


# --- the values read from marker lines --------------------------------------------------

_ART_EXIT = re.compile(r"Art has completed and will exit with status (\d+)")
_JOBSUB_EXIT = re.compile(r"COMPLETED with exit status (\d+)")
_CONDOR_NORMAL = re.compile(r"Normal termination \(return value (\d+)\)")
_CONDOR_ABNORMAL = re.compile(r"Abnormal termination \(signal (\d+)\)")
_CONDOR_ACCORD = re.compile(r"of its own accord at \S+ with (exit-code|signal) (\d+)")
_CONDOR_EVENT = re.compile(
    r"^(001|005) \(\d+\.\d+\.\d+\) (\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d|\d\d/\d\d \d\d:\d\d:\d\d)"
)
_CONDOR_USAGE = re.compile(
    r"Usr (\d+) (\d+):(\d+):(\d+), Sys (\d+) (\d+):(\d+):(\d+)\s+-\s+Total Remote Usage"
)
_CONDOR_MEMORY = re.compile(r"Memory \(MB\)\s*:\s*(\d+)\s+(\d+)")
_CONDOR_LIMIT = re.compile(r"memory limit of (\d+) (?:megabytes|Mb|MB)")
_CONDOR_PEAK = re.compile(r"Peak usage: (\d+) (?:megabytes|Mb|MB)")
_CONDOR_MEMUSAGE = re.compile(r"\bMemoryUsage = (\d+)\s*$")
_TIME_EXIT = re.compile(r"^\s*Exit status: (\d+)")
_TIME_NONZERO = re.compile(r"Command exited with non-zero status (\d+)")
_TIME_SIGNAL = re.compile(r"Command terminated by signal (\d+)")
_TIME_SECONDS = re.compile(r"(User|System) time \(seconds\): ([\d.]+)")
_TIME_ELAPSED = re.compile(r"Elapsed \(wall clock\) time \([^)]*\): ([\d:.]+)")
_TIME_RSS = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")
_KILLED = re.compile(r"[Kk]illed by signal (\d+)")
_ART_TIME = re.compile(r"TimeReport CPU = ([\d.]+) Real = ([\d.]+)")
_ART_MEMREPORT = re.compile(r"VmPeak = ([\d.]+) VmHWM = ([\d.]+)")
_ART_TRACKER = re.compile(r"Peak (virtual memory|resident set size) usage \((VmPeak|VmHWM)\)"
                          r"\s*:\s*([\d.]+)")
_ART_FILE = re.compile(r"(Opened input|Closed output) file \"([^\"]+)\"")
_IFDH = re.compile(r"\bifdh(?:\s+cp\s+|::cp\(\s*|\s+fetchInput\s+)([^;)]*)")
_SITE = re.compile(r"\b(?:GLIDEIN_\w*Site|JOB_Site)\s*[=:]\s*\"?([A-Za-z0-9_.-]+)")

ART_MB = 1_000_000 / MIB  # art reports base-10 MB
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|/pnfs/|/eos/|/cvmfs/|/persistent/|/scratch/)")


class _Reader:
    """Accumulates what the marker lines say, keeping the last exit statement by offset."""

    def __init__(self):
        self.exit_at = -1
        self.exit_code: int | None = None
        self.signal_at = -1
        self.signal: int | None = None
        self.art_cpu = self.art_wall = 0.0
        self.art_timed = False
        self.time_user: float | None = None
        self.time_sys: float | None = None
        self.time_wall: float | None = None
        self.condor_cpu: float | None = None
        self.condor_start: datetime | None = None
        self.condor_end: datetime | None = None
        self.resident: float | None = None
        self.virtual: float | None = None
        self.requested: float | None = None
        self.site: str | None = None
        self.inputs: dict[str, None] = {}
        self.outputs: dict[str, None] = {}
        self.truncated = False

    # each handler gets (line text, absolute byte offset of the line)
    def exit_at_offset(self, code: int, at: int) -> None:
        if at >= self.exit_at:
            self.exit_at, self.exit_code = at, code

    def signal_at_offset(self, sig: int, at: int) -> None:
        if at >= self.signal_at:
            self.signal_at, self.signal = at, sig

    def resident_mb(self, mb: float) -> None:
        self.resident = mb if self.resident is None else max(self.resident, mb)

    def art_exit(self, line, at):
        if m := _ART_EXIT.search(line):
            self.exit_at_offset(int(m[1]), at)

    def jobsub_exit(self, line, at):
        if m := _JOBSUB_EXIT.search(line):
            self.exit_at_offset(int(m[1]), at)

    def condor_termination(self, line, at):
        if m := _CONDOR_NORMAL.search(line):
            self.exit_at_offset(int(m[1]), at)
        elif m := _CONDOR_ABNORMAL.search(line):
            self.signal_at_offset(int(m[1]), at)
            self.exit_at_offset(128 + int(m[1]), at)

    def condor_accord(self, line, at):
        if m := _CONDOR_ACCORD.search(line):
            if m[1] == "signal":
                self.signal_at_offset(int(m[2]), at)
                self.exit_at_offset(128 + int(m[2]), at)
            else:
                self.exit_at_offset(int(m[2]), at)
        self.condor_event(line, at)

    def condor_event(self, line, at):
        if m := _CONDOR_EVENT.search(line):
            when = _condor_time(m[2])
            if when is None:
                return
            if m[1] == "001":
                self.condor_start = when
            else:
                self.condor_end = when

    def condor_usage(self, line, at):
        if m := _CONDOR_USAGE.search(line):
            v = [int(x) for x in m.groups()]
            self.condor_cpu = (v[0] * 86400 + v[1] * 3600 + v[2] * 60 + v[3]
                               + v[4] * 86400 + v[5] * 3600 + v[6] * 60 + v[7])

    def condor_memory(self, line, at):
        if m := _CONDOR_MEMORY.search(line):
            self.resident_mb(float(m[1]))
            self.requested = float(m[2])

    def condor_peak(self, line, at):
        if m := _CONDOR_PEAK.search(line):
            self.resident_mb(float(m[1]))
        if m := _CONDOR_LIMIT.search(line):
            self.requested = float(m[1])

    def condor_memusage(self, line, at):
        if m := _CONDOR_MEMUSAGE.search(line):
            self.resident_mb(float(m[1]))

    def time_exit(self, line, at):
        if m := _TIME_EXIT.search(line):
            self.exit_at_offset(int(m[1]), at)

    def time_nonzero(self, line, at):
        if m := _TIME_NONZERO.search(line):
            self.exit_at_offset(int(m[1]), at)

    def time_signal(self, line, at):
        if m := _TIME_SIGNAL.search(line):
            self.signal_at_offset(int(m[1]), at)
            self.exit_at_offset(128 + int(m[1]), at)

    def time_seconds(self, line, at):
        if m := _TIME_SECONDS.search(line):
            if m[1] == "User":
                self.time_user = float(m[2])
            else:
                self.time_sys = float(m[2])

    def time_elapsed(self, line, at):
        if m := _TIME_ELAPSED.search(line):
            seconds = 0.0
            for part in m[1].split(":"):
                seconds = seconds * 60 + float(part or 0)
            self.time_wall = seconds

    def time_rss(self, line, at):
        if m := _TIME_RSS.search(line):
            self.resident_mb(int(m[1]) / 1024)

    def killed(self, line, at):
        if m := _KILLED.search(line):
            self.signal_at_offset(int(m[1]), at)

    def art_time(self, line, at):
        if m := _ART_TIME.search(line):
            self.art_cpu += float(m[1])
            self.art_wall += float(m[2])
            self.art_timed = True

    def art_memory(self, line, at):
        if m := _ART_MEMREPORT.search(line):
            self.virtual = max(self.virtual or 0.0, float(m[1]) * ART_MB)
            self.resident_mb(float(m[2]) * ART_MB)
        elif m := _ART_TRACKER.search(line):
            if m[2] == "VmHWM":
                self.resident_mb(float(m[3]) * ART_MB)
            else:
                self.virtual = max(self.virtual or 0.0, float(m[3]) * ART_MB)

    def art_file(self, line, at):
        if m := _ART_FILE.search(line):
            self._add(self.inputs if m[1] == "Opened input" else self.outputs, m[2])

    def ifdh(self, line, at):
        m = _IFDH.search(line)
        if not m or "$" in m[1]:
            return  # a script echoing its own command with variables in it
        words = [w.strip("'\"") for w in m[1].split()]
        words = [w for w in words if w and not w.startswith("-")]
        if "fetchInput" in line[: m.start(1)]:
            for word in words[:1]:
                self._add(self.inputs, word)
            return
        if len(words) < 2:
            return
        sources, destination = words[:-1], words[-1]
        remote_destination = bool(_REMOTE.match(destination))
        for source in sources:
            remote_source = bool(_REMOTE.match(source))
            if remote_source and not remote_destination:
                self._add(self.inputs, source)
            elif remote_destination and not remote_source:
                self._add(self.outputs, source.rsplit("/", 1)[-1])

    def site_line(self, line, at):
        if self.site is None and (m := _SITE.search(line)):
            self.site = m[1]

    def _add(self, names: dict, name: str) -> None:
        if name in names:
            return
        if len(names) >= MAX_FILES:
            self.truncated = True
            return
        names[name] = None


def _condor_time(text: str) -> datetime | None:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%m/%d %H:%M:%S"):
        try:
            when = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return when.replace(year=2000) if fmt.startswith("%m") else when
    return None


# marker (bytes, case as printed) -> handler name. Found with bytes.find.
_MARKERS: list[tuple[bytes, str]] = [
    (b"Art has completed and will exit with status", "art_exit"),
    (b"COMPLETED with exit status", "jobsub_exit"),
    (b"termination (", "condor_termination"),
    (b"Job terminated", "condor_accord"),
    (b"Job executing", "condor_event"),
    (b"Total Remote Usage", "condor_usage"),
    (b"Memory (MB)", "condor_memory"),
    (b"Peak usage:", "condor_peak"),
    (b"MemoryUsage = ", "condor_memusage"),
    (b"Exit status: ", "time_exit"),
    (b"Command exited with non-zero status", "time_nonzero"),
    (b"Command terminated by signal", "time_signal"),
    (b"time (seconds):", "time_seconds"),
    (b"(wall clock) time", "time_elapsed"),
    (b"Maximum resident set size", "time_rss"),
    (b"illed by signal", "killed"),
    (b"TimeReport CPU", "art_time"),
    (b"VmHWM", "art_memory"),
    (b"(VmPeak)", "art_memory"),
    (b"put file \"", "art_file"),
    (b"ifdh", "ifdh"),
    (b"Site", "site_line"),
]


# --- signatures ----------------------------------------------------------------------


class _SignatureScan:
    """Finds, for each signature still relevant, the first line it matches."""

    def __init__(self, signatures: Sequence[Signature]):
        self.signatures = list(signatures)
        self.hits: dict[int, tuple[int, str]] = {}  # index -> (line number, text)
        self.best = len(self.signatures)  # signatures at or after this cannot win
        self.trigger = _cached_triggers(
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
            return _hit_of(self.signatures[index], line, text)
        if exit_code is not None:
            for sig in self.signatures:
                if exit_code in sig.exit_codes:
                    return _hit_of(sig, None, "")
        return None


def _hit_of(sig: Signature, line: int | None, text: str) -> SignatureHit:
    return SignatureHit(name=sig.name, category=sig.category, action=sig.action, line=line,
                        text=text, signature_id=sig.id, key=sig.key)


@functools.lru_cache(maxsize=64)
def _cached_triggers(literals: frozenset[bytes]) -> dict[bytes, bytes]:
    """_triggers for a set of literals seen before (the same signatures, log after log):
    working them out costs more than scanning a small log."""
    return _triggers(set(literals))


def _triggers(literals: set[bytes]) -> dict[bytes, bytes]:
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


def _first_literal_line(sig: Signature, literals: list[bytes], chunk: bytes,
                        lowered: bytes) -> tuple[int, str] | None:
    """The start offset and text of the first line in the chunk the signature matches."""
    best: tuple[int, str] | None = None
    search = sig.compiled.search
    for literal in literals:
        limit = best[0] if best else len(lowered)
        pos = lowered.find(literal, 0, limit)
        while pos >= 0:
            start, end = _line_at(lowered, pos)
            text = _decode(chunk[start:end])
            if search(text, 0, LINE_CAP):
                best = (start, text)
                break
            pos = lowered.find(literal, end + 1, limit)
    return best


# --- the analysis ----------------------------------------------------------------------

_MARKER_TRIGGERS = _triggers({marker for marker, _handler in _MARKERS})


def analyze_log(source, *, exit_code: int | None = None,
                signatures: Sequence[Signature] | None = None) -> LogAnalysis:
    """Analyze one job log: a path, or a binary stream read to its end (not closed)."""
    if signatures is None:
        signatures = starting_signatures()
    reader = _Reader()
    # A job the engine says exited 0 has no failure to name: skip the signature search.
    # Tried root causes first (precedence.py): the first of this order to match names it.
    scan = _SignatureScan(by_root_cause(signatures) if exit_code != 0 else [])
    result = LogAnalysis()
    offset = 0
    with _binary(source) as stream:
        for chunk in iter_chunks(stream):
            present: dict[bytes, bool] = {}
            for marker, handler in _MARKERS:
                trigger = _MARKER_TRIGGERS[marker]
                if trigger not in present:
                    present[trigger] = trigger in chunk
                if not present[trigger]:
                    continue
                pos = chunk.find(marker)
                if pos < 0:
                    continue
                handle = getattr(reader, handler)
                while pos >= 0:
                    start, end = _line_at(chunk, pos)
                    handle(_decode(chunk[start:end]), offset + start)
                    pos = chunk.find(marker, end + 1)
            scan.chunk(chunk, result.lines)
            result.lines += chunk.count(b"\n")
            offset += len(chunk)
    result.bytes = offset
    _finish(result, reader, exit_code)
    if not result.succeeded:
        result.signature = scan.result(result.exit_code)
    return result


def analyze_job_log(path, exit_code: int | None,
                    signatures: Sequence[Signature] | None) -> LogAnalysis:
    """The entry point the RQ `analysis` job calls for each finished job."""
    return analyze_log(path, exit_code=exit_code, signatures=signatures)


def _finish(result: LogAnalysis, reader: _Reader, exit_code: int | None) -> None:
    result.exit_code = exit_code if exit_code is not None else reader.exit_code
    signal = reader.signal
    code = result.exit_code
    if code == 0:
        signal = None
    elif signal is None and code is not None and 129 <= code <= 159:
        signal = code - 128
    result.signal = signal
    if reader.condor_cpu is not None:
        result.cpu_time_s = float(reader.condor_cpu)
    elif reader.time_user is not None:
        result.cpu_time_s = reader.time_user + (reader.time_sys or 0.0)
    elif reader.art_timed:
        result.cpu_time_s = reader.art_cpu
    if reader.condor_start and reader.condor_end and reader.condor_end >= reader.condor_start:
        result.wall_time_s = (reader.condor_end - reader.condor_start).total_seconds()
    elif reader.time_wall is not None:
        result.wall_time_s = reader.time_wall
    elif reader.art_timed:
        result.wall_time_s = reader.art_wall
    result.peak_memory_mb = reader.resident if reader.resident is not None else reader.virtual
    result.memory_requested_mb = reader.requested
    result.site = reader.site
    result.input_files = list(reader.inputs)
    result.output_files = list(reader.outputs)
    result.files_truncated = reader.truncated


# --- one signature over one log ------------------------------------------------------------


def first_matching_line(signature: Signature, stream) -> tuple[int, str] | None:
    """The first line (number, text) of a binary stream the signature's pattern matches;
    reading stops there. Exit codes are not tried (a log alone does not say how its job
    ended)."""
    if signature.compiled is None:
        return None
    scan = _SignatureScan([signature])
    lines = 0
    for chunk in iter_chunks(stream):
        scan.chunk(chunk, lines)
        if scan.done():
            break
        lines += chunk.count(b"\n")
    return scan.hits.get(0)
