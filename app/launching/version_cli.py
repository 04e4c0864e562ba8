"""Operator commands for a campaign's versions: `poms versions CAMPAIGN` (the history, a
version as INI, two versions compared) and `poms rollback CAMPAIGN N`.

They live with launching, not campaigns, because a rollback first shows what it does to the
launches: the dry run's script of each stage before and after (app/launching/impact.py).
"""
from __future__ import annotations

import sys

import click
from flask import current_app
from sqlalchemy import select

from app.auth import policy
from app.auth.members import find_experimenter, membership
from app.campaigns import store, versions
from app.campaigns.spec import InvalidCampaign
from app.extensions import db
from app.launching import impact
from app.models import Campaign, Experiment


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def campaign_or_fail(name: str, experiment: str | None) -> Campaign:
    """The campaign of that name (in `experiment`, or the only one of that name)."""
    query = select(Campaign).join(Experiment).where(Campaign.name == name)
    if experiment:
        query = query.where(Experiment.name == experiment)
    found = list(db.session.scalars(query))
    if not found:
        _fail(f"no campaign {name!r}" + (f" in {experiment}" if experiment else ""))
    if len(found) > 1:
        names = ", ".join(sorted(c.experiment.name for c in found))
        _fail(f"campaign {name!r} is in experiments {names}: give --experiment")
    return found[0]


def _version_or_fail(campaign: Campaign, number: int):
    try:
        return versions.version(campaign, number)
    except versions.NoVersion as err:
        _fail(str(err))


@click.command("versions")
@click.argument("campaign")
@click.option("--experiment", help="The campaign's experiment (when its name is not unique).")
@click.option("--export", "export_number", type=int, metavar="N",
              help="Print version N as INI.")
@click.option("--diff", "diff_numbers", type=int, nargs=2, metavar="FROM TO",
              help="What changed from version FROM to version TO, field by field.")
def versions_command(campaign, experiment, export_number, diff_numbers):
    """A campaign's versions, newest first: number, when (UTC), who, how, why."""
    row = campaign_or_fail(campaign, experiment)
    if versions.catch_up(row, store.spec_from_campaign(row)) is not None:
        db.session.commit()  # the first version of a campaign stored before versions began
    if export_number is not None:
        click.echo(_version_or_fail(row, export_number).ini_text, nl=False)
        return
    if diff_numbers:
        older, newer = (_version_or_fail(row, n) for n in diff_numbers)
        changes = versions.diff(older, newer)
        for change in changes:
            click.echo(str(change))
        if not changes:
            click.echo(f"versions {older.number} and {newer.number} say the same")
        return
    for v in versions.history(row):
        when = v.created.strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"{v.number}\t{when}\t{versions.who_of(v)}\t{v.source}\t{v.reason}")


def _show_impact(found: impact.Impact) -> None:
    if found.error:
        click.echo(f"refused: {found.error}", err=True)
        return
    for stage in found.touched:
        click.echo(f"impact: stage {stage.stage}: {stage.status}"
                   + (f" (renamed from {stage.renamed_from})" if stage.renamed_from else "")
                   + (f"; scheduled launches {stage.schedule}" if stage.schedule else "")
                   + "".join(f"; submission {u.id} {u.state}"
                             + (" (recovery)" if u.recovery else "")
                             for u in stage.under_way), err=True)
        if stage.script_diff:
            click.echo(stage.script_diff, err=True, nl=False)
    if not found.touched:
        click.echo("impact: no stage's next launch changes", err=True)


@click.command("rollback")
@click.argument("campaign")
@click.argument("number", type=int)
@click.option("--experiment", help="The campaign's experiment (when its name is not unique).")
@click.option("--reason", default="", help="Why, kept with the new version.")
@click.option("--user", "username", default=None,
              help="Who rolls back (default: the campaign's owner); must be allowed to "
                   "change the campaign.")
@click.option("--yes", is_flag=True, help="Save without asking.")
def rollback_command(campaign, number, experiment, reason, username, yes):
    """Put CAMPAIGN back as version NUMBER held it, as an upload of that version's INI:
    the changes and what they do to the launches are printed first (stderr)."""
    row = campaign_or_fail(campaign, experiment)
    user = find_experimenter(username) if username else row.owner
    if user is None:
        _fail(f"no user {username!r}")
    member = membership(row.experiment, user)
    role = member.role if member else None
    if not policy.may_edit_campaign(role, poms_role=row.poms_role,
                                    is_owner=row.owner_id == user.id):
        _fail(f"{user.username} (role {role or 'none'} in {row.experiment.name}) may not "
              f"change campaign {row.name}")
    if versions.catch_up(row, store.spec_from_campaign(row)) is not None:
        db.session.commit()
    version = _version_or_fail(row, number)
    try:
        spec, warnings = store.read_ini(row.experiment, version.ini_text,
                                        versions.filename(row, version),
                                        current_app.config["POMS_MAX_STAGES"])
    except InvalidCampaign as err:
        _fail("\n".join(str(p) for p in err.problems))
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    _existing, changes = store.upload_plan(row.experiment, spec)
    if not changes:
        click.echo(f"campaign {row.name} already says what version {number} says")
        return
    for change in changes:
        click.echo(f"change: {change}", err=True)

    def save():
        return store.save_campaign(row.experiment, spec, user, source="rollback",
                                   reason=versions.rollback_reason(number, reason))

    _show_impact(impact.impact(row, save, user, current_app.config, changes))
    if not yes and not click.confirm(f"Roll {row.name} back to version {number}?",
                                     err=True):
        _fail("nothing changed")
    try:
        saved = save()
        db.session.commit()
    except (InvalidCampaign, store.CampaignInUse) as err:
        db.session.rollback()
        _fail(str(err))
    click.echo(f"campaign {saved.name}: version {versions.latest(saved).number}")


COMMANDS = (versions_command, rollback_command)
