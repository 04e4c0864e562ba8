"""The dashboard's first section: what needs a person, each with its action."""
from __future__ import annotations

from flask import current_app, render_template
from flask_login import login_required

from app.auth.session import experiment_access
from app.blueprints.overview.common import bp, now
from app.launching import launch_hold
from app.overview.attention import needs_attention


@bp.get("/attention")
@login_required
def attention(experiment):
    access = experiment_access(experiment)
    items = needs_attention(access.experiment.id,
                            days=current_app.config["POMS_ATTENTION_DAYS"])
    return render_template("overview/_attention.html", access=access, items=items,
                           now=now(), switch=launch_hold.hold_of(access.experiment.id),
                           may_switch=launch_hold.may_switch(access.role))
