"""Real campaign files, through the store on a migrated database (SQLite, and PostgreSQL with
POMS_TEST_DATABASE=postgresql): each imports as the original POMS imports it, exports, and
re-imports with no change.

The files are read from ../shared/examples (never copied here): Mu2e's production files in
mu2e-production/ (SOURCES.md says where each comes from), the original's samples in
poms-samples/ and the tutorial. Every file there is tested, including files added later.
The production files name job types and login setups that Mu2e's experiment already
holds: each test gives the experiment those the file names but does not define."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.auth.members import find_or_create_experiment
from app.auth.session import find_or_create_experimenter
from app.campaigns import store
from app.campaigns.ini import export_ini
from app.campaigns.spec import InvalidCampaign
from app.extensions import db
from app.models import Campaign, JobType, LoginSetup, StageDependency
from tests.campaigns.support import has_campaign_section, names_used_not_defined
from tests.fixtures.app import EXAMPLES

EVERY_FILE = sorted(EXAMPLES.rglob("*.ini"))
PRODUCTION = EXAMPLES / "mu2e-production"


def role_of(text: str) -> str:
    return "production" if re.search(r"(?im)^\s*poms_role\s*=\s*production", text) \
        else "analysis"


def experiment_holding(text: str):
    """Experiment mu2e with the job types and login setups the file uses but does not
    define, as the production experiment has them (its login setups of the file's role)."""
    experiment = find_or_create_experiment("mu2e")
    owner = find_or_create_experimenter("mu2epro")
    job_types, login_setups = names_used_not_defined(text)
    for name in sorted(job_types):
        db.session.add(JobType(experiment=experiment, name=name, creator=owner,
                               launch_script="fife_launch", parameters=[], recoveries=[]))
    for name in sorted(login_setups):
        db.session.add(LoginSetup(experiment=experiment, name=name, creator=owner,
                                  host="mu2egpvm01.fnal.gov", account="mu2epro",
                                  role=role_of(text)))
    db.session.commit()
    return experiment, owner


def upload(experiment, owner, text: str, filename: str):
    """What an upload does: read against the experiment, plan, save, commit."""
    spec, warnings = store.read_ini(experiment, text, filename)
    spec.experiment = experiment.name
    existing, changes = store.upload_plan(experiment, spec)
    campaign = store.save_campaign(experiment, spec, owner)
    db.session.commit()
    return spec, campaign, existing, changes


def test_the_production_files_are_there():
    names = {p.name for p in PRODUCTION.glob("*.ini")}
    assert len(names) >= 20
    assert "CampaignConfig_mdc2020_digireco_extracted_addon.ini" in names


@pytest.mark.parametrize("path", EVERY_FILE, ids=lambda p: p.name)
def test_real_file_imports_exports_and_reimports_with_no_change(app, path):
    text = path.read_text()
    experiment, owner = experiment_holding(text)
    if not has_campaign_section(text):
        # ini_to_campaign: "No Campaign section in the file"; nothing is written.
        with pytest.raises(InvalidCampaign) as err:
            store.read_ini(experiment, text, path.name)
        assert any("has no [campaign] section" in p.reason for p in err.value.problems)
        assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0
        return

    spec, campaign, existing, _changes = upload(experiment, owner, text, path.name)
    assert existing is None and spec.stages
    stored = store.spec_from_campaign(campaign)
    assert stored.stages == spec.stages
    assert stored.dependencies == spec.dependencies
    assert stored.keywords == spec.keywords and stored.defaults == spec.defaults

    exported = export_ini(stored)
    again, _warnings = store.read_ini(experiment, exported, "exported.ini")
    again.experiment = experiment.name
    existing, changes = store.upload_plan(experiment, again)
    assert existing is not None and existing.id == campaign.id
    assert [str(c) for c in changes] == []
    store.save_campaign(experiment, again, owner)
    db.session.commit()
    assert export_ini(store.spec_from_campaign(store.find_campaign(experiment, spec.name))) \
        == exported


def test_recovery_parameters_reach_the_job_type_row_as_written(app):
    """mdc2020_cry.ini's recovery has a one-element "pair": fixup_recoveries stores it as
    it is, and so do we, for the launch to say what is wrong with it."""
    path = PRODUCTION / "CampaignConfig_mdc2020_cry.ini"
    text = path.read_text()
    experiment, owner = experiment_holding(text)
    upload(experiment, owner, text, path.name)
    db.session.expire_all()
    row = db.session.scalar(select(JobType).where(
        JobType.name == "mu2e_cvmfs_cry_production_jobtype"))
    assert row.recoveries == [["proj_status", [["-Oglobal.override_dataset=','%(dataset)s"],
                                               ["--stage ", "recovery"]]]]


def test_a_stage_depending_on_itself_is_stored(app):
    """mdc2020_trkana.ini: save_campaign stores trkana's dependency on itself."""
    path = PRODUCTION / "CampaignConfig_mdc2020_trkana.ini"
    text = path.read_text()
    experiment, owner = experiment_holding(text)
    _spec, campaign, _existing, _changes = upload(experiment, owner, text, path.name)
    (trkana,) = campaign.stages
    links = db.session.scalars(select(StageDependency)).all()
    assert [(link.child_id, link.parent_id, link.file_pattern) for link in links] == [
        (trkana.id, trkana.id, "%.art")]
