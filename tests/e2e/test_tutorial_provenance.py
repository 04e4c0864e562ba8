"""Provenance on the Mu2e tutorial run for real (issue 18): reco_fcl's jobs write FCL files,
the uploads store them in this POMS's embedded UconDB, reco's jobs read them from there and
make .art files. Then a reco output traces back to its FCL file in UconDB (folder, version,
location) and the FCL file forward to it: in the domain, through `poms file` against the live
server, in the data flow, and in Chromium, by clicks from the submission's jobs."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Job
from app.models.catalog import CatalogFile
from app.models.chaining import JobOutput
from app.provenance import flow, lineage
from app.ucondb.client import UconDBClient
from tests.e2e.support import REPO, tutorial_through_ucondb
from tests.e2e.support import UCONDB_DATABASE as DATABASE
from tests.e2e.support import submissions as subs_of
from tests.overview.support import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

K = 2
FOLDER = "mu2e_reco_fcl"


def poms(server_url: str, tmp_path, *args: str) -> str:
    """The `poms` command of this checkout, as a user types it, against the live server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POMS_")}
    env.update(PYTHONPATH=str(REPO), POMS_CONFIG=str(tmp_path / "no-config.ini"),
               POMS_SERVER=server_url, POMS_EXPERIMENT="mu2e", POMS_USER="alice")
    done = subprocess.run([sys.executable, "-m", "poms_client.cli", *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_reco_output_traces_back_to_its_fcl_file_in_ucondb(launch_app, live_server_factory,
                                                             page, tmp_path):
    app = launch_app
    server, campaign, first = tutorial_through_ucondb(app, live_server_factory, K)
    (reco,) = subs_of(campaign, "reco")
    arts = sorted(db.session.scalars(
        select(CatalogFile.name).join(JobOutput, JobOutput.file_id == CatalogFile.id)
        .where(JobOutput.submission_id == reco.id)))
    assert len(arts) == K and all(a.endswith(".art") for a in arts)
    art = arts[0]
    fcl = art[:-4] + ".fcl"  # the demo's reco names its output after the FCL file it read

    # Back from the .art file: reco's job, as launched, then its FCL file and no further.
    trace = lineage.file_provenance("mu2e", art)
    made = trace.producer
    assert (made.submission_id, made.stage, made.campaign) == (reco.id, "reco", campaign.name)
    assert made.snapshots and made.job_type_as_launched["name"] == "mu2e_reco_srsoleti_jobtype"
    assert made.login_setup_as_launched["name"] == "srsoleti_poms_login"
    assert "--stage reco" in ["".join(p) for p in lineage.parameters_as_launched(made)]
    assert made.command and "--stage" in made.command
    assert [[(f.name, f.stage, f.submission_id) for f in g.files] for g in trace.inputs] == [
        [(fcl, "reco_fcl", first.id)]]
    # The FCL file: made by reco_fcl, kept in UconDB, and the .art file was made from it.
    back = lineage.file_provenance("mu2e", fcl)
    ucon = UconDBClient.from_config(app.config)
    location = f"{ucon.host}:/ucondb/{DATABASE}/app/data/{FOLDER}"
    (version,) = ucon.versions(FOLDER, fcl)
    assert (back.ucondb.folder, back.ucondb.version, back.ucondb.location) == (
        FOLDER, version["id"], location)
    assert back.producer.stage == "reco_fcl" and back.inputs == []
    assert [[f.name for f in g.files] for g in back.outputs] == [[art]]

    # `poms file`: the same, as text and as JSON.
    text = poms(server.url, tmp_path, "file", fcl)
    assert f"UconDB: folder {FOLDER}, version {version['id']}, location {location}" in text
    assert f"stage reco_fcl of campaign {campaign.name}" in text
    assert f"made from it:\n  generation 1:\n    {art} (stage reco, submission {reco.id})" \
        in text
    text = poms(server.url, tmp_path, "file", art)
    assert f"inputs:\n  generation 1:\n    {fcl} (stage reco_fcl, submission {first.id})" \
        in text
    assert "login setup srsoleti_poms_login: poms_launcher@pomsgpvm01.fnal.gov" in text
    answer = json.loads(poms(server.url, tmp_path, "--json", "file", art))
    assert answer["made_by"]["stage_as_launched"]["name"] == "reco"
    assert answer["inputs"][0]["files"][0]["name"] == fcl

    # The data flow: everything reco_fcl made went through reco; nothing is left.
    rows = {r.stage: r for r in flow.campaign_flow(campaign)}
    assert (rows["reco_fcl"].files_in, rows["reco_fcl"].files_out,
            rows["reco_fcl"].to_process) == (0, K, 0)
    assert (rows["reco"].files_in, rows["reco"].processed, rows["reco"].files_out,
            rows["reco"].to_process) == (K, K, K, 0)
    table = poms(server.url, tmp_path, "data-flow", campaign.name)
    assert [line.split() for line in table.splitlines()[2:]] == [
        ["reco_fcl", "its", "dataset", "0", "0", str(K), "0"],
        ["reco", "reco_fcl", "%.fcl", str(K), str(K), str(K), "0"]]

    # In Chromium: from reco's jobs to a job's files, to the .art file, back to its FCL file
    # and on to its folder in UconDB.
    job = db.session.scalar(select(Job).join(JobOutput, JobOutput.job_id == Job.id)
                            .where(JobOutput.file_id == db.session.scalar(
                                select(CatalogFile.id).where(CatalogFile.name == art))))
    sign_in(page, server.url, "alice")
    page.goto(f"{server.url}/e/mu2e/submission/{reco.id}")
    page.locator(f"#submission-jobs-table tr[data-job='{job.batch_job_id}']").get_by_role(
        "link", name="files").click()
    page.locator("#job-outputs").get_by_role("link", name=art).click()
    made_by = page.locator("#made-by")
    assert f"submission {reco.id}" in made_by.inner_text()
    assert "--stage reco" in page.locator("#as-launched").inner_text()
    page.locator("#inputs").get_by_role("link", name=fcl).click()
    page.wait_for_url(f"**/file/{fcl}")
    assert page.locator("#ucondb-version").inner_text() == str(version["id"])
    assert art in page.locator("#outputs").inner_text()
    page.locator("#ucondb").get_by_role("link", name=FOLDER).click()
    page.wait_for_url("**/UI/folder?folder=mu2e_reco_fcl")
    assert fcl in page.content()
    # And the campaign's data flow, from its page.
    page.goto(f"{server.url}/e/mu2e/campaign/{campaign.id}")
    page.get_by_role("link", name="Data flow").click()
    reco_row = page.locator("#data-flow tr[data-stage='reco']")
    assert reco_row.locator(".to-process").inner_text() == "0"
    assert reco_row.locator(".files-out").inner_text() == str(K)
