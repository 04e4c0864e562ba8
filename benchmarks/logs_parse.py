"""Job-log parsing speed and memory (app/logs/analysis.py).

Writes art-style logs (event lines and MessageFacility warnings, repeated) of POMS_BENCH_LOG_MB
megabytes (200 by default) to a temporary directory, then parses each in a fresh process and
prints `BENCH <name> <value> <unit>` lines:

  logs_parse_failed_mb_s     a failed job's log, signature search with the starting set
                             (the std::bad_alloc is on the last lines, so every line is read)
  logs_parse_succeeded_mb_s  the same log when the engine says exit 0 (no signature search)
  logs_parse_peak_rss_mb     growth of the parsing process's peak resident set (VmHWM)
  logs_parse_lines_s         lines a second, failed job

Throughput is bytes over the parsing process's CPU time (user + system): other work on the
machine does not change it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.logs.logfiles import art_events, art_start, wrapper_end, wrapper_start  # noqa: E402

CHILD = """
import json, os, sys, time
from app.logs.analysis import analyze_job_log
from app.logs.starting_set import starting_signatures

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
signatures = starting_signatures()
exit_code = None if sys.argv[2] == "none" else int(sys.argv[2])
before = hwm()
cpu, wall = time.process_time(), time.perf_counter()
result = analyze_job_log(sys.argv[1], exit_code, signatures)
print(json.dumps({"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall,
                  "growth": hwm() - before, "bytes": result.bytes, "lines": result.lines,
                  "signature": result.signature.name if result.signature else None}))
"""


def write_log(path: Path, megabytes: int) -> None:
    block = art_events(1, 2000).encode()
    with open(path, "wb") as out:
        out.write((wrapper_start() + art_start()).encode())
        for _ in range(megabytes * 1024 * 1024 // len(block) + 1):
            out.write(block)
        out.write(b"terminate called after throwing an instance of 'std::bad_alloc'\n")
        out.write(wrapper_end(134).encode())


def parse(path: Path, exit_code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(path), exit_code], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    megabytes = int(os.environ.get("POMS_BENCH_LOG_MB", "200"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "job.log"
        write_log(path, megabytes)
        failed = parse(path, "none")
        assert failed["signature"] == "Out of memory", failed
        succeeded = parse(path, "0")
    mb = failed["bytes"] / 1e6
    print(f"BENCH logs_parse_log_size {mb:.0f} MB")
    print(f"BENCH logs_parse_failed_mb_s {mb / failed['cpu']:.1f} MB/s")
    print(f"BENCH logs_parse_succeeded_mb_s {mb / succeeded['cpu']:.1f} MB/s")
    print(f"BENCH logs_parse_peak_rss_mb {max(failed['growth'], succeeded['growth']):.1f} MB")
    print(f"BENCH logs_parse_lines_s {failed['lines'] / failed['cpu']:.0f} lines/s")
    print(f"BENCH logs_parse_failed_wall_s {failed['wall']:.2f} s")


if __name__ == "__main__":
    main()
