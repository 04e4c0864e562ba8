"""The signatures pages' blueprint and who may change the table."""
from __future__ import annotations

from flask import Blueprint, abort

from app.auth import policy
from app.auth.session import Access, experiment_access

bp = Blueprint("signatures", __name__, url_prefix="/e/<experiment>")

# The HX-Trigger event a change of the table answers with: the page offers to re-label.
CHANGED = "signatures-changed"


def may_edit(access: Access) -> bool:
    return policy.at_least(access.role, "production")


def editor(experiment: str) -> Access:
    access = experiment_access(experiment)
    if not may_edit(access):
        abort(403, f"acting as {access.role}, you may not change failure signatures "
                   "(production or superuser may)")
    return access
