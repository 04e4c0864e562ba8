"""Work for the workers: how domain code and the entry points ask for something to be done
later, without knowing who does it.

    from app import work
    work.queue_launches(config, [submission.id])   # after the commit that wrote the rows

No domain module imports `workers/`: they ask this interface, and create_app registers the
worker package's implementation (workers/queues.RQWork, RQ on the POMS_REDIS_URL of the
config each call is given). Every call takes ids of rows already committed, so work that is
lost on the way (Redis restarted, or not answering) is found again by the workers'
scheduler from the database, never lost: a launch stays New, an upload queued, a batch
action requested.
"""
from __future__ import annotations

from typing import Protocol


class QueueUnavailable(Exception):
    """The queue did not take the work (Redis is not answering). What the caller recorded
    stays recorded; the scheduler queues it again once the queue answers."""


class WorkQueue(Protocol):
    def queue_launches(self, config, submission_ids: list[int]) -> None: ...

    def queue_tracking(self, config, submission_ids: list[int] | None = None) -> None: ...

    def queue_analysis(self, config, job_row_ids: list[int]) -> None: ...

    def queue_uploads(self, config, job_row_ids: list[int], retry_after: list[int]) -> int: ...

    def queue_batch_action(self, config, action_id: int) -> None: ...

    def queue_deliveries(self, config, delivery_ids: list[int], retry_after: list[int]) -> int: ...


_queue: WorkQueue | None = None


def register(queue: WorkQueue) -> None:
    """Who does the work (create_app registers workers/queues.RQWork)."""
    global _queue
    _queue = queue


def _registered() -> WorkQueue:
    if _queue is None:
        raise RuntimeError("no work queue is registered: create_app registers the workers' "
                           "(workers/queues.RQWork)")
    return _queue


def queue_launches(config, submission_ids: list[int]) -> None:
    """Each submission's launch (one queued job per submission, whoever asks twice)."""
    if submission_ids:
        _registered().queue_launches(config, list(submission_ids))


def queue_tracking(config, submission_ids: list[int] | None = None) -> None:
    """A tracking pass over these submissions, or over every active one (None)."""
    _registered().queue_tracking(config, submission_ids)


def queue_analysis(config, job_row_ids: list[int]) -> None:
    """The log analysis of these finished jobs."""
    if job_row_ids:
        _registered().queue_analysis(config, list(job_row_ids))


def queue_uploads(config, job_row_ids: list[int], retry_after: list[int]) -> int:
    """The FCL uploads of these jobs to UconDB, each tried again after each of `retry_after`
    seconds while it fails; how many were queued (one queued, running or waiting to retry
    is not queued again)."""
    if not job_row_ids:
        return 0
    return _registered().queue_uploads(config, list(job_row_ids), list(retry_after))


def queue_batch_action(config, action_id: int) -> None:
    """A requested kill, hold or release of a submission's jobs (app/tracking/actions.py)."""
    _registered().queue_batch_action(config, action_id)


def queue_deliveries(config, delivery_ids: list[int], retry_after: list[int]) -> int:
    """Send these deliveries (mail, webhooks: app/watching/delivery.py) on their own queue,
    each tried again after each of `retry_after` seconds while it fails; how many were
    queued (one already queued or waiting to retry is not queued again)."""
    if not delivery_ids:
        return 0
    return _registered().queue_deliveries(config, list(delivery_ids), list(retry_after))
