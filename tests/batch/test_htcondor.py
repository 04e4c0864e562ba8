"""The HTCondor engine against a real personal pool (tests/fixtures/htcondor_pool.py).

Nothing here is mocked: jobs are shell scripts run by a real schedd and startd in a Debian 13
root on loopback. The pure helpers (memory, lifetime, quoting) are tested without a pool.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.batch.base import (
    COMPLETED,
    HELD,
    IDLE,
    REMOVED,
    RUNNING,
    BatchError,
    JobRequest,
)
from app.batch.engines import engine_from_config
from app.batch.htcondor import (
    HOLD_PERIODIC,
    HOLD_TRANSFER_INPUT,
    HOLD_USER,
    LIFETIME_SUBCODE,
    HTCondorEngine,
    parse_lifetime_s,
    parse_memory_mb,
    quote_arguments,
    quote_environment,
)
from tests.fixtures.launching import wait_for

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "app" / "launching" / "tools"
pool_test = pytest.mark.htcondor


def script(tmp_path: Path, body: str, name: str = "job.sh") -> Path:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def wait_states(engine, batch_ids, done, timeout=60.0, what="jobs"):
    """Poll the engine until done(statuses) is true; the last statuses."""
    last = []

    def check():
        nonlocal last
        last = engine.query(batch_ids)
        return done(last)

    try:
        wait_for(check, timeout=timeout, interval=0.5, what=what)
    except AssertionError:
        raise AssertionError(f"timed out waiting for {what}; last: {last}") from None
    return last


def all_in(*states):
    return lambda st: bool(st) and all(s.state in states for s in st)


# --- no pool needed ---------------------------------------------------------------------


def test_memory_and_lifetime_as_jobsub_writes_them():
    assert parse_memory_mb("2000MB") == 2000
    assert parse_memory_mb("2GB") == 2048
    assert parse_memory_mb("1500") == 1500
    assert parse_memory_mb("") is None
    assert parse_lifetime_s("3h") == 3 * 3600
    assert parse_lifetime_s("90m") == 5400
    assert parse_lifetime_s("long") == 24 * 3600
    assert parse_lifetime_s("600") == 600
    with pytest.raises(BatchError):
        parse_memory_mb("lots")
    with pytest.raises(BatchError):
        parse_lifetime_s("a while")


def test_submit_language_quoting():
    assert quote_arguments(["a b", "it's", '"q"', "$(x)"]) == \
        "\"'a b' 'it''s' '\"\"q\"\"' '$(DOLLAR)(x)'\""
    assert quote_environment({"A": "x 'y'"}, {"P": "$(Process)"}) == \
        "\"A='x ''y''' P='$(Process)'\""
    with pytest.raises(BatchError):
        quote_arguments(["two\nlines"])
    with pytest.raises(BatchError):
        quote_environment({"BAD NAME": "x"})


def test_jobs_get_the_grid_environment_the_local_engine_gives(tmp_path):
    """One rule for both engines (base.job_environment): -G wins over the launch's
    EXPERIMENT, the job's identity comes from submit macros, request values stay literal."""
    engine = engine_from_config({"POMS_BATCH_ENGINE": "htcondor",
                                 "POMS_CONDOR_SUBMIT_DIR": str(tmp_path)})
    request = JobRequest(executable="/x/job.sh", group="mu2e", dataset="ds$1",
                         env={"EXPERIMENT": "other", "X": "1"})
    description = engine.submit_description(request, tmp_path, tmp_path / "job.sh", "s1")
    assert description["environment"] == (
        "\"EXPERIMENT='mu2e' X='1' GROUP='mu2e' SAM_DATASET='ds$(DOLLAR)1' "
        "PROCESS='$(Process)' CLUSTER='$(Cluster)' JOBSUBJOBID='$(Cluster).$(Process)@s1' "
        "JOBSUBJOBSECTION='$(Process)'\"")


