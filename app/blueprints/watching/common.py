"""The watching pages' blueprint."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("watching", __name__, url_prefix="/e/<experiment>")
