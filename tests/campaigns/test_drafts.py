"""The campaign editor's operations (app/campaigns/drafts.py), called directly: each is
checked by the importer, the preview says what an upload's would, and saving keeps a
renamed stage's row."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.session import find_or_create_experimenter
from app.campaigns import draft_plan, drafts, shared, store
from app.campaigns.ini import export_ini, parse_ini
from app.campaigns.spec import InvalidCampaign
from app.extensions import db
from app.launching import external
from app.models import AuditEntry, CampaignStage
from tests.campaigns.support import has_campaign_section
from tests.campaigns.test_real_files import EVERY_FILE, experiment_holding, upload
from tests.fixtures.launching import import_tutorial


@pytest.fixture
def tutorial(app):
    return import_tutorial("alice")


def draft(campaign, *ops):
    return drafts.apply_operations(campaign.experiment, store.spec_from_campaign(campaign),
                                   list(ops))


def test_add_a_stage_draw_its_dependency_place_it_and_export_it(tutorial):
    d = draft(
        tutorial,
        {"op": "add_stage", "name": "ana",
         "fields": {"job_type": "mu2e_reco_srsoleti_jobtype", "completion_type": "located",
                    "cs_split_type": "nfiles(5)"}},
        {"op": "add_dependency", "child": "ana", "parent": "reco", "file_pattern": "%.art"},
        {"op": "place", "stage": "ana", "x": 300.4, "y": 80},
    )
    said = [str(c) for c in draft_plan.changes(tutorial, d)]
    assert "Stage 'ana' is added." in said
    assert "Stage 'ana' will depend on 'reco' (files matching '%.art')." in said
    assert "Campaign 'srsoleti_tutorial': the graph layout changes." in said
    assert not any("Job type" in line for line in said)  # the experiment's, as it is
    # Nothing is stored before saving.
    assert [s.name for s in tutorial.stages] == ["reco_fcl", "reco"]

    draft_plan.save(tutorial, d, find_or_create_experimenter("alice"))
    db.session.commit()
    ana = tutorial.stages[-1]
    assert (ana.name, ana.completion_type, ana.cs_split_type) == ("ana", "located", "nfiles(5)")
    assert [link.parent.name for link in ana.parent_links] == ["reco"]
    text = export_ini(store.spec_from_campaign(tutorial))
    assert "[node_positions]" in text and 'nxy0 = ["ana", 300, 80]' in text
    assert parse_ini(text, "x.ini")[0].node_positions == {"ana": {"x": 300, "y": 80}}


def test_every_operation_is_checked_by_the_importer_and_names_the_change(tutorial):
    cases = [
        ({"op": "set_fields", "stage": "reco", "fields": {"completion_pct": "ninety"}},
         "change 1 (set_fields)", "completion_pct"),
        ({"op": "add_stage", "name": "x", "fields": {"job_type": "nowhere"}},
         "change 1 (add_stage)", "nowhere"),
        ({"op": "add_stage", "name": "reco"}, "change 1 (add_stage)", "already has"),
        ({"op": "rename_stage", "stage": "reco", "name": "a,b"}, "change 1", "without commas"),
        ({"op": "rename_stage", "stage": "reco", "name": "reco_fcl"}, "change 1", "already"),
        ({"op": "remove_stage", "stage": "reco_fcl"}, "change 1", "depends on reco_fcl"),
        ({"op": "add_dependency", "child": "reco_fcl", "parent": "reco",
          "file_pattern": "%"}, "change 1", "cycle"),
        ({"op": "remove_dependency", "child": "reco_fcl", "parent": "reco"}, "change 1",
         "does not depend"),
        ({"op": "place", "stage": "reco", "x": "left", "y": 0}, "change 1", "x is a number"),
        ({"op": "explode"}, "change 1", "op is one of"),
    ]
    for op, where, reason in cases:
        with pytest.raises(InvalidCampaign) as err:
            draft(tutorial, op)
        said = str(err.value)
        assert where in said and reason in said, (op, said)
    # The second of two is named as the second.
    with pytest.raises(InvalidCampaign, match="change 2"):
        draft(tutorial, {"op": "place", "stage": "reco", "x": 1, "y": 2},
              {"op": "remove_stage", "stage": "nope"})


def test_a_renamed_stage_keeps_its_row_its_submissions_and_its_dependencies(tutorial):
    reco = tutorial.stages[1]
    stage_id = reco.id
    external.register(reco, find_or_create_experimenter("alice"))  # a launch of it
    d = draft(tutorial,
              {"op": "rename_stage", "stage": "reco_fcl", "name": "fcl"},
              {"op": "rename_stage", "stage": "reco", "name": "reco_fcl"},
              {"op": "set_fields", "stage": "reco_fcl", "fields": {"completion_pct": "80"}})
    assert d.renamed == {"reco_fcl": "fcl", "reco": "reco_fcl"}
    said = [str(c) for c in draft_plan.changes(tutorial, d)]
    assert said[:2] == ["Stage 'reco_fcl' is renamed 'fcl'.",
                        "Stage 'reco' is renamed 'reco_fcl'."]
    assert "Stage 'reco_fcl': completion_pct changes from 100 to 80." in said
    assert not any("is added" in line or "is removed" in line for line in said)
    draft_plan.save(tutorial, d, find_or_create_experimenter("alice"))
    db.session.commit()
    renamed = db.session.get(CampaignStage, stage_id)
    assert (renamed.name, renamed.completion_pct) == ("reco_fcl", 80)
    assert [link.parent.name for link in renamed.parent_links] == ["fcl"]
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "campaign updated"


def test_removing_a_dependency_then_the_stage_and_a_launched_stage_stays(tutorial):
    d = draft(tutorial,
              {"op": "remove_dependency", "child": "reco", "parent": "reco_fcl"},
              {"op": "remove_stage", "stage": "reco"})
    assert [s.name for s in d.spec.stages] == ["reco_fcl"]
    assert "Stage 'reco' is removed." in [str(c) for c in draft_plan.changes(tutorial, d)]
    external.register(tutorial.stages[1], find_or_create_experimenter("alice"))
    with pytest.raises(store.CampaignInUse, match="has submissions"):
        draft_plan.save(tutorial, d, find_or_create_experimenter("alice"))


def test_a_login_setup_the_campaigns_role_may_not_use_is_refused_at_its_change(tutorial):
    shared.create(tutorial.experiment, shared.LOGIN_SETUP, "prod_ls",
                  {"host": "mu2egpvm01.fnal.gov", "account": "mu2epro"},
                  find_or_create_experimenter("pat"), role="production")
    with pytest.raises(InvalidCampaign) as err:
        draft(tutorial, {"op": "place", "stage": "reco", "x": 0, "y": 0},
              {"op": "set_fields", "stage": "reco", "fields": {"login_setup": "prod_ls"}})
    assert "change 2" in str(err.value) and "prod_ls" in str(err.value)


@pytest.mark.parametrize("path", [p for p in EVERY_FILE if has_campaign_section(p.read_text())],
                         ids=lambda p: p.name)
def test_every_real_campaign_opens_in_the_editor_renames_places_and_saves(app, path):
    text = path.read_text()
    experiment, owner = experiment_holding(text)
    _spec, campaign, _existing, _changes = upload(experiment, owner, text, path.name)
    first = campaign.stages[0].name
    positions = {s.name: [100 * n, 50] for n, s in enumerate(campaign.stages)}
    d = draft(campaign, {"op": "rename_stage", "stage": first, "name": first + "_x"},
              {"op": "place", "positions": {first + "_x" if k == first else k: v
                                            for k, v in positions.items()}})
    said = [str(c) for c in draft_plan.changes(campaign, d)]
    assert said[0] == f"Stage '{first}' is renamed '{first}_x'."
    assert said[1:] == [f"Campaign '{campaign.name}': the graph layout changes."]
    draft_plan.save(campaign, d, owner)
    db.session.commit()
    exported = export_ini(store.spec_from_campaign(campaign))
    again, _warnings = store.read_ini(experiment, exported, "exported.ini")
    assert again.stage(first + "_x") is not None
    assert again.node_positions[first + "_x"] == {"x": 0, "y": 50}
