"""The provenance pages and API as a member sees them: a file's page with a generation too
big to show whole, a clear answer for a file that is not there, and the data flow."""
from __future__ import annotations

from app.auth.members import ensure_member, find_or_create_experiment
from app.auth.session import find_or_create_experimenter
from app.catalog.embedded import EmbeddedCatalog
from app.extensions import db
from tests.fixtures.app import signed_in
from tests.fixtures.launching import import_tutorial


def member_client(app):
    ensure_member(find_or_create_experiment("mu2e"), find_or_create_experimenter("alice"),
                  "analysis")
    db.session.commit()
    return signed_in(app.test_client(), "alice")


def test_a_file_page_shows_a_page_of_a_huge_generation_and_how_to_see_more(app):
    client = member_client(app)
    catalog = EmbeddedCatalog(db.session, "mu2e")
    catalog.declare_files([{"name": "root.fcl"}] + [
        {"name": f"child_{i:03d}.art", "parents": ["root.fcl"]} for i in range(60)])
    db.session.commit()
    page = client.get("/e/mu2e/file/root.fcl").get_data(as_text=True)
    assert page.count('href="/e/mu2e/file/child_') == 50
    assert "10 more not shown (nor followed further)." in page
    assert 'href="/e/mu2e/file/root.fcl?limit=200&amp;depth=20"' in page
    assert "No job of this experiment is recorded as its maker" in page
    assert "No input files" in page
    bigger = client.get("/e/mu2e/file/root.fcl?limit=200").get_data(as_text=True)
    assert bigger.count('href="/e/mu2e/file/child_') == 60 and "more not shown" not in bigger


def test_a_missing_file_or_a_bad_limit_is_said_so(app):
    client = member_client(app)
    missing = client.get("/e/mu2e/file/nothing.art")
    assert missing.status_code == 404
    assert "no file nothing.art in mu2e" in missing.get_data(as_text=True)
    assert client.get("/e/mu2e/file/nothing.art?limit=many").status_code == 400
    answer = client.get("/api/v1/experiments/mu2e/files/nothing.art/provenance")
    assert answer.status_code == 404
    assert answer.get_json()["error"] == "no file nothing.art in mu2e's catalogue"
    bad = client.get("/api/v1/experiments/mu2e/files/nothing.art/provenance?depth=deep")
    assert bad.status_code == 400
    assert bad.get_json()["error"] == "limit and depth: give whole numbers"


def test_the_data_flow_page_and_api_list_every_stage_with_its_source(app):
    tutorial = import_tutorial("alice")
    client = member_client(app)
    page = client.get(f"/e/mu2e/campaign/{tutorial.id}/data_flow").get_data(as_text=True)
    assert '<tr data-stage="reco_fcl">' in page and '<tr data-stage="reco">' in page
    assert "reco_fcl <code>%.fcl</code> (0 files)" in page
    show = client.get(f"/e/mu2e/campaign/{tutorial.id}").get_data(as_text=True)
    assert f'href="/e/mu2e/campaign/{tutorial.id}/data_flow"' in show
    answer = client.get(f"/api/v1/experiments/mu2e/campaigns/{tutorial.name}/data_flow")
    assert answer.get_json()["stages"][1] == {
        "stage": "reco", "files_in": 0, "processed": 0, "files_out": 0, "to_process": 0,
        "note": "", "sources": [{"stage": "reco_fcl", "pattern": "%.fcl", "matching": 0}]}
