"""The pages: a stage's ledger, a submission's recovery preview with the files and why,
Force Located, Recover now and Mark to process again, as a signed-in owner would use them."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.catalog.embedded import EmbeddedCatalog
from app.extensions import db
from app.models import AuditEntry, Submission
from tests.chaining.support import fcl_done, finished, report, stage
from tests.fixtures.app import csrf_token, signed_in


def text(response) -> str:
    return response.get_data(as_text=True)


def failed_reco(tutorial, app, tmp_path):
    _fcl, names = fcl_done(tutorial, app, n=3)
    catalog = EmbeddedCatalog(db.session, "mu2e")
    catalog.create_list_definition("three_fcl", names)
    db.session.commit()
    reco = finished(tutorial, "reco", app, dataset="three_fcl", tmp_path=tmp_path)
    report(catalog, reco, "9.0@local", consumed=[names[0]], outputs=["d0.art"])
    report(catalog, reco, "9.1@local", failed=[names[1]])
    return reco, names


def test_stage_page_shows_a_ledger_that_adds_up(client, tutorial, launch_app, tmp_path):
    reco, _names = failed_reco(tutorial, launch_app, tmp_path)
    signed_in(client, "alice")
    sid = stage(tutorial, "reco").id
    assert f"/e/mu2e/stage/{sid}/ledger" in text(client.get(f"/e/mu2e/stage/{sid}"))
    fragment = text(client.get(f"/e/mu2e/stage/{sid}/ledger"))
    numbers = dict(re.findall(r'data-ledger="(\w+)">(\d+)<', fragment))
    assert numbers == {"input": "3", "processed": "1", "in_flight": "2", "failed": "0",
                       "skipped": "0"}


def test_force_located_then_recover_and_reprocess_from_the_submission_page(
        client, tutorial, launch_app, tmp_path):
    reco, names = failed_reco(tutorial, launch_app, tmp_path)
    signed_in(client, "alice")
    page = f"/e/mu2e/submission/{reco.id}"
    assert f"{page}/recovery" in text(client.get(page))
    fragment = text(client.get(f"{page}/recovery"))
    assert "Force Located" in fragment
    assert "proj_status (position 1)" in fragment
    assert names[1] in fragment and "failed in 9.1@local (process bad), never consumed" in fragment
    assert names[2] in fragment and f"never delivered in project poms_{reco.id}" in fragment

    token = csrf_token(client, page)
    response = client.post(f"{page}/force-located", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Submission, reco.id).state == "Located"
    (recovery,) = db.session.scalars(select(Submission).where(
        Submission.recovery_of_id == reco.id))
    catalog = EmbeddedCatalog(db.session, "mu2e")
    assert sorted(catalog.list_files(f"defname: {recovery.dataset}")) == sorted(names[1:])
    fragment = text(client.get(f"{page}/recovery"))
    assert f"submission {recovery.id}" in fragment and "Force Located" not in fragment

    # Marking a file that is not an input is refused; an input file is marked (audited).
    client.post(f"{page}/reprocess", data={"csrf_token": token, "files": "other.fcl"})
    assert "not input files" in text(client.get(page))
    response = client.post(f"{page}/reprocess", data={
        "csrf_token": token, "files": names[0], "reason": "bad calibration"})
    assert response.status_code == 302
    fragment = text(client.get(f"{page}/recovery"))
    assert "Marked to process again" in fragment and "bad calibration" in fragment
    assert db.session.scalar(select(AuditEntry.id).where(
        AuditEntry.action == "files marked to process again")) is not None
