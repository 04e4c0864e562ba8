"""The OpenAPI 3 document of /api/v1, made from the routes' own metadata (app.api.routes.route)
and the named schemas (app/api/schemas.py). tests/api/test_openapi.py keeps it true: every
/api/v1 rule of the URL map is here with the same methods, and nothing else is.
"""
from __future__ import annotations

import re

from app.api.core import PREFIX
from app.api.routes import OPERATIONS, Operation
from app.api.schemas import SCHEMAS, ref
from app.ids import MAX_ID

VERSION = "1.0.0"

_PATH_PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")

_PARAM_DOC = {
    "experiment": "experiment name (mu2e, dune, ...)",
    "campaign": "campaign name",
    "stage": "stage name within the campaign",
}


def openapi_path(rule: str) -> str:
    """'/experiments/<experiment>/x/<int:id>' -> '/api/v1/experiments/{experiment}/x/{id}'."""
    return PREFIX + _PATH_PARAM.sub(lambda m: "{" + m.group(2) + "}", rule)


def _path_params(op: Operation) -> list[dict]:
    out = []
    for converter, name in _PATH_PARAM.findall(op.rule):
        schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID} if converter == "int" else {
            "type": "string", "minLength": 1, "pattern": "^[^/]+$"}
        entry = {"name": name, "in": "path", "required": True, "schema": schema,
                 "description": _PARAM_DOC.get(name, name)}
        if name in op.examples:
            entry["example"] = op.examples[name]
        out.append(entry)
    return out


def _operation(op: Operation) -> dict:
    out = {
        "operationId": op.endpoint,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": _path_params(op) + op.query,
        "responses": {},
    }
    if op.description:
        out["description"] = op.description
    if op.scope:
        # OpenAPI 3.1 lets a non-OAuth scheme list the roles it needs: a token's scope.
        out["x-poms-token-scope"] = op.scope
        out["description"] = (out.get("description", "") + (
            f"\n\nAn API token needs the `{op.scope}` scope.")).strip()
        out["security"] = [{"negotiate": []}, {"token": [op.scope]}, {"devUser": []}]
    if op.body:
        out["requestBody"] = {
            "required": op.body_required,
            "content": {kind: {"schema": schema} for kind, schema in op.body.items()},
        }
    for status, (description, content) in op.responses.items():
        answer = {"description": description}
        if content:
            answer["content"] = {kind: {"schema": schema} for kind, schema in content.items()}
        out["responses"][str(status)] = answer
    out["responses"]["default"] = {
        "description": "an error: 400 bad parameter, 401 not signed in, 403 refused, "
                       "404 not found, 409 conflict, 422 invalid content",
        "content": {"application/json": {"schema": ref("Error")}},
    }
    if op.public:
        out["security"] = []
    return out


def document(server_url: str = "") -> dict:
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        paths.setdefault(openapi_path(op.rule), {})[op.method.lower()] = _operation(op)
    doc = {
        "openapi": "3.1.0",
        "info": {
            "title": "POMS REST API",
            "version": VERSION,
            "description": (
                "Production Operations Management Service. Every path under "
                "/api/v1/experiments/{experiment} acts in that experiment with the caller's "
                "role there. Errors are {\"error\": message, \"field\": name|null}. Lists are "
                "paged: ?page=&per_page= give {items, page, per_page, pages, total}. "
                "Sign in with Kerberos (Negotiate), an API token (Authorization: Bearer, made "
                "on the API tokens page), or on a dev-mode server X-POMS-User. A write signed "
                "in by the browser's session cookie alone needs the page's CSRF token in "
                "X-CSRFToken. A token acts only within its scopes (read, launch, edit, admin; "
                "each operation's `x-poms-token-scope` names the one it needs) and its "
                "experiments. X-POMS-Role: ROLE acts in that role (one the caller holds, or "
                "a lower one) instead of their own."
            ),
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "negotiate": {"type": "http", "scheme": "negotiate"},
                "token": {"type": "http", "scheme": "bearer"},
                "devUser": {"type": "apiKey", "in": "header", "name": "X-POMS-User"},
            },
        },
        "security": [{"negotiate": []}, {"token": []}, {"devUser": []}],
        "tags": [{"name": t} for t in sorted({op.tag for op in OPERATIONS})],
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc
