"""Launching and following work: launch (test, production, dry run), hold and release a
stage, preview its next split, campaign status, submissions (list, show, jobs, history,
launch output, kill, hold, release and the actions asked for), job logs, and
`update_submission` for job wrappers.

The same domain calls as the pages (app/launching/service.py, app/tracking/actions.py,
app/catalog/split_state.py); launches are queued on RQ after the commit.
"""
from __future__ import annotations

from pathlib import Path

from flask import Response, current_app, jsonify, request
from sqlalchemy import select

from app import states, work
from app.api.campaigns import EXAMPLES, find_campaign, find_stage
from app.api.core import (
    PAGE_PARAMS,
    ApiError,
    access,
    choice_arg,
    int_arg,
    iso,
    json_body,
    json_of,
    page_of,
    paginate,
    paginate_list,
    param,
    ref,
    refuse,
    route,
)
from app.auth import policy
from app.auth.session import Access
from app.batch.base import BatchError, cluster_of
from app.batch.engines import engine_from_config
from app.catalog.base import CatalogError
from app.chaining import operator
from app.extensions import db
from app.ids import MAX_ID
from app.launching import external, schedule, service
from app.launching.command import LaunchError
from app.launching.inputs import preview_slices
from app.models import BatchAction, Campaign, CampaignStage, Job, Submission, SubmissionEvent
from app.tracking import actions, reports

SUBMISSION_EXAMPLES = {**EXAMPLES, "submission_id": 1, "job_id": 1}
JOB_STATES = ("Idle", "Running", "Held", "Completed", "Failed", "Removed")
OUTPUT_LIMIT = 1024 * 1024


# --- answers -------------------------------------------------------------------------------


def jobs_json(s: Submission) -> dict:
    return {"total": s.jobs_total, "idle": s.jobs_idle, "running": s.jobs_running,
            "held": s.jobs_held, "done": s.jobs_done, "failed": s.jobs_failed,
            "removed": s.jobs_removed}


def submission_json(s: Submission, detail: bool = False) -> dict:
    out = {
        "id": s.id, "campaign": s.stage.campaign.name, "stage": s.stage.name,
        "state": s.state, "test": s.test, "origin": s.origin,
        "launcher": s.launcher.username if s.launcher else None,
        "recovery_of": s.recovery_of_id, "created": iso(s.created), "updated": iso(s.updated),
        "batch_id": s.batch_id or None, "jobs": jobs_json(s), "percent_done": s.percent_done,
        "active": s.state in states.ACTIVE, "launch_error": s.launch_error or None,
    }
    if detail:
        out.update({
            "dataset": s.dataset, "batch_ids": list(s.batch_ids or []),
            "command": s.command, "environment": dict(s.launch_env or {}),
            "input_files": len(s.input_files) if s.input_files is not None else None,
            "launch_started": iso(s.launch_started_at),
            "launch_finished": iso(s.launch_finished_at),
            "launch_exit_code": s.launch_exit_code, "launch_host": s.launch_host or None,
            "launch_account": s.launch_account or None,
            "tracked": iso(s.tracked_at), "tracking_error": s.tracking_error or None,
        })
    return out


def job_json(j: Job) -> dict:
    return {"id": j.id, "submission": j.submission_id, "batch_job_id": j.batch_job_id,
            "state": j.state, "exit_code": j.exit_code, "host": j.host or None,
            "started": iso(j.started_at), "ended": iso(j.ended_at),
            "updated": iso(j.updated_at)}


def event_json(e: SubmissionEvent) -> dict:
    return {"at": iso(e.at), "from": e.from_state, "to": e.to_state, "cause": e.cause,
            "by": e.actor.username if e.actor else None}


# --- permissions and lookups ---------------------------------------------------------------


def may_launch(acc: Access, campaign: Campaign) -> bool:
    return policy.may_launch(acc.role, poms_role=campaign.poms_role, is_owner=acc.owns(campaign))


def may_control(acc: Access, campaign: Campaign) -> bool:
    return policy.may_control_submission(acc.role, poms_role=campaign.poms_role,
                                         is_owner=acc.owns(campaign))


