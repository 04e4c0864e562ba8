"""The definitions pages' blueprint and the lookups they share."""
from __future__ import annotations

from flask import Blueprint, abort

from app.auth.session import Access
from app.campaigns import shared

bp = Blueprint("definitions", __name__, url_prefix="/e/<experiment>")


def kind_of(kind: str) -> shared.Kind:
    """The kind in the URL ("job_type" or "login_setup"); changes go through
    app/campaigns/shared.py."""
    if kind not in shared.KINDS:
        abort(404)
    return shared.KINDS[kind]


def definition_in(access: Access, kind: str, item_id: int):
    row = shared.by_id(access.experiment, kind_of(kind), item_id)
    if row is None:
        abort(404, f"no such {kind_of(kind).words} in this experiment")
    return row
