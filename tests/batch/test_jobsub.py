"""The jobsub engine against recorded jobsub_lite outputs: fake jobsub_* programs on disk that
print what the real ones printed and record the arguments they were called with."""
from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from app.batch.base import BatchError
from app.batch.jobsub import (
    JobsubEngine,
    parse_q_output,
    parse_submit_output,
    parse_submitted_jobs,
)

RECORDED = Path(__file__).parent / "recorded"


def fake_bin(tmp_path: Path, outputs: dict[str, str], fail: str | None = None) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("jobsub_submit", "jobsub_q", "jobsub_rm", "jobsub_hold", "jobsub_release"):
        script = bin_dir / name
        out = outputs.get(name, "")
        script.write_text(
            "#!/usr/bin/env python3\nimport json, sys\n"
            f"open({str(tmp_path / 'calls.jsonl')!r}, 'a').write(json.dumps(sys.argv) + '\\n')\n"
            f"sys.stdout.write({out!r})\n"
            + ("sys.stderr.write('jobsub: server unavailable\\n'); sys.exit(1)\n"
               if fail == name else "")
        )
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return bin_dir


def calls(tmp_path: Path) -> list[list[str]]:
    return [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]


def test_batch_ids_are_read_from_jobsub_lite_and_legacy_output():
    assert parse_submit_output((RECORDED / "jobsub_submit.out").read_text()) == [
        "71234567.0@jobsub05.fnal.gov"]
    assert parse_submit_output((RECORDED / "jobsub_submit_legacy.out").read_text()) == [
        "8812345.0@jobsub01.fnal.gov"]
    assert parse_submit_output("no ids here") == []


def test_jobsub_q_table_gives_each_job_state():
    assert parse_q_output((RECORDED / "jobsub_q.out").read_text()) == {
        "71234567.0@jobsub05.fnal.gov": "Running",
        "71234567.1@jobsub05.fnal.gov": "Running",
        "71234567.2@jobsub05.fnal.gov": "Idle",
        "71234567.3@jobsub05.fnal.gov": "Held",
    }


def test_engine_submits_queries_and_controls_through_the_jobsub_commands(tmp_path):
    bin_dir = fake_bin(tmp_path, {
        "jobsub_submit": (RECORDED / "jobsub_submit.out").read_text(),
        "jobsub_q": (RECORDED / "jobsub_q.out").read_text(),
    })
    engine = JobsubEngine(group="mu2e", bin_dir=str(bin_dir))
    from app.batch.base import JobRequest

    batch_id = engine.submit(JobRequest(executable="/x/run.sh", arguments=["a b"], count=10,
                                        role="Analysis", env={"POMS_TASK_ID": "5"}))
    assert batch_id == "71234567.0@jobsub05.fnal.gov"
    statuses = engine.query([batch_id])
    assert sorted((s.job_id.split("@")[0], s.state) for s in statuses) == [
        ("71234567.0", "Running"), ("71234567.1", "Running"), ("71234567.2", "Idle"),
        ("71234567.3", "Held")]
    engine.hold([batch_id])
    engine.release([batch_id])
    engine.remove([batch_id])
    made = calls(tmp_path)
    assert made[0][1:] == ["-G", "mu2e", "-N", "10", "--role=Analysis", "-e", "POMS_TASK_ID=5",
                           "file:///x/run.sh", "a b"]
    assert made[1][1:] == ["-G", "mu2e", f"--jobid={batch_id}"]
    assert [Path(c[0]).name for c in made[2:]] == ["jobsub_hold", "jobsub_release", "jobsub_rm"]


def test_an_engine_that_fails_raises_and_says_why(tmp_path):
    bin_dir = fake_bin(tmp_path, {}, fail="jobsub_q")
    with pytest.raises(BatchError, match="server unavailable"):
        JobsubEngine(group="mu2e", bin_dir=str(bin_dir)).query(["1.0@jobsub01.fnal.gov"])


def test_every_job_a_launch_announced_is_known_from_its_output():
    lite = parse_submitted_jobs((RECORDED / "jobsub_submit.out").read_text())
    assert lite == [f"71234567.{proc}@jobsub05.fnal.gov" for proc in range(10)]
    legacy = parse_submitted_jobs((RECORDED / "jobsub_submit_legacy.out").read_text())
    assert legacy == [f"8812345.{proc}@jobsub01.fnal.gov" for proc in range(5)]
    # An id with no count line: the cluster is known, its size is not.
    assert parse_submitted_jobs("Use job id 5.0@x.fnal.gov to retrieve output") == []