def find_submission(acc: Access, submission_id: int) -> Submission:
    s = db.session.get(Submission, submission_id)
    if s is None or s.stage.campaign.experiment_id != acc.experiment.id:
        raise ApiError(404, f"no submission {submission_id} in {acc.experiment.name}",
                       "submission_id")
    return s


def _enqueue(ids: list[int]) -> bool:
    """Queue launches after the commit; False when the queue is not answering (the rows
    stay New and the scheduler queues them once it answers)."""
    try:
        work.queue_launches(current_app.config, ids)
    except work.QueueUnavailable:
        return False
    return True


def _bool(body: dict, name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise ApiError(422, f"{name} is true or false", name)
    return value


# --- launching -----------------------------------------------------------------------------


@route("/experiments/<experiment>/campaigns/<campaign>/stages/<stage>/launch", "POST",
       scope="launch",
       tag="launching", summary="Launch a stage (test or production), or show the dry run",
       description="Body {\"test\": bool, \"dry_run\": bool}. A dry run answers 200 with the "
                   "exact launch script (`command`: the bytes the submission's command will "
                   "hold, but for its id in POMS_TASK_ID and POMS4_SUBMISSION_ID, unknown "
                   "before the launch), environment and input, and writes nothing. A launch "
                   "writes the submission (state New) and queues it: 202. A held stage keeps "
                   "it waiting until released. 422 when the command cannot be built.",
       examples=EXAMPLES,
       body=json_of({"type": "object", "properties": {
           "test": {"type": "boolean", "default": False},
           "dry_run": {"type": "boolean", "default": False}}}), body_required=False,
       responses={200: ("the dry run", json_of({"type": "object", "required": [
                      "dry_run", "command", "environment"], "properties": {
                      "dry_run": {"type": "boolean"}, "command": {"type": "string"},
                      "command_line": {"type": "string"},
                      "warnings": {"type": "array", "items": {"type": "string"}},
                      "environment": {"type": "object"},
                      "input": {"type": "object"}, "launcher": {"type": "string"},
                      "where": {"type": "string"}, "held": {"type": "boolean"}}})),
                  202: ("queued", json_of({"type": "object", "required": ["submission"],
                        "properties": {"submission": ref("Submission"),
                                       "queued": {"type": "boolean"},
                                       "held": {"type": "boolean"},
                                       "message": {"type": "string"}}}))})
def launch_stage(experiment, campaign, stage):
    acc = access(experiment)
    row = find_stage(acc, campaign, stage)
    body = json_body() if request.get_data() else {}
    test, dry_run = _bool(body, "test"), _bool(body, "dry_run")
    if not may_launch(acc, row.campaign):
        raise refuse(f"acting as {acc.role}, you may not launch {row.campaign.name}")
    config = current_app.config
    if dry_run:
        try:
            shown = service.preview(row, acc.user, test=test, config=config)
        except LaunchError as err:
            raise ApiError(422, f"cannot launch: {err}") from None
        return jsonify({
            "dry_run": True, "test": test, "command": shown.script,
            "command_line": shown.plan.command, "warnings": shown.warnings,
            "environment": shown.plan.env,
            "input": {"dataset": shown.input.dataset, "files": shown.input.files,
                      "note": shown.input.note},
            "launcher": shown.launcher, "where": shown.where, "held": service.stage_held(row),
        })
    try:
        submission = service.request_launch(row, acc.user, test=test, origin="api",
                                            config=config)
        db.session.commit()
    except LaunchError as err:
        raise ApiError(422, f"cannot launch: {err}") from None
    held = service.stage_held(row)
    queued = False if held else _enqueue([submission.id])
    if held:
        message = f"stage {row.name} is held: submission {submission.id} waits until released"
    elif queued:
        message = f"{'test launch' if test else 'launch'} queued as submission {submission.id}"
    else:
        message = (f"submission {submission.id} is recorded; the queue is not answering, "
                   "it starts when the workers are back")
    return jsonify({"submission": submission_json(submission), "queued": queued,
                    "held": held, "message": message}), 202


def _stage_hold(experiment, campaign, stage, hold: bool):
    acc = access(experiment)
    row = find_stage(acc, campaign, stage)
    if not may_control(acc, row.campaign):
        raise refuse(f"acting as {acc.role}, you may not hold or release {row.name}")
    waiting: list[int] = []
    if hold:
        actions.hold_stage(row, acc.user)
    else:
        waiting = actions.release_stage(row, acc.user)
    db.session.commit()
    queued = _enqueue(waiting) if waiting else True
    return jsonify({"stage": row.name, "held": hold, "released_submissions": waiting,
                    "queued": queued})


_HOLD_ANSWER = {200: ("the stage's hold", json_of({"type": "object", "required": ["held"],
                "properties": {"stage": {"type": "string"}, "held": {"type": "boolean"},
                               "released_submissions": {"type": "array",
                                                        "items": {"type": "integer"}},
                               "queued": {"type": "boolean"}}}))}


@route("/experiments/<experiment>/campaigns/<campaign>/stages/<stage>/hold", "POST", scope="launch",
       tag="launching", summary="Hold a stage: its launches wait until it is released",
       examples=EXAMPLES, responses=_HOLD_ANSWER)
def hold_stage(experiment, campaign, stage):
    return _stage_hold(experiment, campaign, stage, True)


@route("/experiments/<experiment>/campaigns/<campaign>/stages/<stage>/release", "POST",
       scope="launch",
       tag="launching", summary="Release a held stage; the launches that waited are queued",
       examples=EXAMPLES, responses=_HOLD_ANSWER)
def release_stage(experiment, campaign, stage):
    return _stage_hold(experiment, campaign, stage, False)


@route("/experiments/<experiment>/campaigns/<campaign>/stages/<stage>/split", "GET",
       tag="launching", summary="Preview the next slices the stage's split type hands out",
       description="Writes nothing; the stored position of the splitter stays as it is.",
       examples=EXAMPLES,
       query=[param("n", {"type": "integer", "minimum": 1, "maximum": 50, "default": 5},
                    "how many launches ahead")],
       responses={200: ("the next slices", json_of({"type": "object", "required": ["slices"],
                   "properties": {"split_type": {"type": "string"},
                                  "dataset": {"type": "string"},
                                  "slices": {"type": "array"},
                                  "done": {"type": ["string", "null"]}}}))})
def preview_split(experiment, campaign, stage):
    acc = access(experiment)
    row = find_stage(acc, campaign, stage)
    n = int_arg("n", 5, 1, 50)
    try:
        got = preview_slices(row, current_app.config, n)
    except CatalogError as err:
        raise ApiError(502, f"the catalogue did not answer: {err}") from None
    except ValueError as err:
        raise ApiError(422, str(err), "cs_split_type") from None
    slices = [{"dataset": s.dataset, "dimensions": s.dims, "description": s.description}
              for s in got.slices]
    done = got.done
    return jsonify({"split_type": row.cs_split_type or "none",
                    "dataset": row.dataset_or_split_data, "slices": slices, "done": done})


@route("/experiments/<experiment>/campaigns/<campaign>/status", "GET", tag="submissions",
       summary="Every stage of a campaign with its submissions, states and job counts",
       examples=EXAMPLES,
       query=[param("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 20},
                    "the newest submissions per stage")],
       responses={200: ("the status", json_of({"type": "object", "required": ["stages"],
                   "properties": {"campaign": {"type": "string"}, "stages": {
                       "type": "array", "items": {"type": "object", "properties": {
                           "name": {"type": "string"}, "held": {"type": "boolean"},
                           "submissions": {"type": "array", "items": ref("Submission")}}}}}}))})
def campaign_status(experiment, campaign):
    acc = access(experiment)
    row = find_campaign(acc, campaign)
    limit = int_arg("limit", 20, 1, 200)
    stages = []
    for stage in row.stages:
        newest = db.session.scalars(
            select(Submission).where(Submission.campaign_stage_id == stage.id)
            .order_by(Submission.id.desc()).limit(limit)).all()
        stages.append({"name": stage.name, "held": service.stage_held(stage),
                       "submissions": [submission_json(s) for s in reversed(newest)]})
    return jsonify({"campaign": row.name, "stages": stages})


# --- submissions ---------------------------------------------------------------------------


@route("/experiments/<experiment>/submissions", "GET", tag="submissions",
       summary="The experiment's submissions, newest first, with filters",
       examples=EXAMPLES,
       query=PAGE_PARAMS + [
           param("campaign", {"type": "string"}, "only this campaign's"),
           param("stage", {"type": "string"}, "only this stage's (with campaign)"),
           param("state", {"type": "string", "enum": list(states.STATES)}, "only this state"),
           param("active", {"type": "string", "enum": ["0", "1"]},
                 "1: only New, Idle, Running, Held"),
       ],
       responses={200: ("a page of submissions", json_of(page_of("Submission")))})
def list_submissions(experiment):
    acc = access(experiment)
    query = (select(Submission).join(CampaignStage, Submission.campaign_stage_id
                                     == CampaignStage.id)
             .join(Campaign, CampaignStage.campaign_id == Campaign.id)
             .where(Campaign.experiment_id == acc.experiment.id))
    name = request.args.get("campaign")
    stage = request.args.get("stage")
    if stage and not name:
        raise ApiError(400, "stage needs campaign too", "stage")
    if name:
        query = query.where(Campaign.id == find_campaign(acc, name).id)
        if stage:
            query = query.where(CampaignStage.id == find_stage(acc, name, stage).id)
    state = request.args.get("state")
    if state is not None:
        state = choice_arg("state", states.STATES, "")
        query = query.where(Submission.state == state)
    active = request.args.get("active", "")
    if active not in ("", "0", "1"):
        raise ApiError(400, "active is 1 or 0", "active")
    if active == "1":
        query = query.where(Submission.state.in_(states.ACTIVE))
    return jsonify(paginate(query.order_by(Submission.id.desc()), submission_json))


@route("/experiments/<experiment>/submissions/<int:submission_id>", "GET", tag="submissions",
       summary="One submission: state, job counts, what ran", examples=SUBMISSION_EXAMPLES,
       responses={200: ("the submission", json_of(ref("Submission")))})
def show_submission(experiment, submission_id):
    acc = access(experiment)
    return jsonify(submission_json(find_submission(acc, submission_id), detail=True))


@route("/experiments/<experiment>/submissions/<int:submission_id>/jobs", "GET",
       tag="submissions", summary="A submission's jobs, a page at a time",
       examples=SUBMISSION_EXAMPLES,
       query=PAGE_PARAMS + [param("state", {"type": "string", "enum": list(JOB_STATES)},
                                  "only jobs in this state")],
       responses={200: ("a page of jobs", json_of(page_of("Job")))})
def list_jobs(experiment, submission_id):
    acc = access(experiment)
    s = find_submission(acc, submission_id)
    query = select(Job).where(Job.submission_id == s.id)
    if request.args.get("state") is not None:
        query = query.where(Job.state == choice_arg("state", JOB_STATES, ""))
    return jsonify(paginate(query.order_by(Job.id), job_json, submission=s.id))


@route("/experiments/<experiment>/submissions/<int:submission_id>/history", "GET",
       tag="submissions", summary="A submission's state changes: when, from, to, why, by whom",
       examples=SUBMISSION_EXAMPLES, query=PAGE_PARAMS,
       responses={200: ("a page of changes", json_of(page_of("Event")))})
def submission_history(experiment, submission_id):
    acc = access(experiment)
    s = find_submission(acc, submission_id)
    query = select(SubmissionEvent).where(SubmissionEvent.submission_id == s.id)
    return jsonify(paginate(query.order_by(SubmissionEvent.id), event_json))


@route("/experiments/<experiment>/submissions/<int:submission_id>/files", "GET",
       tag="submissions", summary="The input files the submission was launched with",
       description="The file list the launch chose (its split slice, a dependency's outputs "
                   "or a recovery's files); empty when the catalogue was not asked.",
       examples=SUBMISSION_EXAMPLES, query=PAGE_PARAMS,
       responses={200: ("a page of files", json_of(page_of("File")))})
def submission_files(experiment, submission_id):
    acc = access(experiment)
    s = find_submission(acc, submission_id)
    names = list(s.input_files or [])
    return jsonify(paginate_list(names, lambda name: {"name": name, "kind": "input"},
                                 submission=s.id, dataset=s.dataset))


@route("/experiments/<experiment>/submissions/<int:submission_id>/output", "GET",
       tag="submissions", summary="The launch command's output (the last MiB)",
       examples=SUBMISSION_EXAMPLES,
       responses={200: ("the output", {"text/plain": {"type": "string"}})})
def submission_output(experiment, submission_id):
    acc = access(experiment)
    s = find_submission(acc, submission_id)
    text = ""
    if s.launch_output:
        path = Path(s.launch_output)
        size = path.stat().st_size if path.exists() else 0
        text = service.read_output(s, offset=max(0, size - OUTPUT_LIMIT))
    return Response(text, mimetype="text/plain")


@route("/experiments/<experiment>/jobs/<int:job_id>/log", "GET", tag="submissions",
       summary="One job's log, from the batch system", examples=SUBMISSION_EXAMPLES,
       responses={200: ("the log", {"text/plain": {"type": "string"}})})
def job_log(experiment, job_id):
    acc = access(experiment)
    job = db.session.get(Job, job_id)
    if job is None or db.session.get(Submission, job.submission_id).stage.campaign \
            .experiment_id != acc.experiment.id:
        raise ApiError(404, f"no job {job_id} in {acc.experiment.name}", "job_id")
    try:
        text = engine_from_config(current_app.config).fetch_log(job.batch_job_id)
    except (BatchError, ValueError, OSError) as err:
        raise ApiError(404, f"no log for job {job.batch_job_id}: {err}", "job_id") from None
    return Response(text, mimetype="text/plain")


def action_json(row: BatchAction) -> dict:
    return {"id": row.id, "submission": row.submission_id, "action": row.action,
            "state": row.state, "pending": row.state in actions.PENDING,
            "requested_by": row.requested_by.username if row.requested_by else None,
            "origin": row.origin, "requested": iso(row.requested_at),
            "started": iso(row.started_at), "finished": iso(row.finished_at),
            "result": row.result or None, "said": actions.describe(row)}


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


_ACTION = {"type": "object", "properties": {
    "id": {"type": "integer"}, "submission": {"type": "integer"},
    "action": {"type": "string", "enum": list(actions.ON_THE_ENGINE)},
    "state": {"type": "string", "enum": ["requested", "running", "done", "refused", "failed"]},
    "pending": {"type": "boolean"}, "requested_by": {"type": ["string", "null"]},
    "origin": {"type": "string"}, "requested": {"type": ["string", "null"]},
    "started": {"type": ["string", "null"]}, "finished": {"type": ["string", "null"]},
    "result": {"type": ["string", "null"]}, "said": {"type": "string"}}}
_ACT_ANSWER = {
    200: ("done at once (approve, refuse, or a kill before the launch ran)",
          json_of({"type": "object", "required": ["submission", "done"],
                   "properties": {"submission": ref("Submission"),
                                  "done": {"type": "string"}}})),
    202: ("requested: a worker asks the batch system (GET .../actions says how it went)",
          json_of({"type": "object", "required": ["submission", "requested"],
                   "properties": {"submission": ref("Submission"), "requested": _ACTION,
                                  "queued": {"type": "boolean"}}})),
}


@route("/experiments/<experiment>/submissions/<int:submission_id>/actions", "GET",
       tag="submissions", summary="A submission's kill, hold and release requests, newest "
       "first, with what the batch system did", examples=SUBMISSION_EXAMPLES,
       responses={200: ("the actions", json_of({"type": "object", "required": ["actions"],
                  "properties": {"actions": {"type": "array", "items": _ACTION}}}))})
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


@route("/experiments/<experiment>/campaigns/<campaign>/stages/<stage>/schedule", "PUT",
       scope="launch",
       tag="launching", summary="Set (or clear, with \"\") a stage's cron schedule of launches",
       description="Body {\"schedule\": \"0 */6 * * *\", \"test\": false}. Scheduled "
                   "launches act as the person who set the schedule.",
       examples=EXAMPLES,
       body=json_of({"type": "object", "required": ["schedule"], "properties": {
           "schedule": {"type": "string"}, "test": {"type": "boolean", "default": False}}}),
       responses={200: ("the schedule", json_of({"type": "object", "properties": {
           "stage": {"type": "string"}, "schedule": {"type": "string"},
           "test": {"type": "boolean"}, "next": {"type": ["string", "null"]}}}))})
def schedule_stage(experiment, campaign, stage):
    acc = access(experiment)
    row = find_stage(acc, campaign, stage)
    body = json_body()
    expression = body.get("schedule")
    if not isinstance(expression, str):
        raise ApiError(422, "schedule: a cron expression, or \"\" for none", "schedule")
    test = _bool(body, "test")
    if not may_launch(acc, row.campaign):
        raise refuse(f"acting as {acc.role}, you may not schedule {row.name}")
    try:
        schedule.set_schedule(row, expression, acc.user, test=test)
        db.session.commit()
    except ValueError as err:  # ScheduleError, or croniter's bad date ("0 0 30 2 *")
        raise ApiError(422, f"schedule: {err}", "schedule") from None
    settings = service.stage_settings(row)
    return jsonify({"stage": row.name, "schedule": settings.schedule if settings else "",
                    "test": bool(settings and settings.schedule_test),
                    "next": iso(settings.schedule_next_at) if settings else None})


@route("/experiments/<experiment>/submissions/<int:submission_id>/recover", "POST", scope="launch",
       tag="submissions", summary="Recover a submission now (or show the files a recovery "
       "would re-run, with why)",
       description="Body {\"type\": recovery type or null (the job type's next one), "
                   "\"dry_run\": bool}. The recovery is of the submission's family's last "
                   "submission, once it has ended; 409 when there is nothing to recover or "
                   "it is too early. A launch answers 202 with the new submission.",
       examples=SUBMISSION_EXAMPLES,
       body=json_of({"type": "object", "properties": {
           "type": {"type": ["string", "null"]},
           "dry_run": {"type": "boolean", "default": False}}}), body_required=False,
       responses={200: ("the dry run", json_of({"type": "object", "required": ["files"],
                  "properties": {"dry_run": {"type": "boolean"},
                                 "recovers": {"type": "integer"},
                                 "position": {"type": "integer"},
                                 "type": {"type": "string"},
                                 "file_count": {"type": "integer"},
                                 "files": {"type": "array"},
                                 "note": {"type": "string"},
                                 "problem": {"type": "string"}}})),
                  202: ("queued", json_of({"type": "object", "required": ["submission"],
                        "properties": {"submission": ref("Submission"),
                                       "queued": {"type": "boolean"}}}))})
def recover_submission(experiment, submission_id):
    acc = access(experiment)
    s = find_submission(acc, submission_id)
    body = json_body() if request.get_data() else {}
    dry_run = _bool(body, "dry_run")
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
    queued = _enqueue([launched.id])
    return jsonify({"submission": submission_json(launched), "queued": queued}), 202


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
       body=json_of({"type": "object", "minProperties": 1, "properties": {
           "jobsub_job_id": {"type": "string", "minLength": 1, "maxLength": 255},
           "status": {"type": "string", "enum": list(states.STATES)}}}),
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
       body=json_of({"type": "object", "properties": {
           "command": {"type": "string"}, "dataset": {"type": "string"},
           "parent": {"type": ["integer", "null"], "minimum": 1},
           "submission_id": {"type": ["integer", "null"], "minimum": 1},
           "test": {"type": "boolean", "default": False}}}), body_required=False,
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
    test = _bool(body, "test")
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
