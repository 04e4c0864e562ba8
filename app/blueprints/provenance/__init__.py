"""Provenance pages (issue 18): a file's page (its job as launched, its inputs back to the
first stage, what was made of it, an FCL file's place in UconDB), a job's files, and a
campaign's data flow.

  common.py  the blueprint
  pages.py   the file page, the job's files, the data flow
"""
from app.blueprints.provenance import pages  # noqa: F401  (adds its routes)
from app.blueprints.provenance.common import bp

__all__ = ["bp"]
