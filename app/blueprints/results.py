"""Results pages: what a submission's (or a stage's) finished jobs say, and their files.

Thin views over app/results (aggregates in SQL, plots as SVG, exports) and app/logs
(the job log window). Every view goes through experiment_access (404 unknown experiment,
403 non-member); a submission, stage, campaign or job of another experiment is a 404.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required
from markupsafe import Markup
from sqlalchemy import case, func, select

from app.audit import audit
from app.auth import policy
from app.auth.session import Access, experiment_access
from app.blueprints.views import campaign_in, is_htmx, stage_in, submission_in
from app.catalog.cache import make_catalog
from app.extensions import db
from app.logs.joblog import log_window, open_job_log
from app.models import CampaignStage, Job, JobType, Submission
from app.models.base import utcnow
from app.models.logs import JobAnalysis
from app.results import export, jobtable, memory, svg
from app.results.aggregate import results_for
from app.results.files import submission_files

bp = Blueprint("results", __name__, url_prefix="/e/<experiment>/results")

FILE_LIMIT = 500


# --- lookups: everything belongs to the experiment, or it is not there --------------------








def _csv(name: str, fields: list[str], records) -> Response:
    # Built whole (a 10,000-job table is a few MB): a streamed body would outlive the
    # request's database session.
    return Response(export.csv_text(fields, records), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def _json(value, name: str) -> Response:
    return Response(export.json_text(value), mimetype="application/json",
                    headers={"Content-Disposition": f'inline; filename="{name}.json"'})


# --- one submission ------------------------------------------------------------------------


def _plots(access: Access, submission: Submission, results) -> dict:
    def bin_link(index: int) -> str:
        return url_for("results.jobs", experiment=access.experiment.name,
                       submission_id=submission.id, bin=index)

    return {
        "efficiency": Markup(svg.efficiency_histogram(results.histogram, bin_link)),
        "memory": Markup(svg.memory_plot(results.memory_points,
                                         results.memory_requested_mb)),
    }


@bp.get("/submission/<int:submission_id>")
@login_required
def submission(experiment, submission_id):
    access = experiment_access(experiment)
    row = submission_in(access, submission_id)
    results = results_for(submission_ids=[row.id])
    return render_template("results/submission.html", access=access, submission=row,
                           stage=row.stage, campaign=row.stage.campaign, results=results,
                           plots=_plots(access, row, results))


@bp.get("/submission/<int:submission_id>/summary")
@login_required
def summary(experiment, submission_id):
    """The summary sentence and counts: a fragment for the submission page."""
    access = experiment_access(experiment)
    row = submission_in(access, submission_id)
    return render_template("results/_summary.html", access=access, submission=row,
                           results=results_for(submission_ids=[row.id], plots=False))


@bp.get("/submission/<int:submission_id>/summary.<any(json, csv):fmt>")
@login_required
def summary_export(experiment, submission_id, fmt):
    access = experiment_access(experiment)
    row = submission_in(access, submission_id)
    data = {"submission": row.id, "stage": row.stage.name, "state": row.state,
            "jobs_total": row.jobs_total, **results_for(submission_ids=[row.id]).as_dict()}
    if fmt == "json":
        return _json(data, f"submission-{row.id}-summary")
    return _csv(f"submission-{row.id}-summary", ["measure", "key", "value"],
                _summary_records(data))


def _summary_records(data: dict):
    for key in ("submission", "stage", "state", "jobs_total", "jobs_analysed", "succeeded",
                "failed", "unknown", "unexplained", "cpu_efficiency", "cpu_time_s",
                "wall_time_s", "memory_used_max_mb", "memory_used_avg_mb", "over_request",
                "sentence"):
        if key in data:
            yield {"measure": key, "key": "", "value": data[key]}
    for item in data["by_exit_code"]:
        yield {"measure": "exit_code", "key": item["exit_code"], "value": item["jobs"]}
    for item in data["by_signature"]:
        yield {"measure": "signature", "key": item["signature"], "value": item["jobs"]}
    for item in data["efficiency_histogram"]:
        yield {"measure": "efficiency_bin", "key": item["from"], "value": item["jobs"]}
    for mb in data["memory_requested_mb"]:
        yield {"measure": "memory_requested_mb", "key": "", "value": mb}


@bp.get("/submission/<int:submission_id>/jobs")
@login_required
def jobs(experiment, submission_id):
    access = experiment_access(experiment)
    row = submission_in(access, submission_id)
    flt = jobtable.JobFilter.from_args(request.args)
    page = jobtable.job_page(row.id, flt)
    signatures = list(db.session.execute(
        select(JobAnalysis.signature, func.count()).where(
            JobAnalysis.submission_id == row.id, JobAnalysis.signature.is_not(None))
        .group_by(JobAnalysis.signature).order_by(JobAnalysis.signature)
    ))
    exit_codes = list(db.session.execute(
        select(JobAnalysis.exit_code, func.count()).where(JobAnalysis.submission_id == row.id)
        .group_by(JobAnalysis.exit_code).order_by(JobAnalysis.exit_code)
    ))
    context = dict(access=access, submission=row, stage=row.stage,
                   campaign=row.stage.campaign, flt=flt, page=page,
                   signatures=signatures, exit_codes=exit_codes,
                   job_states=jobtable.JOB_STATES, bins=range(10))
    template = "results/_jobs.html" if is_htmx() else "results/jobs.html"
    return render_template(template, **context)


@bp.get("/submission/<int:submission_id>/jobs.<any(json, csv):fmt>")
@login_required
def jobs_export(experiment, submission_id, fmt):
    access = experiment_access(experiment)
    row = submission_in(access, submission_id)
    flt = jobtable.JobFilter.from_args(request.args)
    records = (jobtable.job_record(job, analysis)
               for job, analysis in jobtable.iter_jobs(row.id, flt))
    if fmt == "csv":
        return _csv(f"submission-{row.id}-jobs", jobtable.JOB_FIELDS, records)
    return _json({"submission": row.id, "jobs": list(records)}, f"submission-{row.id}-jobs")


@bp.get("/submission/<int:submission_id>/job/<int:job_id>")
@login_required
def job_log(experiment, submission_id, job_id):
    """The job's log around its matched line (or a line asked for), highlighted."""
    access = experiment_access(experiment)
    row = submission_in(access, submission_id)
    job = db.session.get(Job, job_id)
    if job is None or job.submission_id != row.id:
        abort(404, "no such job in this submission")
    analysis = db.session.get(JobAnalysis, job.id)
    matched = analysis.line if analysis else None
    try:
        centre = int(request.args.get("line") or matched or 1)
    except ValueError:
        centre = matched or 1
    window = None
    with open_job_log(current_app.config, job.batch_job_id) as stream:
        if stream is not None:
            window = log_window(stream, centre, before=40, after=60)
    return render_template("results/job_log.html", access=access, submission=row, job=job,
                           analysis=analysis, window=window, matched=matched, centre=centre)


