"""The dashboard's first section: what needs a person, each with its action."""
from __future__ import annotations

from flask import current_app, render_template
from flask_login import login_required

from app.auth.session import Access, experiment_access
from app.blueprints.overview.common import bp, now
from app.blueprints.views import pushed_fragment
from app.launching import launch_hold
from app.overview.attention import needs_attention


@bp.get("/attention")
@login_required
def attention(experiment):
    return attention_html(experiment_access(experiment))


def attention_html(access: Access, along: bool = False) -> str:
    """The section, rendered once per change for its role (its forms act only as the server
    allows the asker); `along`: to ride with the dashboard's live section, swapped in by id
    (app/blueprints/submissions/dashboard.py)."""
    def render() -> str:
        items = needs_attention(access.experiment.id,
                                days=current_app.config["POMS_ATTENTION_DAYS"])
        return render_template("overview/_attention.html", access=access, items=items,
                               now=now(), switch=launch_hold.hold_of(access.experiment.id),
                               may_switch=launch_hold.may_switch(access.role), along=along)

    return pushed_fragment(access, "experiment", render,
                           path=f"attention along={along} {access.experiment.id}")
