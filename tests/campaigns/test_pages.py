"""The campaign pages, driven through the test client as a signed-in person would."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from app.campaigns.graph import drawings
from app.extensions import db
from app.models import AuditEntry, Campaign, CampaignStage, JobType, Submission
from tests.fixtures.app import EXAMPLES, csrf_token, signed_in

TUTORIAL = EXAMPLES / "mu2e_reco_tutorial.ini"


@pytest.fixture
def alice(client, member):
    member("mu2e", "alice", "analysis")
    return signed_in(client, "alice")


def upload(client, path_or_text, name="campaign.ini", experiment="mu2e", preview=False):
    data = path_or_text.read_bytes() if hasattr(path_or_text, "read_bytes") else path_or_text
    token = csrf_token(client, f"/e/{experiment}/campaigns/upload")
    url = f"/e/{experiment}/campaigns/upload" + ("/preview" if preview else "")
    return client.post(
        url,
        data={"csrf_token": token, "ini_file": (io.BytesIO(_bytes(data)), name)},
        content_type="multipart/form-data",
    )


def _bytes(data) -> bytes:
    return data.encode() if isinstance(data, str) else data


def campaign_named(name: str) -> Campaign:
    return db.session.scalar(select(Campaign).where(Campaign.name == name))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def text(response) -> str:
    return response.get_data(as_text=True)


def table(response) -> str:
    """The campaign table alone (flash messages elsewhere also name campaigns)."""
    page = text(response)
    return page[page.index('<table class="list">'):]


def test_upload_preview_shows_the_campaign_and_writes_nothing(alice):
    response = upload(alice, TUTORIAL, preview=True)
    page = text(response)
    assert response.status_code == 200
    assert "New campaign" in page and "srsoleti_tutorial" in page
    assert "reco_fcl" in page and "generate_fcl_reco_srsoleti_jobtype" in page
    assert 'name="ini_text"' in page  # the confirm form carries the file
    assert count(Campaign) == 0


def test_upload_stores_the_campaign_and_its_graph_links_each_stage(alice):
    response = upload(alice, TUTORIAL)
    assert response.status_code == 302
    campaign = campaign_named("srsoleti_tutorial")
    assert campaign.owner.username == "alice"
    assert [s.name for s in campaign.stages] == ["reco_fcl", "reco"]
    page = text(alice.get(response.location))
    assert "<svg" in page
    for stage in campaign.stages:
        assert f'xlink:href="/e/mu2e/stage/{stage.id}"' in page
    assert "%.fcl" in page  # the dependency's file pattern labels the edge


def test_the_graph_is_drawn_once_per_campaign_version_and_afresh_after_a_change(alice):
    """Graphviz is the campaign page's largest cost: a drawing is reused while the campaign
    is the same, and never shown once the campaign changed."""
    upload(alice, TUTORIAL)
    url = f"/e/mu2e/campaign/{campaign_named('srsoleti_tutorial').id}"

    def graph() -> str:
        page = text(alice.get(url))
        return page[page.index("<svg"):page.index("</svg>")]

    first = graph()
    assert "%.fcl<" in first
    drawn = drawings.drawn
    assert graph() == first and drawings.drawn == drawn  # the same version: reused
    changed = TUTORIAL.read_text().replace("file_pattern_1 = %.fcl",
                                           "file_pattern_1 = %.reco.fcl")
    assert upload(alice, changed).status_code == 302
    second = graph()
    assert "%.reco.fcl" in second and "%.fcl<" not in second  # the new version, at once
    assert drawings.drawn == drawn + 1


def test_upload_with_errors_lists_every_problem_and_writes_nothing(alice):
    # (140 and an unknown split type would be kept with a warning, as the original keeps
    # them: values it cannot store are refused.)
    bad = TUTORIAL.read_text().replace("completion_pct=100", "completion_pct=all").replace(
        "output_ancestor_depth=1", "output_ancestor_depth=deep"
    )
    response = upload(alice, bad, name="broken.ini", preview=True)
    page = text(response)
    assert "2 problems" in page
    assert "broken.ini" in page and "completion_pct" in page and "output_ancestor_depth" in page
    assert upload(alice, bad, name="broken.ini").status_code == 422
    assert count(Campaign) == 0 and count(JobType) == 0


def test_upload_for_another_experiment_is_refused_with_the_reason(alice):
    page = text(upload(alice, EXAMPLES / "poms-samples" / "sample_reco.ini", preview=True))
    assert "is for experiment &#39;sample&#39;" in page
    assert count(Campaign) == 0


def test_reupload_updates_in_place_after_showing_the_changes(alice):
    upload(alice, TUTORIAL)
    changed = TUTORIAL.read_text().replace(
        "[campaign_stage reco]\n", "[campaign_stage reco]\ncompletion_pct = 90\n"
    ).replace("output_file_patterns = %.art", "output_file_patterns = %.art,%.root")
    page = text(upload(alice, changed, preview=True))
    assert "Update campaign" in page
    assert "completion_pct" in page and "90" in page
    assert "mu2e_reco_srsoleti_jobtype" in page  # the shared job type whose content differs
    assert upload(alice, changed).status_code == 302
    assert count(Campaign) == 1
    stage = db.session.scalar(select(CampaignStage).where(CampaignStage.name == "reco"))
    assert stage.completion_pct == 90
    assert stage.job_type.output_file_patterns == "%.art,%.root"
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"campaign created", "campaign updated", "job type changed"} <= actions


def test_campaign_list_searches_by_name_and_tag_and_filters_state(alice):
    for name, tags, state in [("alpha_one", "mdc,reco", "Active"), ("beta_two", "mdc", "Active"),
                              ("gamma_old", "reco", "Inactive")]:
        ini = TUTORIAL.read_text().replace("name = srsoleti_tutorial",
                                           f"name = {name}\ntags = {tags}\nstate = {state}")
        assert upload(alice, ini).status_code == 302
    listing = table(alice.get("/e/mu2e/campaigns"))
    assert "alpha_one" in listing and "beta_two" in listing and "gamma_old" not in listing
    by_name = text(alice.get("/e/mu2e/campaigns?q=two&state=All"))
    assert "beta_two" in by_name and "alpha_one" not in by_name
    by_tag = text(alice.get("/e/mu2e/campaigns?tag=reco&state=All"))
    assert "alpha_one" in by_tag and "gamma_old" in by_tag and "beta_two" not in by_tag
    fragment = alice.get("/e/mu2e/campaigns?q=alpha",
                         headers={"HX-Request": "true", "HX-Target": "campaign-table"})
    assert "<html" not in text(fragment) and "alpha_one" in text(fragment)
    # A '%' typed in the search box is a character, not a wildcard.
    assert "No campaign matches" in text(alice.get("/e/mu2e/campaigns?q=%25&state=All"))


def test_campaign_list_is_paged(app, alice):
    app.config["POMS_PAGE_SIZE"] = 2
    for i in range(5):
        ini = TUTORIAL.read_text().replace("name = srsoleti_tutorial", f"name = paged_{i}")
        upload(alice, ini)
    first = table(alice.get("/e/mu2e/campaigns"))
    assert "paged_0" in first and "paged_1" in first and "paged_2" not in first
    assert "page 1 of 3" in first
    last = table(alice.get("/e/mu2e/campaigns?page=3"))
    assert "paged_4" in last and "paged_0" not in last


def stage_id(name: str) -> int:
    return db.session.scalar(select(CampaignStage.id).where(CampaignStage.name == name))


def edit_stage(client, name: str, key: str, value: str):
    sid = stage_id(name)
    token = csrf_token(client, f"/e/mu2e/stage/{sid}")
    return client.post(
        f"/e/mu2e/stage/{sid}/field/{key}",
        data={"value": value, "csrf_token": token},
        headers={"HX-Request": "true"},
    )


def test_stage_field_edit_is_validated_by_the_importer(alice):
    upload(alice, TUTORIAL)
    good = edit_stage(alice, "reco", "completion_pct", "80")
    assert 'class="error"' not in text(good) and "80" in text(good)
    assert db.session.get(CampaignStage, stage_id("reco")).completion_pct == 80

    bad = edit_stage(alice, "reco", "completion_pct", "180")
    assert 'class="error"' in text(bad) and "100" in text(bad)
    bad_json = edit_stage(alice, "reco", "param_overrides", '[["--stage ", ')
    assert 'class="error"' in text(bad_json)
    loop = edit_stage(alice, "reco_fcl", "job_type", "no_such_type")
    assert "no_such_type" in text(loop) and 'class="error"' in text(loop)
    stage = db.session.get(CampaignStage, stage_id("reco"))
    db.session.refresh(stage)
    assert stage.completion_pct == 80
    assert stage.param_overrides == [["--stage ", "reco"]]


def test_stage_can_switch_to_another_shared_job_type(alice):
    upload(alice, TUTORIAL)
    response = edit_stage(alice, "reco_fcl", "job_type", "mu2e_reco_srsoleti_jobtype")
    assert 'class="error"' not in text(response)
    stage = db.session.get(CampaignStage, stage_id("reco_fcl"))
    db.session.refresh(stage)
    assert stage.job_type.name == "mu2e_reco_srsoleti_jobtype"
    # The job type no stage uses any more still exists: it is shared by the experiment.
    assert db.session.scalar(
        select(JobType).where(JobType.name == "generate_fcl_reco_srsoleti_jobtype")
    )


def test_export_downloads_an_ini_that_imports_back(alice):
    upload(alice, TUTORIAL)
    campaign = campaign_named("srsoleti_tutorial")
    response = alice.get(f"/e/mu2e/campaign/{campaign.id}/export")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    exported = text(response)
    assert "[campaign_stage reco_fcl]" in exported and "file_pattern_1 = %.fcl" in exported
    page = text(upload(alice, exported, preview=True))
    assert "Nothing: the campaign already says exactly this." in page


def test_clone_under_a_new_name_shares_the_definitions(alice):
    upload(alice, TUTORIAL)
    campaign = campaign_named("srsoleti_tutorial")
    token = csrf_token(alice, f"/e/mu2e/campaign/{campaign.id}")
    response = alice.post(f"/e/mu2e/campaign/{campaign.id}/clone",
                          data={"new_name": "tutorial_copy", "csrf_token": token})
    assert response.status_code == 302
    copy = campaign_named("tutorial_copy")
    assert [s.name for s in copy.stages] == ["reco_fcl", "reco"]
    assert copy.stages[1].parent_links[0].parent.name == "reco_fcl"
    assert count(JobType) == 2  # shared, not copied
    again = alice.post(f"/e/mu2e/campaign/{campaign.id}/clone",
                       data={"new_name": "tutorial_copy", "csrf_token": token},
                       follow_redirects=True)
    assert "already exists" in text(again)


def test_delete_only_a_campaign_that_never_launched(alice):
    upload(alice, TUTORIAL)
    campaign = campaign_named("srsoleti_tutorial")
    cid = campaign.id
    db.session.add(Submission(campaign_stage_id=campaign.stages[0].id))
    db.session.commit()
    token = csrf_token(alice, f"/e/mu2e/campaign/{cid}")
    refused = alice.post(f"/e/mu2e/campaign/{cid}/delete", data={"csrf_token": token},
                         follow_redirects=True)
    assert "has launched" in text(refused)
    assert db.session.get(Campaign, cid) is not None

    db.session.execute(Submission.__table__.delete())
    db.session.commit()
    done = alice.post(f"/e/mu2e/campaign/{cid}/delete", data={"csrf_token": token})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, cid) is None
    assert count(CampaignStage) == 0


def test_job_type_page_edits_and_clones(alice):
    upload(alice, TUTORIAL)
    jt = db.session.scalar(select(JobType).where(JobType.name == "mu2e_reco_srsoleti_jobtype"))
    page = text(alice.get(f"/e/mu2e/job_type/{jt.id}"))
    assert "srsoleti_tutorial / reco" in page  # who uses it
    token = csrf_token(alice, f"/e/mu2e/job_type/{jt.id}")
    bad = alice.post(f"/e/mu2e/job_type/{jt.id}/field/recoveries",
                     data={"value": '[["sometimes", []]]', "csrf_token": token})
    assert 'class="error"' in text(bad) and "sometimes" in text(bad)
    good = alice.post(f"/e/mu2e/job_type/{jt.id}/field/recoveries",
                      data={"value": '[["consumed_status", []]]', "csrf_token": token})
    assert 'class="error"' not in text(good)
    db.session.refresh(jt)
    assert jt.recoveries == [["consumed_status", []]]
    cloned = alice.post(f"/e/mu2e/job_type/{jt.id}/clone",
                        data={"new_name": "my_reco", "csrf_token": token})
    assert cloned.status_code == 302
    copy = db.session.scalar(select(JobType).where(JobType.name == "my_reco"))
    assert copy.recoveries == [["consumed_status", []]] and copy.creator.username == "alice"


def test_pages_escape_what_users_wrote(alice):
    ini = TUTORIAL.read_text().replace(
        "name = srsoleti_tutorial", "name = x<script>alert(1)</script>"
    )
    response = upload(alice, ini)
    page = text(alice.get(response.location))
    assert "<script>alert(1)</script>" not in page
    assert "x&lt;script&gt;" in page


def test_state_changing_posts_need_the_csrf_token(alice):
    upload(alice, TUTORIAL)
    campaign = campaign_named("srsoleti_tutorial")
    response = alice.post(f"/e/mu2e/campaign/{campaign.id}/delete")
    assert response.status_code == 400
    assert db.session.get(Campaign, campaign.id) is not None


def test_another_experiments_campaign_is_not_reachable(client, member):
    member("mu2e", "alice", "analysis")
    member("dune", "bob", "superuser")
    signed_in(client, "alice")
    upload(client, TUTORIAL)
    cid = campaign_named("srsoleti_tutorial").id
    client.post("/logout", data={"csrf_token": csrf_token(client, "/e/mu2e/campaigns")})
    signed_in(client, "bob")
    assert client.get(f"/e/mu2e/campaign/{cid}").status_code == 403
    assert client.get(f"/e/dune/campaign/{cid}").status_code == 404
    assert client.get(f"/e/dune/stage/{stage_id('reco')}").status_code == 404


def test_dev_sign_in_shows_the_banner_and_refuses_strangers(client, member):
    member("mu2e", "alice", "analysis")
    page = text(client.get("/login"))
    assert "Development sign-in" in page
    token = csrf_token(client)
    refused = client.post("/login", data={"username": "mallory", "csrf_token": token})
    assert refused.status_code == 401 and "not registered" in text(refused)
    page = text(signed_in(client, "alice").get("/e/mu2e/campaigns"))
    assert re.search(r"Development sign-in", page)
