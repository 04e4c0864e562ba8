"""What is said from outside POMS about a submission: a job wrapper's batch id or a
script's state (`update_submission`), and a submission launched outside POMS
(`external_submissions`, the original's get_submission_id_for).
"""
from __future__ import annotations

from flask import current_app, jsonify, request

from app import states
from app.api.answers import submission_json
from app.api.caller import access
from app.api.core import ApiError, body_bool, json_body, refuse
from app.api.lookups import EXAMPLES, SUBMISSION_EXAMPLES, find_stage, find_submission
from app.api.routes import route
from app.api.schemas import BOOLEAN, STRING, json_of, obj, ref
from app.batch.base import BatchError, cluster_of
from app.batch.engines import engine_from_config
from app.campaigns.permissions import may_launch
from app.extensions import db
from app.ids import MAX_ID
from app.launching import external, service
from app.tracking import reports


@route("/experiments/<experiment>/submissions/<int:submission_id>/update", "POST", scope="launch",
       tag="submissions",
       summary="update_submission: a job wrapper reports the batch id, or a script the state",
       description="What the original's poms_jobsub_wrapper calls after jobsub_submit: "
                   "{\"jobsub_job_id\": \"12345.0@jobsub01.fnal.gov\"}. The id is added to "
                   "the submission's clusters for tracking once the batch system confirms "
                   "the cluster carries this submission's POMS task id (and, on the local "
                   "engine, was submitted by its launch's account): 409 otherwise. States "
                   "then change only through tracking. The embedded jobsub_submit does "
                   "this by itself. {\"status\": \"Running\"} is a state reported by a "
                   "script that runs the work itself (poms_run_script_stage, "
                   "await_approval): it moves the submission through the transition table, "
                   "and is refused (409) once POMS tracks the submission's jobs. Both may "
                   "come at once (the state first), in one transaction.",
       examples=SUBMISSION_EXAMPLES,
       body=json_of(obj({"jobsub_job_id": {**STRING, "minLength": 1, "maxLength": 255},
                         "status": {**STRING, "enum": list(states.STATES)}},
                        minProperties=1)),
       responses={200: ("recorded", json_of(ref("Submission")))})
def update_submission(experiment, submission_id):
    acc = access(experiment)
    s = find_submission(acc, submission_id)
    if not may_launch(acc, s.stage.campaign):
        raise refuse(f"acting as {acc.role}, you may not update submission {s.id}")
    body = json_body()
    batch_id, status = body.get("jobsub_job_id"), body.get("status")
    if batch_id is None and status is None:
        raise ApiError(422, "give jobsub_job_id (a batch id) or status (a state)",
                       "jobsub_job_id")
    if status is not None:
        if not isinstance(status, str):
            raise ApiError(422, "status: a submission state", "status")
        try:
            reports.report_state(s, status, acc.user)
        except reports.ReportRefused as err:
            code = 422 if status not in states.STATES else 409
            raise ApiError(code, str(err), "status") from None
    if batch_id is not None:
        try:
            cluster = cluster_of(batch_id)
        except ValueError:
            raise ApiError(422, "jobsub_job_id: a batch id like 12345.0@jobsub01.fnal.gov",
                           "jobsub_job_id") from None
        # A report is a claim: only a cluster the batch system confirms was submitted for
        # this submission (by its launch's account) becomes one of its own.
        try:
            owned, refused = service.confirmed_ids(s, [cluster],
                                                   engine_from_config(current_app.config))
        except BatchError as err:
            raise ApiError(502, f"the batch system did not answer: {err}") from None
        if not owned:
            raise ApiError(409, f"jobsub_job_id: not taken: {'; '.join(refused)}",
                           "jobsub_job_id")
        service.remember_batch_ids(s, owned)
    db.session.commit()
    return jsonify(submission_json(s, detail=True))


@route("/experiments/<experiment>/campaigns/<campaign>/stages/<stage>/external_submissions",
       "POST", scope="launch", tag="submissions",
       summary="Register a submission launched outside POMS (the original's "
               "get_submission_id_for)",
       description="Body {\"command\": what was run, \"dataset\": its input, \"parent\": a "
                   "submission it recovers or follows}. A submission with origin "
                   "\"external\" is written (state New, the stage's definitions "
                   "snapshotted); POMS never runs a launch for it. Its state comes from "
                   "update_submission reports until a batch id is recorded for it. With "
                   "\"submission_id\" (one of this stage's), nothing new is written: an "
                   "external one records the command, a submission POMS launched keeps "
                   "its own (200).",
       examples=EXAMPLES,
       body=json_of(obj({
           "command": STRING, "dataset": STRING,
           "parent": {"type": ["integer", "null"], "minimum": 1},
           "submission_id": {"type": ["integer", "null"], "minimum": 1},
           "test": {**BOOLEAN, "default": False}})), body_required=False,
       responses={200: ("the submission asked for", json_of(ref("Submission"))),
                  201: ("registered", json_of(ref("Submission")))})
def register_external_submission(experiment, campaign, stage):
    acc = access(experiment)
    row = find_stage(acc, campaign, stage)
    body = json_body() if request.get_data() else {}
    for key in ("command", "dataset"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise ApiError(422, f"{key}: text", key)
    for key in ("parent", "submission_id"):
        value = body.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or not 0 < value <= MAX_ID):
            raise ApiError(422, f"{key}: a submission id", key)
    test = body_bool(body, "test")
    if not may_launch(acc, row.campaign):
        raise refuse(f"acting as {acc.role}, you may not launch {row.campaign.name}")
    if body.get("submission_id") is not None:
        s = find_submission(acc, body["submission_id"])
        if s.campaign_stage_id != row.id:
            raise ApiError(409, f"submission {s.id} is of stage {s.stage.name}, not "
                           f"{row.name}", "submission_id")
        try:
            external.record_command(s, body.get("command"))
        except external.ExternalRefused as err:
            raise ApiError(422, str(err), "command") from None
        db.session.commit()
        return jsonify(submission_json(s, detail=True))
    parent = find_submission(acc, body["parent"]) if body.get("parent") is not None else None
    try:
        s = external.register(row, acc.user, command=body.get("command"),
                              dataset=body.get("dataset"), parent=parent, test=test)
        db.session.commit()
    except external.ExternalRefused as err:
        raise ApiError(422, str(err)) from None
    return jsonify(submission_json(s, detail=True)), 201
