"""The values a job log states on marker lines (exit code, signal, times, memory, files,
site): each marker is a literal found with bytes.find; only the lines holding one are
decoded and matched. What each means is in analysis.py's docstring.
"""
from __future__ import annotations

import re
from datetime import datetime

from app.logs.reading import cached_triggers, decode_line, line_at

MAX_FILES = 1000
MIB = 1024 * 1024


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


class Reader:
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
MARKERS: list[tuple[bytes, str]] = [
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


_MARKER_TRIGGERS = cached_triggers(frozenset(marker for marker, _handler in MARKERS))


def read_markers(reader: Reader, chunk: bytes, offset: int) -> None:
    """Hand every marker line of the chunk (at byte `offset` of the log) to the reader."""
    present: dict[bytes, bool] = {}
    for marker, handler in MARKERS:
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
            start, end = line_at(chunk, pos)
            handle(decode_line(chunk[start:end]), offset + start)
            pos = chunk.find(marker, end + 1)
