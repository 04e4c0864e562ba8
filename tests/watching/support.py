"""Helpers: a submission that failed, the watch pass and deliveries through a real RQ worker."""
from __future__ import annotations

from redis import Redis
from rq import Queue, SimpleWorker

from app import states
from app.extensions import db
from app.launching import service
from workers import jobs
from workers.queues import QUEUES, enqueue_watch_pass


def stage(campaign, name):
    return next(s for s in campaign.stages if s.name == name)


def launch_failed(campaign, name, app, why="jobsub_submit: no proxy for mu2e"):
    sub = service.request_launch(stage(campaign, name), campaign.owner, test=False,
                                 origin="test", config=app.config)
    db.session.commit()
    sub.launch_error = why
    states.transition(sub, states.LAUNCH_FAILED, why)
    db.session.commit()
    return sub


def run_worker(app, *, with_scheduler=False) -> None:
    """Empty every POMS queue with a real RQ worker (scheduled retries that are due too)."""
    jobs.use_app(app)
    connection = Redis.from_url(app.config["POMS_REDIS_URL"])
    queues = [Queue(name, connection=connection) for name in QUEUES]
    SimpleWorker(queues, connection=connection).work(burst=True, with_scheduler=with_scheduler)
    db.session.expire_all()


def watch_pass(app) -> None:
    """What the scheduler's tick does for watches: queue the pass; a worker runs it and the
    deliveries it queues."""
    enqueue_watch_pass(app.config["POMS_REDIS_URL"])
    run_worker(app)
