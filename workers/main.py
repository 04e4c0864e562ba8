"""The RQ worker process: one worker on every POMS queue, plus the scheduler.

The scheduler is a process forked by each worker before it starts (a thread would be
copied into every forked work horse holding whatever locks it held at that moment, and
the horse could hang on them). Every POMS_TRACKING_INTERVAL seconds it takes a short
Redis lock (so several workers tick once between them, not once each), then enqueues a
tracking pass (only every POMS_TRACKING_FULL_INTERVAL with an engine whose job events
tracking follows; each pass queues chaining on its own queue) and a watch pass
(app/watching: watchers' events, digests and messages, on `notifications`), launches
scheduled stages that are due, and re-enqueues launches and requested batch actions whose
queued job was lost; every POMS_ANALYSIS_CATCHUP_INTERVAL it
also queues the analysis of finished jobs whose log analysis was lost. Between ticks, every
POMS_TRACKING_EVENTS_MS, it looks at the engine's job event logs and queues the reading
of what is new (app/tracking/events.py). With --burst it ticks once, then the worker
empties the queues and stops.
"""
from __future__ import annotations

import logging
import os
import signal
import time

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, Worker

from app.batch.base import BatchError
from app.batch.engines import engine_from_config
from app.extensions import db
from app.launching.schedule import due_launches
from app.tracking.actions import stale_requested_actions
from app.tracking.events import changed_submissions
from app.tracking.tracker import stale_unclaimed
from workers import jobs
from workers.queues import (
    QUEUES,
    enqueue_analysis_catchup,
    enqueue_batch_action,
    enqueue_follow,
    enqueue_launch,
    enqueue_tracking,
    enqueue_watch_pass,
    mark_horse,
    requeue_abandoned,
)

log = logging.getLogger(__name__)
TICK_LOCK = "poms:scheduler:tick"
FULL_PASS_LOCK = "poms:scheduler:full-pass"
FOLLOW_LOCK = "poms:scheduler:follow"
CATCHUP_LOCK = "poms:scheduler:analysis-catchup"


class PomsWorker(Worker):
    """RQ's worker; each work horse names itself on its job, so that a worker killed
    mid-job is seen at once (workers/queues.abandoned)."""

    def prepare_job_execution(self, job, remove_from_intermediate_queue: bool = False):
        mark_horse(job)
        super().prepare_job_execution(job, remove_from_intermediate_queue)


def tick(flask_app, connection: Redis, *, force: bool = False) -> list[str]:
    """One scheduler round. Returns what it did, in words."""
    interval = max(1, int(flask_app.config.get("POMS_TRACKING_INTERVAL", 10)))
    if not force and not connection.set(TICK_LOCK, "1", nx=True, ex=interval):
        return []  # another worker ticked this interval
    done = [f"{job_id} queued again: its worker died" for job_id in requeue_abandoned(connection)]
    with flask_app.app_context():
        launched, problems = due_launches(flask_app.config)
        for submission_id in launched + stale_unclaimed(flask_app.config):
            enqueue_launch(connection, submission_id,
                           timeout=int(flask_app.config.get("POMS_LAUNCH_TIMEOUT", 1800)))
            done.append(f"launch {submission_id} queued")
        done.extend(problems)
        for action_id in stale_requested_actions(flask_app.config):
            enqueue_batch_action(connection, action_id)
            done.append(f"batch action {action_id} queued again")
    full = max(interval, int(flask_app.config.get("POMS_TRACKING_FULL_INTERVAL", 60)))
    if force or not _follows_events(flask_app.config) \
            or connection.set(FULL_PASS_LOCK, "1", nx=True, ex=full):
        enqueue_tracking(connection)
        done.append("tracking pass queued")
    else:  # job states come by events: only unfinished launches are looked at
        enqueue_tracking(connection, job_states=False)
        done.append("launches' tracking queued")
    enqueue_watch_pass(connection)  # app/watching: events, digests, deliveries
    done.append("watch pass queued")
    catchup = int(flask_app.config.get("POMS_ANALYSIS_CATCHUP_INTERVAL", 600))
    if catchup > 0 and connection.set(CATCHUP_LOCK, "1", nx=True, ex=catchup):
        enqueue_analysis_catchup(connection)
        done.append("analysis catch-up queued")
    return done


def _follows_events(config) -> bool:
    if int(config.get("POMS_TRACKING_EVENTS_MS", 250)) <= 0:
        return False
    try:
        return engine_from_config(config).follows_events
    except BatchError:
        return False  # the full pass says why


