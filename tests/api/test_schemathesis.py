"""schemathesis generates requests from /api/v1's OpenAPI document and sends them to a live
server (real HTTP, dev mode, real Redis, acting as a superuser with the tutorial campaign
loaded): no request may get a 500, and every answer must match the document (status codes,
content types, JSON schemas). Bounded: a few examples per operation, no deadline."""
from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from app import create_app
from app.api.openapi import document
from tests.api.support import API, TUTORIAL, as_user

EXAMPLES_PER_OPERATION = 12

create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})  # registers the routes
schema = schemathesis.openapi.from_dict(document())


@pytest.fixture
def app(launch_app):
    """`member` writes to the app these tests serve: launch_app (Redis, the local engine)."""
    return launch_app


@pytest.fixture
def live_api(launch_app, member, live_server_factory) -> str:
    # launch_app: Redis, the local batch engine and launch folders in the test's temp dir.
    member("mu2e", "sue", "superuser")
    server = live_server_factory(launch_app)
    response = requests.post(f"{server.url}{API}/experiments/mu2e/campaigns",
                             data=TUTORIAL.read_bytes(),
                             headers={**as_user("sue"), "Content-Type": "text/plain"},
                             timeout=30)
    assert response.status_code == 201, response.text
    return server.url


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_the_api_answers_every_generated_request_as_documented(case, live_api):
    case.call_and_validate(
        base_url=live_api,
        headers=as_user("sue"),
        checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                response_schema_conformance],
        timeout=30,
    )
