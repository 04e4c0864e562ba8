"""Campaign pages: the list, upload, the campaign and its graph, stages, clone, export, delete.

  common.py   the blueprint
  listing.py  the list and uploading a campaign file
  campaign.py one campaign: page and graph, export, clone, delete, its fields
  stage.py    a stage: page, fields, its splits
  editor.py   the campaign editor: stages and dependencies drawn, previewed, saved
  preview.py  the change preview an upload (and a rollback) shows before saving
  versions.py every version: history, diff, export, rollback
"""
from app.blueprints.campaigns import (  # noqa: F401  (each adds its routes to bp)
    campaign,
    editor,
    listing,
    stage,
    versions,
)
from app.blueprints.campaigns.common import bp

__all__ = ["bp"]
