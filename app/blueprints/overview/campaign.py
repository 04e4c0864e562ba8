"""A campaign's overview: the coloured graph and its stages by their recent submissions,
with each stage's actions (launch and test launch through the dry run, hold, release, kill
all and recover now through the bulk preview). The fragment polls."""
from __future__ import annotations

from flask import render_template, url_for
from flask_login import login_required

from app.auth.session import Access, experiment_access
from app.blueprints.overview.common import bp, now
from app.blueprints.views import campaign_in, pushed_fragment
from app.campaigns.permissions import may_control, may_launch
from app.extensions import reads_only
from app.models import Campaign
from app.overview.graph import FILL, coloured_svg
from app.overview.grid import campaign_grid


def _context(access: Access, campaign: Campaign) -> dict:
    rows = campaign_grid(campaign)
    graph, graph_error = coloured_svg(rows, lambda r: f"#stage-row-{r.stage.id}")
    return dict(access=access, campaign=campaign, rows=rows, graph=graph,
                graph_error=graph_error, may_launch=may_launch(access, campaign),
                may_control=may_control(access, campaign), now=now(), fill=FILL,
                live_url=url_for("overview.campaign_live", experiment=access.experiment.name,
                                 campaign_id=campaign.id))


@bp.get("/campaign/<int:campaign_id>/overview")
@login_required
def campaign(experiment, campaign_id):
    access = experiment_access(experiment)
    row = campaign_in(access, campaign_id)
    return render_template("overview/campaign.html", **_context(access, row))


@bp.get("/campaign/<int:campaign_id>/overview/live")
@login_required
@reads_only
def campaign_live(experiment, campaign_id):
    access = experiment_access(experiment)
    row = campaign_in(access, campaign_id)
    return pushed_fragment(
        access, f"campaign-{row.id}",
        lambda: render_template("overview/_campaign_live.html", **_context(access, row)),
        also=(may_launch(access, row), may_control(access, row)))


@bp.get("/campaign/<int:campaign_id>/graph")
@login_required
def campaign_graph(experiment, campaign_id):
    """The campaign page's graph, coloured by state; each stage links to its page (and its
    actions). Polls."""
    access = experiment_access(experiment)
    row = campaign_in(access, campaign_id)
    rows = campaign_grid(row, with_ledger=False)
    graph, graph_error = coloured_svg(rows, lambda r: url_for(
        "campaigns.stage", experiment=experiment, stage_id=r.stage.id))
    return render_template("overview/_graph.html", access=access, campaign=row, graph=graph,
                           graph_error=graph_error, now=now())
