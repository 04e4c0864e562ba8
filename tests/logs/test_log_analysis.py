"""Job log analysis on real log files the tests write (tests/logs/logfiles.py)."""
from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.logs.analysis import LogAnalysis, analyze_job_log, analyze_log
from app.logs.markers import MAX_FILES
from app.logs.reading import MAX_LINE_BYTES
from app.logs.signatures import Signature
from app.logs.starting_set import starting_signatures
from app.logs.trial import try_signature
from tests.logs.logfiles import (
    FAILURES,
    INPUT,
    OUTPUT,
    art_end,
    art_events,
    art_start,
    clean_log,
    condor_event_log,
    time_report,
    wrapper_end,
    wrapper_start,
)

ROOT = Path(__file__).resolve().parents[2]
SIGNATURES = starting_signatures()


def write(tmp_path: Path, text: str, name: str = "job.log") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_clean_log_gives_exit_times_memory_files_and_no_signature(tmp_path):
    result = analyze_job_log(write(tmp_path, clean_log(site="Wisconsin")), None, SIGNATURES)
    assert result.exit_code == 0 and result.signal is None and result.succeeded
    assert result.signature is None
    # GNU time -v is the outer measurement: it wins over art's TimeReport.
    assert result.cpu_time_s == pytest.approx(3500.1 + 14.2)
    assert result.wall_time_s == pytest.approx(62 * 60 + 10)
    # The largest resident figure: time's 1,950,000 kB against art's VmHWM 1890.45 (base-10).
    assert result.peak_memory_mb == pytest.approx(1_950_000 / 1024)
    assert result.input_files == [INPUT]
    assert result.output_files == [OUTPUT]
    assert result.site == "Wisconsin"
    assert result.lines == len(clean_log().splitlines())
    assert result.as_command_json() == {
        "exit_code": 0, "signal": None, "peak_memory_mb": 1904, "signature": None,
        "category": None, "line": None,
    }


def test_an_analysis_round_trips_through_json(tmp_path):
    text, _fragment = FAILURES["out-of-memory"]
    result = analyze_job_log(write(tmp_path, text), None, SIGNATURES)
    again = LogAnalysis.from_dict(json.loads(json.dumps(result.as_dict())))
    assert again == result and again.signature.key == "out-of-memory"


def test_art_alone_gives_its_time_report_and_memory_report(tmp_path):
    text = art_start() + art_events(1, 5) + art_end(0, cpu=58.231541, real=60.381294,
                                                    vmpeak=2183.16, vmhwm=1448.87)
    result = analyze_log(write(tmp_path, text))
    assert result.exit_code == 0
    assert (result.cpu_time_s, result.wall_time_s) == (pytest.approx(58.231541),
                                                       pytest.approx(60.381294))
    assert result.cpu_efficiency == pytest.approx(58.231541 / 60.381294)
    assert result.peak_memory_mb == pytest.approx(1448.87 * 1e6 / 2**20)  # VmHWM, not VmPeak


@pytest.mark.parametrize("key", sorted(FAILURES))
def test_each_starting_signature_names_its_failure_at_its_line(tmp_path, key):
    text, fragment = FAILURES[key]
    result = analyze_job_log(write(tmp_path, text), None, SIGNATURES)
    assert result.failed
    assert result.signature is not None, f"{key}: no signature"
    assert result.signature.key == key
    assert result.signature.line == line_of(text, fragment)
    assert fragment in result.signature.text


@pytest.mark.parametrize("signature", SIGNATURES, ids=lambda s: s.key)
def test_no_starting_signature_matches_a_clean_log(tmp_path, signature):
    path = write(tmp_path, clean_log() + condor_event_log("(1) Normal termination (return "
                                                           "value 0)"))
    assert try_signature(signature, [path]).matches == []
    # Even if the engine says the job failed (exit 1, in no signature's list).
    assert analyze_job_log(path, 1, [signature]).signature is None


