"""The REST API under /api/v1 (JSON) and its OpenAPI document.

app/api/core.py: the blueprint, authentication, errors, pagination, the route decorator.
One module per area registers its routes on import. The API and the pages
(app/blueprints) never import each other: what both need lives in a domain package.
"""
from __future__ import annotations

from flask import Flask

from app.api import (  # noqa: F401  (each registers its routes)
    campaigns,
    credentials,
    definitions,
    general,
    signatures,
    submissions,
    uploads,
)
from app.api.core import bp, jsonify_api_answers


def register_api(app: Flask) -> None:
    """The API blueprint (called from create_app)."""
    app.register_blueprint(bp)
    app.after_request(jsonify_api_answers)