def look_for_events(flask_app, connection: Redis, engine) -> bool:
    """One look at the engine's event logs (one scheduler among the workers' per round);
    the reading of what is new queued. True when something was."""
    every_ms = int(flask_app.config.get("POMS_TRACKING_EVENTS_MS", 250))
    if not connection.set(FOLLOW_LOCK, "1", nx=True, px=max(1, every_ms - 10)):
        return False
    with flask_app.app_context():
        changed = changed_submissions(flask_app.config, engine)
    return bool(changed) and enqueue_follow(connection) is not None


def _scheduler_loop(flask_app, redis_url: str, parent: int) -> None:
    """Tick until the worker that forked us is gone; between ticks, look for job events."""
    with flask_app.app_context():
        db.engine.dispose(close=False)  # the worker's connections are not ours
    connection = Redis.from_url(redis_url)
    interval = max(1, int(flask_app.config.get("POMS_TRACKING_INTERVAL", 10)))
    follows = _follows_events(flask_app.config)
    engine = engine_from_config(flask_app.config) if follows else None
    pause = int(flask_app.config.get("POMS_TRACKING_EVENTS_MS", 250)) / 1000 if follows \
        else 0.2
    while os.getppid() == parent:
        try:
            for line in tick(flask_app, connection):
                log.info("scheduler: %s", line)
        except Exception:  # a bad tick must not end the scheduler
            log.exception("scheduler tick failed")
        deadline = time.monotonic() + interval
        while time.monotonic() < deadline and os.getppid() == parent:
            time.sleep(pause)
            if engine is None:
                continue
            try:
                look_for_events(flask_app, connection, engine)
            except Exception:  # Redis or the database away: the next round tries again
                log.exception("looking for job events failed")


def _start_scheduler(flask_app, redis_url: str) -> int:
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the worker, which stops us
        _scheduler_loop(flask_app, redis_url, parent)
    except BaseException:
        log.exception("scheduler stopped")
        code = 1
    finally:
        os._exit(code)


# A lost Redis: the worker starts again after 1, 2, 4 ... s, at most this long apart.
RECONNECT_MAX_S = 30


def _work_until_stopped(redis_url: str, queues) -> bool:
    """RQ's worker, started again whenever Redis stops answering under it (restarted,
    emptied, a network cut): RQ retries only while it waits for a job, and leaves its work
    loop on a lost connection anywhere else. What the lost Redis held is found again from
    the database by the scheduler's ticks."""
    pause = 1
    while True:
        worker, began = None, time.monotonic()
        try:
            connection = Redis.from_url(redis_url, health_check_interval=10)
            worker = PomsWorker([Queue(name, connection=connection) for name in queues],
                                connection=connection)
            # The scheduler runs retries that wait (the `uploads` jobs' backoff).
            return worker.work(with_scheduler=True)
        except (RedisConnectionError, RedisTimeoutError) as err:
            log.error("worker: Redis is not answering (%s); starting again in %d s", err,
                      pause)
        if worker is not None and worker.scheduler is not None:
            try:
                worker.stop_scheduler()  # RQ's own scheduler process: a new worker has one
            except Exception:  # Redis may still be gone
                log.info("worker: RQ's scheduler did not stop cleanly", exc_info=True)
        if time.monotonic() - began > 10 * RECONNECT_MAX_S:
            pause = 1  # it had been working: this is a new outage
        time.sleep(pause)
        pause = min(pause * 2, RECONNECT_MAX_S)


def run_worker(redis_url: str, *, burst: bool = False, flask_app=None,
               queues: tuple[str, ...] | list[str] = QUEUES) -> bool:
    """Serve `queues` (every POMS queue by default) until stopped, or until empty with burst.

    Splitting workers by queue keeps tracking and analysis moving while slow launches (up
    to POMS_LAUNCH_TIMEOUT each) hold the launch workers."""
    unknown = [name for name in queues if name not in QUEUES]
    if unknown or not queues:
        raise ValueError(f"unknown queue {', '.join(unknown) or '(none given)'}: "
                         f"the POMS queues are {', '.join(QUEUES)}")
    if flask_app is not None:
        jobs.use_app(flask_app)
    flask_app = jobs.app()
    # Fork the scheduler first, while this process has no connections and no threads.
    scheduler = None if burst else _start_scheduler(flask_app, redis_url)
    if burst:
        connection = Redis.from_url(redis_url)
        worker = PomsWorker([Queue(name, connection=connection) for name in queues],
                            connection=connection)
        tick(flask_app, connection, force=True)
        return worker.work(burst=True, with_scheduler=True)
    try:
        return _work_until_stopped(redis_url, queues)
    finally:
        try:
            os.kill(scheduler, signal.SIGTERM)
            os.waitpid(scheduler, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
