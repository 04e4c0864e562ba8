"""The REST API under /api/v1 (JSON) and its OpenAPI document.

app/api/core.py: the blueprint, errors, reading the request, pagination; app/api/caller.py:
who is asking (before every request) and as which role; app/api/routes.py: the route
decorator that documents each endpoint. One module per area registers its routes on
import. The API and the pages (app/blueprints) never import each other: what both need
lives in a domain package.
"""
from __future__ import annotations

from flask import Flask

from app.api import (  # noqa: F401  (each registers its routes; caller checks every request)
    caller,
    campaign_edits,
    campaigns,
    credentials,
    definition_changes,
    definitions,
    general,
    launch_hold,
    launching,
    provenance,
    reports,
    signatures,
    stages,
    submission_actions,
    submissions,
    uploads,
    versions,
    watching,
)
from app.api.core import bp, jsonify_api_answers


def register_api(app: Flask) -> None:
    """The API blueprint (called from create_app)."""
    app.register_blueprint(bp)
    app.after_request(jsonify_api_answers)
