"""Operator commands for launching and tracking: `flask --app wsgi poms launch|status`."""
from __future__ import annotations

import json
import sys

import click
from flask import current_app
from sqlalchemy import select

from app.campaigns import store
from app.cli import poms
from app.extensions import db
from app.launching import service
from app.launching.command import LaunchError
from app.models import CampaignStage, Experiment, Submission


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _stage(experiment: str, campaign: str, stage: str | None = None):
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


@poms.command("launch")
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
    from app.auth.members import find_or_create_experimenter
    from workers.queues import enqueue_launch

    campaign_row, stage_row = _stage(experiment, campaign, stage)
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
    if service.stage_held(stage_row):
        click.echo(f"stage {stage} is held: the launch waits until it is released")
    else:
        enqueue_launch(config["POMS_REDIS_URL"], submission.id,
                       timeout=int(config.get("POMS_LAUNCH_TIMEOUT", 1800)))
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


@poms.command("status")
@click.argument("experiment")
@click.argument("campaign")
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
def status_command(experiment, campaign, as_json):
    """Every submission of a campaign's stages with its state and job counts."""
    campaign_row, _ = _stage(experiment, campaign)
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


def stage_of(submission_id: int) -> CampaignStage | None:
    submission = db.session.get(Submission, submission_id)
    return submission.stage if submission else None
