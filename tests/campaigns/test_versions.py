"""Every version of a campaign, driven through the pages as a person would: each save makes
a version with who, when and why; two versions compared field by field; a version
downloaded; a rollback through the upload's preview putting the campaign back exactly;
and the preview's account of what a change does to the launches."""
from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import select

from app.campaigns import store, versions
from app.campaigns.ini import export_ini
from app.extensions import db
from app.models import (
    AuditEntry,
    Campaign,
    CampaignStage,
    CampaignVersion,
    JobType,
    StageDependency,
    StageLaunchSettings,
    Submission,
)
from tests.fixtures.app import EXAMPLES, csrf_token, signed_in

TUTORIAL = (EXAMPLES / "mu2e_reco_tutorial.ini").read_text().replace(
    "poms_role = analysis", "poms_role = production")
# The same campaign with reco's job type running another configuration.
CHANGED = TUTORIAL.replace(
    'parameters = [["-c ", "/mu2e/app/users/srsoleti/tutorial/reco.cfg"]]\n'
    "output_file_patterns = %.art",
    'parameters = [["-c ", "/mu2e/app/users/srsoleti/tutorial/reco_v2.cfg"]]\n'
    "output_file_patterns = %.art")
assert CHANGED != TUTORIAL


@pytest.fixture
def prod(client, member):
    member("mu2e", "pat", "production")
    return signed_in(client, "pat")


def text(response) -> str:
    return response.get_data(as_text=True)


def upload(client, ini: str, reason: str = "", **extra):
    token = csrf_token(client, "/e/mu2e/campaigns/upload")
    return client.post("/e/mu2e/campaigns/upload", data={
        "csrf_token": token, "ini_text": ini, "filename": "t.ini", "reason": reason, **extra})


def campaign() -> Campaign:
    db.session.expire_all()
    return db.session.scalar(select(Campaign).where(Campaign.name == "srsoleti_tutorial"))


def history() -> list[CampaignVersion]:
    return versions.history(campaign())


def rows_of(row: Campaign) -> dict:
    """The campaign's database rows as values (ids kept: a rollback updates in place)."""
    def plain(obj, skip=("updated", "created")):
        return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in skip}
    stages = db.session.scalars(select(CampaignStage).where(
        CampaignStage.campaign_id == row.id).order_by(CampaignStage.id)).all()
    return {
        "campaign": plain(row), "tags": row.tags,
        "stages": [plain(s) for s in stages],
        "dependencies": [plain(d) for d in db.session.scalars(
            select(StageDependency).where(StageDependency.child_id.in_([s.id for s in stages]))
            .order_by(StageDependency.id))],
        "job_types": [plain(j) for j in db.session.scalars(
            select(JobType).where(JobType.id.in_([s.job_type_id for s in stages]))
            .order_by(JobType.id))],
    }


def edit_in_editor(client, row: Campaign, operations: list, reason: str = ""):
    token = csrf_token(client, f"/e/mu2e/campaign/{row.id}/editor")
    return client.post(f"/e/mu2e/campaign/{row.id}/editor/save", data={
        "csrf_token": token, "operations": json.dumps(operations), "reason": reason})


def test_each_save_on_the_pages_makes_a_version_with_who_when_and_why(prod):
    assert upload(prod, TUTORIAL, reason="first production pass").status_code == 302
    row = campaign()
    # A field edit on the campaign page, then the editor.
    token = csrf_token(prod, f"/e/mu2e/campaign/{row.id}")
    assert prod.post(f"/e/mu2e/campaign/{row.id}/field/state",
                     data={"csrf_token": token, "value": "Inactive"}).status_code == 200
    assert edit_in_editor(prod, row, [{"op": "set_fields", "stage": "reco",
                                       "fields": {"completion_pct": "80"}}],
                          reason="reco finishes at 80%").status_code in (200, 302)
    # An upload that changes nothing makes no version.
    assert upload(prod, export_ini(store.spec_from_campaign(campaign()))).status_code == 302

    found = [(v.number, v.source, versions.who_of(v), v.reason) for v in history()]
    assert found == [(3, "editor", "pat", "reco finishes at 80%"),
                     (2, "page", "pat", ""),
                     (1, "upload", "pat", "first production pass")]
    page = text(prod.get(f"/e/mu2e/campaign/{row.id}/versions"))
    assert "reco finishes at 80%" in page and "first production pass" in page
    assert page.count('data-version="') == 3


