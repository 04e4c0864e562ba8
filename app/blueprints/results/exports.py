"""Results as files: a submission's summary, jobs and files, and a stage's summary, as CSV
or JSON (what each page shows, whole).
"""
from __future__ import annotations

from flask import request
from flask_login import login_required

from app.auth.session import experiment_access
from app.blueprints.results.common import bp, catalog_of, csv_answer, json_answer, stage_rows
from app.blueprints.views import stage_in, submission_in
from app.results import jobtable
from app.results.aggregate import results_for
from app.results.files import submission_files


@bp.get("/submission/<int:submission_id>/summary.<any(json, csv):fmt>")
@login_required
def summary_export(experiment, submission_id, fmt):
    access = experiment_access(experiment)
    row = submission_in(access, submission_id)
    data = {"submission": row.id, "stage": row.stage.name, "state": row.state,
            "jobs_total": row.jobs_total, **results_for(submission_ids=[row.id]).as_dict()}
    if fmt == "json":
        return json_answer(data, f"submission-{row.id}-summary")
    return csv_answer(f"submission-{row.id}-summary", ["measure", "key", "value"],
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


@bp.get("/submission/<int:submission_id>/jobs.<any(json, csv):fmt>")
@login_required
def jobs_export(experiment, submission_id, fmt):
    access = experiment_access(experiment)
    row = submission_in(access, submission_id)
    flt = jobtable.JobFilter.from_args(request.args)
    records = (jobtable.job_record(job, analysis)
               for job, analysis in jobtable.iter_jobs(row.id, flt))
    if fmt == "csv":
        return csv_answer(f"submission-{row.id}-jobs", jobtable.JOB_FIELDS, records)
    return json_answer({"submission": row.id, "jobs": list(records)}, f"submission-{row.id}-jobs")


@bp.get("/submission/<int:submission_id>/files.<any(json, csv):fmt>")
@login_required
def files_export(experiment, submission_id, fmt):
    access = experiment_access(experiment)
    row = submission_in(access, submission_id)
    found = submission_files(row, catalog_of(access), limit=100_000)
    if fmt == "json":
        return json_answer({"submission": row.id, **found.as_dict()}, f"submission-{row.id}-files")

    def records():
        for kind, items in (("consumed", found.consumed), ("not processed",
                                                           found.not_processed),
                            ("produced", found.produced)):
            for item in items:
                yield {"kind": kind, "name": item.name, "status": item.status,
                       "process": item.process, "locations": item.locations}

    return csv_answer(f"submission-{row.id}-files",
                ["kind", "name", "status", "process", "locations"], records())


@bp.get("/stage/<int:stage_id>/summary.<any(json, csv):fmt>")
@login_required
def stage_export(experiment, stage_id, fmt):
    access = experiment_access(experiment)
    row = stage_in(access, stage_id)
    data = {"stage": row.name, "campaign": row.campaign.name,
            **results_for(stage_id=row.id).as_dict(),
            "submissions": [{"submission": s.id, "state": s.state, "jobs_total": s.jobs_total,
                             "jobs_analysed": n, "failed": failed or 0}
                            for s, n, failed in stage_rows(row, limit=1000)]}
    if fmt == "json":
        return json_answer(data, f"stage-{row.id}-summary")
    return csv_answer(f"stage-{row.id}-summary", ["submission", "state", "jobs_total",
                                            "jobs_analysed", "failed"], data["submissions"])
