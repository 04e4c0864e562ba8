"""The experiment-wide hold of every launch (the original's set_job_launches), for
downtimes: read it, turn it on, turn it off (app/launching/launch_hold.py, as the pages).
"""
from __future__ import annotations

from flask import jsonify, request

from app.api.caller import access
from app.api.core import iso, json_body, refuse
from app.api.launching import queue_launches
from app.api.routes import route
from app.api.schemas import BOOLEAN, INTEGER, NULLABLE_STRING, STRING, array, json_of, obj
from app.extensions import db
from app.launching import launch_hold

_ANSWER = {200: ("the switch", json_of(obj({
    "experiment": STRING, "held": BOOLEAN, "held_by": NULLABLE_STRING,
    "held_at": NULLABLE_STRING, "reason": STRING, "released_submissions": array(INTEGER),
    "queued": BOOLEAN}, ["experiment", "held"])))}


def _answer(experiment, released: list[int] | None = None, queued: bool = True):
    row = launch_hold.hold_of(experiment.id)
    return jsonify({
        "experiment": experiment.name, "held": row is not None,
        "held_by": row.held_by.username if row and row.held_by else None,
        "held_at": iso(row.held_at) if row else None, "reason": row.reason if row else "",
        "released_submissions": released or [], "queued": queued})


@route("/experiments/<experiment>/launches", "GET", tag="launching",
       summary="Whether every launch of the experiment is held (a downtime)",
       responses=_ANSWER)
def launches(experiment):
    return _answer(access(experiment).experiment)


def _switch(experiment, hold: bool):
    acc = access(experiment)
    body = json_body() if request.get_data() else {}
    try:
        if hold:
            launch_hold.hold_all(acc.experiment, acc.user, acc.role,
                                 str(body.get("reason", "")))
            waiting = []
        else:
            waiting = launch_hold.release_all(acc.experiment, acc.user, acc.role)
        db.session.commit()
    except launch_hold.HoldRefused as err:
        db.session.rollback()
        raise refuse(str(err)) from None
    queued = queue_launches(waiting) if waiting else True
    return _answer(acc.experiment, waiting, queued)


@route("/experiments/<experiment>/launches/hold", "POST", scope="launch", tag="launching",
       summary="Hold every launch of the experiment (production or superuser)",
       description="Body {\"reason\": \"dCache downtime\"} (optional). Launches asked for "
                   "while held are recorded and wait; none is lost.",
       body=json_of(obj({"reason": STRING})), body_required=False, responses=_ANSWER)
def hold_launches(experiment):
    return _switch(experiment, True)


@route("/experiments/<experiment>/launches/release", "POST", scope="launch", tag="launching",
       summary="Release the experiment's launches; those that waited are queued",
       responses=_ANSWER)
def release_launches(experiment):
    return _switch(experiment, False)
