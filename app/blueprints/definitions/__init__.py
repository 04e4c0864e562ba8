"""Job types and login setups, shared by an experiment's campaigns.

  common.py   the blueprint and its lookups
  pages.py    the list, one definition with its fields edited inline, a clone
  changes.py  making one from scratch, removing one no stage uses
"""
from app.blueprints.definitions import (  # noqa: F401  (each adds its routes to bp)
    changes,
    pages,
)
from app.blueprints.definitions.common import bp

__all__ = ["bp"]
