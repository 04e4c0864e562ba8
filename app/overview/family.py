"""A submission's relatives, for its page: the submission whose outputs it reads (its
parent, for a dependent stage's launch), the family it belongs to (the first submission
and its recoveries) and the dependent stages' launches on the family's outputs. They
appear as chaining makes them (the summary is drawn again when one does).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select

from app import states
from app.chaining import chain
from app.extensions import db
from app.models import Submission
from app.models.chaining import ChainStep


@dataclass
class Relatives:
    parent: Submission | None = None  # the launch whose outputs this one reads
    family: list[Submission] = field(default_factory=list)  # root first, then recoveries
    dependents: list[Submission] = field(default_factory=list)  # launched on its outputs
    launched_again: list[Submission] = field(default_factory=list)  # after a LaunchFailed


def relatives(submission: Submission) -> Relatives:
    root = chain.root_of(submission)
    family = chain.family_of(root)
    ids = [s.id for s in family]
    # At most three queries whatever the family: its recoveries (above), the dependent-launch
    # links into and out of it, and the submissions those links and re-launches name.
    links = db.session.execute(
        select(ChainStep.parent_submission_id, ChainStep.submission_id).where(
            ChainStep.kind == "dependent",
            or_(ChainStep.submission_id == root.id, ChainStep.parent_submission_id.in_(ids)))
        .order_by(ChainStep.id)).all()
    parent_id = next((parent for parent, child in links if child == root.id), None)
    dependent_ids = {child for parent, child in links if parent in ids and child is not None}
    again_origin = f"launched again from {submission.id} "
    wanted = []
    if named_ids := dependent_ids | ({parent_id} if parent_id else set()):
        wanted.append(Submission.id.in_(named_ids))
    if submission.state == states.LAUNCH_FAILED:  # only those are launched again (relaunch.py)
        wanted.append(and_(Submission.campaign_stage_id == submission.campaign_stage_id,
                           Submission.origin.like(f"{again_origin}%")))
    named = db.session.scalars(select(Submission).where(or_(*wanted))
                               .order_by(Submission.id)).all() if wanted else []
    return Relatives(
        parent=next((s for s in named if s.id == parent_id), None),
        family=family if len(family) > 1 else [],
        dependents=[s for s in named if s.id in dependent_ids],
        launched_again=[s for s in named if s.campaign_stage_id == submission.campaign_stage_id
                        and (s.origin or "").startswith(again_origin)])
