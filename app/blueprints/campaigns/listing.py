"""The experiment's campaigns: the list (search, tag, state, pages) and uploading a campaign
file (the preview of what would change, then the upload itself).
"""
from __future__ import annotations

from flask import abort, current_app, flash, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import func, select

from app.auth.session import experiment_access
from app.blueprints.campaigns.common import bp
from app.blueprints.campaigns.preview import preview_context
from app.blueprints.views import go, is_htmx
from app.campaigns import permissions, store, versions
from app.campaigns.spec import InvalidCampaign, Problem
from app.extensions import db
from app.ids import page_number
from app.models import Campaign, CampaignTag
from app.models.base import utcnow
from app.overview import listing


@bp.get("/campaigns")
@login_required
def index(experiment):
    access = experiment_access(experiment)
    q = request.args.get("q", "").strip()
    tag = request.args.get("tag", "").strip()
    state = request.args.get("state", "Active")
    activity = request.args.get("activity", "")
    activity = activity if activity in listing.ACTIVITIES else ""
    sort = request.args.get("sort", "name")
    sort = sort if sort in listing.SORTS else "name"
    page = page_number(request.args.get("page"))
    columns = listing.summary_columns(
        days=current_app.config["POMS_ATTENTION_DAYS"])
    query = select(Campaign, *columns.values()).where(
        Campaign.experiment_id == access.experiment.id)
    if q:
        query = query.where(Campaign.name.icontains(q, autoescape=True))
    if tag:
        query = query.where(
            Campaign.id.in_(select(CampaignTag.campaign_id).where(CampaignTag.tag == tag))
        )
    if state in ("Active", "Inactive"):
        query = query.where(Campaign.state == state)
    if (doing := listing.activity_filter(activity, columns)) is not None:
        query = query.where(doing)
    size = current_app.config["POMS_PAGE_SIZE"]
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.execute(
        query.order_by(*listing.order_by(sort, columns)).limit(size).offset((page - 1) * size)
    ).all()
    campaigns = [row[0] for row in rows]
    summaries = {row[0].id: dict(active=row.active, failures=row.failures,
                                 last_activity=row.last_activity,
                                 activity=listing.activity(row.active, row.failures,
                                                           row.last_activity),
                                 progress=listing.input_progress(row[0])) for row in rows}
    pages = max(1, -(-total // size))
    context = dict(
        access=access, campaigns=campaigns, q=q, tag=tag, state=state, page=page,
        pages=pages, total=total, summaries=summaries, activity=activity, sort=sort,
        activities=listing.ACTIVITIES, sorts=listing.SORTS, now=utcnow(),
    )
    if is_htmx() and request.headers.get("HX-Target") == "campaign-table":
        return render_template("campaigns/_table.html", **context)
    return render_template("campaigns/list.html", **context)


def _read_upload() -> tuple[str, str]:
    """(filename, text) from the file field, or from the text carried by the preview."""
    upload = request.files.get("ini_file")
    if upload is not None and upload.filename:
        raw = upload.read()
        filename = upload.filename
    else:
        raw = request.form.get("ini_text", "").encode()
        filename = request.form.get("filename", "") or "<upload>"
    try:
        return filename, raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidCampaign(
            [Problem(filename, None, None, f"is not UTF-8 text (byte {err.start})")]
        ) from None


@bp.get("/campaigns/upload")
@login_required
def upload_form(experiment):
    access = experiment_access(experiment)
    return render_template("campaigns/upload.html", access=access)


@bp.post("/campaigns/upload/preview")
@login_required
def upload_preview(experiment):
    access = experiment_access(experiment)
    try:
        filename, text = _read_upload()
    except InvalidCampaign as err:
        context = dict(access=access, spec=None, problems=err.problems, warnings=[],
                       changes=[], existing=None, filename="<upload>", ini_text="")
    else:
        context = preview_context(access, filename, text)
    template = "campaigns/_preview.html" if is_htmx() else "campaigns/upload.html"
    return render_template(template, **context)


@bp.post("/campaigns/upload")
@login_required
def upload(experiment):
    access = experiment_access(experiment)
    try:
        filename, text = _read_upload()
        spec, _warnings = store.read_ini(access.experiment, text, filename,
                                         current_app.config["POMS_MAX_STAGES"])
        permissions.check_experiment(spec, filename, access)
    except InvalidCampaign as err:
        return render_template(
            "campaigns/upload.html", access=access, problems=err.problems,
            warnings=err.warnings, spec=None, changes=[], existing=None,
        ), 422
    existing = store.find_campaign(access.experiment, spec.name)
    try:
        permissions.authorise_upload(access, spec, existing)
    except permissions.Refused as err:
        abort(403, str(err))
    source, reason = "upload", request.form.get("reason", "")
    if (rolled_back := request.form.get("rollback_of", "")).isdigit():
        # The version's text came back from its rollback preview (versions.py).
        source, reason = "rollback", versions.rollback_reason(int(rolled_back), reason)
    try:
        campaign = store.save_campaign(access.experiment, spec, access.user, source=source,
                                       reason=reason)
        db.session.commit()
    except InvalidCampaign as err:  # the experiment changed since the file was read
        db.session.rollback()
        return render_template(
            "campaigns/upload.html", access=access, problems=err.problems,
            warnings=err.warnings, spec=None, changes=[], existing=None,
        ), 422
    except store.CampaignInUse as err:
        db.session.rollback()
        problem = Problem(filename, None, None, str(err))
        return render_template(
            "campaigns/upload.html", access=access, problems=[problem], warnings=[],
            spec=None, changes=[], existing=None,
        ), 409
    flash(f"Campaign {campaign.name} {'updated' if existing else 'uploaded'}.", "ok")
    return go(url_for("campaigns.show", experiment=experiment, campaign_id=campaign.id))
