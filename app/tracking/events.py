"""Event-driven tracking: a job's change reaches POMS when the batch engine logs it.

Engines that log their jobs' changes as they happen (the local engine's events.log per
cluster, HTCondor's job event log per cluster) say so with `follows_events`, and answer

  engine.event_marks(submission_id, batch_ids) -> {cluster id: mark}   cheap, asked often
  engine.changes(submission_id, batch_ids, positions) -> (changed jobs' states, positions)

Each submission keeps how far tracking has read each of its clusters' logs
(Submission.event_positions), written in the same transaction as the job rows those events
changed: a crash between the two cannot skip an event, only read one twice (harmless).

The scheduler (workers/main.py) asks `changed_submissions` a few times a second and queues
`track_changes` for those whose marks moved. The full pass (tracker.track_pass) still runs,
less often, as the safety net: it reads every job's state, so an event that was lost or
garbled, or a runner that died, is caught there. jobsub logs nothing POMS can read: it is
polled at POMS_TRACKING_INTERVAL as before.
"""
from __future__ import annotations

import logging

from sqlalchemy import or_, select

from app import states
from app.batch.base import BatchEngine, BatchError
from app.batch.engines import engine_from_config
from app.extensions import db
from app.models import Submission
from app.tracking.tracker import STRAGGLING, PassResult, ingest

log = logging.getLogger(__name__)


def _followed(ids: list[int] | None = None):
    """Submissions with jobs on the grid: active, or Completed with stragglers."""
    query = select(Submission.id, Submission.batch_ids, Submission.event_positions).where(
        or_(Submission.state.in_((states.IDLE, states.RUNNING, states.HELD)),
            Submission.state.in_(STRAGGLING) & (
                (Submission.jobs_idle > 0) | (Submission.jobs_running > 0)
                | (Submission.jobs_held > 0))))
    if ids is not None:
        query = query.where(Submission.id.in_(ids))
    return db.session.execute(query.order_by(Submission.id)).all()


def changed_submissions(config, engine: BatchEngine | None = None) -> list[int]:
    """Submissions whose engine logged something tracking has not read yet."""
    engine = engine or engine_from_config(config)
    if not getattr(engine, "follows_events", False):
        return []
    changed = []
    for submission_id, batch_ids, positions in _followed():
        if not batch_ids:
            continue
        try:
            marks = engine.event_marks(submission_id, list(batch_ids))
        except (BatchError, ValueError):
            continue  # the full pass says what is wrong with its ids
        positions = positions or {}
        if any(mark != positions.get(cluster, 0) for cluster, mark in marks.items()):
            changed.append(submission_id)
    db.session.rollback()  # hold no read transaction between rounds
    return changed


def track_changes(ids: list[int], config, engine: BatchEngine | None = None,
                  result: PassResult | None = None) -> PassResult:
    """Record what the engine logged for these submissions since tracking last read it:
    only the jobs that changed are read and written. One transaction per submission."""
    engine = engine or engine_from_config(config)
    result = result or PassResult()
    if not getattr(engine, "follows_events", False):
        return result
    for submission_id, batch_ids, positions in _followed(ids):
        if not batch_ids:
            continue
        try:
            statuses, moved = engine.changes(submission_id, list(batch_ids),
                                             dict(positions or {}))
        except (BatchError, ValueError) as err:
            log.info("following submission %s: %s (left to the full pass)", submission_id, err)
            continue
        if moved == (positions or {}) and not statuses:
            continue
        submission = db.session.get(Submission, submission_id)
        try:
            notes = engine.notes(list(batch_ids))
            if notes:  # a cluster read whole here (its runner gone): what the full pass says
                submission.tracking_error = "; ".join(notes)
            ingest(submission, statuses, True, result, only_reported=True)
            submission.event_positions = moved
            db.session.commit()
        except Exception:  # one bad submission must not stop the others
            db.session.rollback()
            log.exception("following submission %s (left to the full pass)", submission_id)
    return result
