"""Snapshots of a stage, its job type and its login setup, as they were at a launch.

One snapshot row per distinct content: a launch reuses the row whose digest matches, so a
definition that never changes keeps one snapshot however many times it launches, and a
later edit makes a new row without touching what past submissions point at.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.campaigns import store
from app.extensions import db
from app.models import (
    CampaignStage,
    JobTypeSnapshot,
    LoginSetupSnapshot,
    StageSnapshot,
    Submission,
)


def _digest(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def stage_data(stage: CampaignStage) -> dict:
    data = asdict(store.stage_spec(stage))
    data["campaign"] = stage.campaign.name
    data["keywords"] = dict(stage.campaign.keywords or {})
    data["default_param_overrides"] = (stage.campaign.defaults or {}).get("param_overrides", [])
    data["test_split_type"] = stage.test_split_type  # not part of the INI: added here
    return data


def _snapshot(model, owner_column: str, owner_id: int, data: dict):
    digest = _digest(data)
    where = (getattr(model, owner_column) == owner_id, model.digest == digest)
    row = db.session.scalar(select(model).where(*where))
    if row is not None:
        return row
    # Two launches may snapshot the same new content at once: the unique constraint lets
    # one insert win; the other reads the winner's row.
    try:
        with db.session.begin_nested():
            row = model(**{owner_column: owner_id}, digest=digest, data=data)
            db.session.add(row)
    except IntegrityError:
        row = db.session.scalar(select(model).where(*where))
    return row


def take(stage: CampaignStage) -> tuple[StageSnapshot, JobTypeSnapshot, LoginSetupSnapshot]:
    return (
        _snapshot(StageSnapshot, "campaign_stage_id", stage.id, stage_data(stage)),
        _snapshot(JobTypeSnapshot, "job_type_id", stage.job_type_id,
                  asdict(store.job_type_spec(stage.job_type))),
        _snapshot(LoginSetupSnapshot, "login_setup_id", stage.login_setup_id,
                  asdict(store.login_setup_spec(stage.login_setup))),
    )


def launched_job_type(submission: Submission) -> dict:
    """The job type the submission launched with (its snapshot; for a submission from before
    snapshots, the stage's job type as it is now)."""
    if submission.job_type_snapshot is not None:
        return dict(submission.job_type_snapshot.data)
    jt = submission.stage.job_type
    return {"output_file_patterns": jt.output_file_patterns, "recoveries": jt.recoveries}


def launched_stage(submission: Submission) -> dict:
    """The stage as the submission launched it (its snapshot, else the stage now)."""
    if submission.stage_snapshot is not None:
        return dict(submission.stage_snapshot.data)
    stage = submission.stage
    return {"software_version": stage.software_version,
            "output_ancestor_depth": stage.output_ancestor_depth,
            "completion_type": stage.completion_type, "completion_pct": stage.completion_pct}
