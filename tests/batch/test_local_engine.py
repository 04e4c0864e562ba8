"""The local engine: real processes, a concurrency cap, hold/release/remove, logs, and the
jobsub_submit / fife_launch stand-ins that drive it."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from app.batch.base import JobRequest
from app.batch.fife_wrap import parse, script_for
from app.batch.jobsub_cli import UsageError, parse_submit
from app.batch.local import TOOLS_DIR, LocalEngine
from tests.fixtures.launching import wait_for

REPO = Path(__file__).resolve().parents[2]


def script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "job.sh"
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(0o755)
    return str(path)


def states(engine, batch_id):
    return sorted(j.state for j in engine.query([batch_id]))


def test_jobs_run_with_the_grid_environment_and_the_cap_holds(tmp_path):
    engine = LocalEngine(tmp_path / "spool", slots=2)
    body = 'echo "$PROCESS $CLUSTER $JOBSUBJOBID $POMS_TASK_ID $EXTRA"; sleep 0.5; exit $PROCESS'
    batch_id = engine.submit(JobRequest(executable=script(tmp_path, body), count=4,
                                        env={"POMS_TASK_ID": "9", "EXTRA": "x y"},
                                        submission_id=9))
    assert batch_id == "1.0@local"
    wait_for(lambda: states(engine, batch_id) == ["Completed"] * 4, what="4 jobs to end")
    jobs = {j.job_id: j for j in engine.query([batch_id])}
    assert [jobs[f"1.{p}@local"].exit_code for p in range(4)] == [0, 1, 2, 3]
    assert "2 1 1.2@local 9 x y" in engine.fetch_log("1.2@local")
    # Never more than 2 at once: at no job's start were 2 others already running.
    spans = [(j.started, j.ended) for j in jobs.values()]
    for start, _end in spans:
        running = sum(1 for other_start, other_end in spans
                      if other_start <= start < other_end)
        assert running <= 2, spans
    assert engine.clusters_of_submission(9) == ["1.0@local"]


def test_hold_release_and_remove(tmp_path):
    engine = LocalEngine(tmp_path / "spool", slots=4)
    batch_id = engine.submit(JobRequest(executable=script(tmp_path, "sleep 1.5\n"), count=2))
    wait_for(lambda: states(engine, batch_id) == ["Running", "Running"], what="running")
    engine.hold([batch_id])
    wait_for(lambda: states(engine, batch_id) == ["Held", "Held"], what="held")
    engine.release([batch_id])
    wait_for(lambda: states(engine, batch_id) == ["Completed", "Completed"], timeout=30,
             what="released jobs to finish")
    second = engine.submit(JobRequest(executable=script(tmp_path, "sleep 60\n"), count=2))
    wait_for(lambda: states(engine, second) == ["Running", "Running"], what="running")
    pids = [json.loads((tmp_path / "spool/clusters/2/status.json").read_text())["jobs"][p]["pid"]
            for p in ("0", "1")]
    engine.remove([second])
    wait_for(lambda: states(engine, second) == ["Removed", "Removed"], what="removed")
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in pids),
             what="the removed processes to end")


def test_jobsub_submit_arguments_are_read_as_jobsub_reads_them():
    request, warnings = parse_submit(
        ["-G", "mu2e", "-N", "5", "--role=Analysis", "-e", "SAM_EXPERIMENT", "-e", "X=1",
         "--memory=2000MB", "--expected-lifetime=3h", "--dataset_definition=defn",
         "--resource-provides=usage_model=DEDICATED", "file:///path/run.sh", "--opt", "a b"],
        {"SAM_EXPERIMENT": "mu2e", "POMS4_SUBMISSION_ID": "12", "POMS_TASK_ID": "12"},
    )
    assert (request.group, request.count, request.role, request.memory, request.lifetime,
            request.dataset) == ("mu2e", 5, "Analysis", "2000MB", "3h", "defn")
    assert request.executable == "/path/run.sh" and request.arguments == ["--opt", "a b"]
    assert request.env["SAM_EXPERIMENT"] == "mu2e" and request.env["X"] == "1"
    assert request.env["POMS_TASK_ID"] == "12" and request.submission_id == 12
    assert any("--resource-provides" in w for w in warnings)


def test_fife_launch_reads_the_demo_cfg_and_submits_through_jobsub_submit(tmp_path):
    env = dict(os.environ, PATH=f"{TOOLS_DIR}:{os.environ['PATH']}",
               POMS_BATCH_DIR=str(tmp_path / "spool"), FIFE_LAUNCH_PATH=str(REPO),
               POMS_ROOT=str(REPO), POMS_TASK_ID="3", POMS4_SUBMISSION_ID="3")
    done = subprocess.run(
        ["fife_launch", "-c", "examples/mu2e/reco.cfg", "--stage", "reco_fcl",
         "-Oglobal.work_seconds=0", "-Osubmit.N=2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Use job id 1.0@local to retrieve output" in done.stdout
    assert "--stage" not in done.stdout.split("running:")[1].split("\n")[1][:13]
    engine = LocalEngine(tmp_path / "spool")
    wait_for(lambda: states(engine, "1.0@local") == ["Completed", "Completed"], timeout=30,
             what="demo jobs")
    assert sorted(p.name for p in (tmp_path / "spool/outputs/reco_fcl").iterdir()) == [
        "mu2e_reco.1_0.fcl", "mu2e_reco.1_1.fcl"]
    assert "job 0 of cluster 1 for POMS submission 3" in engine.fetch_log("1.0@local")


def test_jobsub_submit_f_files_are_taken_at_submission_into_each_jobs_input(tmp_path):
    """jobsub's -f: the file is copied when the jobs are submitted (dropbox:// or a plain
    path), and each job finds its own executable copy in $CONDOR_DIR_INPUT, even when the
    original (a launch's $UPLOADS, 0600) is gone by the time the job runs."""
    data, tool = tmp_path / "data.txt", tmp_path / "tool.sh"
    data.write_text("from the launch\n")
    tool.write_text('#!/bin/sh\necho "tool ran in job $PROCESS"\n')
    for path in (data, tool):
        path.chmod(0o600)
    job = script(tmp_path, 'cat "$CONDOR_DIR_INPUT/data.txt"; "$CONDOR_DIR_INPUT/tool.sh"; '
                 'echo x >> "$CONDOR_DIR_INPUT/data.txt"; sleep 0.3\n')
    env = dict(os.environ, PATH=f"{TOOLS_DIR}:{os.environ['PATH']}", POMS_LOCAL_SLOTS="1",
               POMS_BATCH_DIR=str(tmp_path / "spool"))
    done = subprocess.run(["jobsub_submit", "-N", "2", "-f", f"dropbox://{data}", "-f",
                           "tool.sh", f"file://{job}"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    data.unlink()
    tool.unlink()
    engine = LocalEngine(tmp_path / "spool")
    wait_for(lambda: states(engine, "1.0@local") == ["Completed", "Completed"], timeout=30,
             what="the jobs")
    assert [j.exit_code for j in engine.query(["1.0@local"])] == [0, 0]
    for proc in (0, 1):
        log = engine.fetch_log(f"1.{proc}@local")
        # its own copy: job 0's appended line is not in job 1's
        assert f"from the launch\ntool ran in job {proc}\n" in log, log

    missing = subprocess.run(["jobsub_submit", "-f", "dropbox:///nowhere/x.sh",
                              f"file://{job}"], cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=60)
    assert missing.returncode == 1
    assert missing.stderr.strip() == ("jobsub_submit: -f /nowhere/x.sh: no such file "
                                      "(or not readable)")
    assert not (tmp_path / "spool/clusters/2").exists()


def test_jobsub_submit_f_takes_local_files_only():
    request, _warnings = parse_submit(["-f", "dropbox:///a/b.sh", "-f/c/d.txt",
                                       "file:///run.sh"], {})
    assert request.input_files == ["/a/b.sh", "/c/d.txt"]
    with pytest.raises(UsageError, match="a file on this machine"):
        parse_submit(["-f", "root://fndca1.fnal.gov/pnfs/x.root", "file:///run.sh"], {})


def test_a_job_whose_path_has_no_setup_says_so_instead_of_command_not_found(tmp_path):
    """An HTCondor job's PATH is the pool's, without the embedded tools: the wrapper's
    `setup` line still runs, and the job goes on to its program."""
    options, args = parse(["--setup", "mu2e_demo v1_0", "--exe", "/bin/echo", "--", "ran"])
    bare = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run(["bash", "-c", script_for(options, args, bare)], capture_output=True,
                          text=True, env=bare, cwd=tmp_path)
    assert "command not found" not in done.stderr + done.stdout
    assert "setup (embedded POMS, nothing to set up): mu2e_demo v1_0" in done.stdout
    assert "ran" in done.stdout and done.returncode == 0
    # Where a `setup` exists (UPS on a worker node, the embedded tools here), it is used.
    tools = {"PATH": f"{TOOLS_DIR}:/usr/bin:/bin"}
    script = script_for(options, args, tools)
    assert "setup()" not in script  # the one on the PATH, untouched
    with_tools = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                                env=tools, cwd=tmp_path)
    assert "nothing to set up" in with_tools.stdout and with_tools.returncode == 0


def test_each_job_records_the_cpu_wall_time_and_peak_memory_it_really_used(tmp_path):
    """The kernel's count for the job's whole process tree: a child that holds 60 MB and
    burns 0.4 s of CPU shows at least that, and a job that only sleeps uses almost none."""
    engine = LocalEngine(tmp_path / "spool", slots=2)
    body = ('if [ "$PROCESS" = 0 ]; then\n'
            '  python3 -c "import time; b = b\'x\' * (60 * 2**20); s = time.process_time()\n'
            'while time.process_time() - s < 0.4: pass"\n'
            'else sleep 0.5; fi\n')
    batch_id = engine.submit(JobRequest(executable=script(tmp_path, body), count=2))
    wait_for(lambda: states(engine, batch_id) == ["Completed"] * 2, what="the jobs to end")
    busy, idle = sorted(engine.query([batch_id]), key=lambda j: j.job_id)
    assert busy.exit_code == 0 and idle.exit_code == 0
    assert busy.peak_memory_mb >= 60, busy
    assert 0.4 <= busy.cpu_time_s <= busy.wall_time_s + 0.05, busy
    assert busy.wall_time_s < 30
    assert idle.cpu_time_s < 0.3 and idle.wall_time_s >= 0.5, idle
    assert idle.peak_memory_mb < busy.peak_memory_mb
