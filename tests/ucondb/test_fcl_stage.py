"""FCL stages: the `uploads` jobs (app/ucondb/jobs.py) on the demo tutorial, for real.

Real Redis and RQ workers, the local batch engine's jobs, and this POMS served live with its
embedded UconDB (tests/e2e/test_tutorial_ucondb.py proves the whole tutorial through it).
Here: a UconDB that refuses the writes (wrong password) makes each upload retry, then fail;
the failure shows on the submission page and reco does not launch; once the password is
right, `poms ucondb retry-uploads` uploads them and reco launches. Uploading again stores
no new version.
"""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from app.batch.job_files import ucondb_file_url
from app.catalog.embedded import EmbeddedCatalog
from app.extensions import db
from app.models import FclUpload
from app.ucondb.client import UconDBClient
from app.ucondb.fcl import file_url
from app.ucondb.jobs import DONE, FAILED, fcl_dataset, fcl_patterns, run_upload
from tests.e2e.support import UCONDB_DATABASE as DATABASE
from tests.e2e.support import change_through_store, drive, launch_stage, quick, serve_ucondb
from tests.e2e.support import submissions as subs_of
from tests.fixtures.app import csrf_token, signed_in
from tests.fixtures.launching import import_tutorial

N = 2


def test_fcl_dataset_drops_the_sequencer_as_mu2e_names_datasets():
    assert fcl_dataset("cnf.mu2e.tutorial.v0.001000_00000042.fcl") == "cnf.mu2e.tutorial.v0.fcl"
    assert fcl_dataset("mu2e_reco.12_3.fcl") == "mu2e_reco.fcl"
    assert fcl_dataset("alone.fcl") == "alone.fcl"
    assert fcl_patterns("%.art, %.fcl, dh.dataset x") == ["%.fcl"]
    assert fcl_patterns("%.art") == []


def test_uploads_retry_with_doubling_backoff(launch_app, redis_conn):
    from rq.job import Job as RQJob

    from app.ucondb.jobs import enqueue, retry_delays

    assert retry_delays({"POMS_UCONDB_UPLOAD_RETRIES": 5, "POMS_UCONDB_UPLOAD_BACKOFF": 30}) \
        == [30, 60, 120, 240, 480]
    assert retry_delays({"POMS_UCONDB_UPLOAD_RETRIES": 0}) == []
    # What the workers' queue holds (through app/work.py): one job per upload, retried so.
    config = {**launch_app.config, "POMS_UCONDB_UPLOAD_RETRIES": 3,
              "POMS_UCONDB_UPLOAD_BACKOFF": 10}
    assert enqueue(config, [41]) == 1
    assert enqueue(config, [41]) == 0, "queued already"
    job = RQJob.fetch("fcl-upload-41", connection=redis_conn)
    assert (job.func_name, job.args) == ("workers.jobs.upload", (41,))
    assert (job.retries_left, job.retry_intervals) == (3, [10, 20, 40])


def test_a_job_finds_the_same_url_as_the_app():
    base = "https://dbdata0vm.fnal.gov:9443/mu2e_ucondb_prod/app"
    location = "dbdata0vm.fnal.gov:/mu2e_ucondb_prod/app/data/cnf_mu2e_tutorial_v0_fcl"
    name = "cnf.mu2e.tutorial.v0.001000_00000042.fcl"
    assert ucondb_file_url(location, name, base) == file_url(location, name, base)
    assert ucondb_file_url(location, name, "https://other.fnal.gov/x/app") is None
    assert ucondb_file_url("/pnfs/mu2e/scratch", name, base) is None
    assert ucondb_file_url(location, name, None) is None


def _launch_fcl_stage(app):
    campaign = import_tutorial()
    change_through_store(campaign, quick(N))
    return campaign, launch_stage(app, campaign, "reco_fcl")


def _uploads(submission_id):
    db.session.expire_all()
    return list(db.session.scalars(select(FclUpload).where(
        FclUpload.submission_id == submission_id).order_by(FclUpload.job_id)))


