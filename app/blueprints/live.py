"""The live pages' event stream: `GET /e/<experiment>/live?topic=...` (Server-Sent Events).

A member of the experiment may follow its topics (app/live/topics.py checks each names one
of its things); the stream tells which changed and each fragment fetches itself again, with
its own role checks. 503 when push is off or Redis does not answer: the page polls instead.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from flask_login import login_required

from app.auth.session import experiment_access
from app.extensions import db
from app.live import stream, topics

bp = Blueprint("live", __name__, url_prefix="/e/<experiment>")


@bp.get("/live")
@login_required
def events(experiment):
    access = experiment_access(experiment)
    try:
        wanted = topics.checked(access.experiment.id, request.args.getlist("topic"))
    except topics.TopicRefused as refused:
        abort(404 if refused.foreign else 400, str(refused))
    experiment_id = access.experiment.id
    if not current_app.config.get("POMS_LIVE_PUSH", True):
        abort(503, "live push is off here (POMS_LIVE_PUSH=0): the page polls")
    hub = stream.hub_for(current_app.config["POMS_REDIS_URL"])
    try:
        listener = hub.listen(experiment_id, wanted)
    except stream.LiveUnavailable as err:
        abort(503, f"live push is unavailable ({err}): the page polls")
    # The stream may stay open for hours: it must not hold a database connection.
    db.session.remove()
    config = current_app.config
    return Response(
        stream.events(hub, listener, spacing=config.get("POMS_LIVE_SPACING", 0.5),
                      aggregate_spacing=config.get("POMS_LIVE_AGGREGATE_SPACING", 3.0),
                      spread=config.get("POMS_LIVE_SPREAD", 0.0)),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
