"""The POMS queues and how things get on them (thin: ids in, no objects).

RQWork is app/work.py's interface on these queues; create_app registers it, so domain
code asks app/work.py and never imports this package. The functions below take a Redis URL
(or connection) and are what RQWork, the scheduler (workers/main.py) and tests call.
"""
from __future__ import annotations

import contextlib
import logging
import socket
import time

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob
from rq.registry import StartedJobRegistry

from app.launching.launchers import process_alive, this_process
from app.processes import pid_alive
from app.work import QueueUnavailable

log = logging.getLogger(__name__)

LAUNCHES, TRACKING, ANALYSIS, UPLOADS = "launches", "tracking", "analysis", "uploads"
# Mail and webhooks (app/watching): a slow mail server never holds up tracking.
NOTIFICATIONS = "notifications"
# What follows job ends (app/chaining: their files recorded, Located, dependents launched):
# a 100,000-job submission's recording never holds up the reading of new job events.
CHAINING = "chaining"
QUEUES = (LAUNCHES, TRACKING, CHAINING, ANALYSIS, UPLOADS, NOTIFICATIONS)
PENDING = ("queued", "started", "deferred", "scheduled")


def connection(redis_url: str) -> Redis:
    return Redis.from_url(redis_url)


def _queue(redis_url: str | Redis, name: str) -> Queue:
    conn = redis_url if isinstance(redis_url, Redis) else connection(redis_url)
    return Queue(name, connection=conn)


# The job's meta key naming the work horse that runs it ("host:pid"), written by the horse
# itself (workers/main.PomsWorker): RQ keeps the worker's pid in Redis, not the horse's.
HORSE = "poms_horse"


def mark_horse(job: RQJob) -> None:
    job.meta[HORSE] = this_process()
    job.save_meta()


# RQ's worker heartbeats a running job every job_monitoring_interval (30 s) and gives it 60 s
# of slack: a heartbeat older than this means nobody watches the job any more.
HEARTBEAT_STALE_S = 120


def _worker_alive(connection: Redis, name: str) -> bool | None:
    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + name,
                                connection=connection)
    if worker is None:
        return False  # its key expired, or it said it died
    if worker.hostname != socket.gethostname() or not worker.pid:
        return None
    return pid_alive(worker.pid)


def abandoned(queue: Queue, job: RQJob) -> bool:
    """True for a job RQ still counts as started (or taken off its queue) whose worker and
    work horse are both gone: a worker killed mid-job. RQ would find it only after the
    heartbeat expires and its maintenance runs (up to a quarter of an hour); the processes
    on this machine say it at once. A horse whose worker lives is left to its worker, which
    records its end itself."""
    status = job.get_status(refresh=True)
    if status == "queued":
        if queue.connection.lpos(queue.key, job.id) is not None:
            return False  # waiting on its queue
    elif status != "started":
        return False
    try:
        executions = job.get_executions()
    except ValueError:  # an execution expired while they were listed: ask again next time
        return False
    names = {e.worker_name for e in executions if e.worker_name} | (
        {job.worker_name} if job.worker_name else set())
    if not names:
        return False  # being taken by a worker right now
    if any(_worker_alive(queue.connection, name) is not False for name in names):
        # A worker that lives (or on another machine, unknown): RQ's own heartbeat decides.
        return bool(executions) and all(
            e.last_heartbeat.timestamp() + HEARTBEAT_STALE_S < time.time() for e in executions)
    horse = job.meta.get(HORSE)
    return not horse or process_alive(horse) is False


def _retire(queue: Queue, job: RQJob) -> None:
    """Take a dead worker's job out of the started registry, so that RQ's later cleanup
    never marks the job queued again in its place as abandoned."""
    registry = StartedJobRegistry(queue.name, connection=queue.connection)
    for job_id, execution_id in registry.get_job_and_execution_ids(cleanup=False):
        if job_id == job.id:
            queue.connection.zrem(registry.key, f"{job_id}:{execution_id}")


def _pending(queue: Queue, job_id: str) -> bool:
    try:
        job = RQJob.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:
        return False
    if job.get_status(refresh=True) not in PENDING:
        return False
    if abandoned(queue, job):
        log.warning("job %s: its worker and work horse are gone; queued again", job_id)
        _retire(queue, job)
        return False
    return True


