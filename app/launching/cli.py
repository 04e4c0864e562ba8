"""Operator commands for launching and tracking: `flask --app wsgi poms launch|status`."""
from __future__ import annotations

import json
import sys

import click
from flask import current_app
from sqlalchemy import select

from app import work
from app.auth.members import find_or_create_experimenter
from app.campaigns import store
from app.extensions import db
from app.launching import service
from app.launching.command import LaunchError
from app.models import Experiment, Submission


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def stage_or_fail(experiment: str, campaign: str, stage: str | None = None):
    """The campaign and stage (None when not asked) these names give; says which is
    missing and exits 1 when there is none."""
    exp = db.session.scalar(select(Experiment).where(Experiment.name == experiment))
    if exp is None:
        _fail(f"no experiment {experiment!r}")
    row = store.find_campaign(exp, campaign)
    if row is None:
        _fail(f"no campaign {campaign!r} in {experiment}")
    if stage is None:
        return row, None
    found = next((s for s in row.stages if s.name == stage), None)
    if found is None:
        names = ", ".join(s.name for s in row.stages)
        _fail(f"no stage {stage!r} in campaign {campaign} (stages: {names})")
    return row, found


@click.command("launch")
@click.argument("experiment")
@click.argument("campaign")
@click.argument("stage")
@click.option("--test", is_flag=True, help="A test launch (test_param_overrides).")
@click.option("--dry-run", is_flag=True, help="Show the command, environment and input; "
              "launch nothing.")
@click.option("--user", "username", default=None,
              help="Launch as this user (default: the campaign's owner).")
def launch_command(experiment, campaign, stage, test, dry_run, username):
    """Queue a launch of a stage; the submission id is the last line printed."""
    campaign_row, stage_row = stage_or_fail(experiment, campaign, stage)
    user = find_or_create_experimenter(username) if username else campaign_row.owner
    config = current_app.config
    if dry_run:
        try:
            shown = service.preview(stage_row, user, test=test, config=config)
        except LaunchError as err:
            _fail(f"cannot launch: {err}")
        click.echo(f"# would run on {shown.where} ({shown.launcher} launcher), exactly this "
                   "script (the submission's id is filled in at launch):")
        for warning in shown.warnings:
            click.echo(f"# warning: {warning}")
        click.echo(shown.script, nl=False)
        click.echo(f"# input: {shown.input.note}")
        for name in shown.input.files or []:
            click.echo(name)
        return
    try:
        submission = service.request_launch(stage_row, user, test=test, origin="command line",
                                            config=config)
        db.session.commit()
    except LaunchError as err:
        db.session.rollback()
        _fail(f"cannot launch: {err}")
    if why := service.held_why(stage_row):
        click.echo(f"{why}: the launch waits until it is released")
    else:
        try:
            work.queue_launches(config, [submission.id])
        except work.QueueUnavailable as err:
            # The row is committed: launching again would launch twice. The scheduler
            # queues New submissions nobody claimed once Redis answers.
            click.echo(f"{err}: launch {submission.id} is recorded and will start when the "
                       "queue is back (do not launch it again)", err=True)
    click.echo(submission.id)


def status_document(campaign) -> dict:
    stages = []
    for stage in campaign.stages:
        rows = db.session.scalars(
            select(Submission).where(Submission.campaign_stage_id == stage.id)
            .order_by(Submission.id)
        )
        stages.append({
            "name": stage.name,
            "submissions": [
                {
                    "id": s.id,
                    "state": s.state,
                    "recovery_of": s.recovery_of_id,
                    "jobs": {"total": s.jobs_total, "running": s.jobs_running,
                             "done": s.jobs_done, "failed": s.jobs_failed},
                }
                for s in rows
            ],
        })
    return {"campaign": campaign.name, "stages": stages}


@click.command("status")
@click.argument("experiment")
@click.argument("campaign")
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
def status_command(experiment, campaign, as_json):
    """Every submission of a campaign's stages with its state and job counts."""
    campaign_row, _ = stage_or_fail(experiment, campaign)
    document = status_document(campaign_row)
    if as_json:
        click.echo(json.dumps(document))
        return
    for stage in document["stages"]:
        click.echo(f"{stage['name']}:")
        for s in stage["submissions"]:
            jobs = s["jobs"]
            click.echo(f"  {s['id']:>6} {s['state']:<18} {jobs['done']}/{jobs['total']} done, "
                       f"{jobs['running']} running, {jobs['failed']} failed")



COMMANDS = (launch_command, status_command)
