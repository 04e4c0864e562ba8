"""Job types and login setups the experiment already holds, used by an uploaded file that
does not define them: through the store on a migrated database, and through the upload
page. (`poms import-ini` is in test_cli.py, the API's upload in tests/api.)"""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from app.auth.members import find_or_create_experiment
from app.auth.session import find_or_create_experimenter
from app.campaigns import store
from app.campaigns.ini import Change, export_ini, parse_ini
from app.campaigns.spec import InvalidCampaign
from app.extensions import db
from app.models import AuditEntry, Campaign, CampaignStage, JobType, LoginSetup
from tests.campaigns.support import MAKER, USER
from tests.fixtures.app import csrf_token, signed_in


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def stage_row(campaign: str, stage: str) -> CampaignStage:
    return db.session.scalar(
        select(CampaignStage).join(Campaign).where(Campaign.name == campaign,
                                                   CampaignStage.name == stage))


def import_text(text: str, experiment: str = "mu2e", filename: str = "file.ini"):
    """What an upload does, through the store: read, plan, save, commit."""
    exp = find_or_create_experiment(experiment)
    spec, warnings = store.read_ini(exp, text, filename)
    spec.experiment = experiment
    existing, changes = store.upload_plan(exp, spec)
    campaign = store.save_campaign(exp, spec, find_or_create_experimenter("alice"))
    db.session.commit()
    return campaign, warnings, changes


def without_section(text: str, header: str) -> str:
    """The INI text with one section taken out."""
    cut = re.sub(rf"^\[{re.escape(header)}\]\n(?:[^\[\n].*\n|\n)*", "", text, flags=re.M)
    assert cut != text, header
    return cut


# --- the store -----------------------------------------------------------------------


def test_stages_use_the_experiments_own_rows_and_the_warning_names_them(app):
    import_text(MAKER)
    mu2e = find_or_create_experiment("mu2e")
    spec, warnings = store.read_ini(mu2e, USER, "user.ini")
    assert set(spec.job_types) == {"reco_jt"} and spec.login_setups == {}
    assert [(w.section, w.key) for w in warnings] == [("campaign_defaults", "login_setup"),
                                                      ("campaign_stage sim", "job_type")]
    assert "stages 'sim', 'reco' will use experiment mu2e's login setup 'mc_ls'" \
        in warnings[0].reason
    assert "stage 'sim' will use experiment mu2e's job type 'mc_jt' as it is" \
        in warnings[1].reason

    existing, changes = store.upload_plan(mu2e, spec)
    assert existing is None
    assert [str(c) for c in changes] == ["Job type 'reco_jt' is added."]

    store.save_campaign(mu2e, spec, find_or_create_experimenter("alice"))
    db.session.commit()
    gen, sim, reco = stage_row("maker", "gen"), stage_row("user", "sim"), stage_row("user", "reco")
    assert sim.job_type_id == gen.job_type_id
    assert sim.login_setup_id == reco.login_setup_id == gen.login_setup_id
    assert count(JobType) == 2 and count(LoginSetup) == 1
    assert sim.job_type.parameters == [["-c ", "mc.cfg"]]  # untouched


def test_uploading_the_same_file_again_changes_nothing(app):
    import_text(MAKER)
    import_text(USER)
    _campaign, _warnings, changes = import_text(USER)
    assert changes == []  # not "Job type 'mc_jt' is removed": the stages still use it


def test_a_name_found_nowhere_is_refused_with_suggestions_and_writes_nothing(app):
    import_text(MAKER)
    mu2e = find_or_create_experiment("mu2e")
    before = (count(Campaign), count(JobType), count(LoginSetup), count(AuditEntry))
    text = USER.replace("job_type = mc_jt", "job_type = mc_jtt").replace(
        "job_type = reco_jt\n\n[dep", "job_type = reco_j\n\n[dep")
    with pytest.raises(InvalidCampaign) as err:
        store.read_ini(mu2e, text, "user.ini")
    by_stage = {p.section: p for p in err.value.problems}
    sim, reco = by_stage["campaign_stage sim"], by_stage["campaign_stage reco"]
    assert (sim.file, sim.key, reco.key) == ("user.ini", "job_type", "job_type")
    assert sim.reason.startswith("job type 'mc_jtt' is defined neither in this file nor in "
                                 "experiment 'mu2e'")
    assert "(did you mean 'mc_jt' (experiment mu2e) or 'reco_jt' (this file)?)" in sim.reason
    assert "did you mean 'reco_jt' (this file)?" in reco.reason
    assert (count(Campaign), count(JobType), count(LoginSetup), count(AuditEntry)) == before


