"""Operator commands for completion and recoveries:

  flask --app wsgi poms force-located SUBMISSION          a Completed submission is Located
  flask --app wsgi poms recover SUBMISSION [--type T] [--dry-run]
                                                          the family's next recovery, now
  flask --app wsgi poms reprocess SUBMISSION FILE...      mark input files to run again
  flask --app wsgi poms ledger EXPERIMENT CAMPAIGN STAGE  input = processed + in flight +
                                                          failed + skipped

Each action is one transaction; launches are queued after it commits. A launched
submission's id is the last line printed.
"""
from __future__ import annotations

import sys

import click
from flask import current_app

from app import work
from app.auth.members import find_or_create_experimenter
from app.chaining import chain, completion, operator
from app.chaining.ledger import stage_ledger
from app.extensions import db
from app.launching.cli import stage_or_fail
from app.models import Submission


def _fail(message: str) -> None:
    db.session.rollback()
    click.echo(message, err=True)
    sys.exit(1)


def _submission(submission_id: int) -> Submission:
    found = db.session.get(Submission, submission_id)
    if found is None:
        _fail(f"no submission {submission_id}")
    return found


def _user(submission: Submission, username: str | None):
    if username:
        return find_or_create_experimenter(username)
    return submission.launcher or submission.stage.campaign.owner


@click.command("force-located")
@click.argument("submission_id", type=int)
@click.option("--user", "username", default=None, help="Who forces it (default: the launcher).")
def force_located_command(submission_id, username):
    """Say a Completed submission's outputs are located; chaining follows."""
    submission = _submission(submission_id)
    user = _user(submission, username)
    try:
        completion.force_located(submission, user)
    except completion.NotCompleted as err:
        _fail(str(err))
    db.session.commit()
    settled = chain.settle(submission, current_app.config)
    db.session.commit()
    work.queue_launches(current_app.config, settled.launched)
    click.echo(f"submission {submission_id} is Located")
    for note in settled.notes:
        click.echo(note)
    for launched in settled.launched:
        click.echo(launched)


@click.command("recover")
@click.argument("submission_id", type=int)
@click.option("--type", "rtype", default=None, help="A recovery type (default: the job "
              "type's next one).")
@click.option("--dry-run", is_flag=True, help="List the files and why; launch nothing.")
@click.option("--user", "username", default=None)
def recover_command(submission_id, rtype, dry_run, username):
    """Launch the next recovery of a submission's family now (or show it)."""
    submission = _submission(submission_id)
    config = current_app.config
    shown = operator.recovery_preview(submission, config, rtype)
    if dry_run:
        click.echo(f"# recovery {shown.position} ({shown.type or 'none'}) of submission "
                   f"{shown.submission_id}: {len(shown.files)} files")
        if shown.note:
            click.echo(f"# {shown.note}")
        if shown.problem:
            click.echo(f"# cannot launch: {shown.problem}")
        for f in shown.files:
            click.echo(f"{f.name}\t{f.reason}")
        return
    try:
        launched = operator.recover_now(submission, _user(submission, username), config, rtype)
    except operator.RecoveryRefused as err:
        _fail(f"no recovery: {err}")
    db.session.commit()
    work.queue_launches(config, [launched.id])
    click.echo(f"recovery of submission {launched.recovery_of_id}: "
               f"{len(launched.param_overrides or [])} overrides, dataset {launched.dataset}")
    click.echo(launched.id)


@click.command("reprocess")
@click.argument("submission_id", type=int)
@click.argument("files", nargs=-1, required=True)
@click.option("--reason", default="", help="Why (kept in the audit log).")
@click.option("--user", "username", default=None)
def reprocess_command(submission_id, files, reason, username):
    """Mark input files of a submission to be processed again (audited)."""
    submission = _submission(submission_id)
    config = current_app.config
    try:
        marks, launched = operator.reprocess(submission, list(files),
                                             _user(submission, username), config, reason)
    except operator.RecoveryRefused as err:
        _fail(f"not marked: {err}")
    db.session.commit()
    click.echo(f"{len(marks)} files marked to be processed again")
    if launched is not None:
        work.queue_launches(config, [launched.id])
        click.echo(launched.id)
    else:
        click.echo("they run with the next recovery of the submission")


@click.command("ledger")
@click.argument("experiment")
@click.argument("campaign")
@click.argument("stage")
def ledger_command(experiment, campaign, stage):
    """A stage's input = processed + in flight + failed + skipped."""
    _campaign, stage_row = stage_or_fail(experiment, campaign, stage)
    got = stage_ledger(stage_row)
    click.echo(f"input {got.input} = processed {got.processed} + in flight {got.in_flight} "
               f"+ failed {got.failed} + skipped {got.skipped}")


COMMANDS = (force_located_command, recover_command, reprocess_command, ledger_command)