@bp.get("/submission/<int:submission_id>/files")
@login_required
def files(experiment, submission_id):
    access = experiment_access(experiment)
    row = submission_in(access, submission_id)
    found = submission_files(row, _catalog(access), limit=FILE_LIMIT)
    return render_template("results/files.html", access=access, submission=row,
                           stage=row.stage, campaign=row.stage.campaign, files=found,
                           limit=FILE_LIMIT)


@bp.get("/submission/<int:submission_id>/files.<any(json, csv):fmt>")
@login_required
def files_export(experiment, submission_id, fmt):
    access = experiment_access(experiment)
    row = submission_in(access, submission_id)
    found = submission_files(row, _catalog(access), limit=100_000)
    if fmt == "json":
        return _json({"submission": row.id, **found.as_dict()}, f"submission-{row.id}-files")

    def records():
        for kind, items in (("consumed", found.consumed), ("not processed",
                                                           found.not_processed),
                            ("produced", found.produced)):
            for item in items:
                yield {"kind": kind, "name": item.name, "status": item.status,
                       "process": item.process, "locations": item.locations}

    return _csv(f"submission-{row.id}-files",
                ["kind", "name", "status", "process", "locations"], records())


def _catalog(access: Access):
    return make_catalog(current_app.config, access.experiment.name, db.session)


