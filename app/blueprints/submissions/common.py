"""The submissions pages' blueprint."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("submissions", __name__, url_prefix="/e/<experiment>")
