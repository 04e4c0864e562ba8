"""Hold or release every launch of the experiment (production or superuser; audited)."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_login import login_required

from app.auth.redirects import safe_next
from app.auth.session import experiment_access
from app.blueprints.overview.common import bp
from app.blueprints.views import go, queue_launches
from app.extensions import db
from app.launching import launch_hold


@bp.post("/launches/<any(hold, release):switch>")
@login_required
def launches(experiment, switch):
    access = experiment_access(experiment)
    try:
        if switch == "hold":
            launch_hold.hold_all(access.experiment, access.user, access.role,
                                 request.form.get("reason", ""))
            waiting = []
        else:
            waiting = launch_hold.release_all(access.experiment, access.user, access.role)
        db.session.commit()
    except launch_hold.HoldRefused as err:
        db.session.rollback()
        abort(403, str(err))
    if switch == "hold":
        flash(f"Every launch of {experiment} is held: launches asked for wait until "
              "released.", "ok")
    elif not waiting or queue_launches(waiting):
        flash(f"Launches of {experiment} released"
              + (f"; {len(waiting)} waiting launch(es) queued." if waiting else "."), "ok")
    return go(safe_next(request.form.get("next"),
                        url_for("submissions.dashboard", experiment=experiment)))
