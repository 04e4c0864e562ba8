"""Following work: the experiment's submissions (list, show), a submission's jobs, history,
input files and launch output, and a job's log.
"""
from __future__ import annotations

from pathlib import Path

from flask import Response, current_app, jsonify, request
from sqlalchemy import select

from app import states
from app.api.answers import event_json, job_json, submission_json
from app.api.caller import access
from app.api.core import ApiError, choice_arg, paginate, paginate_list
from app.api.lookups import (
    EXAMPLES,
    SUBMISSION_EXAMPLES,
    find_campaign,
    find_stage,
    find_submission,
)
from app.api.routes import PAGE_PARAMS, param, route
from app.api.schemas import STRING, json_of, page_of, ref
from app.batch.base import BatchError
from app.batch.engines import engine_from_config
from app.extensions import db
from app.launching import service
from app.models import Campaign, CampaignStage, Job, Submission, SubmissionEvent

OUTPUT_LIMIT = 1024 * 1024


@route("/experiments/<experiment>/submissions", "GET", tag="submissions",
       summary="The experiment's submissions, newest first, with filters",
       examples=EXAMPLES,
       query=PAGE_PARAMS + [
           param("campaign", STRING, "only this campaign's"),
           param("stage", STRING, "only this stage's (with campaign)"),
           param("state", {**STRING, "enum": list(states.STATES)}, "only this state"),
           param("active", {**STRING, "enum": ["0", "1"]},
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
       query=PAGE_PARAMS + [param("state", {**STRING, "enum": list(states.JOB_STATES)},
                                  "only jobs in this state")],
       responses={200: ("a page of jobs", json_of(page_of("Job")))})
def list_jobs(experiment, submission_id):
    acc = access(experiment)
    s = find_submission(acc, submission_id)
    query = select(Job).where(Job.submission_id == s.id)
    if request.args.get("state") is not None:
        query = query.where(Job.state == choice_arg("state", states.JOB_STATES, ""))
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
       responses={200: ("the output", {"text/plain": STRING})})
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
       responses={200: ("the log", {"text/plain": STRING})})
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
