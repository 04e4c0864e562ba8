"""The experiment's dashboard: submissions by state, and the active ones, live.
"""
from __future__ import annotations

from flask import render_template, request
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app import states
from app.auth.session import Access, experiment_access
from app.blueprints.overview.attention import attention_html
from app.blueprints.overview.campaigns import glance_html
from app.blueprints.submissions.common import bp
from app.blueprints.views import pushed_fragment
from app.extensions import db, reads_only
from app.launching import launch_hold
from app.models import CampaignStage, Submission
from app.models.base import utcnow
from app.models.submission import listed


def _state_counts(experiment_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(Submission.state, func.count()).where(Submission.experiment_id == experiment_id)
        .group_by(Submission.state)
    ).all()
    counts = {state: 0 for state in states.STATES}
    counts.update(dict(rows))
    return counts


def _dashboard_context(access: Access) -> dict:
    active = db.session.scalars(
        select(Submission)
        .where(Submission.experiment_id == access.experiment.id,
               Submission.state.in_(states.ACTIVE))
        .options(joinedload(Submission.stage).joinedload(CampaignStage.campaign), *listed())
        .order_by(Submission.id.desc()).limit(50)
    ).all()
    counts = _state_counts(access.experiment.id)
    return dict(access=access, counts=counts, active=active,
                active_total=sum(counts[s] for s in states.ACTIVE), active_states=states.ACTIVE,
                switch=launch_hold.hold_of(access.experiment.id), now=utcnow(),
                may_switch=launch_hold.may_switch(access.role))


@bp.get("/dashboard")
@login_required
def dashboard(experiment):
    access = experiment_access(experiment)
    return render_template("submissions/dashboard.html", **_dashboard_context(access))


@bp.get("/dashboard/live")
@login_required
@reads_only
def dashboard_live(experiment):
    access = experiment_access(experiment)
    html = pushed_fragment(access, "experiment", lambda: render_template(
        "submissions/_dashboard_live.html", **_dashboard_context(access)))
    if request.args.get("along") == "1":
        # The dashboard page's: one fetch per change brings all three of its live sections
        # (htmx swaps the other two in by id), not three fetches from every open dashboard.
        html += attention_html(access, along=True) + glance_html(access, along=True)
    return html
