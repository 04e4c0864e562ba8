"""Helpers for the client tests (fixtures are in conftest.py)."""
from __future__ import annotations

from poms_client.api import Api
from poms_client.config import resolve


def api() -> Api:
    """Our client, with the settings of the test's environment (POMS_SERVER, POMS_USER)."""
    return Api(resolve())


def credentials() -> list[dict]:
    """The caller's credentials in mu2e, as the API lists them."""
    client = api()
    return client.pages(client.experiment_path("credentials"))[0]


def stage_fields(campaign: str, stage: str) -> dict:
    client = api()
    return client.get(client.experiment_path("campaigns", campaign, "stages", stage))["fields"]


def definition(kind: str, name: str) -> dict:
    """A job type's or login setup's fields as INI text ("job_types", "login_setups")."""
    client = api()
    return client.get(client.experiment_path(kind, name))["ini"]
