"""In Chromium: the campaign editor. Add a stage, draw a dependency by clicking two stages,
drag a stage, see the preview, save, and find it all in the exported INI."""
from __future__ import annotations

import re

import pytest

from tests.fixtures.launching import import_tutorial

pytestmark = pytest.mark.browser


def sign_in(page, live_server, user="alice"):
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", user)
    page.click("button[type=submit]")


def test_add_a_stage_draw_a_dependency_move_it_save_and_export(app, live_server, page):
    campaign = import_tutorial("alice")
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/e/mu2e/campaign/{campaign.id}")
    page.click("#edit-campaign")
    page.wait_for_url("**/editor")
    graph = page.locator("#editor-graph")
    assert graph.locator("g.node").count() == 2

    # Add a stage: its job type and completion type chosen from lists.
    page.click("#add-stage summary")
    page.fill("#add-stage-name", "ana")
    form = page.locator("#add-stage form")
    form.locator("select[name=job_type]").select_option("mu2e_reco_srsoleti_jobtype")
    form.locator("select[name=completion_type]").select_option("located")
    form.locator("button[type=submit]").click()
    preview = page.locator("#editor-preview")
    preview.get_by_text("Stage 'ana' is added.").wait_for()
    assert graph.locator("g.node").count() == 3

    # Draw a dependency: the stage whose files are used, then the one that uses them.
    page.click("#draw-dependency")
    graph.locator('g.node[data-stage="reco"]').click()
    graph.locator('g.node[data-stage="ana"]').click()
    pattern = page.locator("#dependency-pattern")
    assert pattern.evaluate("el => el === document.activeElement")
    pattern.fill("%.art")
    pattern.press("Enter")
    preview.get_by_text("Stage 'ana' will depend on 'reco' (files matching '%.art').").wait_for()
    assert graph.locator('g.edge[data-parent="reco"][data-child="ana"]').count() == 1

    # Drag the new stage somewhere else: the layout is part of the draft.
    ana = graph.locator('g.node[data-stage="ana"]')
    ana.scroll_into_view_if_needed()
    box = ana.locator("rect").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 60, box["y"] + box["height"] / 2 + 40,
                    steps=8)
    page.mouse.up()
    preview.get_by_text("the graph layout changes").wait_for()

    page.click("#editor-save")
    page.wait_for_url(re.compile(rf".*/campaign/{campaign.id}$"))
    assert "Saved the changes" in page.locator(".flash").inner_text()
    exported = page.request.get(
        f"{live_server.url}/e/mu2e/campaign/{campaign.id}/export").text()
    assert "[campaign_stage ana]" in exported
    assert "campaign_stage_1 = reco" in exported.split("[dependencies ana]")[1]
    assert re.search(r'^nxy\d+ = \["ana", -?\d+, -?\d+\]$', exported, re.M)


def test_a_refused_change_is_said_and_focus_goes_to_it(app, live_server, page):
    campaign = import_tutorial("alice")
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/e/mu2e/campaign/{campaign.id}/editor")
    page.click('details.stage-panel[data-stage="reco_fcl"] summary')
    page.locator('details.stage-panel[data-stage="reco_fcl"] button.danger').click()
    problems = page.locator("#problems")
    problems.wait_for()
    assert "depends on reco_fcl" in problems.inner_text()
    assert problems.evaluate("el => el === document.activeElement")


def test_click_an_arrow_then_remove_the_dependency(app, live_server, page):
    campaign = import_tutorial("alice")
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/e/mu2e/campaign/{campaign.id}/editor")
    page.locator('#editor-graph g.edge[data-parent="reco_fcl"] text').click()
    remove = page.get_by_role("button", name="remove the dependency of reco on reco_fcl")
    assert remove.evaluate("el => el === document.activeElement")
    page.keyboard.press("Enter")
    page.locator("#editor-preview").get_by_text(
        "Stage 'reco' will no longer depend on 'reco_fcl'").wait_for()
    assert page.locator("#editor-graph g.edge").count() == 0
