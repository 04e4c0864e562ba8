"""The dashboard's campaigns: the experiment's active campaigns that have launched, those
needing a look first, each with a link to its overview. Polls."""
from __future__ import annotations

from flask import current_app, render_template
from flask_login import login_required
from sqlalchemy import select

from app.auth.session import Access, experiment_access
from app.blueprints.overview.common import bp, now
from app.blueprints.views import pushed_fragment
from app.extensions import db
from app.models import Campaign
from app.overview import listing

SHOWN = 15


@bp.get("/campaigns/at-a-glance")
@login_required
def campaigns_glance(experiment):
    return glance_html(experiment_access(experiment))


def glance_html(access: Access, along: bool = False) -> str:
    """The section, rendered once per change; `along`: to ride with the dashboard's live
    section, swapped in by id (app/blueprints/submissions/dashboard.py)."""
    return pushed_fragment(access, "experiment", lambda: _campaigns_glance(access, along),
                           path=f"glance along={along} {access.experiment.id}")


def _campaigns_glance(access: Access, along: bool):
    columns = listing.summary_columns(days=current_app.config["POMS_ATTENTION_DAYS"])
    rows = db.session.execute(
        select(Campaign, *columns.values())
        .where(Campaign.experiment_id == access.experiment.id, Campaign.state == "Active",
               columns["last_activity"].is_not(None))
        .order_by(columns["failures"].desc(), columns["active"].desc(),
                  *listing.order_by("activity", columns))
        .limit(SHOWN)).all()
    shown = [dict(campaign=row[0], active=row.active, failures=row.failures,
                  last_activity=row.last_activity,
                  activity=listing.activity(row.active, row.failures, row.last_activity))
             for row in rows]
    return render_template("overview/_campaigns_glance.html", access=access, rows=shown,
                           now=now(), along=along)
