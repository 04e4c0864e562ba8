"""Launch again what did not launch: a LaunchFailed submission's stage, with the same test
flag, dataset, overrides and recovery position, as a new submission (the failed one stays
as it was, for its history). The dry run first, as for every launch.
"""
from __future__ import annotations

from app import states
from app.audit import audit
from app.extensions import db
from app.launching import service
from app.launching.command import LaunchError
from app.models import Experimenter, Submission


def _same(submission: Submission) -> dict:
    recovery_of = (db.session.get(Submission, submission.recovery_of_id)
                   if submission.recovery_of_id else None)
    return dict(test=submission.test, dataset_override=submission.dataset or None,
                extra_overrides=list(submission.param_overrides or []) or None,
                recovery_of=recovery_of, recovery_position=submission.recovery_position)


def check(submission: Submission) -> None:
    if submission.state != states.LAUNCH_FAILED:
        raise LaunchError(f"submission {submission.id} is {submission.state}: only a "
                          "launch that failed is launched again")


def preview(submission: Submission, user: Experimenter, config) -> service.Preview:
    """The dry run of the launch again (writes nothing); LaunchError when it cannot."""
    check(submission)
    return service.preview(submission.stage, user, config=config, **_same(submission))


def relaunch(submission: Submission, user: Experimenter, config, origin: str = "web"
             ) -> Submission:
    """The new submission (New; caller commits, then queues it). Audited."""
    check(submission)
    again = service.request_launch(submission.stage, user, config=config,
                                   origin=f"launched again from {submission.id} ({origin})"[:64],
                                   **_same(submission))
    audit(submission.stage.campaign.experiment, user, "submission launched again",
          f"submission {submission.id}", {"state": submission.state},
          {"submission": again.id})
    return again
