"""The shapes of /api/v1's answers and bodies, in OpenAPI 3.1's JSON Schema: the words the
routes describe themselves with (`obj`, `array`, `ref`, `json_of`, `page_of` and the plain
types), and the named schemas the document's components hold (SCHEMAS).
"""
from __future__ import annotations

from app.auth.tokens import SCOPES

STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
NULLABLE_STRING = {"type": ["string", "null"]}
TIME = {"type": ["string", "null"], "format": "date-time"}
STRINGS = {"type": "array", "items": STRING}
BINARY = {"type": "string", "format": "binary"}  # a file's bytes
ROLE = {"type": "string", "enum": ["analysis", "production"]}


def obj(properties: dict | None = None, required: list[str] | None = None, **more) -> dict:
    """An object with these properties, `required` the ones it always has; `more` adds
    other keywords (additionalProperties, example, ...)."""
    out: dict = {"type": "object"}
    if required:
        out["required"] = required
    if properties is not None:
        out["properties"] = properties
    return {**out, **more}


def array(items: dict, **more) -> dict:
    return {"type": "array", "items": items, **more}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_of(schema: dict) -> dict:
    return {"application/json": schema}


def page_of(item: str) -> dict:
    return {"allOf": [ref("Page"), obj({"items": array(ref(item))})]}