@pytest.mark.e2e
def test_a_refused_upload_is_retried_then_shown_failed_and_holds_reco(launch_app,
                                                                      live_server_factory):
    app = launch_app
    serve_ucondb(app, live_server_factory, password="wrong")
    campaign, first = _launch_fcl_stage(app)

    def all_failed():
        rows = _uploads(first.id)
        return len(rows) == N and all(r.state == FAILED for r in rows)

    drive(app, all_failed, timeout=90, what="the refused uploads to fail")
    for row in _uploads(first.id):
        assert row.attempts == 3  # the first try and POMS_UCONDB_UPLOAD_RETRIES=2 more
        assert "401" in row.error and "mu2e_reco_fcl" in row.error
    # reco_fcl is done, but reco waits for its FCL files.
    drive(app, lambda: db.session.get(type(first), first.id).state == "Located", timeout=30)
    drive(app, lambda: True)  # one more pass: chaining looks again and holds
    assert subs_of(campaign, "reco") == []

    client = signed_in(app.test_client(), "alice")
    page = client.get(f"/e/mu2e/submission/{first.id}").get_data(as_text=True)
    assert "FCL uploads" in page
    assert f"0 of {N} jobs" in page and f"{N} failed" in page and "401" in page
    assert "The dependent stages wait until they are uploaded." in page

    # The operator fixes the password and presses "Upload FCL files again": reco launches
    # on the FCL files.
    assert "Upload FCL files again" in page
    app.config["POMS_UCONDB_PASSWORD"] = "s3cret"
    token = csrf_token(client, f"/e/mu2e/submission/{first.id}")
    answer = client.post(f"/e/mu2e/submission/{first.id}/retry-uploads",
                         data={"csrf_token": token}, follow_redirects=True)
    assert f"Submission {first.id}: {N} failed FCL uploads queued again." in \
        answer.get_data(as_text=True)

    def reco_launched():
        return subs_of(campaign, "reco")

    (reco,) = drive(app, reco_launched, timeout=90, what="reco to launch")
    rows = _uploads(first.id)
    assert [r.state for r in rows] == [DONE] * N and all(r.error == "" for r in rows)
    catalog = EmbeddedCatalog(db.session, "mu2e")
    names = sorted(catalog.list_files(f"defname: {reco.dataset}"))
    assert len(names) == N
    ucon = UconDBClient.from_config(app.config)
    location = f"{ucon.host}:/ucondb/{DATABASE}/app/data/mu2e_reco_fcl"
    assert all(catalog.locate(name) == [location] for name in names)
    page = client.get(f"/e/mu2e/submission/{first.id}").get_data(as_text=True)
    assert f"{N} of {N} jobs" in page and "failed" not in page.split("FCL uploads")[1][:300]

    # Nothing failed any more: the operators' command finds nothing to upload again.
    result = CliRunner().invoke(app.cli, ["poms", "ucondb", "retry-uploads", str(first.id)],
                                catch_exceptions=False)
    assert f"0 failed FCL uploads of submission {first.id} queued again" in result.output

    # Uploading again is harmless: the same bytes under the same key make no new version.
    before = {n: ucon.versions("mu2e_reco_fcl", n) for n in names}
    row = rows[0]
    row.state = "queued"
    db.session.commit()
    assert run_upload(row.job_id, app.config).startswith("stored")
    assert {n: ucon.versions("mu2e_reco_fcl", n) for n in names} == before
    assert all(catalog.locate(name) == [location] for name in names)