def test_names_are_looked_up_in_the_uploads_own_experiment_only(app):
    import_text(MAKER)
    find_or_create_experiment("dune")
    with pytest.raises(InvalidCampaign) as err:
        import_text(USER.replace("experiment = mu2e", "experiment = dune"), experiment="dune")
    reasons = [p.reason for p in err.value.problems]
    assert any("'mc_jt' is defined neither in this file nor in experiment 'dune'" in r
               for r in reasons)
    db.session.rollback()
    assert count(Campaign) == 1  # maker only


def test_save_refuses_a_spec_naming_a_definition_that_exists_nowhere(app):
    import_text(MAKER)
    spec, _ = store.read_ini(find_or_create_experiment("mu2e"), USER, "user.ini")
    dune = find_or_create_experiment("dune")
    with pytest.raises(ValueError, match="stage 'sim' names job type 'mc_jt', which neither "
                                         "the campaign nor experiment 'dune' defines"):
        store.save_campaign(dune, spec, find_or_create_experimenter("alice"))
    db.session.rollback()
    assert count(Campaign) == 1 and count(JobType) == 1


def test_redefining_a_shared_job_type_shows_who_else_uses_it_then_replaces_it(app):
    import_text(MAKER)
    import_text(USER)
    other = USER.replace("name = user", "name = other") + (
        "\n[job_type mc_jt]\nlaunch_script = fife_launch_v2\n"
        'parameters = [["-c ", "mc.cfg"]]\noutput_file_patterns = %.art\n')
    mu2e = find_or_create_experiment("mu2e")
    spec, warnings = store.read_ini(mu2e, other, "other.ini")
    assert [w.key for w in warnings] == ["login_setup"]  # mc_jt is the file's own now
    existing, changes = store.upload_plan(mu2e, spec)
    assert existing is None
    change = next(c for c in changes if c.subject == "mc_jt")
    assert (change.kind, change.field, change.before, change.after) == (
        "job type changed", "launch_script", "fife_launch", "fife_launch_v2")
    assert change.used_by == ("maker", "user")
    assert str(change) == ("Job type 'mc_jt': launch_script changes from 'fife_launch' to "
                           "'fife_launch_v2' (campaigns 'maker', 'user' use it too).")

    store.save_campaign(mu2e, spec, find_or_create_experimenter("alice"))
    db.session.commit()
    assert stage_row("maker", "gen").job_type.launch_script == "fife_launch_v2"
    assert count(JobType) == 2  # replaced, not duplicated
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "job type changed"))
    assert entry.subject == "mc_jt" and entry.before["launch_script"] == "fife_launch"


def test_redefining_a_shared_definition_identically_changes_and_audits_nothing(app):
    import_text(MAKER)
    copy = MAKER.replace("name = maker", "name = copy")
    _campaign, warnings, changes = import_text(copy)
    assert warnings == [] and changes == []
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert "job type changed" not in actions and "login setup changed" not in actions


def test_used_by_is_said_only_for_a_change_to_a_definition_others_use(app):
    assert str(Change("login setup changed", "ls", "host", "a", "b", ("one",))) == (
        "Login setup 'ls': host changes from 'a' to 'b' (campaign 'one' uses it too).")
    import_text(MAKER)
    _campaign, _warnings, changes = import_text(MAKER.replace("account = mu2epro",
                                                              "account = mu2ereco"))
    (change,) = changes
    assert change.field == "account" and change.used_by == ()  # only maker itself uses it


# --- export: INI in, INI out ------------------------------------------------------------


def test_export_carries_the_shared_definitions_and_imports_back_with_no_change(app):
    import_text(MAKER)
    campaign, _warnings, _changes = import_text(USER)
    exported = export_ini(store.spec_from_campaign(campaign))
    assert "[job_type mc_jt]" in exported and "[login_setup mc_ls]" in exported

    # Self-contained: it reads with no experiment at all, to the same campaign.
    spec, warnings = parse_ini(exported, "exported.ini")
    assert warnings == [] and spec == store.spec_from_campaign(campaign)
    # Back into the same experiment: nothing changes, nothing is audited.
    audits = count(AuditEntry)
    _again, _warnings, changes = import_text(exported)
    assert changes == [] and count(AuditEntry) == audits
    # Into another experiment: it brings its definitions along.
    copy, _warnings, _changes = import_text(exported.replace("experiment = mu2e",
                                                             "experiment = dune"), "dune")
    assert {s.job_type.name for s in copy.stages} == {"mc_jt", "reco_jt"}
    assert all(s.job_type.experiment.name == "dune" for s in copy.stages)


def test_an_export_without_the_shared_sections_imports_back_with_no_change(app):
    import_text(MAKER)
    campaign, _warnings, _changes = import_text(USER)
    before = store.spec_from_campaign(campaign)
    stripped = without_section(export_ini(before), "job_type mc_jt")
    stripped = without_section(stripped, "login_setup mc_ls")
    again, warnings, changes = import_text(stripped)
    assert changes == []
    assert {w.key for w in warnings} == {"job_type", "login_setup"}
    assert store.spec_from_campaign(again) == before


