"""Watches, what they were sent, and a stage's circuit breaker: the same domain calls as
the watching pages (app/watching)."""
from __future__ import annotations

from flask import current_app, jsonify, request
from sqlalchemy import select

from app import work
from app.api.caller import access
from app.api.core import ApiError, iso, json_body, refuse
from app.api.lookups import EXAMPLES, find_campaign, find_stage
from app.api.routes import param, route
from app.api.schemas import (
    BOOLEAN,
    INTEGER,
    NULLABLE_STRING,
    STRING,
    STRINGS,
    TIME,
    array,
    json_of,
    obj,
)
from app.campaigns.permissions import may_control
from app.extensions import db
from app.models.watching import Delivery
from app.watching import breaker, watches
from app.watching.events import CADENCES, KINDS
from app.watching.policy import policy_for
from app.watching.watches import CHANNELS, WatchError

WATCH = obj({"id": INTEGER, "campaign": STRING, "stage": NULLABLE_STRING,
             "events": STRINGS, "channel": STRING, "target": STRING, "cadence": STRING,
             "created": TIME})
WATCH_BODY = obj({
    "campaign": STRING, "stage": NULLABLE_STRING,
    "events": {**STRINGS, "description": f"any of {', '.join(KINDS)} (default: all)"},
    "channel": {**STRING, "enum": list(CHANNELS)},
    "target": {**STRING, "description": "email address (empty: yours) or webhook URL"},
    "cadence": {**STRING, "enum": list(CADENCES)}}, ["campaign"])
DELIVERY = obj({"id": INTEGER, "state": STRING, "channel": STRING, "target": STRING,
                "subject": STRING, "events": INTEGER, "attempts": INTEGER, "error": STRING,
                "created": TIME, "sent_at": TIME})
BREAKER = obj({"stage": STRING, "tripped": BOOLEAN, "reason": STRING, "tripped_at": TIME,
               "failures_by_signature": array(obj({"signature": STRING, "jobs": INTEGER})),
               "held_stages": array(INTEGER), "policy": obj({
                   "enabled": BOOLEAN, "window": INTEGER, "percent": INTEGER,
                   "source": STRING})})


def _text(body: dict, name: str, default: str = "") -> str:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ApiError(422, f"{name}: give it as text", name)
    return value


def _subject(acc, body: dict):
    campaign = find_campaign(acc, _text(body, "campaign"))
    stage_name = _text(body, "stage")
    return campaign, find_stage(acc, campaign.name, stage_name) if stage_name else None


@route("/experiments/<experiment>/watches", "GET", tag="watching",
       summary="Your watches in the experiment", examples=EXAMPLES,
       responses={200: ("your watches", json_of(obj({"watches": array(WATCH)})))})
def list_watches(experiment):
    acc = access(experiment)
    return jsonify({"watches": [watches.describe(w)
                                for w in watches.watches_of(acc.user, acc.experiment)]})


@route("/experiments/<experiment>/watches", "POST", scope="edit", tag="watching",
       summary="Watch a campaign or one of its stages (watching again changes the watch)",
       examples=EXAMPLES, body={"application/json": WATCH_BODY},
       responses={201: ("the watch", json_of(WATCH))})
def add_watch(experiment):
    acc = access(experiment)
    body = json_body()
    campaign, stage = _subject(acc, body)
    events = body.get("events")
    if events is not None and (not isinstance(events, list)
                               or not all(isinstance(e, str) for e in events)):
        raise ApiError(422, "events: give a list of event names", "events")
    try:
        row = watches.watch(acc.user, campaign, stage, events=events,
                            channel=_text(body, "channel", "email"),
                            target=_text(body, "target"),
                            cadence=_text(body, "cadence", "immediate"),
                            config=current_app.config)
    except WatchError as err:
        raise ApiError(422, str(err), str(err).split(":", 1)[0]) from None
    db.session.commit()
    return jsonify(watches.describe(row)), 201


