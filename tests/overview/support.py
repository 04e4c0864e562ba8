"""What the overview tests share: launching the tutorial's stages for real, and moving a
submission the way the launch service or tracking would."""
from __future__ import annotations

from flask import current_app

from app import states, work
from app.extensions import db
from app.launching import service


def stage_of(campaign, name):
    return next(s for s in campaign.stages if s.name == name)


def ask_launch(campaign, stage_name="reco_fcl", user=None):
    """A launch asked for as the pages do: written (New), committed, then queued for a
    worker (which runs it unless its stage or the experiment is held)."""
    stage = stage_of(campaign, stage_name)
    submission = service.request_launch(stage, user or campaign.owner, test=False,
                                        origin="test", config=current_app.config)
    db.session.commit()
    work.queue_launches(current_app.config, [submission.id])
    return submission


def launch_failed(campaign, why="ssh: connect to host gpvm01: Connection refused"):
    """A launch that did not start, as the launch service records one."""
    submission = ask_launch(campaign)
    submission.launch_error = why
    states.transition(submission, states.LAUNCH_FAILED, why)
    db.session.commit()
    return submission


def text(response) -> str:
    return response.get_data(as_text=True)


def slow_tutorial(seconds: int = 8):
    """The tutorial campaign whose demo jobs take `seconds` each: long enough to act on
    them while they run, even on a loaded machine."""
    from tests.fixtures.launching import import_tutorial

    campaign = import_tutorial("alice", quick=True)
    for stage in campaign.stages:
        for key in ("param_overrides", "test_param_overrides"):
            setattr(stage, key, [o for o in getattr(stage, key)
                                 if o[0] != "-Oglobal.work_seconds="]
                    + [["-Oglobal.work_seconds=", str(seconds)]])
    db.session.commit()
    return campaign