SCHEMAS: dict[str, dict] = {
    "Error": obj({
        "error": {**STRING, "description": "what went wrong, for a person"},
        "field": {**NULLABLE_STRING, "description": "the parameter or field at fault"},
        "problems": array(ref("Problem")),
    }, ["error", "field"]),
    "Problem": obj({
        "file": STRING, "section": NULLABLE_STRING, "key": NULLABLE_STRING,
        "line": {"type": ["integer", "null"]}, "reason": STRING,
        "text": {**STRING, "description": "file:line [section] key: reason"},
    }, ["reason", "text"]),
    "Page": obj({
        "items": {"type": "array"},
        "page": {**INTEGER, "minimum": 1},
        "per_page": {**INTEGER, "minimum": 1},
        "pages": {**INTEGER, "minimum": 1},
        "total": {**INTEGER, "minimum": 0},
    }, ["items", "page", "per_page", "pages", "total"]),
    "Me": obj({
        "user": STRING,
        "auth": {**STRING, "enum": ["token", "negotiate", "front-end", "dev", "session"]},
        "experiments": obj(additionalProperties=STRING),
        "is_admin": BOOLEAN,
        "token": {"type": ["object", "null"]},
    }, ["user", "auth", "experiments"]),
    "Experiment": obj({"name": STRING, "description": STRING, "role": STRING},
                      ["name", "role"]),
    "CampaignSummary": obj({
        "id": INTEGER, "name": STRING, "poms_role": ROLE,
        "state": {**STRING, "enum": ["Active", "Inactive"]},
        "owner": STRING, "tags": STRINGS, "stages": INTEGER, "updated": TIME,
    }, ["id", "name", "poms_role", "state", "owner", "tags"]),
    "Campaign": obj({
        "id": INTEGER, "name": STRING, "experiment": STRING, "poms_role": STRING,
        "state": STRING, "owner": STRING, "tags": STRINGS, "keywords": {"type": "object"},
        "created": TIME, "updated": TIME, "launched": BOOLEAN, "may_edit": BOOLEAN,
        "may_launch": BOOLEAN, "stages": array(ref("StageSummary")),
    }, ["id", "name", "experiment", "poms_role", "state", "stages"]),
    "StageSummary": obj({
        "id": INTEGER, "name": STRING, "job_type": STRING, "login_setup": STRING,
        "depends_on": array(ref("Dependency")),
    }, ["id", "name"]),
    "Dependency": obj({"stage": STRING, "file_pattern": STRING, "position": INTEGER}),
    "Stage": obj({
        "id": INTEGER, "name": STRING, "campaign": STRING, "position": INTEGER,
        "fields": {"type": "object", "description": "every stage key, typed"},
        "ini": obj(additionalProperties=STRING,
                   description="every stage key as the INI says it (what PATCH takes)"),
        "origins": obj(additionalProperties={
            "type": "string", "enum": ["stage", "campaign defaults", "built-in default"]},
            description="where each key's value comes from"),
        "depends_on": array(ref("Dependency")),
        "held": {"type": ["boolean", "null"]},
        "may_edit": BOOLEAN,
    }, ["id", "name", "campaign", "fields", "ini"]),
    "Change": obj({
        "kind": STRING, "subject": STRING, "field": NULLABLE_STRING, "before": {}, "after": {},
        "used_by": array(STRING, description="other campaigns using the job type or login "
                                             "setup that changes (it is shared by the "
                                             "experiment)"),
        "text": STRING,
    }, ["kind", "subject", "text"]),
    "Impact": obj({
        "error": {**STRING, "description": "why the change cannot be made (\"\" if it can)"},
        "stages": array(obj({
            "stage": STRING,
            "status": {**STRING, "enum": ["changes", "same", "added", "removed"]},
            "renamed_from": NULLABLE_STRING,
            "before": {**STRING, "description": "the next launch's script now (dry run)"},
            "after": {**STRING, "description": "the next launch's script after the change"},
            "script_diff": {**STRING, "description": "unified diff of before and after"},
            "schedule": {**NULLABLE_STRING, "description": "its scheduled launches (cron)"},
            "under_way": array(obj({"id": INTEGER, "state": STRING, "recovery": BOOLEAN})),
        }, ["stage", "status"])),
    }, ["error", "stages"]),
    "Version": obj({
        "number": INTEGER, "created": STRING, "by": STRING,
        "source": {**STRING, "description": "upload, editor, page, api, cli, rollback, "
                                            "clone, found"},
        "reason": STRING,
    }, ["number", "created", "by", "source", "reason"]),
    "Upload": obj({
        "dry_run": BOOLEAN,
        "impact": {**ref("Impact"), "description": "on a dry run: what the change does to "
                                                  "the launches"},
        "created": {**BOOLEAN, "description": "a new campaign (not an update)"},
        "campaign": {"type": "object"},
        "changes": array(ref("Change")),
        "warnings": array(ref("Problem")),
    }, ["campaign", "dry_run", "created", "changes", "warnings"]),
    "Credential": obj({
        "id": {**INTEGER, "description": "the uploaded file's id"},
        "name": {**STRING, "description": "the uploaded file's name"},
        "role": ROLE,
        "kind": {**STRING, "enum": ["proxy", "token"]},
        "subject": STRING, "issuer": STRING,
        "expires": {**STRING, "format": "date-time"},
        "uploaded": TIME,
        "expired": BOOLEAN,
        "renew": {**BOOLEAN, "description": "under 7 days left"},
        "time_left": STRING,
        "in_use": {**BOOLEAN, "description": "launches of this kind of work use this one"},
    }, ["id", "name", "role", "kind", "expires"]),
    "UploadedFile": obj({
        "id": INTEGER,
        "name": {**STRING, "description": "launches find it as $UPLOADS/<name>"},
        "size": {**INTEGER, "minimum": 0, "description": "bytes"},
        "sha256": STRING,
        "uploaded": TIME,
        "credential": {"oneOf": [{"type": "null"}, ref("Credential")],
                       "description": "set when the file is a proxy or a token"},
        "replaced": {**BOOLEAN,
                     "description": "(upload answer) it replaced a file of that name"},
    }, ["id", "name", "size", "sha256", "uploaded", "credential"]),
    "Usage": obj({
        "used": {**INTEGER, "minimum": 0,
                 "description": "bytes your uploaded files take in this experiment"},
        "quota": {**INTEGER, "description": "bytes you may keep there"},
    }, ["used", "quota"]),
    "UploadResult": {"allOf": [ref("Usage"), obj({
        "files": array(ref("UploadedFile")), "warnings": STRINGS,
    }, ["files", "warnings"])]},
    "Submission": obj({
        "id": INTEGER, "campaign": STRING, "stage": STRING, "state": STRING, "test": BOOLEAN,
        "origin": STRING, "launcher": NULLABLE_STRING,
        "recovery_of": {"type": ["integer", "null"]}, "created": TIME, "updated": TIME,
        "batch_id": NULLABLE_STRING, "percent_done": INTEGER, "active": BOOLEAN,
        "launch_error": NULLABLE_STRING, "tracking_error": NULLABLE_STRING,
        "launch_account": NULLABLE_STRING,
        "jobs": obj({k: INTEGER for k in
                     ("total", "idle", "running", "held", "done", "failed", "removed")}),
    }, ["id", "campaign", "stage", "state", "jobs"]),
    "Job": obj({
        "id": INTEGER, "submission": INTEGER, "batch_job_id": STRING, "state": STRING,
        "exit_code": {"type": ["integer", "null"]}, "host": NULLABLE_STRING,
        "started": TIME, "ended": TIME, "updated": TIME,
        **{name: {"type": ["number", "null"], "description": description} for name, description in (
            ("cpu_time_s", "CPU seconds the batch engine measured (the local engine does)"),
            ("wall_time_s", "wall seconds the batch engine measured"),
            ("peak_memory_mb", "peak resident MiB the batch engine measured"))},
    }, ["id", "batch_job_id", "state"]),
    "File": obj({"name": STRING, "kind": {**STRING, "enum": ["input", "output"]}},
                ["name", "kind"]),
    "Event": obj({"at": TIME, "from": NULLABLE_STRING, "to": STRING, "cause": STRING,
                  "by": NULLABLE_STRING}, ["at", "to"]),
    "Signature": obj({
        "id": INTEGER, "name": STRING, "pattern": STRING, "category": STRING,
        "action": STRING, "exit_codes": STRING, "position": INTEGER, "hits": INTEGER,
        "last_hit": TIME, "starting": BOOLEAN,
    }, ["id", "name", "pattern", "category"]),
    "Definition": obj({
        "id": INTEGER, "name": STRING, "creator": NULLABLE_STRING, "updated": TIME,
        "ini": obj(additionalProperties=STRING),
        "role": {**ROLE, "description": "login setups: whose campaigns may launch with it"},
        "used_by": array(STRING, description="campaign/stage of every stage using it"),
    }, ["id", "name", "ini"]),
    "Named": obj({"id": INTEGER, "name": STRING, "campaign": NULLABLE_STRING,
                  "campaign_id": INTEGER}, ["id", "name"]),
    "Token": obj({
        "id": INTEGER, "name": STRING, "prefix": STRING, "created": TIME,
        "expires": {**STRING, "format": "date-time"},
        "last_used": TIME, "revoked": TIME,
        "status": {**STRING, "enum": ["active", "expired", "revoked"]},
        "scopes": array({**STRING, "enum": list(SCOPES)},
                        description="what it may do; every scope includes read"),
        "experiments": {"type": ["array", "null"], "items": STRING,
                        "description": "where it may act; null: every experiment of its "
                                       "owner"},
        "token": {**STRING, "description": "the secret: only in the creation answer"},
    }, ["id", "name", "prefix", "expires", "status"]),
}
