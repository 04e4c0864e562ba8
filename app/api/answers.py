"""What the API answers with, as JSON: campaigns and stages, the importer's problems and
changes, submissions, their jobs, history and batch actions.
"""
from __future__ import annotations

import dataclasses

from app import states
from app.api.core import ApiError, iso
from app.auth.session import Access
from app.campaigns import editing, permissions, store
from app.campaigns.origins import stage_origins
from app.campaigns.spec import STAGE_KEYS, InvalidCampaign, Problem
from app.launching import service
from app.models import BatchAction, Campaign, CampaignStage, Job, Submission, SubmissionEvent
from app.tracking import actions


def _plain(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def problem_json(problem: Problem) -> dict:
    return {"file": problem.file, "section": problem.section, "key": problem.key,
            "line": problem.line, "reason": problem.reason, "text": str(problem)}


def change_json(change) -> dict:
    return {"kind": change.kind, "subject": change.subject, "field": change.field,
            "before": _plain(change.before), "after": _plain(change.after),
            "used_by": list(change.used_by), "text": str(change)}


def impact_json(found) -> dict:
    """What a change does to the campaign's launches (app/launching/impact.py)."""
    return {"error": found.error, "stages": [{
        "stage": s.stage, "status": s.status, "renamed_from": s.renamed_from or None,
        "before": s.before, "after": s.after, "script_diff": s.script_diff,
        "schedule": s.schedule or None,
        "under_way": [{"id": u.id, "state": u.state, "recovery": u.recovery}
                      for u in s.under_way],
    } for s in found.stages]}


def invalid(err: InvalidCampaign, status: int = 422) -> ApiError:
    first = err.problems[0] if err.problems else None
    message = "; ".join(str(p) for p in err.problems) or "invalid campaign"
    return ApiError(status, message, (first.key or first.section) if first else None,
                    problems=[problem_json(p) for p in err.problems],
                    warnings=[problem_json(p) for p in err.warnings])


def summary_json(campaign: Campaign) -> dict:
    return {
        "id": campaign.id, "name": campaign.name, "poms_role": campaign.poms_role,
        "state": campaign.state, "owner": campaign.owner.username, "tags": campaign.tags,
        "stages": len(campaign.stages), "updated": iso(campaign.updated),
    }


def _depends(stage: CampaignStage) -> list[dict]:
    return [{"stage": link.parent.name, "file_pattern": link.file_pattern,
             "position": link.position} for link in stage.parent_links]


def campaign_json(campaign: Campaign, acc: Access) -> dict:
    return {
        "id": campaign.id, "name": campaign.name, "experiment": campaign.experiment.name,
        "poms_role": campaign.poms_role, "state": campaign.state,
        "owner": campaign.owner.username, "tags": campaign.tags,
        "keywords": dict(campaign.keywords or {}), "created": iso(campaign.created),
        "updated": iso(campaign.updated), "launched": store.has_launched(campaign),
        "may_edit": permissions.may_edit(acc, campaign),
        "may_launch": permissions.may_launch(acc, campaign),
        "stages": [
            {"id": s.id, "name": s.name, "job_type": s.job_type.name,
             "login_setup": s.login_setup.name, "depends_on": _depends(s)}
            for s in campaign.stages
        ],
    }


def stage_json(stage: CampaignStage, acc: Access) -> dict:
    spec = store.spec_from_campaign(stage.campaign)
    values = dataclasses.asdict(spec.stage(stage.name))
    return {
        "id": stage.id, "name": stage.name, "campaign": stage.campaign.name,
        "position": stage.position,
        "fields": {key: values[key] for key in STAGE_KEYS},
        "ini": editing.stage_fields_text(spec, stage.name, STAGE_KEYS),
        "origins": stage_origins(spec, stage.name),
        "depends_on": _depends(stage),
        "held": service.stage_held(stage),
        "may_edit": permissions.may_edit(acc, stage.campaign),
    }


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
            "updated": iso(j.updated_at), "cpu_time_s": j.cpu_time_s,
            "wall_time_s": j.wall_time_s, "peak_memory_mb": j.peak_memory_mb}


def event_json(e: SubmissionEvent) -> dict:
    return {"at": iso(e.at), "from": e.from_state, "to": e.to_state, "cause": e.cause,
            "by": e.actor.username if e.actor else None}


def action_json(row: BatchAction) -> dict:
    return {"id": row.id, "submission": row.submission_id, "action": row.action,
            "state": row.state, "pending": row.state in actions.PENDING,
            "requested_by": row.requested_by.username if row.requested_by else None,
            "origin": row.origin, "requested": iso(row.requested_at),
            "started": iso(row.started_at), "finished": iso(row.finished_at),
            "result": row.result or None, "said": actions.describe(row)}
