"""A stage's results (its submissions, counts, plots and files; the memory a recovery of
memory failures asks for), a campaign's submissions over time, and the experiment's
calendar of submissions.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from markupsafe import Markup
from sqlalchemy import func, select

from app.audit import audit
from app.auth.session import Access, experiment_access
from app.blueprints.results.common import bp, catalog_of, csv_answer, json_answer, stage_rows
from app.blueprints.views import campaign_in, stage_in
from app.campaigns import permissions
from app.extensions import db
from app.models import CampaignStage, Job, JobType, Submission
from app.models.base import utcnow
from app.results import memory, svg
from app.results.aggregate import results_for
from app.results.files import submission_files


@bp.get("/stage/<int:stage_id>")
@login_required
def stage(experiment, stage_id):
    access = experiment_access(experiment)
    row = stage_in(access, stage_id)
    results = results_for(stage_id=row.id)
    policy_row = memory.policy_for(row.job_type_id)
    return render_template(
        "results/stage.html", access=access, stage=row, campaign=row.campaign,
        results=results, rows=stage_rows(row),
        efficiency=Markup(svg.efficiency_histogram(results.histogram)),
        memory_svg=Markup(svg.memory_plot(results.memory_points,
                                          results.memory_requested_mb)),
        policy=policy_row, may_edit_policy=permissions.may_edit_shared(access, row.job_type),
    )


def _stage_files(access: Access, stage: CampaignStage, limit: int) -> list:
    catalog = catalog_of(access)
    return [(s, submission_files(s, catalog, limit=limit))
            for s, _n, _failed in stage_rows(stage, limit=50)]


@bp.get("/stage/<int:stage_id>/files")
@login_required
def stage_files(experiment, stage_id):
    """Per submission of the stage (the latest 50): input, consumed, not processed,
    produced; the totals."""
    access = experiment_access(experiment)
    row = stage_in(access, stage_id)
    per_submission = _stage_files(access, row, limit=0)
    totals = {key: sum(getattr(f, key) for _s, f in per_submission)
              for key in ("input", "consumed_count", "not_processed_count", "produced_count")}
    fmt = request.args.get("format", "")
    records = [{"submission": s.id, "state": s.state, "input": f.input,
                "consumed": f.consumed_count, "not_processed": f.not_processed_count,
                "produced": f.produced_count} for s, f in per_submission]
    if fmt == "json":
        return json_answer({"stage": row.name, "totals": totals, "submissions": records},
                     f"stage-{row.id}-files")
    if fmt == "csv":
        return csv_answer(f"stage-{row.id}-files", list(records[0]) if records else ["submission"],
                    records)
    return render_template("results/stage_files.html", access=access, stage=row,
                           campaign=row.campaign, per_submission=per_submission,
                           totals=totals)


@bp.post("/job-type/<int:job_type_id>/memory")
@login_required
def memory_policy(experiment, job_type_id):
    access = experiment_access(experiment)
    job_type = db.session.get(JobType, job_type_id)
    if job_type is None or job_type.experiment_id != access.experiment.id:
        abort(404, "no such job type in this experiment")
    if not permissions.may_edit_shared(access, job_type):
        abort(403, f"acting as {access.role}, you may not change job type {job_type.name}")
    try:
        memory.set_policy(job_type.id, float(request.form.get("factor", "")),
                          int(request.form.get("cap_mb", "")))
        audit(access.experiment, access.user, "memory recovery policy set", job_type.name,
              None, {"factor": request.form.get("factor"),
                     "cap_mb": request.form.get("cap_mb")})
        db.session.commit()
        flash(f"Recoveries of memory failures of {job_type.name} ask for "
              f"{request.form.get('factor')}× the memory, at most "
              f"{request.form.get('cap_mb')} MB.", "ok")
    except ValueError as err:
        db.session.rollback()
        flash(f"Not saved: {err}", "error")
    back = request.form.get("stage_id", "")
    if back.isdigit():
        return redirect(url_for("results.stage", experiment=experiment, stage_id=int(back)))
    return redirect(url_for("definitions.show", experiment=experiment, kind="job_type",
                            item_id=job_type.id))


def _bars(access: Access, submissions: list[Submission]) -> list[svg.Bar]:
    ends = dict(db.session.execute(
        select(Job.submission_id, func.max(Job.ended_at))
        .where(Job.submission_id.in_([s.id for s in submissions]))
        .group_by(Job.submission_id)).all()) if submissions else {}
    bars = []
    for s in submissions:
        end = ends.get(s.id) or (s.updated if s.state not in ("Idle", "Running", "Held")
                                 else utcnow())
        end = max(end, s.created)
        bars.append(svg.Bar(
            label=f"{s.id} {s.stage.name}"[:28], start=s.created, end=end, state=s.state,
            href=url_for("results.submission", experiment=access.experiment.name,
                         submission_id=s.id),
            tip=f"submission {s.id} ({s.stage.name}): {s.state}, {s.jobs_done}/"
                f"{s.jobs_total} jobs done, {s.jobs_failed} failed"))
    return bars


@bp.get("/campaign/<int:campaign_id>")
@login_required
def campaign(experiment, campaign_id):
    access = experiment_access(experiment)
    row = campaign_in(access, campaign_id)
    stage_ids = [s.id for s in row.stages]
    subs = db.session.scalars(
        select(Submission).where(Submission.campaign_stage_id.in_(stage_ids))
        .order_by(Submission.id.desc()).limit(100)).all()[::-1] if stage_ids else []
    chart = Markup(svg.time_bars(_bars(access, subs), f"Submissions of {row.name}"))
    if request.args.get("format") == "svg":
        return Response(str(chart), mimetype="image/svg+xml")
    return render_template("results/campaign.html", access=access, campaign=row,
                           chart=chart, submissions=subs)


@bp.get("/calendar")
@login_required
def calendar(experiment):
    access = experiment_access(experiment)
    today = utcnow().date()
    first = today - timedelta(weeks=27)
    day = func.date(Submission.created)
    per_day = {}
    for when, n in db.session.execute(
        select(day, func.count()).where(Submission.experiment_id == access.experiment.id,
                                        Submission.created >= first)
        .group_by(day)):
        per_day[when if isinstance(when, date) else date.fromisoformat(str(when))] = n
    chosen = request.args.get("day", "")
    listed = []
    if chosen:
        try:
            start = datetime.fromisoformat(chosen)
        except ValueError:
            abort(400, "day is YYYY-MM-DD")
        listed = db.session.scalars(
            select(Submission).where(Submission.experiment_id == access.experiment.id,
                                     Submission.created >= start,
                                     Submission.created < start + timedelta(days=1))
            .order_by(Submission.id).limit(500)).all()

    def link(when: date) -> str:
        return url_for("results.calendar", experiment=experiment, day=when.isoformat())

    chart = Markup(svg.calendar(per_day, link, today=today))
    if request.args.get("format") == "json":
        return json_answer({"experiment": access.experiment.name,
                      "per_day": {d.isoformat(): n for d, n in sorted(per_day.items())}},
                     "calendar")
    return render_template("results/calendar.html", access=access, chart=chart,
                           chosen=chosen, listed=listed, total=sum(per_day.values()))
