"""A file's page, a job's files and a campaign's data flow: members of the experiment see
them (what they show is the experiment's own; another experiment's names are not found)."""
from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask_login import login_required

from app.auth.session import experiment_access
from app.blueprints.provenance.common import bp
from app.blueprints.views import campaign_in, job_in, submission_in
from app.provenance import flow, jobs, lineage
from app.ucondb.naming import pages_url


@bp.get("/file/<file_name>")
@login_required
def file(experiment, file_name):
    access = experiment_access(experiment)
    trace = lineage.requested_provenance(access.experiment.name, file_name,
                                         request.args.get("limit"), request.args.get("depth"))
    if isinstance(trace, lineage.Unanswered):
        abort(trace.status, trace.message)
    base = current_app.config.get("POMS_UCONDB_URL") or ""
    folder_url = pages_url(base, trace.ucondb.folder) if trace.ucondb and base else ""
    producer = trace.producer
    return render_template(
        "provenance/file.html", access=access, trace=trace, producer=producer,
        folder_url=folder_url,
        parameters=lineage.parameters_as_launched(producer) if producer else [],
        patterns=lineage.output_patterns(producer) if producer else [])


@bp.get("/submission/<int:submission_id>/job/<int:job_id>/files")
@login_required
def job_files(experiment, submission_id, job_id):
    access = experiment_access(experiment)
    submission = submission_in(access, submission_id)
    job = job_in(submission, job_id)
    return render_template("provenance/job_files.html", access=access, submission=submission,
                           job=job, files=jobs.job_files(job, access.experiment.name))


@bp.get("/campaign/<int:campaign_id>/data_flow")
@login_required
def data_flow(experiment, campaign_id):
    access = experiment_access(experiment)
    campaign = campaign_in(access, campaign_id)
    return render_template("provenance/data_flow.html", access=access, campaign=campaign,
                           stages=flow.campaign_flow(campaign))