def requeue_abandoned(redis_url, queues=QUEUES) -> list[str]:
    """Queue again every job a dead worker left started (the scheduler's tick and a starting
    worker call this). A launch run twice is harmless: its claim runs it once."""
    again = []
    for name in queues:
        queue = _queue(redis_url, name)
        registry = StartedJobRegistry(name, connection=queue.connection)
        for job_id in dict.fromkeys(registry.get_job_ids(cleanup=False)):
            try:
                job = RQJob.fetch(job_id, connection=queue.connection)
            except NoSuchJobError:
                continue
            if abandoned(queue, job):
                _retire(queue, job)
                queue.enqueue_job(job)
                again.append(job_id)
    return again


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


def enqueue_tracking(redis_url, submission_ids: list[int] | None = None, *,
                     job_states: bool = True):
    """A tracking pass over these submissions, or every active one; job_states=False: only
    the launches not recorded as finished (app/tracking/tracker.track_pass)."""
    queue = _queue(redis_url, TRACKING)
    if submission_ids is None:
        job_id = "tracking-pass" if job_states else "tracking-launches"
        if _pending(queue, job_id):
            return None
        return queue.enqueue("workers.jobs.track", None, job_states, job_id=job_id,
                             result_ttl=60, job_timeout=600)
    return queue.enqueue("workers.jobs.track", list(submission_ids), result_ttl=60)


# Set while a `follow` job waits on the tracking queue (the job clears it as it starts): at
# most one waits while another runs, and events that arrive meanwhile are read by the
# waiting one. It expires, in case its job was lost with Redis.
FOLLOW_QUEUED = "poms:tracking:follow-queued"


def enqueue_follow(redis_url, expires_s: int = 30):
    """Queue the reading of new job events (workers.jobs.follow), unless one waits."""
    queue = _queue(redis_url, TRACKING)
    if not queue.connection.set(FOLLOW_QUEUED, "1", nx=True, ex=expires_s):
        return None
    return queue.enqueue("workers.jobs.follow", result_ttl=0, job_timeout=600)


def follow_started(redis_url) -> None:
    conn = redis_url if isinstance(redis_url, Redis) else connection(redis_url)
    conn.delete(FOLLOW_QUEUED)


# Set while a `chain` job waits on the chaining queue (the job clears it as it starts), as
# FOLLOW_QUEUED: at most one waits while another runs, and it sees everything recorded
# before it starts. It expires, in case its job was lost.
CHAIN_QUEUED = "poms:chaining:queued"


def enqueue_chaining(redis_url, expires_s: int = 60):
    """Queue chaining after tracking (workers.jobs.chain), unless one waits."""
    queue = _queue(redis_url, CHAINING)
    if not queue.connection.set(CHAIN_QUEUED, "1", nx=True, ex=expires_s):
        return None
    try:
        return queue.enqueue("workers.jobs.chain", result_ttl=0, job_timeout=1800)
    except RedisError:
        with contextlib.suppress(RedisError):  # no job waits: the next caller queues one
            queue.connection.delete(CHAIN_QUEUED)
        raise


def chaining_started(redis_url) -> None:
    conn = redis_url if isinstance(redis_url, Redis) else connection(redis_url)
    conn.delete(CHAIN_QUEUED)


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


def _enqueue_each(redis_url, queue_name: str, function: str, prefix: str, ids: list[int],
                  delays: list[int], timeout: int) -> int:
    """One job `prefix-<id>` per id on the queue (unless one is queued, running or waiting to
    retry), retried after each of `delays` seconds; how many were queued."""
    queue = _queue(redis_url, queue_name)
    retry = Retry(max=len(delays), interval=list(delays)) if delays else None
    done = 0
    for row_id in ids:
        job_id = f"{prefix}-{row_id}"
        if _pending(queue, job_id):
            continue
        queue.enqueue(function, row_id, job_id=job_id, retry=retry, job_timeout=timeout,
                      result_ttl=3600, failure_ttl=7 * 24 * 3600)
        done += 1
    return done


