"""Launching a stage: launch (test, production, dry run), hold and release, preview its
next split, its cron schedule, and a campaign's status stage by stage.

The same domain calls as the pages (app/launching/service.py, app/tracking/actions.py,
app/catalog/split_state.py); launches are queued after the commit.
"""
from __future__ import annotations

from flask import current_app, jsonify, request
from sqlalchemy import select

from app import work
from app.api.answers import submission_json
from app.api.caller import access
from app.api.core import ApiError, body_bool, int_arg, iso, json_body, refuse
from app.api.lookups import EXAMPLES, find_campaign, find_stage
from app.api.routes import param, route
from app.api.schemas import (
    BOOLEAN,
    INTEGER,
    NULLABLE_STRING,
    STRING,
    STRINGS,
    array,
    json_of,
    obj,
    ref,
)
from app.campaigns.permissions import may_control, may_launch
from app.catalog.base import CatalogError
from app.extensions import db
from app.launching import schedule, service
from app.launching.command import LaunchError
from app.launching.inputs import preview_slices
from app.models import Submission
from app.tracking import actions


def queue_launches(ids: list[int]) -> bool:
    """Queue launches after the commit; False when the queue is not answering (the rows
    stay New and the scheduler queues them once it answers)."""
    try:
        work.queue_launches(current_app.config, ids)
    except work.QueueUnavailable:
        return False
    return True


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
       body=json_of(obj({"test": {**BOOLEAN, "default": False},
                         "dry_run": {**BOOLEAN, "default": False}})), body_required=False,
       responses={200: ("the dry run", json_of(obj({
                      "dry_run": BOOLEAN, "command": STRING, "command_line": STRING,
                      "warnings": STRINGS, "environment": {"type": "object"},
                      "input": {"type": "object"}, "launcher": STRING, "where": STRING,
                      "held": BOOLEAN}, ["dry_run", "command", "environment"]))),
                  202: ("queued", json_of(obj({
                      "submission": ref("Submission"), "queued": BOOLEAN, "held": BOOLEAN,
                      "message": STRING}, ["submission"])))})
def launch_stage(experiment, campaign, stage):
    acc = access(experiment)
    row = find_stage(acc, campaign, stage)
    body = json_body() if request.get_data() else {}
    test, dry_run = body_bool(body, "test"), body_bool(body, "dry_run")
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
    why = service.held_why(row)
    held = bool(why)
    queued = False if held else queue_launches([submission.id])
    if held:
        message = f"{why}: submission {submission.id} waits until released"
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
    queued = queue_launches(waiting) if waiting else True
    return jsonify({"stage": row.name, "held": hold, "released_submissions": waiting,
                    "queued": queued})


_HOLD_ANSWER = {200: ("the stage's hold", json_of(obj({
    "stage": STRING, "held": BOOLEAN, "released_submissions": array(INTEGER),
    "queued": BOOLEAN}, ["held"])))}


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
       query=[param("n", {**INTEGER, "minimum": 1, "maximum": 50, "default": 5},
                    "how many launches ahead")],
       responses={200: ("the next slices", json_of(obj({
           "split_type": STRING, "dataset": STRING, "slices": {"type": "array"},
           "done": NULLABLE_STRING}, ["slices"])))})
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
       query=[param("limit", {**INTEGER, "minimum": 1, "maximum": 200, "default": 20},
                    "the newest submissions per stage")],
       responses={200: ("the status", json_of(obj({"campaign": STRING, "stages": array(obj({
           "name": STRING, "held": BOOLEAN, "submissions": array(ref("Submission"))}))},
           ["stages"])))})
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


@route("/experiments/<experiment>/campaigns/<campaign>/stages/<stage>/schedule", "PUT",
       scope="launch",
       tag="launching", summary="Set (or clear, with \"\") a stage's cron schedule of launches",
       description="Body {\"schedule\": \"0 */6 * * *\", \"test\": false}. Scheduled "
                   "launches act as the person who set the schedule.",
       examples=EXAMPLES,
       body=json_of(obj({"schedule": STRING, "test": {**BOOLEAN, "default": False}},
                        ["schedule"])),
       responses={200: ("the schedule", json_of(obj({
           "stage": STRING, "schedule": STRING, "test": BOOLEAN,
           "next": NULLABLE_STRING})))})
def schedule_stage(experiment, campaign, stage):
    acc = access(experiment)
    row = find_stage(acc, campaign, stage)
    body = json_body()
    expression = body.get("schedule")
    if not isinstance(expression, str):
        raise ApiError(422, "schedule: a cron expression, or \"\" for none", "schedule")
    test = body_bool(body, "test")
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
