"""Helpers shared by the API and client tests (fixtures are in each folder's conftest)."""
from __future__ import annotations

from pathlib import Path

from tests.fixtures.app import EXAMPLES

TUTORIAL = EXAMPLES / "mu2e_reco_tutorial.ini"
API = "/api/v1"


def tutorial_text(**replace: str) -> str:
    text = TUTORIAL.read_text()
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def as_user(name: str) -> dict:
    """Headers naming the user to a dev-mode server (the client's --user)."""
    return {"X-POMS-User": name}


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
