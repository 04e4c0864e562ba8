"""The overview pages' blueprint, and what every page shows: the banner while the
experiment's launches are held."""
from __future__ import annotations

from functools import cached_property

from flask import Blueprint, g, session
from flask_login import current_user

from app.auth.members import find_experiment
from app.launching import launch_hold
from app.models import ExperimentLaunchHold
from app.models.base import utcnow

bp = Blueprint("overview", __name__, url_prefix="/e/<experiment>")


def now():
    """When a fragment was drawn: its "live" stamp shows it."""
    return utcnow()


class HoldBanner:
    """The experiment-wide launch hold of the experiment the page is in: read when a page
    draws the banner (base.html), so a fragment, which never does, costs no query."""

    @cached_property
    def _found(self) -> tuple[ExperimentLaunchHold | None, str]:
        access = g.get("access")
        experiment = access.experiment if access else None
        if experiment is None and session.get("experiment"):
            experiment = find_experiment(session["experiment"])
        if experiment is None:
            return None, ""
        return launch_hold.hold_of(experiment.id), experiment.name

    @property
    def row(self) -> ExperimentLaunchHold | None:
        return self._found[0]

    @property
    def experiment(self) -> str:
        return self._found[1]

    @property
    def said(self) -> str:
        return launch_hold.describe(self.row) if self.row else ""


def launch_hold_banner() -> dict:
    """A context processor: `launch_hold` (HoldBanner) for a signed-in person's pages."""
    return {"launch_hold": HoldBanner()} if current_user.is_authenticated else {}