def enqueue_uploads(redis_url, job_row_ids: list[int], delays: list[int]) -> int:
    """One `uploads` job per job row (unless one is queued, running or waiting to retry),
    retried after each of `delays` seconds; how many were queued."""
    return _enqueue_each(redis_url, UPLOADS, "workers.jobs.upload", "fcl-upload", job_row_ids,
                         delays, timeout=600)


# A kill, hold or release does one engine call (jobsub_rm and friends may take a minute);
# the tracking workers do it, so a slow launch never holds it up.
BATCH_ACTION_TIMEOUT_S = 600


def enqueue_batch_action(redis_url, action_id: int):
    """One queued job per requested action; the claim in the job makes a second run
    harmless anyway."""
    queue = _queue(redis_url, TRACKING)
    job_id = f"batch-action-{action_id}"
    if _pending(queue, job_id):
        return None
    return queue.enqueue("workers.jobs.batch_action", action_id, job_id=job_id,
                         job_timeout=BATCH_ACTION_TIMEOUT_S, result_ttl=3600,
                         failure_ttl=7 * 24 * 3600)


def enqueue_watch_pass(redis_url):
    """The watch pass (app/watching/scan.py): one queued at a time."""
    queue = _queue(redis_url, NOTIFICATIONS)
    if _pending(queue, "watch-pass"):
        return None
    return queue.enqueue("workers.jobs.watch_pass", job_id="watch-pass", result_ttl=60,
                         job_timeout=600)


def enqueue_deliveries(redis_url, delivery_ids: list[int], delays: list[int]) -> int:
    """One `notifications` job per delivery (unless one is queued, running or waiting to
    retry), retried after each of `delays` seconds; how many were queued."""
    return _enqueue_each(redis_url, NOTIFICATIONS, "workers.jobs.deliver", "deliver",
                         delivery_ids, delays, timeout=120)


class RQWork:
    """app/work.py's WorkQueue on RQ, on the Redis each call's config names. A Redis that
    does not answer is QueueUnavailable: the caller's rows stay, and the scheduler queues
    them again (workers/main.py tick)."""

    def queue_launches(self, config, submission_ids: list[int]) -> None:
        timeout = int(config.get("POMS_LAUNCH_TIMEOUT", 1800))
        with _answering(config["POMS_REDIS_URL"]):
            conn = connection(config["POMS_REDIS_URL"])
            for submission_id in submission_ids:
                enqueue_launch(conn, submission_id, timeout=timeout)

    def queue_tracking(self, config, submission_ids: list[int] | None = None) -> None:
        with _answering(config["POMS_REDIS_URL"]):
            enqueue_tracking(config["POMS_REDIS_URL"], submission_ids)

    def queue_analysis(self, config, job_row_ids: list[int]) -> None:
        with _answering(config["POMS_REDIS_URL"]):
            enqueue_analysis(config["POMS_REDIS_URL"], job_row_ids)

    def queue_uploads(self, config, job_row_ids: list[int], retry_after: list[int]) -> int:
        with _answering(config["POMS_REDIS_URL"]):
            return enqueue_uploads(config["POMS_REDIS_URL"], job_row_ids, retry_after)

    def queue_batch_action(self, config, action_id: int) -> None:
        with _answering(config["POMS_REDIS_URL"]):
            enqueue_batch_action(config["POMS_REDIS_URL"], action_id)

    def queue_deliveries(self, config, delivery_ids: list[int], retry_after: list[int]) -> int:
        with _answering(config["POMS_REDIS_URL"]):
            return enqueue_deliveries(config["POMS_REDIS_URL"], delivery_ids, retry_after)


class _answering:
    """RedisError as app/work.py's QueueUnavailable; so is any other error when what
    answers at the address is not Redis (another program took the port: redis-py then
    fails while reading its answers, with AttributeError and the like)."""

    def __init__(self, redis_url: str):
        self.redis_url = redis_url

    def __enter__(self):
        return self

    def __exit__(self, kind, err, _tb):
        if err is None:
            return False
        if isinstance(err, RedisError) or not _is_redis(self.redis_url):
            raise QueueUnavailable(f"the queue is not answering: {err}") from err
        return False


def _is_redis(redis_url: str) -> bool:
    try:
        return Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2).ping() is True
    except Exception:  # why: whatever answers there, it is not a Redis we can use
        return False
