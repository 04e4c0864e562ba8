"""The results pages' blueprint and what they share: answers as CSV or JSON files, the
catalogue of the experiment, a stage's latest submissions with their analysed counts.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app
from sqlalchemy import case, func, select

from app.auth.session import Access
from app.catalog.cache import make_catalog
from app.extensions import db
from app.models import CampaignStage, Submission
from app.models.logs import JobAnalysis
from app.results import export

bp = Blueprint("results", __name__, url_prefix="/e/<experiment>/results")

FILE_LIMIT = 500


def csv_answer(name: str, fields: list[str], records) -> Response:
    # Built whole (a 10,000-job table is a few MB): a streamed body would outlive the
    # request's database session.
    return Response(export.csv_text(fields, records), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def json_answer(value, name: str) -> Response:
    return Response(export.json_text(value), mimetype="application/json",
                    headers={"Content-Disposition": f'inline; filename="{name}.json"'})


def catalog_of(access: Access):
    return make_catalog(current_app.config, access.experiment.name, db.session)


def stage_rows(stage: CampaignStage, limit: int = 50) -> list:
    """The stage's latest submissions with their analysed counts (one GROUP BY)."""
    subs = db.session.scalars(
        select(Submission).where(Submission.campaign_stage_id == stage.id)
        .order_by(Submission.id.desc()).limit(limit)).all()
    counts = {sid: (n, failed) for sid, n, failed in db.session.execute(
        select(JobAnalysis.submission_id, func.count(),
               func.sum(case((JobAnalysis.failed.is_(True), 1), else_=0)))
        .where(JobAnalysis.submission_id.in_([s.id for s in subs]))
        .group_by(JobAnalysis.submission_id))}
    return [(s, *counts.get(s.id, (0, 0))) for s in subs]
