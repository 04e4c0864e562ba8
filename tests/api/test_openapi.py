"""The OpenAPI document tells the truth about /api/v1: every route of the URL map is in it
with the same methods, and it names nothing the app does not serve."""
from __future__ import annotations

import re

# The OpenAPI 3.1 meta-schema that schemathesis ships (and checks documents with).
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from tests.api.support import API


def _routes(app) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule == API or rule.rule.startswith(API + "/"):
            path = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule)
            found.setdefault(path, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    return found


def _documented(doc) -> dict[str, set[str]]:
    return {path: {method.upper() for method in item} for path, item in doc["paths"].items()}


def test_every_api_route_is_documented_with_its_methods_and_nothing_else(app, client):
    doc = client.get(f"{API}/openapi.json").get_json()
    routes, documented = _routes(app), _documented(doc)
    assert routes == documented
    assert len(routes) >= 10


def test_the_document_is_valid_openapi_3_and_every_operation_is_described(client):
    doc = client.get(f"{API}/openapi.json").get_json()
    errors = [str(e) for e in OPENAPI_31_VALIDATOR.iter_errors(doc)]
    assert errors == []
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            assert operation["summary"], where
            assert "default" in operation["responses"], where
            params = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert params == set(re.findall(r"{(\w+)}", path)), where
    assert doc["servers"][0]["url"] == "http://localhost"