@bp.get("/submission/<int:submission_id>/plot/<any(efficiency, memory):name>.svg")
@login_required
def submission_plot(experiment, submission_id, name):
    access = experiment_access(experiment)
    row = submission_in(access, submission_id)
    plots = _plots(access, row, results_for(submission_ids=[row.id]))
    return Response(str(plots[name]), mimetype="image/svg+xml")


# --- a stage -------------------------------------------------------------------------------


def _stage_rows(stage: CampaignStage, limit: int = 50) -> list:
    """The stage's latest submissions with their analysed counts (one GROUP BY)."""
    subs = db.session.scalars(
        select(Submission).where(Submission.campaign_stage_id == stage.id)
        .order_by(Submission.id.desc()).limit(limit)).all()
    counts = {sid: (n, failed) for sid, n, failed in db.session.execute(
        select(JobAnalysis.submission_id, func.count(),
               func.sum(case((JobAnalysis.failed.is_(True), 1), else_=0)))
        .where(JobAnalysis.submission_id.in_([s.id for s in subs]))
        .group_by(JobAnalysis.submission_id))}
    return [(s, *counts.get(s.id, (0, 0))) for s in subs]


@bp.get("/stage/<int:stage_id>")
@login_required
def stage(experiment, stage_id):
    access = experiment_access(experiment)
    row = stage_in(access, stage_id)
    results = results_for(stage_id=row.id)
    policy_row = memory.policy_for(row.job_type_id)
    return render_template(
        "results/stage.html", access=access, stage=row, campaign=row.campaign,
        results=results, rows=_stage_rows(row),
        efficiency=Markup(svg.efficiency_histogram(results.histogram)),
        memory_svg=Markup(svg.memory_plot(results.memory_points,
                                          results.memory_requested_mb)),
        policy=policy_row, may_edit_policy=_may_edit_job_type(access, row.job_type),
    )


@bp.get("/stage/<int:stage_id>/summary.<any(json, csv):fmt>")
@login_required
def stage_export(experiment, stage_id, fmt):
    access = experiment_access(experiment)
    row = stage_in(access, stage_id)
    data = {"stage": row.name, "campaign": row.campaign.name,
            **results_for(stage_id=row.id).as_dict(),
            "submissions": [{"submission": s.id, "state": s.state, "jobs_total": s.jobs_total,
                             "jobs_analysed": n, "failed": failed or 0}
                            for s, n, failed in _stage_rows(row, limit=1000)]}
    if fmt == "json":
        return _json(data, f"stage-{row.id}-summary")
    return _csv(f"stage-{row.id}-summary", ["submission", "state", "jobs_total",
                                            "jobs_analysed", "failed"], data["submissions"])


def _stage_files(access: Access, stage: CampaignStage, limit: int) -> list:
    catalog = _catalog(access)
    return [(s, submission_files(s, catalog, limit=limit))
            for s, _n, _failed in _stage_rows(stage, limit=50)]


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
        return _json({"stage": row.name, "totals": totals, "submissions": records},
                     f"stage-{row.id}-files")
    if fmt == "csv":
        return _csv(f"stage-{row.id}-files", list(records[0]) if records else ["submission"],
                    records)
    return render_template("results/stage_files.html", access=access, stage=row,
                           campaign=row.campaign, per_submission=per_submission,
                           totals=totals)


def _may_edit_job_type(access: Access, job_type: JobType) -> bool:
    return policy.may_edit_shared(access.role, is_creator=job_type.creator_id == access.user.id)


@bp.post("/job-type/<int:job_type_id>/memory")
@login_required
def memory_policy(experiment, job_type_id):
    access = experiment_access(experiment)
    job_type = db.session.get(JobType, job_type_id)
    if job_type is None or job_type.experiment_id != access.experiment.id:
        abort(404, "no such job type in this experiment")
    if not _may_edit_job_type(access, job_type):
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


# --- a campaign's submissions over time, the experiment's calendar -------------------------


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
        return _json({"experiment": access.experiment.name,
                      "per_day": {d.isoformat(): n for d, n in sorted(per_day.items())}},
                     "calendar")
    return render_template("results/calendar.html", access=access, chart=chart,
                           chosen=chosen, listed=listed, total=sum(per_day.values()))
