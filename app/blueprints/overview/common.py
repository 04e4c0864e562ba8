"""The overview pages' blueprint, and what every page shows: the banner while the
experiment's launches are held."""
from __future__ import annotations

from flask import Blueprint, g, session
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.launching import launch_hold
from app.models import Experiment
from app.models.base import utcnow

bp = Blueprint("overview", __name__, url_prefix="/e/<experiment>")


def now():
    """When a fragment was drawn: its "live" stamp shows it."""
    return utcnow()


def launch_hold_banner() -> dict:
    """A context processor: `launches_held` (the switch's row, or None) and its words, for
    the experiment the page is in."""
    if not current_user.is_authenticated:
        return {}
    access = g.get("access")
    experiment = access.experiment if access else None
    if experiment is None and session.get("experiment"):
        experiment = db.session.scalar(
            select(Experiment).where(Experiment.name == session["experiment"]))
    row = launch_hold.hold_of(experiment.id) if experiment is not None else None
    return {"launches_held": row, "launches_held_said":
            launch_hold.describe(row) if row else "",
            "launches_held_experiment": experiment.name if row else ""}
