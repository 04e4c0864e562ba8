"""The RQ worker process: one worker on every POMS queue."""
from __future__ import annotations

from redis import Redis
from rq import Queue, Worker

QUEUES = ("launches", "tracking", "analysis", "uploads")


def run_worker(redis_url: str, *, burst: bool = False) -> bool:
    connection = Redis.from_url(redis_url)
    queues = [Queue(name, connection=connection) for name in QUEUES]
    return Worker(queues, connection=connection).work(burst=burst)
