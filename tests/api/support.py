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


def bearer_token_file(seconds_left: float, sub: str = "alice") -> bytes:
    """A bearer token (a JWT) as htgettoken writes it, expiring `seconds_left` from now
    (POMS reads `exp` without checking the signature; the grid services do that)."""
    import base64
    import json
    import time

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    payload = {"sub": sub, "iss": "https://cilogon.org/mu2e", "exp": int(time.time()
               + seconds_left), "scope": "compute.create storage.read:/mu2e"}
    return (part({"alg": "RS256", "typ": "JWT"}) + "." + part(payload) + ".c2ln").encode()
