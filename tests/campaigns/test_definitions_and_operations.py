"""Domain functions behind the original client's calls, called directly: job types and login
setups (app/campaigns/shared.py), campaign operations (app/campaigns/operations.py),
external submissions (app/launching/external.py) and reported states
(app/tracking/reports.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.members import find_or_create_experiment
from app.auth.session import find_or_create_experimenter
from app.campaigns import operations, shared, store
from app.campaigns.spec import InvalidCampaign
from app.extensions import db
from app.launching import external
from app.models import AuditEntry, Submission
from app.tracking import reports
from tests.fixtures.launching import import_tutorial


@pytest.fixture
def tutorial(app):
    return import_tutorial("alice")


def alice():
    return find_or_create_experimenter("alice")


def test_make_and_edit_check_every_value_through_the_importer(tutorial):
    mu2e = tutorial.experiment
    with pytest.raises(InvalidCampaign, match="without '\\[', '\\]' or '/'"):
        shared.create(mu2e, shared.JOB_TYPE, "a]b", {"launch_script": "x"}, alice())
    with pytest.raises(InvalidCampaign, match="has no field 'host'"):
        shared.create(mu2e, shared.JOB_TYPE, "jt", {"launch_script": "x", "host": "h"},
                      alice())
    with pytest.raises(shared.DefinitionExists):
        shared.create(mu2e, shared.LOGIN_SETUP, "srsoleti_poms_login", {}, alice())
    with pytest.raises(InvalidCampaign, match="for analysis or production work"):
        shared.create(mu2e, shared.LOGIN_SETUP, "x", {"host": "h"}, alice(), role="admin")
    row = shared.create(mu2e, shared.LOGIN_SETUP, " mine ", {"host": "h", "account": "a"},
                        alice(), role="analysis")
    assert row.name == "mine" and row.creator.username == "alice" and row.role == "analysis"
    assert shared.edit(row, shared.LOGIN_SETUP, {"host": "h"}, alice()) is False
    assert shared.edit(row, shared.LOGIN_SETUP, {"setup": "source x.sh"}, alice()) is True
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.before, entry.after) == (
        "login setup edited", {"setup": ""}, {"setup": "source x.sh"})
    assert shared.by_id(find_or_create_experiment("dune"), shared.LOGIN_SETUP, row.id) is None


def test_a_definition_a_launch_kept_is_not_removed(tutorial):
    reco = tutorial.stages[1]
    old = reco.job_type
    external.register(reco, alice())  # snapshots the stage's job type, as a launch does
    assert shared.stages_using(old, shared.JOB_TYPE) == ["srsoleti_tutorial/reco"]
    spec = store.spec_from_campaign(tutorial)
    spec.stage("reco").job_type = "generate_fcl_reco_srsoleti_jobtype"
    store.save_campaign(tutorial.experiment, spec, alice())
    assert shared.stages_using(old, shared.JOB_TYPE) == []
    with pytest.raises(shared.DefinitionInUse, match="has launched submissions"):
        shared.remove(old, shared.JOB_TYPE, alice())


def test_recoveries_merge_by_type_and_key(tutorial):
    row = tutorial.stages[1].job_type
    assert row.recoveries == [["proj_status", [["-Osubmit.dataset=", "%(dataset)s"]]]]
    merged = shared.merge_recoveries(row, [["proj_status", [["-Oa=", "1"]]], "added_files"],
                                     alice())
    assert merged == [["proj_status", [["-Osubmit.dataset=", "%(dataset)s"], ["-Oa=", "1"]]],
                      ["added_files", []]]
    with pytest.raises(InvalidCampaign, match="recovery 1 must be"):
        shared.merge_recoveries(row, [[1, 2, 3]], alice())


@pytest.mark.parametrize("current, changes, merged", [
    ([["a", "1"], ["b", "2"]], [["a", "9"]], [["a", "9"], ["b", "2"]]),
    ([["a", "1"]], [["c", "3"]], [["a", "1"], ["c", "3"]]),
    ([["a", "1"], ["b", "2"]], [["a", ""]], [["b", "2"]]),
    ([["a", "1"], ["b", "2"], ["a", "3"]], [["a", "x"]], [["a", "x"], ["b", "2"]]),
    ([["a", "1"]], [["a", None], ["z", None]], []),
])
def test_merge_pairs_as_the_original_merges_overrides(current, changes, merged):
    assert operations.merge_pairs(current, changes) == merged


def test_stages_are_added_and_a_launched_one_is_not_removed(tutorial):
    added = operations.add_stage(tutorial, "ana", {"completion_pct": "50"},
                                 [("reco", "%.art")], alice())
    assert added.completion_pct == 50 and added.parent_links[0].parent.name == "reco"
    assert [s.name for s in tutorial.stages] == ["reco_fcl", "reco", "ana"]
    with pytest.raises(InvalidCampaign, match="already has a stage 'ana'"):
        operations.add_stage(tutorial, "ana", {}, [], alice())
    external.register(added, alice())
    db.session.commit()
    with pytest.raises(store.CampaignInUse, match="has submissions"):
        operations.remove_stage(added, alice())
    db.session.rollback()
    assert [s.name for s in tutorial.stages] == ["reco_fcl", "reco", "ana"]


def test_an_external_submission_and_the_states_reported_for_it(tutorial, member):
    dune_stage = import_dune_stage(member)
    reco = tutorial.stages[1]
    with pytest.raises(external.ExternalRefused, match="not in mu2e"):
        external.register(reco, alice(), parent=dune_stage)
    s = external.register(reco, alice(), command="./run.sh", dataset="d")
    assert s.origin == "external" and s.launcher_kind == "external"
    assert s.stage_snapshot_id and s.job_type_snapshot_id and s.login_setup_snapshot_id
    assert s.launch_claimed_at == s.launch_finished_at is not None

    with pytest.raises(reports.ReportRefused, match="not a submission state"):
        reports.report_state(s, "Finished", alice())
    assert reports.report_state(s, "Running", alice()) is True
    assert reports.report_state(s, "Running", alice()) is False
    with pytest.raises(reports.ReportRefused, match="is Running and cannot become New"):
        reports.report_state(s, "New", alice())
    s.batch_ids = ["1.0@x"]
    s.batch_id = "1.0@x"
    with pytest.raises(reports.ReportRefused, match=r"batch id 1.0@x\)"):
        reports.report_state(s, "Completed", alice())

    assert external.record_command(s, "./run.sh 2") is True and s.command == "./run.sh 2"
    launched = Submission(campaign_stage_id=reco.id, experiment_id=reco.campaign.experiment_id,
                          origin="api", command="what POMS ran")
    db.session.add(launched)
    db.session.flush()
    assert external.record_command(launched, "else") is False
    assert launched.command == "what POMS ran"


def import_dune_stage(member) -> Submission:
    """A submission of a dune campaign (the tutorial, imported there)."""
    from app.campaigns.ini import parse_ini
    from tests.fixtures.launching import TUTORIAL_INI

    member("dune", "dan", "production")
    spec, _warnings = parse_ini(TUTORIAL_INI.read_text(), "tutorial.ini")
    spec.experiment = "dune"
    dan = find_or_create_experimenter("dan")
    campaign = store.save_campaign(find_or_create_experiment("dune"), spec, dan)
    return external.register(campaign.stages[0], dan)