def test_engine_exit_code_overrides_the_log_and_137_means_signal_9(tmp_path):
    path = write(tmp_path, wrapper_start() + art_start() + art_events(1, 30))
    result = analyze_job_log(path, 137, SIGNATURES)
    assert (result.exit_code, result.signal) == (137, 9)
    # Nothing in the log says why: the exit code names it (second tier, no line).
    assert result.signature.key == "out-of-memory" and result.signature.line is None
    assert analyze_job_log(path, None, SIGNATURES).exit_code is None


def test_a_line_match_beats_an_exit_code_match(tmp_path):
    text = FAILURES["killed-signal-9"][0]
    result = analyze_job_log(write(tmp_path, text), 137, SIGNATURES)
    # Out of memory lists 137 and comes first, but the log says it was killed by signal 9.
    assert result.signature.key == "killed-signal-9"


def test_table_order_decides_between_two_matching_signatures(tmp_path):
    text = FAILURES["art-product-not-found"][0]
    generic = next(s for s in SIGNATURES if s.key == "art-exception")
    specific = next(s for s in SIGNATURES if s.key == "art-product-not-found")
    path = write(tmp_path, text)
    assert analyze_job_log(path, None, [specific, generic]).signature.key == specific.key
    assert analyze_job_log(path, None, [generic, specific]).signature.key == generic.key


def test_condor_event_log_gives_signal_cpu_wall_and_memory_against_request(tmp_path):
    path = write(tmp_path, condor_event_log("(0) Abnormal termination (signal 9)"))
    result = analyze_log(path)
    assert (result.exit_code, result.signal) == (137, 9)
    assert result.cpu_time_s == 52 * 60 + 10 + 80
    assert result.wall_time_s == 3600
    assert (result.peak_memory_mb, result.memory_requested_mb) == (2150, 2000)
    normal = analyze_log(write(tmp_path, condor_event_log(
        "(1) Normal termination (return value 3)"), "b.log"))
    assert (normal.exit_code, normal.signal) == (3, None)


def test_the_last_exit_statement_wins(tmp_path):
    # art finished fine, then the copy-out failed and the wrapper exited 13.
    text = FAILURES["ifdh-copy"][0]
    assert analyze_log(write(tmp_path, text)).exit_code == 13
    text = art_end(0) + time_report(exit_status=0) + wrapper_end(65)
    assert analyze_log(write(tmp_path, text, "b.log")).exit_code == 65


def test_a_successful_job_has_no_signature_even_if_a_line_matches(tmp_path):
    text = (wrapper_start() + "ifdh cp failed at: Tue Mar  5 10:03:00 2024\n"
            + "retrying\n" + art_end(0) + wrapper_end(0))
    result = analyze_job_log(write(tmp_path, text), None, SIGNATURES)
    assert result.exit_code == 0 and result.signature is None


def test_a_binary_stream_crlf_and_undecodable_bytes(tmp_path):
    text = FAILURES["art-product-not-found"][0].replace("\n", "\r\n").encode()
    stream = io.BytesIO(b"\xff\xfe garbage \x80\n" + text)
    result = analyze_log(stream)
    assert result.exit_code == 6
    assert result.signature.text == "---- ProductNotFound BEGIN"
    assert result.signature.line == line_of(FAILURES["art-product-not-found"][0],
                                            "ProductNotFound BEGIN") + 1


def test_a_gzip_compressed_log_is_read_through_gzip(tmp_path):
    text = FAILURES["segmentation-fault"][0]
    path = tmp_path / "job.log.gz"
    with gzip.open(path, "wt") as out:
        out.write(text)
    result = analyze_job_log(path, None, SIGNATURES)
    assert result == analyze_job_log(write(tmp_path, text), None, SIGNATURES)
    assert result.signature.key == "segmentation-fault"


def test_a_huge_line_is_cut_and_what_follows_is_still_read(tmp_path):
    path = tmp_path / "long.log"
    with open(path, "wb") as out:
        out.write(b"start\n" + b"x" * (5 * MAX_LINE_BYTES) + b" std::bad_alloc\n")
        out.write(b"---- ProductNotFound BEGIN\nArt has completed and will exit with status 6.\n")
    result = analyze_log(path)
    assert result.exit_code == 6
    # The bad_alloc sat past the cut: the next line is the one named, at its true number.
    assert result.signature.key == "art-product-not-found" and result.signature.line == 3


