"""Failure signature pages.

  common.py  the blueprint, who may change the table
  table.py   the page and the table, edited in place
  past.py    trying a pattern on the experiment's stored logs, and re-labelling past
             failures after the table changed (preview, then apply)
"""
from app.blueprints.signatures import past, table  # noqa: F401  (each adds its routes to bp)
from app.blueprints.signatures.common import bp

__all__ = ["bp"]
