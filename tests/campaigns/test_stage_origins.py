"""The stage page says where each value in effect comes from: the stage, the campaign's
defaults, or the built-in default (app/campaigns/origins.py)."""
from __future__ import annotations

import re

from app.campaigns import store
from app.campaigns.origins import BUILT_IN, DEFAULTS, STAGE, stage_origins
from tests.fixtures.app import csrf_token, signed_in
from tests.fixtures.launching import import_tutorial


def test_each_value_says_whether_the_stage_the_defaults_or_poms_gives_it(app):
    campaign = import_tutorial("alice")
    spec = store.spec_from_campaign(campaign)
    fcl, reco = stage_origins(spec, "reco_fcl"), stage_origins(spec, "reco")
    assert (fcl["job_type"], reco["job_type"]) == (STAGE, DEFAULTS)
    assert reco["param_overrides"] == STAGE  # each stage has its own --stage
    assert reco["software_version"] == DEFAULTS
    assert reco["default_clear_cronjob"] == BUILT_IN  # the file never says it


def origin_of(html: str, key: str) -> str:
    found = re.search(rf'id="field-{key}">.*?data-origin="([^"]+)"', html, re.S)
    return found.group(1)


def test_the_stage_page_shows_the_origin_and_an_edit_moves_it(app, client):
    campaign = import_tutorial("alice")
    reco = campaign.stages[1]
    signed_in(client, "alice")
    page = client.get(f"/e/mu2e/stage/{reco.id}").get_data(as_text=True)
    assert origin_of(page, "job_type") == "campaign defaults"
    assert origin_of(page, "param_overrides") == "stage"
    assert origin_of(page, "default_clear_cronjob") == "built-in default"
    token = csrf_token(client, f"/e/mu2e/stage/{reco.id}")
    answer = client.post(f"/e/mu2e/stage/{reco.id}/field/software_version",
                         data={"csrf_token": token, "value": "MDC2025a"})
    assert 'data-origin="stage"' in answer.get_data(as_text=True)
