"""`poms launches [hold|release]` against a live server: the experiment-wide hold of every
launch, for downtimes; refused to an analysis member, done by a production one, and the
launches asked for meanwhile queued on release."""
from __future__ import annotations

import logging

import pytest

from app.extensions import db
from app.models import Submission
from tests.fixtures.launching import import_tutorial, work


@pytest.fixture
def app(launch_app):
    return launch_app


def test_hold_and_release_every_launch_from_the_shell(poms, launch_app, member,
                                                      live_server_factory, client_env):
    campaign = import_tutorial("alice")
    member("mu2e", "pat", "production")
    client_env.setattr(logging.getLogger("werkzeug"), "level", logging.WARNING)
    client_env.setenv("POMS_SERVER", live_server_factory(launch_app).url)
    client_env.setenv("POMS_EXPERIMENT", "mu2e")
    client_env.setenv("POMS_USER", "alice")
    assert poms("launches").out.strip() == "launches of mu2e are allowed"
    refused = poms("launches", "hold")
    assert refused.code == 1 and "production or superuser" in refused.err

    client_env.setenv("POMS_USER", "pat")
    held = poms("launches", "hold", "--reason", "dCache downtime")
    assert held.code == 0, held.err
    assert held.out.strip() == "launches of mu2e are held by pat: dCache downtime"

    client_env.setenv("POMS_USER", "alice")
    launched = poms("--json", "launch", campaign.name, "reco_fcl")
    assert launched.json["held"] is True
    assert "every launch of mu2e is held" in launched.json["message"]
    sid = launched.json["submission"]["id"]
    work(launch_app)
    assert db.session.get(Submission, sid).state == "New"  # it waits

    client_env.setenv("POMS_USER", "pat")
    released = poms("--json", "launches", "release")
    assert released.json["released_submissions"] == [sid] and released.json["held"] is False
    work(launch_app)
    db.session.expire_all()
    assert db.session.get(Submission, sid).state != "New"
