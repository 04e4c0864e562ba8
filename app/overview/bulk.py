"""Hold, release, kill or recover many submissions at once: what each would do (the
preview), then doing it, one submission at a time in the caller's transaction.

Each submission gets what it would get alone (app/tracking/actions.request_action, which
audits it; app/chaining/operator.recover_now, audited here): one audit entry per
submission, a refusal for one never undoes the others (each is its own savepoint).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import states
from app.audit import audit
from app.chaining import operator
from app.extensions import db
from app.models import BatchAction, CampaignStage, Experimenter, Submission
from app.tracking import actions

BULK_ACTIONS = ("hold", "release", "kill", "recover")
LIMIT = 100  # the most one bulk action touches
STATE_FILTERS = ("active", "ended", "failed", "all") + states.STATES


@dataclass
class Verdict:
    submission: Submission
    applies: bool
    says: str


@dataclass
class Outcome:
    done: list[tuple[int, str]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    batch_actions: list[int] = field(default_factory=list)  # queue after the commit
    launches: list[int] = field(default_factory=list)  # queue after the commit


def filtered(experiment_id: int, *, campaign_id: int | None = None,
             stage_id: int | None = None, state: str = "", limit: int = LIMIT
             ) -> list[Submission]:
    query = (select(Submission).join(CampaignStage)
             .where(Submission.experiment_id == experiment_id)
             .options(joinedload(Submission.stage).joinedload(CampaignStage.campaign)))
    if campaign_id:
        query = query.where(CampaignStage.campaign_id == campaign_id)
    if stage_id:
        query = query.where(Submission.campaign_stage_id == stage_id)
    if state == "active":
        query = query.where(Submission.state.in_(states.ACTIVE))
    elif state == "ended":
        query = query.where(Submission.state.in_(states.FINAL))
    elif state == "failed":
        query = query.where(Submission.state.in_((states.FAILED, states.LAUNCH_FAILED)))
    elif state in states.STATES:
        query = query.where(Submission.state == state)
    return list(db.session.scalars(query.order_by(Submission.id.desc()).limit(limit)))


def verdict(action: str, submission: Submission, config) -> Verdict:
    """What `action` would do to the submission now, in words; writes nothing."""
    if action == "recover":
        shown = operator.recovery_preview(submission, config)
        if shown.note or not shown.files:
            return Verdict(submission, False, shown.note or "nothing to recover")
        if shown.problem:
            return Verdict(submission, False, f"the recovery cannot launch: {shown.problem}")
        return Verdict(submission, True, f"recovery {shown.type} of submission "
                                         f"{shown.submission_id} on {len(shown.files)} files")
    try:
        actions.check(action, submission)
    except actions.ActionRefused as err:
        return Verdict(submission, False, str(err))
    pending = actions.pending_action(submission)
    if pending is not None and pending.action != action:
        return Verdict(submission, False, f"{actions.describe(pending)}: ask when it is done")
    if action == "kill" and submission.state == states.NEW \
            and submission.launch_claimed_at is None:
        return Verdict(submission, True, "cancelled before it launches")
    jobs = {"hold": submission.jobs_idle + submission.jobs_running,
            "release": submission.jobs_held,
            "kill": submission.jobs_idle + submission.jobs_running + submission.jobs_held}
    verb = {"hold": "held", "release": "released", "kill": "removed"}[action]
    return Verdict(submission, True, f"its {jobs[action]} unfinished jobs {verb} "
                                     "(a worker asks the batch system)")


def preview(action: str, submissions: list[Submission], config) -> list[Verdict]:
    if action not in BULK_ACTIONS:
        raise ValueError(f"no bulk action {action!r}: the actions are {', '.join(BULK_ACTIONS)}")
    return [verdict(action, s, config) for s in submissions]


def _one(action: str, submission: Submission, user: Experimenter, config, origin: str,
         out: Outcome) -> None:
    if action == "recover":
        launched = operator.recover_now(submission, user, config)
        audit(submission.stage.campaign.experiment, user, "submission recover",
              f"submission {submission.id}", {"state": submission.state},
              {"recovery": launched.id, "origin": origin})
        out.launches.append(launched.id)
        out.done.append((submission.id, f"recovery {launched.id} launched"))
        return
    got = actions.request_action(action, submission, user, origin=origin)
    if isinstance(got, BatchAction):
        out.batch_actions.append(got.id)
        out.done.append((submission.id, actions.describe(got)))
    else:
        out.done.append((submission.id, got))


def apply(action: str, submissions: list[Submission], user: Experimenter, config, *,
          origin: str = "web, bulk") -> Outcome:
    """Do `action` to each submission (caller commits, then queues `batch_actions` and
    `launches`)."""
    if action not in BULK_ACTIONS:
        raise ValueError(f"no bulk action {action!r}: the actions are {', '.join(BULK_ACTIONS)}")
    out = Outcome()
    for submission in submissions[:LIMIT]:
        savepoint = db.session.begin_nested()
        try:
            _one(action, submission, user, config, origin, out)
            savepoint.commit()
        except (actions.ActionRefused, operator.RecoveryRefused) as err:
            savepoint.rollback()
            out.refused.append((submission.id, str(err)))
    return out
