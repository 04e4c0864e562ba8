"""Bulk actions on a filtered list of submissions: hold, release, kill, recover. The page
lists what each submission would get (the preview) and acts only on those ticked; each
submission is checked, done and audited as if alone."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from app import work
from app.auth.session import Access, experiment_access
from app.blueprints.overview.common import bp
from app.blueprints.views import queue_launches
from app.campaigns.permissions import may_control, may_launch
from app.extensions import db
from app.ids import row_id
from app.models import Campaign, CampaignStage, Submission
from app.overview import bulk
from app.overview.bulk import Verdict


def _filters() -> dict:
    args = request.values
    state = args.get("state") or "active"
    return dict(campaign_id=row_id(args.get("campaign")) or None,
                stage_id=row_id(args.get("stage")) or None,
                state=state if state in bulk.STATE_FILTERS else "active")


def _allowed(access: Access, action: str, submission: Submission) -> bool:
    campaign = submission.stage.campaign
    return (may_launch if action == "recover" else may_control)(access, campaign)


def _verdicts(access: Access, action: str, rows: list[Submission]) -> list[Verdict]:
    out = []
    for s in rows:
        if not _allowed(access, action, s):
            out.append(Verdict(s, False, f"acting as {access.role}, you may not {action} "
                                         f"submissions of {s.stage.campaign.name}"))
        else:
            out.append(bulk.verdict(action, s, current_app.config))
    return out


@bp.get("/submissions/bulk")
@login_required
def bulk_page(experiment):
    access = experiment_access(experiment)
    filters = _filters()
    action = request.args.get("action", "")
    rows = bulk.filtered(access.experiment.id, **filters)
    verdicts = _verdicts(access, action, rows) if action in bulk.BULK_ACTIONS else []
    campaigns = db.session.execute(
        select(Campaign.id, Campaign.name).where(Campaign.experiment_id == access.experiment.id)
        .order_by(Campaign.name)).all()
    stage = db.session.get(CampaignStage, filters["stage_id"]) if filters["stage_id"] else None
    return render_template("overview/bulk.html", access=access, rows=rows, action=action,
                           verdicts=verdicts, actions=bulk.BULK_ACTIONS, campaigns=campaigns,
                           stage=stage if stage and stage.campaign.experiment_id
                           == access.experiment.id else None,
                           states=bulk.STATE_FILTERS, **filters)


@bp.post("/submissions/bulk")
@login_required
def bulk_apply(experiment):
    access = experiment_access(experiment)
    action = request.form.get("action", "")
    if action not in bulk.BULK_ACTIONS:
        flash(f"No bulk action {action!r}.", "error")
        return redirect(url_for("overview.bulk_page", experiment=experiment))
    ids = [i for i in (row_id(v) for v in request.form.getlist("submission")) if i]
    rows = _rows_by_id(access, ids)
    refused = [(s.id, f"acting as {access.role}, you may not {action} it")
               for s in rows if not _allowed(access, action, s)]
    mine = [s for s in rows if _allowed(access, action, s)]
    out = bulk.apply(action, mine, access.user, current_app.config)
    db.session.commit()
    for action_id in out.batch_actions:
        try:
            work.queue_batch_action(current_app.config, action_id)
        except work.QueueUnavailable:  # requested rows: the scheduler queues them again
            flash("The queue is not answering: the requests are done when the workers "
                  "are back.", "error")
            break
    if out.launches:
        queue_launches(out.launches)
    for sid, said in out.done:
        flash(f"Submission {sid}: {said}.", "ok")
    for sid, why in refused + out.refused:
        flash(f"Submission {sid}: not done: {why}.", "error")
    if not ids:
        flash("Tick the submissions to act on.", "error")
    return redirect(url_for("overview.bulk_page", experiment=experiment,
                            campaign=request.form.get("campaign", ""),
                            stage=request.form.get("stage", ""),
                            state=request.form.get("state", "active")))


def _rows_by_id(access: Access, ids: list[int]) -> list[Submission]:
    rows = [db.session.get(Submission, i) for i in dict.fromkeys(ids)][:bulk.LIMIT]
    return [s for s in rows if s is not None and s.experiment_id == access.experiment.id]
