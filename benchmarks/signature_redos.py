"""Failure signatures on pathological lines (issue 17): backtracking patterns over 64 KiB
lines, as the security probe ran them. Before RE2 one such line took over 8 s; the goal is
that no pattern takes more than a few milliseconds on any line.

Writes a log of POMS_BENCH_REDOS_LINES lines of 64 KiB each (64 by default: 4 MiB), each one
character or one pair repeated (the lines backtracking engines choke on), then, in a fresh
process, analyses it once per pattern below and once with all of them plus the starting set,
and runs "try a pattern" (app.logs.trial.try_signature) over it. Prints
`BENCH <name> <value> <unit>`:

  signatures_pathological_line_ms   the slowest pattern's CPU time per 64 KiB line
  signatures_pathological_all_mb_s  the whole table (starting set + every pattern below)
                                    over the log, MB of log a second of CPU
  signatures_trial_s                "try a pattern" over the log with a pattern that matches
                                    no line (so every line is read): (?:x+x+)+y
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PATTERNS = [r"(\w+\s?)+$", r"(a+)+$", r"(a|aa)+b", r".*a.*a.*a.*a.*b", r"\s*\s*\s*x",
            r"(?:x+x+)+y", r"\w+\s+\w+\s+\w+\s+!", r"(?i)(error|e)+rror.*fatal$"]
UNITS = ["a", "a ", " ", "x", "a1", "error "]
LINE = 64 * 1024

CHILD = """
import json, sys, time
from app.logs.analysis import analyze_log
from app.logs.trial import try_signature
from app.logs.signatures import Signature
from app.logs.starting_set import starting_signatures
path, patterns = sys.argv[1], json.loads(sys.argv[2])
lines = int(sys.argv[3])
per_pattern = {}
for pattern in patterns:
    sig = Signature.build("p", pattern, "software")
    cpu = time.process_time()
    analyze_log(path, exit_code=1, signatures=[sig])
    per_pattern[pattern] = time.process_time() - cpu
table = starting_signatures() + [Signature.build(f"p{i}", p, "software")
                                 for i, p in enumerate(patterns)]
cpu = time.process_time()
result = analyze_log(path, exit_code=1, signatures=table)
whole = time.process_time() - cpu
cpu = time.process_time()
trial = try_signature(Signature.build("t", r"(?:x+x+)+y", "software"), [path])
trial_cpu = time.process_time() - cpu
print(json.dumps({"per_pattern": per_pattern, "whole": whole, "bytes": result.bytes,
                  "lines": lines, "trial": trial_cpu, "scanned": trial.files_scanned,
                  "matched": len(trial.matches)}))
"""


def write_log(path: Path, lines: int) -> None:
    with open(path, "w") as out:
        for n in range(lines):
            unit = UNITS[n % len(UNITS)]
            out.write((unit * (LINE // len(unit) + 1))[:LINE] + "\n")
        out.write("Art has completed and will exit with status 1.\n")


def main() -> None:
    lines = int(os.environ.get("POMS_BENCH_REDOS_LINES", "64"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "job.log"
        write_log(path, lines)
        done = subprocess.run([sys.executable, "-c", CHILD, str(path), json.dumps(PATTERNS),
                               str(lines)], cwd=ROOT, capture_output=True, text=True,
                              check=True, timeout=3600)
    got = json.loads(done.stdout)
    assert got["scanned"] == 1 and got["matched"] == 0, got
    worst = max(got["per_pattern"].values())
    print(f"BENCH signatures_pathological_line_ms {1000 * worst / lines:.2f} ms")
    print(f"BENCH signatures_pathological_all_mb_s {got['bytes'] / 1e6 / got['whole']:.1f} MB/s")
    print(f"BENCH signatures_trial_s {got['trial']:.3f} s")
    for pattern, seconds in sorted(got["per_pattern"].items(), key=lambda kv: -kv[1]):
        print(f"# {1000 * seconds / lines:8.3f} ms/line  {pattern}", file=sys.stderr)


if __name__ == "__main__":
    main()
