"""The OpenAPI 3 document of /api/v1, made from the routes' own metadata (app.api.core.route)
and the schemas below. tests/api/test_openapi.py keeps it true: every /api/v1 rule of the
URL map is here with the same methods, and nothing else is.
"""
from __future__ import annotations

import re

from app.api.core import OPERATIONS, PREFIX, Operation, ref
from app.auth.tokens import SCOPES
from app.ids import MAX_ID

VERSION = "1.0.0"

_NULLABLE_STR = {"type": ["string", "null"]}
_TIME = {"type": ["string", "null"], "format": "date-time"}

SCHEMAS: dict[str, dict] = {
    "Error": {
        "type": "object",
        "required": ["error", "field"],
        "properties": {
            "error": {"type": "string", "description": "what went wrong, for a person"},
            "field": {**_NULLABLE_STR, "description": "the parameter or field at fault"},
            "problems": {"type": "array", "items": ref("Problem")},
        },
    },
    "Problem": {
        "type": "object",
        "required": ["reason", "text"],
        "properties": {
            "file": {"type": "string"},
            "section": _NULLABLE_STR,
            "key": _NULLABLE_STR,
            "line": {"type": ["integer", "null"]},
            "reason": {"type": "string"},
            "text": {"type": "string", "description": "file:line [section] key: reason"},
        },
    },
    "Page": {
        "type": "object",
        "required": ["items", "page", "per_page", "pages", "total"],
        "properties": {
            "items": {"type": "array"},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 1},
            "total": {"type": "integer", "minimum": 0},
        },
    },
    "Me": {
        "type": "object",
        "required": ["user", "auth", "experiments"],
        "properties": {
            "user": {"type": "string"},
            "auth": {"type": "string",
                     "enum": ["token", "negotiate", "front-end", "dev", "session"]},
            "experiments": {"type": "object", "additionalProperties": {"type": "string"}},
            "is_admin": {"type": "boolean"},
            "token": {"type": ["object", "null"]},
        },
    },
    "Experiment": {
        "type": "object",
        "required": ["name", "role"],
        "properties": {"name": {"type": "string"}, "description": {"type": "string"},
                       "role": {"type": "string"}},
    },
    "CampaignSummary": {
        "type": "object",
        "required": ["id", "name", "poms_role", "state", "owner", "tags"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "poms_role": {"type": "string", "enum": ["analysis", "production"]},
            "state": {"type": "string", "enum": ["Active", "Inactive"]},
            "owner": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "stages": {"type": "integer"},
            "updated": _TIME,
        },
    },
    "Campaign": {
        "type": "object",
        "required": ["id", "name", "experiment", "poms_role", "state", "stages"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "experiment": {"type": "string"},
            "poms_role": {"type": "string"},
            "state": {"type": "string"},
            "owner": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "keywords": {"type": "object"},
            "created": _TIME,
            "updated": _TIME,
            "launched": {"type": "boolean"},
            "may_edit": {"type": "boolean"},
            "may_launch": {"type": "boolean"},
            "stages": {"type": "array", "items": ref("StageSummary")},
        },
    },
    "StageSummary": {
        "type": "object",
        "required": ["id", "name"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "job_type": {"type": "string"},
            "login_setup": {"type": "string"},
            "depends_on": {"type": "array", "items": ref("Dependency")},
        },
    },
    "Dependency": {
        "type": "object",
        "properties": {"stage": {"type": "string"}, "file_pattern": {"type": "string"},
                       "position": {"type": "integer"}},
    },
    "Stage": {
        "type": "object",
        "required": ["id", "name", "campaign", "fields", "ini"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "campaign": {"type": "string"},
            "position": {"type": "integer"},
            "fields": {"type": "object", "description": "every stage key, typed"},
            "ini": {"type": "object", "additionalProperties": {"type": "string"},
                    "description": "every stage key as the INI says it (what PATCH takes)"},
            "depends_on": {"type": "array", "items": ref("Dependency")},
            "held": {"type": ["boolean", "null"]},
            "may_edit": {"type": "boolean"},
        },
    },
    "Change": {
        "type": "object",
        "required": ["kind", "subject", "text"],
        "properties": {
            "kind": {"type": "string"},
            "subject": {"type": "string"},
            "field": _NULLABLE_STR,
            "before": {},
            "after": {},
            "used_by": {"type": "array", "items": {"type": "string"},
                        "description": "other campaigns using the job type or login setup "
                                       "that changes (it is shared by the experiment)"},
            "text": {"type": "string"},
        },
    },
    "Upload": {
        "type": "object",
        "required": ["campaign", "dry_run", "created", "changes", "warnings"],
        "properties": {
            "dry_run": {"type": "boolean"},
            "created": {"type": "boolean", "description": "a new campaign (not an update)"},
            "campaign": {"type": "object"},
            "changes": {"type": "array", "items": ref("Change")},
            "warnings": {"type": "array", "items": ref("Problem")},
        },
    },
    "Credential": {
        "type": "object",
        "required": ["id", "name", "role", "kind", "expires"],
        "properties": {
            "id": {"type": "integer", "description": "the uploaded file's id"},
            "name": {"type": "string", "description": "the uploaded file's name"},
            "role": {"type": "string", "enum": ["analysis", "production"]},
            "kind": {"type": "string", "enum": ["proxy", "token"]},
            "subject": {"type": "string"},
            "issuer": {"type": "string"},
            "expires": {"type": "string", "format": "date-time"},
            "uploaded": _TIME,
            "expired": {"type": "boolean"},
            "renew": {"type": "boolean", "description": "under 7 days left"},
            "time_left": {"type": "string"},
            "in_use": {"type": "boolean",
                       "description": "launches of this kind of work use this one"},
        },
    },
    "UploadedFile": {
        "type": "object",
        "required": ["id", "name", "size", "sha256", "uploaded", "credential"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string", "description": "launches find it as $UPLOADS/<name>"},
            "size": {"type": "integer", "minimum": 0, "description": "bytes"},
            "sha256": {"type": "string"},
            "uploaded": _TIME,
            "credential": {"oneOf": [{"type": "null"}, ref("Credential")],
                           "description": "set when the file is a proxy or a token"},
            "replaced": {"type": "boolean",
                         "description": "(upload answer) it replaced a file of that name"},
        },
    },
    "Usage": {
        "type": "object",
        "required": ["used", "quota"],
        "properties": {
            "used": {"type": "integer", "minimum": 0,
                     "description": "bytes your uploaded files take in this experiment"},
            "quota": {"type": "integer", "description": "bytes you may keep there"},
        },
    },
    "UploadResult": {
        "allOf": [ref("Usage"), {
            "type": "object",
            "required": ["files", "warnings"],
            "properties": {
                "files": {"type": "array", "items": ref("UploadedFile")},
                "warnings": {"type": "array", "items": {"type": "string"}},
            },
        }],
    },
    "Submission": {
        "type": "object",
        "required": ["id", "campaign", "stage", "state", "jobs"],
        "properties": {
            "id": {"type": "integer"},
            "campaign": {"type": "string"},
            "stage": {"type": "string"},
            "state": {"type": "string"},
            "test": {"type": "boolean"},
            "origin": {"type": "string"},
            "launcher": _NULLABLE_STR,
            "recovery_of": {"type": ["integer", "null"]},
            "created": _TIME,
            "updated": _TIME,
            "batch_id": _NULLABLE_STR,
            "percent_done": {"type": "integer"},
            "active": {"type": "boolean"},
            "launch_error": _NULLABLE_STR,
            "tracking_error": _NULLABLE_STR,
            "launch_account": _NULLABLE_STR,
            "jobs": {"type": "object", "properties": {
                k: {"type": "integer"} for k in
                ("total", "idle", "running", "held", "done", "failed", "removed")}},
        },
    },
    "Job": {
        "type": "object",
        "required": ["id", "batch_job_id", "state"],
        "properties": {
            "id": {"type": "integer"},
            "submission": {"type": "integer"},
            "batch_job_id": {"type": "string"},
            "state": {"type": "string"},
            "exit_code": {"type": ["integer", "null"]},
            "host": _NULLABLE_STR,
            "started": _TIME,
            "ended": _TIME,
            "updated": _TIME,
        },
    },
    "File": {
        "type": "object",
        "required": ["name", "kind"],
        "properties": {"name": {"type": "string"}, "kind": {"type": "string",
                                                            "enum": ["input", "output"]}},
    },
    "Event": {
        "type": "object",
        "required": ["at", "to"],
        "properties": {"at": _TIME, "from": _NULLABLE_STR, "to": {"type": "string"},
                       "cause": {"type": "string"}, "by": _NULLABLE_STR},
    },
    "Signature": {
        "type": "object",
        "required": ["id", "name", "pattern", "category"],
        "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"},
            "pattern": {"type": "string"}, "category": {"type": "string"},
            "action": {"type": "string"}, "exit_codes": {"type": "string"},
            "position": {"type": "integer"}, "hits": {"type": "integer"},
            "last_hit": _TIME, "starting": {"type": "boolean"},
        },
    },
    "Definition": {
        "type": "object",
        "required": ["id", "name", "ini"],
        "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"},
            "creator": _NULLABLE_STR, "updated": _TIME,
            "ini": {"type": "object", "additionalProperties": {"type": "string"}},
            "role": {"type": "string", "enum": ["analysis", "production"],
                     "description": "login setups: whose campaigns may launch with it"},
            "used_by": {"type": "array", "items": {"type": "string"},
                        "description": "campaign/stage of every stage using it"},
        },
    },
    "Named": {
        "type": "object",
        "required": ["id", "name"],
        "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"},
            "campaign": _NULLABLE_STR, "campaign_id": {"type": "integer"},
        },
    },
    "Token": {
        "type": "object",
        "required": ["id", "name", "prefix", "expires", "status"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "prefix": {"type": "string"},
            "created": _TIME,
            "expires": {"type": "string", "format": "date-time"},
            "last_used": _TIME,
            "revoked": _TIME,
            "status": {"type": "string", "enum": ["active", "expired", "revoked"]},
            "scopes": {"type": "array", "items": {"type": "string", "enum": list(SCOPES)},
                       "description": "what it may do; every scope includes read"},
            "experiments": {"type": ["array", "null"], "items": {"type": "string"},
                            "description": "where it may act; null: every experiment of "
                                           "its owner"},
            "token": {"type": "string", "description": "the secret: only in the creation answer"},
        },
    },
}

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
