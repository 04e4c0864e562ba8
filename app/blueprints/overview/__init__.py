"""The operator's view: a campaign's overview (its stages by their recent submissions, the
graph coloured by state), what needs attention, bulk actions on submissions, and the
experiment-wide hold of launches. Thin views over app/overview and the domain packages
whose actions they offer; every fragment polls, and says when it was last updated.

  common.py     the blueprint, the "live" stamp, the banner of held launches
  campaign.py   a campaign's overview page and its live fragment
  attention.py  the dashboard's "needs attention" fragment
  campaigns.py  the dashboard's campaigns at a glance
  bulk.py       bulk hold, release, kill, recover: the preview, then the doing
  switch.py     hold and release every launch of the experiment
"""
from app.blueprints.overview import (  # noqa: F401  (each adds its routes to bp)
    attention,
    bulk,
    campaign,
    campaigns,
    switch,
)
from app.blueprints.overview.common import bp, launch_hold_banner

__all__ = ["bp", "launch_hold_banner"]
