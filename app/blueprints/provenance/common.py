"""The provenance pages' blueprint."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("provenance", __name__, url_prefix="/e/<experiment>")
