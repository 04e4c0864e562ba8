"""People and a campaign for the API tests, on the dev-mode `app` fixture."""
from __future__ import annotations

import pytest

from tests.api.support import API, TUTORIAL, as_user


@pytest.fixture
def people(member):
    """mu2e: alice (analysis), bob (analysis), sam (production-shifter), pat (production),
    sue (superuser); dune: dan (production)."""
    member("mu2e", "alice", "analysis")
    member("mu2e", "bob", "analysis")
    member("mu2e", "sam", "production-shifter")
    member("mu2e", "pat", "production")
    member("mu2e", "sue", "superuser")
    member("dune", "dan", "production")


@pytest.fixture
def tutorial(client, people):
    """alice's analysis campaign srsoleti_tutorial (stages reco_fcl, reco)."""
    response = client.post(f"{API}/experiments/mu2e/campaigns", data=TUTORIAL.read_bytes(),
                           headers={**as_user("alice"), "Content-Type": "text/plain"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["campaign"]
