"""`flask --app wsgi poms worker`: an RQ worker on the POMS queues, with the scheduler
(app/cli.py adds it to the `poms` group)."""
from __future__ import annotations

import click
from flask import current_app

from workers.main import run_worker
from workers.queues import QUEUES


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--queue", "queues", multiple=True, type=click.Choice(QUEUES),
              help="Serve only this queue (repeatable); every queue when not given.")
def worker_command(burst: bool, queues: tuple[str, ...]) -> None:
    """An RQ worker on the POMS queues, with the scheduler."""
    run_worker(current_app.config["POMS_REDIS_URL"], burst=burst, queues=queues or QUEUES,
               flask_app=current_app._get_current_object())