def test_f_files_travel_as_the_jobs_input_directory(tmp_path):
    engine = engine_from_config({"POMS_BATCH_ENGINE": "htcondor",
                                 "POMS_CONDOR_SUBMIT_DIR": str(tmp_path)})
    plain = engine.submit_description(JobRequest(executable="/x/job.sh"), tmp_path,
                                      tmp_path / "job.sh", "s1")
    assert "transfer_input_files" not in plain
    sent = engine.submit_description(JobRequest(executable="/x/job.sh",
                                                input_files=["/u/reco.sh"]),
                                     tmp_path, tmp_path / "job.sh", "s1")
    assert sent["transfer_input_files"] == "input"


def test_engine_from_config_names_htcondor(tmp_path):
    engine = engine_from_config({"POMS_BATCH_ENGINE": "htcondor",
                                 "POMS_CONDOR_SUBMIT_DIR": str(tmp_path)})
    assert isinstance(engine, HTCondorEngine)
    assert engine.launch_environment()["POMS_BATCH_ENGINE"] == "htcondor"


def test_unreachable_collector_is_a_batch_error(tmp_path):
    """No pool at all (a closed port): every call says BatchError, never a state."""
    from tests.fixtures.htcondor_pool import free_port

    pytest.importorskip("htcondor2")
    config = tmp_path / "condor_config"
    config.write_text(f"COLLECTOR_HOST = 127.0.0.1:{free_port()}\nENABLE_IPV6 = False\n"
                      "SEC_CLIENT_AUTHENTICATION_METHODS = CLAIMTOBE\n")
    saved = os.environ.get("CONDOR_CONFIG")
    try:
        engine = HTCondorEngine(tmp_path / "jobs", condor_config=str(config))
        with pytest.raises(BatchError):
            engine.query(["1.0@nowhere"])
        with pytest.raises(BatchError):
            engine.submit(JobRequest(executable=str(script(tmp_path, "exit 0\n"))))
    finally:
        if saved is None:
            os.environ.pop("CONDOR_CONFIG", None)
        else:
            os.environ["CONDOR_CONFIG"] = saved
        import htcondor2

        htcondor2.reload_config()


# --- against the pool -----------------------------------------------------------------


@pool_test
def test_cluster_of_n_jobs_completes_with_exit_codes_and_history(htcondor_pool, tmp_path):
    engine = htcondor_pool.engine()
    job = script(tmp_path, 'echo "job $PROCESS of $CLUSTER ($JOBSUBJOBID) $GROUP [$1] [$2]"\n'
                 'exit $PROCESS\n')
    batch_id = engine.submit(JobRequest(
        executable=str(job), arguments=["two words", "$(not a macro); rm -rf ~"], count=4,
        env={"POMS4_SUBMISSION_ID": "41"}, group="mu2e", memory="100MB", lifetime="1h",
        submission_id=41,
    ))
    cluster, schedd = re.fullmatch(r"(\d+)\.0@([\w.-]+)", batch_id).groups()
    statuses = wait_states(engine, [batch_id], all_in(COMPLETED), what="4 jobs to complete")
    assert [s.job_id for s in statuses] == [f"{cluster}.{p}@{schedd}" for p in range(4)]
    assert [s.exit_code for s in statuses] == [0, 1, 2, 3]
    assert all(s.host and s.started and s.ended for s in statuses)
    # They left the queue: only the schedd's history knows them now.
    import htcondor2

    live = htcondor2.Schedd(htcondor2.Collector().locate(htcondor2.DaemonType.Schedd, schedd))
    wait_for(lambda: live.query(f"ClusterId == {cluster}", projection=["ProcId"]) == [],
             timeout=30, what="the jobs to leave the queue")
    assert [s.exit_code for s in engine.query([batch_id])] == [0, 1, 2, 3]  # from history
    # The submission's resources and group reached the job ad.
    ads = list(live.history(f"ClusterId == {cluster}", projection=[
        "RequestMemory", "JOB_EXPECTED_MAX_LIFETIME", "AcctGroup", "Owner",
        "PomsSubmissionId"], match=-1))
    assert len(ads) == 4
    assert {int(a["RequestMemory"]) for a in ads} == {100}
    assert {int(a["JOB_EXPECTED_MAX_LIFETIME"]) for a in ads} == {3600}
    assert {a["Owner"] for a in ads} == {"poms"}  # never root
    assert {int(a["PomsSubmissionId"]) for a in ads} == {41}
    assert {a["AcctGroup"] for a in ads} == {"group_mu2e"}
    log = engine.fetch_log(f"{cluster}.2@{schedd}")
    assert f"job 2 of {cluster} ({cluster}.2@{schedd}) mu2e [two words] " \
           "[$(not a macro); rm -rf ~]" in log
    assert engine.clusters_of_submission(41) == [batch_id]