def test_versions_diff_says_what_changed_field_by_field(prod):
    upload(prod, TUTORIAL)
    upload(prod, CHANGED.replace("completion_pct=100", "completion_pct=90"), reason="v2 cfg")
    row = campaign()
    page = text(prod.get(f"/e/mu2e/campaign/{row.id}/versions/diff?from=1&to=2"))
    table = page[page.index('id="version-changes"'):]
    assert re.search(r"<td>job type changed</td><td>mu2e_reco_srsoleti_jobtype</td>"
                     r"<td>parameters</td>", table)
    assert "reco_v2.cfg" in table and "tutorial/reco.cfg" in table
    # completion_pct changed in [campaign_defaults]: both stages and the default.
    assert re.search(r"<td>field changed</td><td>reco</td><td>completion_pct</td>\s*"
                     r"<td><code>100</code></td><td><code>90</code></td>", table)
    assert "-completion_pct = 100" in page and "+completion_pct = 90" in page


def test_a_version_downloads_as_the_ini_it_was(prod):
    upload(prod, TUTORIAL)
    first = export_ini(store.spec_from_campaign(campaign()))
    upload(prod, CHANGED)
    row = campaign()
    got = prod.get(f"/e/mu2e/campaign/{row.id}/versions/1/export")
    assert got.status_code == 200
    assert 'filename="srsoleti_tutorial.v1.ini"' in got.headers["Content-Disposition"]
    assert text(got) == first
    assert prod.get(f"/e/mu2e/campaign/{row.id}/versions/9/export").status_code == 404


def test_rollback_through_the_upload_preview_restores_the_campaign_exactly(prod):
    upload(prod, TUTORIAL)
    row = campaign()
    before_text = export_ini(store.spec_from_campaign(row))
    before_rows = rows_of(row)
    # Many kinds of change: the job type, a stage field, a tag, a new stage depending on reco.
    upload(prod, CHANGED)
    edit_in_editor(prod, row, [
        {"op": "set_fields", "stage": "reco_fcl", "fields": {"completion_pct": "50"}},
        {"op": "add_stage", "name": "ana", "fields": {}},
        {"op": "add_dependency", "child": "ana", "parent": "reco", "file_pattern": "%.art"}])
    token = csrf_token(prod, f"/e/mu2e/campaign/{row.id}")
    prod.post(f"/e/mu2e/campaign/{row.id}/field/tags", data={"csrf_token": token,
                                                            "value": "mdc2020"})
    assert export_ini(store.spec_from_campaign(campaign())) != before_text
    assert [v.number for v in history()] == [4, 3, 2, 1]

    preview = text(prod.get(f"/e/mu2e/campaign/{row.id}/versions/1/rollback"))
    assert "Stage &#39;ana&#39; is removed." in preview
    assert "reco_v2.cfg" in preview  # the job type change it undoes
    assert 'name="rollback_of" value="1"' in preview
    ini_text = re.search(r'<textarea name="ini_text" hidden>(.*?)</textarea>', preview,
                         re.S).group(1)
    ini_text = ini_text.replace("&#34;", '"').replace("&#39;", "'").replace(
        "&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert campaign() is not None and len(history()) == 4  # the preview wrote nothing

    saved = upload(prod, ini_text, reason="v2 cfg broke reco", rollback_of="1")
    assert saved.status_code == 302
    row = campaign()
    assert export_ini(store.spec_from_campaign(row)) == before_text
    assert rows_of(row) == before_rows
    newest = history()[0]
    assert (newest.number, newest.source, newest.reason) == (
        5, "rollback", "rolled back to version 1: v2 cfg broke reco")
    assert newest.ini_text == history()[-1].ini_text
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.experimenter.username, entry.subject) == (
        "campaign rolled back", "pat", "srsoleti_tutorial")
    assert entry.after["job_types"]["mu2e_reco_srsoleti_jobtype"]["parameters"] == [
        ["-c ", "/mu2e/app/users/srsoleti/tutorial/reco.cfg"]]


