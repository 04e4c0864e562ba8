"""Watches: mine in this experiment, the watch form of a campaign or stage, watch and
unwatch, and the deliveries page (what was sent, what failed and why)."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from app.auth import policy
from app.auth.session import Access, experiment_access
from app.blueprints.views import campaign_in, go, is_htmx, stage_in
from app.blueprints.watching.common import bp
from app.extensions import db
from app.models.watching import Delivery
from app.watching import watches
from app.watching.events import CADENCES, KINDS
from app.watching.watches import CHANNELS, WatchError

PAGE = 100


def _subject(access: Access):
    """(campaign, stage or None) the form names."""
    stage_id = request.values.get("stage_id", "")
    if stage_id.isdigit():
        stage = stage_in(access, int(stage_id))
        return stage.campaign, stage
    campaign_id = request.values.get("campaign_id", "")
    if not campaign_id.isdigit():
        abort(400, "say which campaign or stage to watch")
    return campaign_in(access, int(campaign_id)), None


def _form(access: Access, campaign, stage, error=None, status=200):
    mine = watches.find(access.user, campaign, stage)
    return render_template("watching/_watch.html", access=access, campaign=campaign,
                           stage=stage, mine=mine, kinds=KINDS, cadences=CADENCES,
                           channels=CHANNELS, error=error), status


@bp.get("/watch")
@login_required
def watch_form(experiment):
    access = experiment_access(experiment)
    campaign, stage = _subject(access)
    return _form(access, campaign, stage)


@bp.post("/watch")
@login_required
def watch(experiment):
    access = experiment_access(experiment)
    campaign, stage = _subject(access)
    try:
        row = watches.watch(access.user, campaign, stage,
                            events=request.form.getlist("event"),
                            channel=request.form.get("channel", "email"),
                            target=request.form.get("target", ""),
                            cadence=request.form.get("cadence", "immediate"),
                            config=current_app.config)
        db.session.commit()
    except WatchError as err:
        db.session.rollback()
        # htmx swaps only a 2xx answer: the form comes back with the reason.
        return _form(access, campaign, stage, error=str(err), status=200 if is_htmx() else 422)
    what = f"stage {stage.name}" if stage else f"campaign {campaign.name}"
    if is_htmx():
        return _form(access, campaign, stage)
    flash(f"Watching {what}: {row.channel} to {row.target}, {row.cadence}.", "ok")
    return redirect(request.form.get("next") or url_for("watching.index", experiment=experiment))


@bp.post("/watch/<int:watch_id>/delete")
@login_required
def unwatch(experiment, watch_id):
    access = experiment_access(experiment)
    if not watches.remove(access.user, watch_id):
        abort(404, "no such watch of yours")
    db.session.commit()
    if is_htmx() and request.form.get("campaign_id", "").isdigit():
        return watch_form(experiment)
    flash("Not watching it any more.", "ok")
    return go(request.form.get("next") or url_for("watching.index", experiment=experiment))


@bp.get("/watches")
@login_required
def index(experiment):
    access = experiment_access(experiment)
    return render_template("watching/index.html", access=access,
                           rows=watches.watches_of(access.user, access.experiment),
                           kinds=KINDS)


@bp.get("/deliveries")
@login_required
def deliveries(experiment):
    """Mine; everyone's for production and superusers (someone must see a dead webhook)."""
    access = experiment_access(experiment)
    everyone = policy.at_least(access.role, "production") and request.args.get("all") == "1"
    query = select(Delivery).where(Delivery.experiment_id == access.experiment.id)
    if not everyone:
        query = query.where(Delivery.experimenter_id == access.user.id)
    state = request.args.get("state", "")
    if state in ("pending", "retrying", "sent", "failed"):
        query = query.where(Delivery.state == state)
    rows = list(db.session.scalars(query.order_by(Delivery.id.desc()).limit(PAGE)))
    return render_template("watching/deliveries.html", access=access, rows=rows,
                           everyone=everyone, state=state,
                           may_see_all=policy.at_least(access.role, "production"))
