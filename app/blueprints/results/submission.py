"""One submission's results: its page, the summary fragment, the job table, its files.
(A job's log: joblog.py.)
"""
from __future__ import annotations

from flask import render_template, request
from flask_login import login_required
from sqlalchemy import func, select

from app import states
from app.auth.session import experiment_access
from app.blueprints.results.common import FILE_LIMIT, bp, catalog_of
from app.blueprints.results.plots import plots_of
from app.blueprints.views import is_htmx, submission_in
from app.extensions import db
from app.models.logs import JobAnalysis
from app.results import jobtable
from app.results.aggregate import results_for
from app.results.files import submission_files


@bp.get("/submission/<int:submission_id>")
@login_required
def submission(experiment, submission_id):
    access = experiment_access(experiment)
    row = submission_in(access, submission_id)
    results = results_for(submission_ids=[row.id])
    return render_template("results/submission.html", access=access, submission=row,
                           stage=row.stage, campaign=row.stage.campaign, results=results,
                           plots=plots_of(access, row, results))


@bp.get("/submission/<int:submission_id>/summary")
@login_required
def summary(experiment, submission_id):
    """The summary sentence and counts: a fragment for the submission page."""
    access = experiment_access(experiment)
    row = submission_in(access, submission_id)
    return render_template("results/_summary.html", access=access, submission=row,
                           results=results_for(submission_ids=[row.id], plots=False),
                           rides=request.args.get("rides") == "1")


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
                   job_states=states.JOB_STATES, bins=range(10))
    template = "results/_jobs.html" if is_htmx() else "results/jobs.html"
    return render_template(template, **context)


@bp.get("/submission/<int:submission_id>/files")
@login_required
def files(experiment, submission_id):
    access = experiment_access(experiment)
    row = submission_in(access, submission_id)
    found = submission_files(row, catalog_of(access), limit=FILE_LIMIT)
    return render_template("results/files.html", access=access, submission=row,
                           stage=row.stage, campaign=row.stage.campaign, files=found,
                           limit=FILE_LIMIT)
