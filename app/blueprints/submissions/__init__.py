"""Launching and following work: the dashboard, a stage's submissions and launch buttons
(behind the dry-run preview), a submission's live page, and the actions on them.

Thin views: they check who may act (app/campaigns/permissions.py), call app/launching and
app/tracking, commit once, enqueue after the commit, and render. Fragments (`_name.html`)
poll cheap aggregates: counters on the submission row, one page of jobs.

  common.py      the blueprint
  dashboard.py   the dashboard
  launch.py      a stage's submissions, the launch preview and launch, hold, schedule
  submission.py  one submission's page, fragments, job log, and the actions on it
  relaunch.py    a LaunchFailed submission launched again (the dry run first)
"""
from app.blueprints.submissions import (  # noqa: F401  (each adds its routes to bp)
    dashboard,
    launch,
    relaunch,
    submission,
)
from app.blueprints.submissions.common import bp

__all__ = ["bp"]
