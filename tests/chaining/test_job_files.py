"""The job side of file handling on the local engine, as launches and jobs run it: fife_launch
sizes the cluster from the input list, each job fetches its share, and its report says what
it was given, its status and its outputs (app/batch/job_files.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from app.batch import fife_launch, job_files

REPO = Path(__file__).resolve().parents[2]


def input_list(tmp_path: Path, names: list[str], location: Path) -> Path:
    path = tmp_path / job_files.INPUT_LIST
    job_files.write_json_atomic(path, {"files": [
        {"name": n, "location": str(location)} for n in names]})
    return path


def test_fife_launch_sizes_the_cluster_from_the_input_list(tmp_path):
    listed = input_list(tmp_path, [f"f{i}.fcl" for i in range(4)], tmp_path)
    cfg = fife_launch.load(REPO / "examples" / "mu2e" / "reco.cfg", ["reco"], [])
    argv, _env = fife_launch.build(cfg, {"PATH": os.environ["PATH"] + ":" + str(
        REPO / "app" / "launching" / "tools")})
    argv = fife_launch.with_inputs(cfg, argv, {"POMS_INPUT_LIST": str(listed)})
    assert argv[argv.index("-N") + 1] == "4"  # n_files_per_job = 1
    assert f"POMS_INPUT_LIST={listed}" in argv and "POMS_NJOBS=4" in argv
    # No input list: the cfg's own job count, nothing added.
    plain, _ = fife_launch.build(cfg, {"PATH": os.environ["PATH"] + ":" + str(
        REPO / "app" / "launching" / "tools")})
    assert fife_launch.with_inputs(cfg, plain, {}) == plain


def test_each_job_takes_its_share():
    files = list(range(7))
    shares = [job_files.share(files, p, 3) for p in range(3)]
    assert shares == [[0, 3, 6], [1, 4], [2, 5]]
    assert sorted(x for s in shares for x in s) == files


def _wrap(tmp_path: Path, env: dict, script: str) -> tuple[int, dict]:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    exe = tmp_path / "job.sh"
    exe.write_text("#!/bin/bash\n" + script)
    exe.chmod(0o755)
    out = tmp_path / "out"
    code = subprocess.call(
        [sys.executable, "-m", "batch.fife_wrap", "--addoutput", "*.art", "--dest", str(out),
         "--exe", str(exe)],
        cwd=work, env={**os.environ, "PYTHONPATH": str(REPO / "app"), **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return code, json.loads((work / job_files.MANIFEST).read_text())


def test_a_job_reads_its_file_and_reports_inputs_status_and_outputs(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    for n in ("a.fcl", "b.fcl"):
        (store / n).write_text(f"config {n}\n")
    listed = input_list(tmp_path, ["a.fcl", "b.fcl"], store)
    code, report = _wrap(tmp_path, {"POMS_INPUT_LIST": str(listed), "PROCESS": "1",
                                    "POMS_NJOBS": "2", "CONDOR_DIR_INPUT": str(tmp_path / "in")},
                         'cat "$POMS_INPUT_FILE" > "$(basename "$POMS_INPUT_FILE" .fcl).art"\n')
    assert code == 0
    assert report["inputs"] == ["b.fcl"] and report["status"] == 0
    (output,) = report["outputs"]
    assert output["name"] == "b.art" and output["location"] == str(tmp_path / "out")
    assert output["checksum"].startswith("adler32:") and output["size"] == len("config b.fcl\n")


def test_a_job_that_cannot_fetch_its_input_fails_and_says_what_it_was_given(tmp_path):
    listed = input_list(tmp_path, ["gone.fcl"], tmp_path / "nowhere")
    code, report = _wrap(tmp_path, {"POMS_INPUT_LIST": str(listed), "PROCESS": "0",
                                    "POMS_NJOBS": "1", "CONDOR_DIR_INPUT": str(tmp_path / "in")},
                         "touch never.art\n")
    assert code == 1
    assert report["inputs"] == ["gone.fcl"] and report["status"] == 1
    assert "cannot fetch gone.fcl" in report["error"] and report["outputs"] == []
