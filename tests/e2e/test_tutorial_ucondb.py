"""The proof of issue 6 on the Mu2e tutorial campaign: it runs end to end through UconDB.

The shared tutorial (../shared/examples/mu2e_reco_tutorial.ini), pointed at the demo cfg as
in test_mu2e_tutorial.py, on the embedded default: real Redis, real RQ workers, the local
batch engine, and this POMS served live (live_server_factory) with its embedded UconDB as
POMS_UCONDB_URL. reco_fcl writes K FCL files; each finished job's `uploads` job stores them
in folder <dataset with _>; the catalogue's location of each is the UconDB one; reco
launches only then, and its jobs fetch their FCL file from UconDB over HTTP.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from app.catalog.embedded import EmbeddedCatalog
from app.extensions import db
from app.models import Job
from app.ucondb.client import UconDBClient
from app.ucondb.fcl import file_url
from app.ucondb.jobs import fcl_dataset
from app.ucondb.naming import folder_for_dataset
from tests.e2e.support import UCONDB_DATABASE as DATABASE
from tests.e2e.support import submissions as subs_of
from tests.e2e.support import tutorial_through_ucondb
from tests.fixtures.app import signed_in

pytestmark = pytest.mark.e2e

K = 3


def job_dir(app, batch_job_id: str) -> Path:
    cluster, proc = batch_job_id.split("@")[0].split(".")
    return Path(app.config["POMS_BATCH_DIR"]) / "clusters" / cluster / proc


def test_tutorial_fcl_files_go_through_ucondb(launch_app, live_server_factory):
    app = launch_app
    _server, campaign, first = tutorial_through_ucondb(app, live_server_factory, K)

    catalog = EmbeddedCatalog(db.session, "mu2e")
    fcl_files = sorted(catalog.list_files(f"poms_task_id '{first.id}' and file_name like '%.fcl'"))
    assert len(fcl_files) == K
    ucon = UconDBClient.from_config(app.config)
    host = ucon.host
    written = {}
    for job in db.session.scalars(select(Job).where(Job.submission_id == first.id)):
        for path in (job_dir(app, job.batch_job_id) / "work").glob("*.fcl"):
            written[path.name] = path.read_bytes()  # what the job wrote
    assert sorted(written) == fcl_files

    for name in fcl_files:
        # In folder <dataset with _>, as an object keyed by its file name, the right bytes,
        # one version.
        folder = folder_for_dataset(fcl_dataset(name))
        assert folder == "mu2e_reco_fcl"
        assert name in ucon.objects(folder)
        assert ucon.get_data(folder, name, key=name) == written[name]
        assert len(ucon.versions(folder, name)) == 1
        # The catalogue's location (its only one) points at it.
        location = f"{host}:/ucondb/{DATABASE}/app/data/{folder}"
        assert catalog.locate(name) == [location]
        fetched = requests.get(file_url(location, name, app.config["POMS_UCONDB_URL"]),
                               timeout=30)
        assert fetched.status_code == 200 and fetched.content == written[name]

    # reco launched on them, and its jobs read each FCL file from UconDB.
    reco = subs_of(campaign, "reco")[0]
    assert reco.origin == f"parent {first.id}"
    listed = json.loads((Path(app.config["POMS_LAUNCH_DIR"]) / str(reco.id)
                         / "poms_inputs.json").read_text())
    assert {f["name"]: f["location"] for f in listed["files"]} == {
        n: f"{host}:/ucondb/{DATABASE}/app/data/mu2e_reco_fcl" for n in fcl_files}
    read = {}
    for job in db.session.scalars(select(Job).where(Job.submission_id == reco.id)):
        assert job.state == "Completed"
        here = job_dir(app, job.batch_job_id)
        stdout = (here / "stdout").read_text()
        (art,) = (here / "work").glob("*.art")
        fcl = art.name[:-4] + ".fcl"
        url = file_url(f"{host}:/ucondb/{DATABASE}/app/data/mu2e_reco_fcl", fcl,
                       app.config["POMS_UCONDB_URL"])
        assert f"fetched {fcl} from {url}" in stdout
        # The .art file carries the checksum of the FCL file the job read.
        assert hashlib.sha1(written[fcl]).hexdigest() in art.read_text()
        read[fcl] = True
    assert sorted(read) == fcl_files

    # The reco_fcl submission's page says where its FCL files went.
    client = signed_in(app.test_client(), "alice")
    page = client.get(f"/e/mu2e/submission/{first.id}").get_data(as_text=True)
    folder_link = (f'<a href="/ucondb/{DATABASE}/app/UI/folder?folder=mu2e_reco_fcl">'
                   'mu2e_reco_fcl</a>')
    assert f"{K} of {K} jobs' FCL files in UconDB (folder {folder_link})" in page
    # The link leads to the folder's page, listing the FCL files.
    folder_page = client.get(f"/ucondb/{DATABASE}/app/UI/folder?folder=mu2e_reco_fcl")
    assert folder_page.status_code == 200
    assert fcl_files[0] in folder_page.get_data(as_text=True)