@route("/experiments/<experiment>/watches/remove", "POST", scope="edit", tag="watching",
       summary="Stop watching a campaign or stage (all your watches of it, or those of one "
               "channel or target)", examples=EXAMPLES,
       body={"application/json": obj({"campaign": STRING, "stage": NULLABLE_STRING,
                                      "channel": NULLABLE_STRING, "target": NULLABLE_STRING},
                                     ["campaign"])},
       responses={200: ("how many were removed", json_of(obj({"removed": INTEGER})))})
def remove_watch(experiment):
    acc = access(experiment)
    body = json_body()
    campaign, stage = _subject(acc, body)
    removed = watches.unwatch(acc.user, campaign, stage, _text(body, "channel") or None,
                              _text(body, "target") or None)
    db.session.commit()
    return jsonify({"removed": removed})


@route("/experiments/<experiment>/deliveries", "GET", tag="watching",
       summary="What your watches sent (newest first, at most 100), and what failed",
       examples=EXAMPLES,
       query=[param("state", {**STRING, "enum": ["pending", "retrying", "sent", "failed"]},
                    "only these")],
       responses={200: ("deliveries", json_of(obj({"deliveries": array(DELIVERY)})))})
def list_deliveries(experiment):
    acc = access(experiment)
    query = select(Delivery).where(Delivery.experiment_id == acc.experiment.id,
                                   Delivery.experimenter_id == acc.user.id)
    state = request.args.get("state", "")
    if state:
        if state not in ("pending", "retrying", "sent", "failed"):
            raise ApiError(400, "state: pending, retrying, sent or failed", "state")
        query = query.where(Delivery.state == state)
    rows = db.session.scalars(query.order_by(Delivery.id.desc()).limit(100))
    return jsonify({"deliveries": [{
        "id": d.id, "state": d.state, "channel": d.channel, "target": d.target,
        "subject": d.subject, "events": d.events, "attempts": d.attempts, "error": d.error,
        "created": iso(d.created), "sent_at": iso(d.sent_at)} for d in rows]})


def _breaker_json(stage) -> dict:
    row = breaker.breaker_of(stage)
    tripped = bool(row and row.tripped)
    policy = policy_for(stage, current_app.config)
    return {"stage": stage.name, "tripped": tripped, "reason": row.reason if row else "",
            "tripped_at": iso(row.tripped_at) if tripped else None,
            "failures_by_signature": [{"signature": s, "jobs": n} for s, n in
                                      (breaker.failures_by_signature(row) if tripped else [])],
            "held_stages": list(row.held_stage_ids or []) if tripped else [],
            "policy": {"enabled": policy.enabled, "window": policy.window,
                       "percent": policy.percent, "source": policy.source}}


@route("/experiments/<experiment>/campaigns/<campaign>/stages/<stage>/breaker", "GET",
       tag="watching", summary="A stage's circuit breaker: tripped or not, why, its policy",
       examples=EXAMPLES, responses={200: ("the breaker", json_of(BREAKER))})
def stage_breaker(experiment, campaign, stage):
    return jsonify(_breaker_json(find_stage(access(experiment), campaign, stage)))


@route("/experiments/<experiment>/campaigns/<campaign>/stages/<stage>/resume", "POST",
       scope="launch", tag="watching",
       summary="Release a stage's tripped circuit breaker; the launches that waited are queued",
       examples=EXAMPLES, responses={200: ("released", json_of(obj({
           "stage": STRING, "released_submissions": array(INTEGER), "queued": BOOLEAN})))})
def resume_stage(experiment, campaign, stage):
    acc = access(experiment)
    row = find_stage(acc, campaign, stage)
    if not may_control(acc, row.campaign):
        raise refuse(f"acting as {acc.role}, you may not release stage {row.name}")
    try:
        waiting = breaker.release(row, acc.user)
    except ValueError as err:
        raise ApiError(409, str(err), "stage") from None
    db.session.commit()
    queued = True
    if waiting:
        try:
            work.queue_launches(current_app.config, waiting)
        except work.QueueUnavailable:
            queued = False
    return jsonify({"stage": row.name, "released_submissions": waiting, "queued": queued})