def _recorded_fcl_jobs(app, tmp_path, n=3):
    """A Completed reco_fcl submission whose n jobs each made one FCL file (on disk under
    tmp_path), recorded in the catalogue as the chaining records a job's report."""
    from app.models import Job
    from app.models.chaining import ChainJobRecord
    from tests.chaining.support import finished

    campaign = import_tutorial()
    sub = finished(campaign, "reco_fcl", app)
    catalog = EmbeddedCatalog(db.session, "mu2e")
    outdir = tmp_path / "out"
    outdir.mkdir()
    for i in range(n):
        batch_id = f"{900 + sub.id}.{i}@local"
        job = Job(submission_id=sub.id, batch_job_id=batch_id, state="Completed", exit_code=0)
        db.session.add(job)
        db.session.flush()
        name = f"mu2e_reco.{sub.id}_{i}.fcl"
        (outdir / name).write_text(f"# FCL {i}\nsource.firstSubRun : {i}\n")
        catalog.declare_file(name, metadata={"poms_task_id": str(sub.id),
                                             "poms_job_id": batch_id})
        catalog.add_location(name, str(outdir))
        db.session.add(ChainJobRecord(job_id=job.id, submission_id=sub.id, outputs=1))
    db.session.commit()
    return campaign, sub


@pytest.fixture
def pg_app(postgres_server, postgres_template, tmp_path, redis_server):
    """The app on a real PostgreSQL (the JSON metadata query, ON CONFLICT DO NOTHING)."""
    from tests.fixtures.app import _app

    name = f"fcl_{abs(hash(str(tmp_path))) % 10**8}"
    postgres_server.drop_database(name)
    url = postgres_server.create_database(name, template=postgres_template)
    app = _app(url, POMS_REDIS_URL=redis_server.url, POMS_BATCH_DIR=str(tmp_path / "batch"),
               POMS_LAUNCH_DIR=str(tmp_path / "launches"), POMS_URL="http://localhost:5000")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    postgres_server.drop_database(name)


def test_two_workers_finding_the_same_finished_jobs_make_each_upload_once(
        launch_app, tmp_path):
    _two_workers_at_once(launch_app, tmp_path)


@pytest.mark.postgres
def test_two_workers_at_once_on_postgresql(pg_app, tmp_path):
    _two_workers_at_once(pg_app, tmp_path)


def _two_workers_at_once(app, tmp_path):
    import threading

    from app.ucondb.jobs import new_uploads

    app.config["POMS_UCONDB_FCL_UPLOADS"] = True
    _campaign, sub = _recorded_fcl_jobs(app, tmp_path)
    barrier = threading.Barrier(2)
    found, errors = [], []

    def worker():
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                found.append(new_uploads(app.config))
            except Exception as err:  # noqa: BLE001 - the test reports it
                errors.append(err)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    rows = _uploads(sub.id)
    assert len(rows) == 3 and all(r.state == "queued" for r in rows)
    assert sorted(j for ids in found for j in ids) == [r.job_id for r in rows]


def test_reco_waits_for_the_uploads_then_launches_on_the_ucondb_locations(
        launch_app, tmp_path, live_server_factory):
    from app.chaining.hooks import after_tracking
    from app.ucondb.jobs import enqueue_uploads

    app = launch_app
    serve_ucondb(app, live_server_factory)
    campaign, sub = _recorded_fcl_jobs(app, tmp_path)
    after_tracking(app.config)
    db.session.expire_all()
    assert db.session.get(type(sub), sub.id).state == "Located"
    assert subs_of(campaign, "reco") == []  # held: nothing uploaded yet
    assert enqueue_uploads(app.config) == "; 3 FCL uploads queued"
    assert subs_of(campaign, "reco") == []
    for row in _uploads(sub.id):
        assert run_upload(row.job_id, app.config).startswith("stored 1 FCL files")
    after_tracking(app.config)
    (reco,) = subs_of(campaign, "reco")
    catalog = EmbeddedCatalog(db.session, "mu2e")
    ucon = UconDBClient.from_config(app.config)
    for name in catalog.list_files(f"defname: {reco.dataset}"):
        assert catalog.locate(name) == [f"{ucon.host}:/ucondb/{DATABASE}/app/data/mu2e_reco_fcl"]
        assert ucon.get_data("mu2e_reco_fcl", name) == (tmp_path / "out" / name).read_bytes()
