"""Operator commands for campaigns: `flask --app wsgi poms import-ini|export-ini|
list-campaigns|demo` (app/cli.py adds COMMANDS to the `poms` group)."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import select

from app.auth.members import (
    EXPERIMENT_NAME,
    ensure_member,
    find_experiment,
    find_or_create_experiment,
    find_or_create_experimenter,
)
from app.campaigns import store
from app.campaigns.ini import declared_experiment, export_ini, parse_ini
from app.campaigns.spec import InvalidCampaign, Problem
from app.extensions import db
from app.models import Campaign, Experiment

DEMO_DIR = Path(__file__).resolve().parents[2] / "examples" / "mu2e"


def _fail(lines: list) -> None:
    for line in lines:
        click.echo(str(line), err=True)
    sys.exit(1)


def import_campaign(path: Path, experiment_name: str | None, username: str,
                    reason: str = "") -> Campaign:
    """Read, check and store one INI file in one transaction (nothing on failure).

    The file is read against the experiment (store.read_ini, as the upload page and the API
    read it), so its stages may use the experiment's job types and login setups. Its
    warnings and what it changes (what the upload page's preview shows: for a new campaign,
    the job types and login setups it adds or replaces) are printed on stderr.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidCampaign([Problem(str(path), None, None, f"cannot be read: {err}")]) from None
    name = experiment_name or declared_experiment(text)
    wrong = None
    if not name:
        wrong = "missing: give --experiment"
    elif find_experiment(name) is None and not EXPERIMENT_NAME.match(name):
        # The experiment is made if it does not exist: only under a name the admin pages
        # would give one (create_experiment's rule).
        wrong = (f"{name!r} is not an experiment name (lower-case letters, digits, '.', "
                 "'_', '-'; at most 64), and no experiment has it")
    if wrong:
        problem = Problem(str(path), "campaign", "experiment", wrong)
        try:
            parse_ini(text, str(path), max_stages=current_app.config["POMS_MAX_STAGES"])
        except InvalidCampaign as err:  # say every problem the file has at once
            raise InvalidCampaign([problem, *err.problems], err.warnings) from None
        raise InvalidCampaign([problem])
    try:
        experiment = find_or_create_experiment(name)
        spec, warnings = store.read_ini(experiment, text, str(path),
                                        current_app.config["POMS_MAX_STAGES"])
        for warning in warnings:
            click.echo(f"warning: {warning}", err=True)
        spec.experiment = name
        _existing, changes = store.upload_plan(experiment, spec)
        for change in changes:
            click.echo(f"change: {change}", err=True)
        user = find_or_create_experimenter(username)
        ensure_member(experiment, user, "production" if spec.poms_role == "production"
                      else "analysis")
        campaign = store.save_campaign(experiment, spec, user, source="cli", reason=reason)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return campaign


@click.command("import-ini")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--experiment", help="Import into this experiment (default: the file's).")
@click.option("--user", "username", default="poms", show_default=True,
              help="The campaign's owner.")
@click.option("--reason", default="", help="Why, kept with the campaign's new version.")
def import_ini_command(path: Path, experiment: str | None, username: str, reason: str) -> None:
    """Import (or update in place) a campaign from an INI file (a new version of it)."""
    try:
        campaign = import_campaign(path, experiment, username, reason)
    except InvalidCampaign as err:
        _fail([*err.problems, *(f"warning: {w}" for w in err.warnings)])
    except store.CampaignInUse as err:
        _fail([f"{path}: {err}"])
    click.echo(campaign.name)


def _experiment_or_fail(name: str) -> Experiment:
    experiment = db.session.scalar(select(Experiment).where(Experiment.name == name))
    if experiment is None:
        _fail([f"no experiment {name!r}"])
    return experiment


@click.command("export-ini")
@click.argument("experiment")
@click.argument("campaign")
def export_ini_command(experiment: str, campaign: str) -> None:
    """Print a campaign as INI."""
    row = store.find_campaign(_experiment_or_fail(experiment), campaign)
    if row is None:
        _fail([f"no campaign {campaign!r} in {experiment}"])
    click.echo(export_ini(store.spec_from_campaign(row)), nl=False)


@click.command("list-campaigns")
@click.argument("experiment")
def list_campaigns_command(experiment: str) -> None:
    """One campaign name a line."""
    exp = _experiment_or_fail(experiment)
    for name in db.session.scalars(
        select(Campaign.name).where(Campaign.experiment_id == exp.id).order_by(Campaign.name)
    ):
        click.echo(name)


@click.command("demo")
@click.option("--user", "username", default="demo", show_default=True)
def demo_command(username: str) -> None:
    """Load the demo experiment (mu2e), its user, and the tutorial campaign."""
    experiment = find_or_create_experiment("mu2e")
    ensure_member(experiment, find_or_create_experimenter(username), "superuser")
    db.session.commit()
    campaign = import_campaign(DEMO_DIR / "tutorial.ini", "mu2e", username)
    click.echo(f"demo: experiment mu2e, user {username} (superuser), campaign {campaign.name}")


COMMANDS = (import_ini_command, export_ini_command, list_campaigns_command, demo_command)