@pool_test
def test_f_files_reach_each_job_taken_at_submission(htcondor_pool, tmp_path):
    """jobsub_submit -f on the pool: the files are copied when the jobs are submitted and
    arrive, executable, in the job's input/ (where fife_wrap points $CONDOR_DIR_INPUT)."""
    data, tool = tmp_path / "data.txt", tmp_path / "tool.sh"
    data.write_text("from the launch\n")
    tool.write_text('#!/bin/sh\necho "tool ran in job $PROCESS"\n')
    for path in (data, tool):
        path.chmod(0o600)
    engine = htcondor_pool.engine()
    job = script(tmp_path, "cat input/data.txt && input/tool.sh\n")
    batch_id = engine.submit(JobRequest(executable=str(job), count=2,
                                        input_files=[str(data), str(tool)]))
    data.unlink()
    tool.unlink()
    statuses = wait_states(engine, [batch_id], lambda st: len(st) == 2 and
                           all_in(COMPLETED)(st), what="2 jobs to complete")
    assert [s.exit_code for s in statuses] == [0, 0]
    log = engine.fetch_log(batch_id.replace(".0@", ".1@"))
    assert "from the launch\ntool ran in job 1\n" in log, log


@pool_test
def test_many_clusters_in_one_query(htcondor_pool, tmp_path, monkeypatch):
    engine = htcondor_pool.engine()
    job = script(tmp_path, "exit 0\n")
    ids = [engine.submit(JobRequest(executable=str(job), count=n)) for n in (1, 2, 3)]
    wait_states(engine, ids, lambda st: len(st) == 6 and all_in(COMPLETED)(st),
                what="3 clusters to complete")
    late = engine.submit(JobRequest(executable=str(script(tmp_path, "sleep 30\n", "s.sh")),
                                    count=2))

    # Count the questions the engine asks the schedd (the real schedd still answers).
    import htcondor2

    calls = {"query": 0, "history": 0}
    for name in calls:
        real = getattr(htcondor2.Schedd, name)

        def counted(self, *args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(htcondor2.Schedd, name, counted)
    statuses = engine.query(ids + [late])
    assert calls == {"query": 1, "history": 1}
    assert len(statuses) == 8
    by_cluster = {}
    for s in statuses:
        by_cluster.setdefault(s.job_id.split(".")[0], []).append(s.state)
    assert sorted(len(v) for v in by_cluster.values()) == [1, 2, 2, 3]
    assert by_cluster[late.split(".")[0]] in ([IDLE, IDLE], [RUNNING, RUNNING],
                                             [IDLE, RUNNING], [RUNNING, IDLE])
    # Clusters still wholly in the queue need no history search.
    calls.update(query=0, history=0)
    engine.query([late])
    assert calls == {"query": 1, "history": 0}
    engine.remove([late])


@pool_test
def test_hold_release_remove(htcondor_pool, tmp_path):
    engine = htcondor_pool.engine()
    job = script(tmp_path, "sleep 120\n")
    batch_id = engine.submit(JobRequest(executable=str(job), count=2))
    wait_states(engine, [batch_id], all_in(RUNNING), what="jobs to run")
    engine.hold([batch_id])
    held = wait_states(engine, [batch_id], all_in(HELD), what="jobs to be held")
    assert {s.hold_reason_code for s in held} == {HOLD_USER}
    assert {s.hold_kind for s in held} == {"held by a user"}
    assert all(s.hold_reason.startswith("held by POMS") for s in held)
    engine.release([batch_id])
    wait_states(engine, [batch_id], all_in(IDLE, RUNNING), what="jobs to be released")
    engine.remove([batch_id])
    removed = wait_states(engine, [batch_id], all_in(REMOVED), what="jobs to be removed")
    assert all(s.exit_code is None for s in removed)
    # Removed jobs leave the queue; the history still reports them as Removed.
    time.sleep(1)
    assert [s.state for s in engine.query([batch_id])] == [REMOVED, REMOVED]


@pool_test
def test_job_running_past_its_lifetime_is_held_with_the_reason(htcondor_pool, tmp_path):
    engine = htcondor_pool.engine()
    job = script(tmp_path, "sleep 120\n")
    batch_id = engine.submit(JobRequest(executable=str(job), lifetime="2"))
    held = wait_states(engine, [batch_id], all_in(HELD), what="the job to be held")
    assert held[0].hold_reason_code == HOLD_PERIODIC
    assert held[0].hold_reason_subcode == LIFETIME_SUBCODE
    assert "expected lifetime" in held[0].hold_reason
    assert held[0].hold_kind == "the job ran longer than its expected lifetime"
    engine.remove([batch_id])


@pool_test
def test_job_whose_input_is_gone_is_held_by_the_system(htcondor_pool, tmp_path):
    """A hold the pool makes itself: the script's copy vanished before the job started."""
    engine = htcondor_pool.engine()
    batch_id = engine.submit(JobRequest(executable=str(script(tmp_path, "exit 0\n"))))
    cluster_dir = next(p.parent for p in htcondor_pool.jobs.glob("none/*/cluster")
                       if p.read_text().strip() == batch_id)
    (cluster_dir / "job.sh").unlink()
    [held] = wait_states(engine, [batch_id], all_in(HELD), what="the job to be held")
    assert held.hold_reason_code == HOLD_TRANSFER_INPUT
    assert held.hold_kind == "the job's input could not be transferred"
    assert held.hold_reason
    engine.remove([batch_id])


@pool_test
def test_fetch_log_of_a_failed_job(htcondor_pool, tmp_path):
    engine = htcondor_pool.engine()
    job = script(tmp_path, 'echo "out of $PROCESS"; echo "err of $PROCESS" >&2; exit 7\n')
    batch_id = engine.submit(JobRequest(executable=str(job)))
    [status] = wait_states(engine, [batch_id], all_in(COMPLETED), what="the job to end")
    assert status.exit_code == 7
    log = engine.fetch_log(batch_id)
    assert "== stdout ==\nout of 0" in log and "== stderr ==\nerr of 0" in log
    with pytest.raises(BatchError):
        engine.fetch_log(batch_id.replace(".0@", ".5@"))


@pool_test
def test_schedd_that_does_not_answer_changes_nothing(htcondor_pool, launch_app, tutorial,
                                                    tmp_path):
    """Tracking over the pool: a schedd that is down is a failed poll, not a state change;
    once it is back, tracking carries on to Completed."""
    from app.extensions import db
    from app.models import Job, Submission, SubmissionEvent
    from app.tracking.tracker import track_submissions

    engine = htcondor_pool.engine()
    stage = tutorial.stages[0]
    job = script(tmp_path, "sleep 4\nexit 0\n")
    batch_id = engine.submit(JobRequest(executable=str(job), count=2))
    submission = Submission(campaign_stage_id=stage.id, experiment_id=tutorial.experiment_id,
                            state="Idle", engine="htcondor", batch_id=batch_id,
                            batch_ids=[batch_id])
    db.session.add(submission)
    db.session.commit()
    config = {**launch_app.config, **htcondor_pool.engine_config()}

    def tracked_state():
        track_submissions([submission.id], config)  # engine from config alone
        db.session.expire_all()
        return db.session.get(Submission, submission.id).state

    wait_for(lambda: tracked_state() == "Running", timeout=60, what="Running")

    def snapshot():
        db.session.expire_all()
        sub = db.session.get(Submission, submission.id)
        jobs = sorted((j.batch_job_id, j.state, j.exit_code, j.updated_at)
                      for j in db.session.query(Job).filter_by(submission_id=sub.id))
        events = db.session.query(SubmissionEvent).filter_by(submission_id=sub.id).count()
        return sub.state, sub.jobs_running, sub.jobs_done, jobs, events

    before = snapshot()
    htcondor_pool.stop_schedd()
    try:
        with pytest.raises(BatchError):
            engine.query([batch_id])
        time.sleep(5)  # the jobs would have finished by now
        result = track_submissions([submission.id], config)
        assert result.errors and not result.transitions and result.job_updates == 0
        assert snapshot() == before
    finally:
        htcondor_pool.start_schedd()
    wait_for(lambda: tracked_state() == "Completed", timeout=90, what="Completed")
    sub = db.session.get(Submission, submission.id)
    assert (sub.jobs_done, sub.jobs_failed) == (2, 0)


@pool_test
def test_hung_schedd_is_a_batch_error_after_a_bounded_wait(htcondor_pool, tmp_path):
    """A schedd that accepts connections but answers nothing (SIGSTOP): the bindings give up
    after their 20 s security-session timeout, and the engine says BatchError."""
    engine = htcondor_pool.engine()
    batch_id = engine.submit(JobRequest(executable=str(script(tmp_path, "exit 0\n"))))
    with htcondor_pool.schedd_frozen() as pids:
        assert pids
        started = time.monotonic()
        with pytest.raises(BatchError, match="did not answer"):
            engine.query([batch_id])
        assert time.monotonic() - started < 45
    assert [s.job_id for s in engine.query([batch_id])] == [batch_id]
    engine.remove([batch_id])


@pool_test
def test_hold_release_remove_move_the_submission(htcondor_pool, launch_app, tutorial,
                                                tmp_path):
    """HTCondor's states through tracking onto the submission state machine."""
    from app.extensions import db
    from app.models import Submission, SubmissionEvent
    from app.tracking.tracker import track_submissions

    engine = htcondor_pool.engine()
    batch_id = engine.submit(JobRequest(executable=str(script(tmp_path, "sleep 120\n")),
                                        count=2))
    submission = Submission(campaign_stage_id=tutorial.stages[0].id,
                            experiment_id=tutorial.experiment_id, state="Idle",
                            engine="htcondor", batch_id=batch_id, batch_ids=[batch_id])
    db.session.add(submission)
    db.session.commit()
    config = {**launch_app.config, **htcondor_pool.engine_config()}

    seen = []

    def becomes(*wanted):
        state = " or ".join(wanted)

        def check():
            track_submissions([submission.id], config)
            db.session.expire_all()
            seen.append(db.session.get(Submission, submission.id).state)
            return seen[-1] in wanted
        try:
            wait_for(check, timeout=60, interval=0.5, what=state)
        except AssertionError:
            raise AssertionError(f"never {state}: {seen[-5:]} {engine.query([batch_id])}") \
                from None

    becomes("Running")
    engine.hold([batch_id])
    becomes("Held")
    assert db.session.get(Submission, submission.id).jobs_held == 2
    engine.release([batch_id])
    # Released jobs are Idle until the pool matches them again. (The test pool, HTCondor
    # 23.9, does not always rematch jobs held while running: POMS's part ends at Idle.)
    becomes("Idle", "Running")
    engine.remove([batch_id])
    becomes("Removed")
    history = [e.to_state for e in db.session.query(SubmissionEvent)
               .filter_by(submission_id=submission.id).order_by(SubmissionEvent.id)]
    assert history[-4:-2] == ["Running", "Held"]
    assert history[-2] in ("Idle", "Running") and history[-1] == "Removed"


@pool_test
def test_jobsub_submit_command_runs_the_same_script_locally_and_on_the_pool(
        htcondor_pool, tmp_path):
    """A launch script's `jobsub_submit ... file://SCRIPT args` with only the configuration
    changed: the local engine and the pool run it alike."""
    from app.batch.local import LocalEngine

    job = script(tmp_path, 'echo "hello $1 from job $PROCESS of $CLUSTER, task $POMS_TASK_ID"'
                 '\nexit 3\n')
    launch = script(tmp_path, 'jobsub_submit -G mu2e -N 2 --memory=200MB '
                    '--expected-lifetime=1h -e POMS_TASK_ID '
                    '--resource-provides=usage_model=DEDICATED '
                    f'file://{job} "big world"\n', "launch.sh")
    engines = {
        "local": LocalEngine(tmp_path / "local-spool", slots=2),
        "htcondor": htcondor_pool.engine(),
    }
    logs = {}
    for name, engine in engines.items():
        env = {k: v for k, v in os.environ.items() if not k.startswith("POMS_")}
        env.update(engine.launch_environment())
        env["PATH"] = f"{TOOLS}{os.pathsep}{env.get('PATH', '')}"
        env.update(POMS_TASK_ID="77", POMS4_SUBMISSION_ID="77", POMS_PYTHON=sys.executable)
        done = subprocess.run(["/bin/sh", str(launch)], env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        found = re.search(r"Use job id (\S+) to retrieve output", done.stdout)
        assert found, done.stdout
        batch_id = found[1]
        statuses = wait_states(engine, [batch_id], lambda st: len(st) == 2 and
                               all_in(COMPLETED)(st), what=f"{name} jobs")
        assert [s.exit_code for s in statuses] == [3, 3]
        cluster = batch_id.split(".")[0]
        # Only the cluster number differs between engines (a first cluster may be "1", the
        # same digits as the process number, so only the "of CLUSTER" place is replaced).
        log_text = engine.fetch_log(batch_id.replace(".0@", ".1@"))
        logs[name] = log_text.replace(f"of {cluster},", "of C,")
        assert engine.clusters_of_submission(77) == [batch_id]
    assert "hello big world from job 1 of C, task 77" in logs["local"]
    assert logs["htcondor"].split("== stderr ==")[0] == logs["local"].split("== stderr ==")[0]


@pool_test
def test_schedd_by_name_or_by_address(htcondor_pool, tmp_path):
    """POMS_CONDOR_SCHEDD picks the schedd by name; POMS_CONDOR_SCHEDD_ADDRESS skips the
    collector; an address where nothing answers is a BatchError, quickly."""
    from tests.fixtures.htcondor_pool import free_port

    engine = htcondor_pool.engine()
    batch_id = engine.submit(JobRequest(executable=str(script(tmp_path, "exit 0\n"))))
    name = batch_id.split("@")[1]
    import htcondor2

    address = htcondor2.Collector().locate(htcondor2.DaemonType.Schedd, name)["MyAddress"]
    config = htcondor_pool.engine_config()
    by_name = engine_from_config({**config, "POMS_CONDOR_SCHEDD": name})
    by_address = engine_from_config({**config, "POMS_CONDOR_SCHEDD": name,
                                     "POMS_CONDOR_SCHEDD_ADDRESS": address})
    for other in (by_name, by_address):
        assert [s.job_id for s in other.query([batch_id])] == [batch_id]
    wrong = engine_from_config({**config, "POMS_CONDOR_SCHEDD": "no-such-schedd"})
    with pytest.raises(BatchError):
        wrong.query([batch_id])
    dead = engine_from_config({**config, "POMS_CONDOR_SCHEDD": name,
                               "POMS_CONDOR_SCHEDD_ADDRESS": f"<127.0.0.1:{free_port()}>"})
    started = time.monotonic()
    with pytest.raises(BatchError):
        dead.query([batch_id])
    assert time.monotonic() - started < 30
    with pytest.raises(BatchError):  # ids of another schedd are refused, not misread
        engine.query([batch_id.split("@")[0] + "@elsewhere.example"])
