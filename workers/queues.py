"""The POMS queues and how things get on them (thin: ids in, no objects)."""
from __future__ import annotations

from redis import Redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob

LAUNCHES, TRACKING, ANALYSIS, UPLOADS = "launches", "tracking", "analysis", "uploads"
QUEUES = (LAUNCHES, TRACKING, ANALYSIS, UPLOADS)


def connection(redis_url: str) -> Redis:
    return Redis.from_url(redis_url)


def _queue(redis_url: str | Redis, name: str) -> Queue:
    conn = redis_url if isinstance(redis_url, Redis) else connection(redis_url)
    return Queue(name, connection=conn)


def _pending(queue: Queue, job_id: str) -> bool:
    try:
        job = RQJob.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:
        return False
    return job.get_status(refresh=True) in ("queued", "started", "deferred", "scheduled")


def enqueue_launch(redis_url, submission_id: int, timeout: int = 1800):
    """One queued job per submission (the id says which); the claim in the job itself
    makes a second run harmless anyway."""
    queue = _queue(redis_url, LAUNCHES)
    job_id = f"launch-{submission_id}"
    if _pending(queue, job_id):
        return None
    return queue.enqueue(
        "workers.jobs.launch", submission_id, job_id=job_id, job_timeout=timeout + 60,
        result_ttl=3600, failure_ttl=7 * 24 * 3600,
    )


def enqueue_tracking(redis_url, submission_ids: list[int] | None = None):
    queue = _queue(redis_url, TRACKING)
    if submission_ids is None:
        if _pending(queue, "tracking-pass"):
            return None
        return queue.enqueue("workers.jobs.track", job_id="tracking-pass", result_ttl=60,
                             job_timeout=600)
    return queue.enqueue("workers.jobs.track", list(submission_ids), result_ttl=60)


def enqueue_analysis_catchup(redis_url):
    queue = _queue(redis_url, ANALYSIS)
    if _pending(queue, "analysis-catchup"):
        return None
    return queue.enqueue("workers.jobs.analyse_lost", job_id="analysis-catchup",
                         result_ttl=600, job_timeout=3600)


# Job logs per analysis job: a pass over a 100,000-job submission hands over thousands at
# once, and one RQ job per chunk keeps each well inside its timeout and lets several
# analysis workers share the work.
ANALYSIS_CHUNK = 200
ANALYSIS_TIMEOUT_S = 1800


def enqueue_analysis(redis_url, job_row_ids: list[int]) -> list:
    ids = list(job_row_ids)
    queue = _queue(redis_url, ANALYSIS) if ids else None
    return [queue.enqueue("workers.jobs.analyse", ids[start:start + ANALYSIS_CHUNK],
                          result_ttl=60, job_timeout=ANALYSIS_TIMEOUT_S)
            for start in range(0, len(ids), ANALYSIS_CHUNK)]
