"""Results pages: what a submission's (or a stage's) finished jobs say, and their files.

Thin views over app/results (aggregates in SQL, plots as SVG, exports) and app/logs
(the job log window). Every view goes through experiment_access (404 unknown experiment,
403 non-member); a submission, stage, campaign or job of another experiment is a 404.

  common.py      the blueprint; CSV and JSON answers, the catalogue, a stage's latest rows
  submission.py  one submission: its page, summary, job table, its files
  joblog.py      a job's log: the window around its matched line, search within it
  plots.py       its plots (SVG)
  exports.py     a submission's summary, jobs and files, a stage's summary, as CSV or JSON
  stages.py      a stage's page and files, its job type's memory policy, a campaign over
                 time, the experiment's calendar
"""
from app.blueprints.results import (  # noqa: F401  (each adds its routes to bp)
    exports,
    joblog,
    plots,
    stages,
    submission,
)
from app.blueprints.results.common import bp

__all__ = ["bp"]
