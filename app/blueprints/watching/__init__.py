"""Watching pages (issue 18): a person's watches and what they were sent, the watch form on
a campaign's and a stage's page, and a stage's circuit breaker (its banner, release, policy).

  common.py   the blueprint
  watches.py  watches: the list, the form fragment, watch, unwatch; the deliveries page
  breaker.py  a stage's breaker fragment, releasing it, its job type's policy
"""
from app.blueprints.watching import breaker, watches  # noqa: F401  (each adds its routes)
from app.blueprints.watching.common import bp

__all__ = ["bp"]
