"""The REST API under /api/v1 (JSON), its OpenAPI document, and API tokens.

app/api/core.py: the blueprint, authentication, errors, pagination, the route decorator.
One module per area registers its routes on import.
"""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """The API blueprint and the API tokens page (called from app/blueprints)."""
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
    from app.blueprints import tokens

    app.register_blueprint(bp)
    app.after_request(jsonify_api_answers)
    app.register_blueprint(tokens.bp)
