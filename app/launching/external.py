"""Submissions launched outside POMS: the original's get_submission_id_for (and
get_task_id_for), which scripts such as poms_run_script_stage call before running work by
themselves, then report its state with update_submission.

An external submission is a row like any other (so pages, chaining and recoveries see it)
with origin "external": its definitions are snapshotted as at a launch, and its launch is
marked as done outside POMS (claimed, started and finished at registration), so no worker
ever runs a launch script for it. Its state moves only by reports
(app/tracking/reports.py) until a batch id POMS can track is recorded for it.
"""
from __future__ import annotations

from app import states
from app.extensions import db
from app.launching import snapshots
from app.models import CampaignStage, Experimenter, Submission
from app.models.base import utcnow

ORIGIN = "external"
MAX_COMMAND = 64 * 1024


class ExternalRefused(Exception):
    """The registration cannot be made as asked (a parent from elsewhere, ...)."""


def _command(text: str | None) -> str:
    text = text or ""
    if len(text) > MAX_COMMAND:
        raise ExternalRefused(f"command_executed is longer than {MAX_COMMAND} characters")
    return text


def register(stage: CampaignStage, user: Experimenter, *, command: str | None = None,
             dataset: str | None = None, parent: Submission | None = None,
             test: bool = False) -> Submission:
    """A new external submission of `stage` (state New) and its first history row. The
    caller checks the role and commits."""
    if parent is not None and parent.experiment_id != stage.campaign.experiment_id:
        raise ExternalRefused(f"parent submission {parent.id} is not in "
                              f"{stage.campaign.experiment.name}")
    stage_snap, job_type_snap, login_snap = snapshots.take(stage)
    now = utcnow()
    submission = Submission(
        campaign_stage_id=stage.id,
        experiment_id=stage.campaign.experiment_id,
        state=states.NEW,
        launcher_id=user.id,
        test=test,
        origin=ORIGIN,
        recovery_of_id=parent.id if parent is not None else None,
        dataset=dataset or "",
        command=_command(command),
        launcher_kind=ORIGIN,
        stage_snapshot_id=stage_snap.id,
        job_type_snapshot_id=job_type_snap.id,
        login_setup_snapshot_id=login_snap.id,
        created=now,
        # The launch happened (or happens) outside POMS: nothing for a worker to run,
        # claim or wait for.
        launch_claimed_at=now,
        launch_started_at=now,
        launch_finished_at=now,
    )
    db.session.add(submission)
    db.session.flush()
    states.record_creation(
        submission, f"registered by {user.username}: launched outside POMS"
        + (f" ({submission.command[:200]})" if submission.command else ""), actor_id=user.id)
    return submission


def record_command(submission: Submission, command: str | None) -> bool:
    """The original's get_submission_id_for with a submission id: record the command an
    external submission ran. A submission POMS launched keeps what POMS ran (False)."""
    if submission.origin != ORIGIN or not command:
        return False
    submission.command = _command(command)
    return True
