"""Provenance pages over a 100,000-file campaign (POMS_BENCH_FILES art files).

The tutorial campaign: reco_fcl made POMS_BENCH_FILES / 100 FCL files, all made from one
dataset file; reco made 100 .art files from each FCL file, each job's outputs recorded in
job_output, its FCL file given to reco's project and consumed. Prints `BENCH` lines:
  file_page_fan_out_p50_ms / _p99_ms   the dataset file's page: 1,000 children, 100,000
                                       grandchildren (a page of each generation shown)
  file_page_art_p50_ms / _p99_ms       an .art file's page: its job as launched, back to the
                                       dataset file
  data_flow_page_p50_ms / _p99_ms      the campaign's data flow page
  provenance_api_p50_ms / _p99_ms      the API's answer for an FCL file

Request timings go through Flask's test client in this process (no network). SQLite, in a
temporary directory.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FILES = int(os.environ.get("POMS_BENCH_FILES", "100000"))
REQUESTS = int(os.environ.get("POMS_BENCH_REQUESTS", "20"))
PER_FCL = 100


def bench(name: str, value: float, unit: str) -> None:
    print(f"BENCH {name} {value:.4g} {unit}", flush=True)


def timed(client, urls: list[str], name: str) -> None:
    times = []
    for n in range(REQUESTS):
        start = time.perf_counter()
        response = client.get(urls[n % len(urls)])
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (urls[n % len(urls)], response.status_code)
    ordered = sorted(times)
    bench(f"{name}_p50_ms", statistics.median(times), "ms")
    bench(f"{name}_p99_ms", ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
          "ms")


def fill(db) -> tuple[str, int]:
    """The campaign and its files; returns (campaign name, campaign id)."""
    from sqlalchemy import insert, select

    from app.auth.members import ensure_member, find_or_create_experiment
    from app.auth.session import find_or_create_experimenter
    from app.campaigns import store
    from app.campaigns.ini import parse_ini
    from app.catalog.embedded import EmbeddedCatalog
    from app.catalog.outputs import project_name
    from app.models import Job, Submission
    from app.models.catalog import CatalogFile
    from app.models.chaining import JobOutput

    ini = ROOT / "examples" / "mu2e" / "tutorial.ini"
    spec, _ = parse_ini(ini.read_text(), str(ini))
    experiment = find_or_create_experiment("mu2e")
    user = find_or_create_experimenter("alice")
    ensure_member(experiment, user, "analysis")
    campaign = store.save_campaign(experiment, spec, user)
    db.session.commit()
    stages = {s.name: s for s in campaign.stages}
    catalog = EmbeddedCatalog(db.session, "mu2e")
    fcls = [f"mu2e_reco.1_{i:05d}.fcl" for i in range(FILES // PER_FCL)]
    catalog.declare_files([{"name": "dataset.root"}]
                          + [{"name": n, "parents": ["dataset.root"]} for n in fcls])
    subs = {}
    for name in ("reco_fcl", "reco"):
        subs[name] = Submission(stage=stages[name], experiment_id=experiment.id,
                                state="Located", launcher_id=user.id)
        db.session.add(subs[name])
    db.session.flush()
    for start in range(0, len(fcls), 100):
        chunk = fcls[start:start + 100]
        catalog.declare_files([{"name": f"{n[:-4]}_{k:03d}.art", "parents": [n]}
                               for n in chunk for k in range(PER_FCL)])
        db.session.commit()
    ids = dict(db.session.execute(select(CatalogFile.name, CatalogFile.id)).all())
    for name, made in (("reco_fcl", fcls), ("reco", [n for n in ids if n.endswith(".art")])):
        job = Job(submission_id=subs[name].id, batch_job_id=f"{subs[name].id}.0@local",
                  state="Completed", exit_code=0)
        db.session.add(job)
        db.session.flush()
        for start in range(0, len(made), 10_000):
            db.session.execute(insert(JobOutput.__table__), [
                {"file_id": ids[n], "job_id": job.id, "submission_id": subs[name].id}
                for n in made[start:start + 10_000]])
    catalog.create_list_definition("all_fcl", fcls)
    project = project_name(subs["reco"].id)
    catalog.start_project(project, "all_fcl")
    for n in fcls:
        catalog.deliver(project, f"{subs['reco'].id}.0@local", n)
        catalog.set_file_status(project, f"{subs['reco'].id}.0@local", n, "consumed")
    db.session.commit()
    return campaign.name, campaign.id


def main() -> None:
    import flask_migrate

    from app import create_app
    from app.extensions import db

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'poms.db'}",
            "SECRET_KEY": "bench", "TESTING": True, "POMS_AUTH": "dev",
            "POMS_BATCH_DIR": str(tmp / "batch"), "WTF_CSRF_ENABLED": False,
        })
        with app.app_context():
            flask_migrate.upgrade(directory=str(ROOT / "migrations"))
            start = time.perf_counter()
            name, campaign_id = fill(db)
            print(f"filled {FILES} files in {time.perf_counter() - start:.0f} s",
                  file=sys.stderr)
            client = app.test_client()
            client.post("/login", data={"username": "alice"})
            timed(client, ["/e/mu2e/file/dataset.root"], "file_page_fan_out")
            middle = FILES // PER_FCL // 2
            timed(client, ["/e/mu2e/file/mu2e_reco.1_00007_042.art",
                           f"/e/mu2e/file/mu2e_reco.1_{middle:05d}_000.art"], "file_page_art")
            timed(client, [f"/e/mu2e/campaign/{campaign_id}/data_flow"], "data_flow_page")
            timed(client, ["/api/v1/experiments/mu2e/files/mu2e_reco.1_00003.fcl/provenance"],
                  "provenance_api")


if __name__ == "__main__":
    main()
