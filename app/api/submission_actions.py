"""The actions on one submission: kill, hold and release (requested; a worker asks the
batch system), approve and refuse (done at once), what was asked and how it went, and a
recovery now (app/tracking/actions.py, app/chaining/operator.py, as the pages).
"""
from __future__ import annotations

from flask import current_app, jsonify, request

from app import work
from app.api.answers import action_json, submission_json
from app.api.caller import access
from app.api.core import ApiError, body_bool, json_body, refuse
from app.api.launching import queue_launches
from app.api.lookups import SUBMISSION_EXAMPLES, find_submission
from app.api.routes import route
from app.api.schemas import (
    BOOLEAN,
    INTEGER,
    NULLABLE_STRING,
    STRING,
    array,
    json_of,
    obj,
    ref,
)
from app.campaigns.permissions import may_control, may_launch
from app.chaining import operator
from app.extensions import db
from app.tracking import actions


def _act(experiment, submission_id, action: str):
    acc = access(experiment)
    s = find_submission(acc, submission_id)
    if not may_control(acc, s.stage.campaign):
        raise refuse(f"acting as {acc.role}, you may not {action} submission {s.id}")
    try:
        got = actions.request_action(action, s, acc.user, origin="api")
        db.session.commit()
    except actions.ActionRefused as err:
        raise ApiError(409, str(err)) from None
    if isinstance(got, str):
        db.session.refresh(s)
        return jsonify({"submission": submission_json(s), "done": got})
    try:
        work.queue_batch_action(current_app.config, got.id)
        queued = True
    except work.QueueUnavailable:  # the row says requested: the scheduler queues it again
        queued = False
    return jsonify({"submission": submission_json(s), "requested": action_json(got),
                    "queued": queued}), 202


_ACTION = obj({
    "id": INTEGER, "submission": INTEGER,
    "action": {**STRING, "enum": list(actions.ON_THE_ENGINE)},
    "state": {**STRING, "enum": ["requested", "running", "done", "refused", "failed"]},
    "pending": BOOLEAN, "requested_by": NULLABLE_STRING, "origin": STRING,
    "requested": NULLABLE_STRING, "started": NULLABLE_STRING, "finished": NULLABLE_STRING,
    "result": NULLABLE_STRING, "said": STRING})


_ACT_ANSWER = {
    200: ("done at once (approve, refuse, or a kill before the launch ran)",
          json_of(obj({"submission": ref("Submission"), "done": STRING},
                      ["submission", "done"]))),
    202: ("requested: a worker asks the batch system (GET .../actions says how it went)",
          json_of(obj({"submission": ref("Submission"), "requested": _ACTION,
                       "queued": BOOLEAN}, ["submission", "requested"]))),
}


@route("/experiments/<experiment>/submissions/<int:submission_id>/actions", "GET",
       tag="submissions", summary="A submission's kill, hold and release requests, newest "
       "first, with what the batch system did", examples=SUBMISSION_EXAMPLES,
       responses={200: ("the actions", json_of(obj({"actions": array(_ACTION)}, ["actions"])))})
def submission_actions(experiment, submission_id):
    acc = access(experiment)
    s = find_submission(acc, submission_id)
    return jsonify({"actions": [action_json(row) for row in actions.actions_of(s, 50)]})


# The actions on one submission: each its own URL and OpenAPI operation, all served by _act.
# Kill, hold and release answer 202: a worker asks the batch system (a request never waits
# on the grid); approve and refuse (and cancelling a launch not started) are done at once.
SUBMISSION_ACTIONS = {
    "kill": "Kill a submission's jobs (requested; or cancel it before it launched)",
    "hold": "Hold a submission's idle and running jobs (requested)",
    "release": "Release a held submission (requested)",
    "approve": "Approve a submission of an approval stage (it completes)",
    "refuse": "Refuse a submission of an approval stage (it is removed, as the original's "
              "UnApprove)",
}


def _route_action(action: str, summary: str) -> None:
    def view(experiment, submission_id):
        return _act(experiment, submission_id, action)

    # route() takes the endpoint, and so the operationId, from the view's name.
    view.__name__ = view.__qualname__ = f"{action}_submission"
    route(f"/experiments/<experiment>/submissions/<int:submission_id>/{action}", "POST",
          scope="launch", tag="submissions", summary=summary, examples=SUBMISSION_EXAMPLES,
          responses=_ACT_ANSWER)(view)


for _action, _summary in SUBMISSION_ACTIONS.items():
    _route_action(_action, _summary)


@route("/experiments/<experiment>/submissions/<int:submission_id>/recover", "POST", scope="launch",
       tag="submissions", summary="Recover a submission now (or show the files a recovery "
       "would re-run, with why)",
       description="Body {\"type\": recovery type or null (the job type's next one), "
                   "\"dry_run\": bool}. The recovery is of the submission's family's last "
                   "submission, once it has ended; 409 when there is nothing to recover or "
                   "it is too early. A launch answers 202 with the new submission.",
       examples=SUBMISSION_EXAMPLES,
       body=json_of(obj({"type": NULLABLE_STRING, "dry_run": {**BOOLEAN, "default": False}})),
       body_required=False,
       responses={200: ("the dry run", json_of(obj({
                      "dry_run": BOOLEAN, "recovers": INTEGER, "position": INTEGER,
                      "type": STRING, "file_count": INTEGER, "files": {"type": "array"},
                      "note": STRING, "problem": STRING}, ["files"]))),
                  202: ("queued", json_of(obj({"submission": ref("Submission"),
                                               "queued": BOOLEAN}, ["submission"])))})
def recover_submission(experiment, submission_id):
    acc = access(experiment)
    s = find_submission(acc, submission_id)
    body = json_body() if request.get_data() else {}
    dry_run = body_bool(body, "dry_run")
    rtype = body.get("type")
    if rtype is not None and (not isinstance(rtype, str) or not rtype.strip()):
        raise ApiError(422, "type: a recovery type name, or null", "type")
    if not may_launch(acc, s.stage.campaign):
        raise refuse(f"acting as {acc.role}, you may not recover submission {s.id}")
    config = current_app.config
    if dry_run:
        shown = operator.recovery_preview(s, config, rtype)
        db.session.rollback()  # a preview writes nothing
        return jsonify({
            "dry_run": True, "recovers": shown.submission_id, "position": shown.position,
            "type": shown.type, "file_count": len(shown.files), "note": shown.note,
            "problem": shown.problem,
            "files": [{"name": f.name, "reason": f.reason} for f in shown.files[:1000]],
        })
    try:
        launched = operator.recover_now(s, acc.user, config, rtype)
        db.session.commit()
    except operator.RecoveryRefused as err:
        raise ApiError(409, f"no recovery: {err}") from None
    queued = queue_launches([launched.id])
    return jsonify({"submission": submission_json(launched), "queued": queued}), 202