def test_an_export_made_before_someone_changed_a_shared_definition_shows_the_revert(app):
    import_text(MAKER)
    campaign, _warnings, _changes = import_text(USER)
    exported = export_ini(store.spec_from_campaign(campaign))
    import_text(MAKER.replace("account = mu2epro", "account = mu2ereco"))
    mu2e = find_or_create_experiment("mu2e")
    spec, _warnings = store.read_ini(mu2e, exported, "old.ini")
    _existing, changes = store.upload_plan(mu2e, spec)
    assert [str(c) for c in changes] == [
        "Login setup 'mc_ls': account changes from 'mu2ereco' to 'mu2epro' "
        "(campaign 'maker' uses it too)."]


# --- the upload page -------------------------------------------------------------------


@pytest.fixture
def alice(client, member):
    member("mu2e", "alice", "analysis")
    return signed_in(client, "alice")


def upload(client, text: str, name: str = "campaign.ini", preview: bool = False):
    token = csrf_token(client, "/e/mu2e/campaigns/upload")
    return client.post(
        "/e/mu2e/campaigns/upload" + ("/preview" if preview else ""),
        data={"csrf_token": token, "ini_file": (io.BytesIO(text.encode()), name)},
        content_type="multipart/form-data",
    )


def test_upload_page_previews_the_shared_definitions_then_uses_them(alice):
    assert upload(alice, MAKER).status_code == 302
    page = upload(alice, USER, "user.ini", preview=True).get_data(as_text=True)
    assert "New campaign" in page
    assert ("stage &#39;sim&#39; will use experiment mu2e&#39;s job type &#39;mc_jt&#39; as "
            "it is" in page)
    assert "user.ini:7 [campaign_defaults] login_setup" in page
    assert page.count("(the experiment's)") == 3  # sim's job type, both login setups
    assert count(Campaign) == 1

    response = upload(alice, USER, "user.ini")
    assert response.status_code == 302
    assert stage_row("user", "sim").job_type_id == stage_row("maker", "gen").job_type_id
    assert count(JobType) == 2 and count(LoginSetup) == 1


def test_upload_page_refuses_a_name_found_nowhere_with_suggestions(alice):
    upload(alice, MAKER)
    bad = USER.replace("job_type = mc_jt", "job_type = mc_jtt")
    page = upload(alice, bad, "user.ini", preview=True).get_data(as_text=True)
    assert "1 problem: nothing was uploaded" in page
    assert ("user.ini:10 [campaign_stage sim] job_type: job type &#39;mc_jtt&#39; is defined "
            "neither in this file nor in experiment &#39;mu2e&#39;") in page
    assert "did you mean &#39;mc_jt&#39; (experiment mu2e)" in page
    assert upload(alice, bad, "user.ini").status_code == 422
    assert count(Campaign) == 1


def test_upload_page_shows_a_shared_definitions_change_and_who_uses_it(alice):
    upload(alice, MAKER)
    upload(alice, USER)
    changed = MAKER.replace("name = maker", "name = third").replace(
        "output_file_patterns = %.art", "output_file_patterns = %.root")
    page = upload(alice, changed, preview=True).get_data(as_text=True)
    assert "Shared definitions this upload changes" in page
    assert ("Job type &#39;mc_jt&#39;: output_file_patterns changes from &#39;%.art&#39; to "
            "&#39;%.root&#39; (campaigns &#39;maker&#39;, &#39;user&#39; use it too).") in page
    assert stage_row("user", "sim").job_type.output_file_patterns == "%.art"  # not yet


def test_an_analysis_user_may_not_change_a_shared_definition_someone_else_made(
        client, member):
    """The upload follows the rule of the definition's own page: bob (analysis) may use
    carol's job type, not rewrite it under the campaigns that use it."""
    member("mu2e", "carol", "production")
    member("mu2e", "bob", "analysis")
    signed_in(client, "carol")
    assert upload(client, MAKER).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    signed_in(client, "bob")

    changed = MAKER.replace("name = maker", "name = bobs").replace(
        "output_file_patterns = %.art", "output_file_patterns = %.root")
    page = upload(client, changed, preview=True).get_data(as_text=True)
    assert ("You cannot upload this file: acting as analysis, you may not change job type "
            "&#39;mc_jt&#39;") in page
    assert 'class="primary">Upload</button>' not in page
    refused = upload(client, changed)
    assert refused.status_code == 403
    assert count(Campaign) == 1
    assert stage_row("maker", "gen").job_type.output_file_patterns == "%.art"

    # Using it as it is, or an identical copy of its section, is fine.
    same = MAKER.replace("name = maker", "name = bobs")
    assert upload(client, same).status_code == 302
    assert stage_row("bobs", "gen").job_type_id == stage_row("maker", "gen").job_type_id