def test_the_preview_shows_each_next_launch_before_and_after_and_what_it_touches(prod):
    upload(prod, TUTORIAL)
    row = campaign()
    reco = next(s for s in row.stages if s.name == "reco")
    db.session.add(StageLaunchSettings(campaign_stage_id=reco.id, schedule="0 */6 * * *"))
    first = Submission(campaign_stage_id=reco.id, experiment_id=row.experiment_id,
                       state="Completed")
    db.session.add(first)
    db.session.flush()
    db.session.add(Submission(campaign_stage_id=reco.id, experiment_id=row.experiment_id,
                              state="Running", recovery_of_id=first.id))
    db.session.commit()

    token = csrf_token(prod, "/e/mu2e/campaigns/upload")
    page = text(prod.post("/e/mu2e/campaigns/upload/preview", data={
        "csrf_token": token, "ini_file": (io.BytesIO(CHANGED.encode()), "t.ini")},
        content_type="multipart/form-data"))
    impact = page[page.index('aria-label="impact on launches"'):]
    # reco's next launch runs the new configuration; reco_fcl's job type did not change.
    assert 'data-stage="reco"' in impact and 'data-stage="reco_fcl"' not in impact
    assert re.search(r"^-.*tutorial/reco\.cfg", impact, re.M)
    assert re.search(r"^\+.*tutorial/reco_v2\.cfg", impact, re.M)
    assert "stage reco (0 */6 * * *)" in impact
    assert "(Running, recovery)" in impact
    assert len(history()) == 1  # the dry run saved nothing
    assert "reco_v2.cfg" not in export_ini(store.spec_from_campaign(campaign()))


def test_the_editor_preview_shows_the_impact_and_removing_a_stage(prod):
    upload(prod, TUTORIAL)
    row = campaign()
    token = csrf_token(prod, f"/e/mu2e/campaign/{row.id}/editor")
    # The draft as the page carries it; no new operation: the editor drawn with its preview.
    page = text(prod.post(f"/e/mu2e/campaign/{row.id}/editor", data={
        "csrf_token": token, "operations": json.dumps([{
            "op": "set_fields", "stage": "reco",
            "fields": {"param_overrides": '[["--stage ", "reco2"]]'}}])}))
    impact = page[page.index('aria-label="impact on launches"'):]
    assert re.search(r"^\+.*reco2", impact, re.M)
    assert 'id="change-reason"' in page


def test_rollback_is_refused_to_who_may_not_change_the_campaign(prod, client, member):
    upload(prod, TUTORIAL)
    upload(prod, CHANGED)
    row = campaign()
    member("mu2e", "ann", "analysis")
    signed_in(client, "ann")  # the same client, now ann
    assert client.get(f"/e/mu2e/campaign/{row.id}/versions").status_code == 200
    assert client.get(f"/e/mu2e/campaign/{row.id}/versions/1/rollback").status_code == 403
    version_one = versions.version(row, 1).ini_text
    assert upload(client, version_one, rollback_of="1").status_code == 403
    assert len(history()) == 2
    assert "reco_v2.cfg" in export_ini(store.spec_from_campaign(campaign()))


def test_a_campaign_stored_before_versions_were_kept_gets_its_first_when_seen(prod):
    upload(prod, TUTORIAL)
    row = campaign()
    db.session.execute(CampaignVersion.__table__.delete())
    db.session.commit()
    page = text(prod.get(f"/e/mu2e/campaign/{row.id}/versions"))
    assert page.count('data-version="') == 1 and "as found" in page
    assert history()[0].ini_text == export_ini(store.spec_from_campaign(campaign()))
    # A job type changed on its own page: the next save records it first, by no one.
    jt = db.session.scalar(select(JobType).where(JobType.name == "mu2e_reco_srsoleti_jobtype"))
    jt.output_file_patterns = "%.root"
    db.session.commit()
    upload(prod, TUTORIAL.replace("completion_pct=100", "completion_pct=99"))
    found = [(v.number, v.source) for v in history()]
    assert found == [(3, "upload"), (2, "found"), (1, "found")]
