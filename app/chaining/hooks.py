"""What a chaining job runs after tracking (workers/jobs.chain, on the `chaining` queue
that tracking passes and event readings fill), and what it returns.

    chained = after_tracking(config)
    work.queue_launches(config, chained.launched)   # app/work.py, after the commits

In order, each step in its own transactions: the files of jobs that ended are recorded in
the catalogue; Completed submissions are moved to Located when their stage's rule says
so; Located (or otherwise ended) submissions not settled yet are chained (recoveries
first, then dependent stages). Safe to run in several workers at once: the state changes
are guarded updates and each chaining decision is a unique row.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from sqlalchemy import select

from app import states
from app.chaining import chain
from app.chaining.completion import check_located
from app.chaining.delivery import record_finished_jobs
from app.extensions import db
from app.models import Submission
from app.watching.breaker import check_recent as check_breakers

log = logging.getLogger(__name__)


@dataclass
class ChainResult:
    recorded_jobs: int = 0
    located: list[int] = field(default_factory=list)
    launched: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tripped: list[int] = field(default_factory=list)  # stages whose breaker tripped
    recording_left: bool = False  # record_for_s ran out: finished jobs may be unrecorded


def after_tracking(config, result: ChainResult | None = None, *,
                   record_for_s: float | None = None) -> ChainResult:
    """record_for_s: record finished jobs' files for about this long at most, and say
    whether some may be left (recording_left), so new job events are read in between."""
    result = result or ChainResult()
    until = None if record_for_s is None else time.monotonic() + record_for_s
    result.recorded_jobs += record_finished_jobs(config, until=until)
    result.recording_left = until is not None and time.monotonic() > until
    # issue 18: a stage failing too much is held before chaining launches more of it.
    result.tripped = check_breakers(config)
    completed = list(db.session.scalars(
        select(Submission).where(Submission.state == states.COMPLETED).order_by(Submission.id)))
    for submission in completed:
        try:
            if check_located(submission, config):
                result.located.append(submission.id)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("locating submission %s", submission.id)
    for submission_id in chain.unsettled_ended():
        submission = db.session.get(Submission, submission_id)
        try:
            got = chain.settle(submission, config)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("chaining after submission %s", submission_id)
            continue
        result.launched += got.launched
        result.notes += got.notes
    return result
