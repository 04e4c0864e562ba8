"""Stream-parse one job log into a LogAnalysis: how the job ended and the first known failure.

Built from reading.py (blocks of whole lines, bounded memory), markers.py (the values on
marker lines) and scan.py (the signatures' first matching lines).

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
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.logs.markers import Reader, read_markers
from app.logs.precedence import by_root_cause
from app.logs.reading import binary_stream, iter_chunks
from app.logs.scan import SignatureHit, SignatureScan
from app.logs.signatures import Signature
from app.logs.starting_set import starting_signatures


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


# --- the analysis ----------------------------------------------------------------------

def analyze_log(source, *, exit_code: int | None = None,
                signatures: Sequence[Signature] | None = None) -> LogAnalysis:
    """Analyze one job log: a path, or a binary stream read to its end (not closed)."""
    if signatures is None:
        signatures = starting_signatures()
    reader = Reader()
    # A job the engine says exited 0 has no failure to name: skip the signature search.
    # Tried root causes first (precedence.py): the first of this order to match names it.
    scan = SignatureScan(by_root_cause(signatures) if exit_code != 0 else [])
    result = LogAnalysis()
    offset = 0
    with binary_stream(source) as stream:
        for chunk in iter_chunks(stream):
            read_markers(reader, chunk, offset)
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


def _finish(result: LogAnalysis, reader: Reader, exit_code: int | None) -> None:
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