def test_file_lists_are_bounded(tmp_path):
    lines = "".join(f'05-Mar-2024 10:00:16 CST  Opened input file "in_{n}.art"\n'
                    for n in range(MAX_FILES + 50))
    result = analyze_log(write(tmp_path, lines))
    assert len(result.input_files) == MAX_FILES and result.files_truncated


def test_ifdh_lines_give_inputs_and_outputs_by_direction(tmp_path):
    text = textwrap.dedent("""\
        ifdh cp root://fndca1.fnal.gov/pnfs/mu2e/a.art ./a.art
        starting ifdh::cp( -D b.art c.root /pnfs/mu2e/scratch/out );
        ifdh fetchInput https://samweb.fnal.gov:8483/sam/mu2e/api/files/d.art
        echo ifdh cp $OUT ${DEST}
        """)
    result = analyze_log(write(tmp_path, text))
    assert result.input_files == ["root://fndca1.fnal.gov/pnfs/mu2e/a.art",
                                  "https://samweb.fnal.gov:8483/sam/mu2e/api/files/d.art"]
    assert result.output_files == ["b.art", "c.root"]


def test_try_a_new_signature_over_a_directory_of_logs(tmp_path):
    logs = tmp_path / "logs"
    (logs / "sub").mkdir(parents=True)
    for key in ("disk-full", "ifdh-copy"):
        (logs / "sub" / f"{key}.log").write_text(FAILURES[key][0])
    (logs / "clean.log").write_text(clean_log())
    signature = Signature.build("space", r"No space left|Disk quota", "site")
    report = try_signature(signature, [logs])
    assert report.files_scanned == 3
    assert [(Path(m.source).name, m.line) for m in report.matches] == [
        ("disk-full.log", line_of(FAILURES["disk-full"][0], "No space left")),
    ]
    limited = try_signature(signature, [logs], max_files=1)
    assert limited.files_scanned == 1 and limited.files_skipped == 2


BIG_CHILD = textwrap.dedent("""
    import json, sys, time
    from app.logs.analysis import analyze_job_log
    from app.logs.starting_set import starting_signatures

    def hwm():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    signatures = starting_signatures()
    before = hwm()
    started = time.perf_counter()
    result = analyze_job_log(sys.argv[1], None, signatures)
    seconds = time.perf_counter() - started
    print(json.dumps({"before": before, "after": hwm(), "seconds": seconds,
                      "bytes": result.bytes, "lines": result.lines,
                      "json": result.as_command_json(), "inputs": len(result.input_files)}))
""")


def test_a_200_mb_log_is_parsed_in_bounded_memory(tmp_path):
    head = wrapper_start() + art_start()
    block = art_events(1, 2000).encode()
    tail = ("terminate called after throwing an instance of 'std::bad_alloc'\n"
            + "  what():  std::bad_alloc\n" + time_report(max_rss_kb=2_150_000)
            + wrapper_end(134))
    path = tmp_path / "big.log"
    repeats = 200 * 1024 * 1024 // len(block) + 1
    with open(path, "wb") as out:
        out.write(head.encode())
        for _ in range(repeats):
            out.write(block)
        out.write(tail.encode())
    size = path.stat().st_size
    assert size >= 200 * 1024 * 1024
    done = subprocess.run([sys.executable, "-c", BIG_CHILD, str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    lines = head.count("\n") + repeats * block.count(b"\n") + tail.count("\n")
    assert got["bytes"] == size and got["lines"] == lines
    assert got["json"] == {"exit_code": 134, "signal": 6, "peak_memory_mb": 2100,
                           "signature": "Out of memory", "category": "memory",
                           "line": lines - tail.count("\n") + 1}
    growth = got["after"] - got["before"]
    print(f"BENCH logs_parse_200mb_seconds {got['seconds']:.2f} s")
    print(f"BENCH logs_parse_200mb_rss_growth {growth:.1f} MB")
    assert growth < 48, f"parsing grew the resident set by {growth:.0f} MB"
