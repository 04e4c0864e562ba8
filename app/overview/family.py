"""A submission's relatives, for its page: the submission whose outputs it reads (its
parent, for a dependent stage's launch), the family it belongs to (the first submission
and its recoveries) and the dependent stages' launches on the family's outputs. They
appear as chaining makes them; the page polls.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

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
    parent_id = db.session.scalar(select(ChainStep.parent_submission_id).where(
        ChainStep.submission_id == root.id, ChainStep.kind == "dependent").limit(1))
    dependents = list(db.session.scalars(
        select(Submission).join(ChainStep, ChainStep.submission_id == Submission.id)
        .where(ChainStep.parent_submission_id.in_(ids), ChainStep.kind == "dependent")
        .order_by(Submission.id)))
    again = list(db.session.scalars(select(Submission).where(
        Submission.campaign_stage_id == submission.stage.id,
        Submission.origin.like(f"launched again from {submission.id} %"))
        .order_by(Submission.id)))
    return Relatives(parent=db.session.get(Submission, parent_id) if parent_id else None,
                     family=family if len(family) > 1 else [], dependents=dependents,
                     launched_again=again)
