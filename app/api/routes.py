"""The route decorator: registers an /api/v1 endpoint, the token scope it needs, and its
OpenAPI operation (app/api/openapi.py builds the document from OPERATIONS); and the query
parameters routes take (`param`, PAGE_PARAMS). The shapes they answer with are
app/api/schemas.py's.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from app.api.core import DEFAULT_PER_PAGE, MAX_PER_PAGE, bp
from app.api.schemas import INTEGER
from app.auth import tokens

PUBLIC_ENDPOINTS: set[str] = set()
# "api.<endpoint>" -> the token scope it needs (filled by route()).
ENDPOINT_SCOPES: dict[str, str] = {}
# "api.<endpoint>" -> why no token may call it at all, whatever its scopes.
NOT_WITH_A_TOKEN: dict[str, str] = {}


@dataclass
class Operation:
    rule: str  # the Flask rule inside the blueprint: "/experiments/<experiment>/campaigns"
    method: str
    endpoint: str
    summary: str
    tag: str
    description: str = ""
    query: list[dict] = field(default_factory=list)
    body: dict | None = None  # {content type: schema}
    body_required: bool = True
    responses: dict = field(default_factory=dict)  # {"200": (description, {type: schema})}
    public: bool = False
    examples: dict = field(default_factory=dict)  # path parameter examples
    scope: str | None = None  # the token scope it needs (None: public)


OPERATIONS: list[Operation] = []


def route(rule: str, method: str, *, summary: str, tag: str, description: str = "",
          query: list[dict] | None = None, body: dict | None = None, body_required=True,
          responses: dict | None = None, public: bool = False, examples=None,
          scope: str | None = None, not_with_a_token: str | None = None):
    """Register an /api/v1 endpoint and document it. `scope` is the token scope it needs:
    "read" for a GET unless said; a write must say (launch, edit or admin).
    `not_with_a_token` says why no token may call it at all."""
    if scope is None and not public:
        if method != "GET":
            raise ValueError(f"{method} {rule}: say which token scope it needs (scope=...)")
        scope = "read"
    if scope is not None and scope not in tokens.SCOPES:
        raise ValueError(f"{method} {rule}: {scope!r} is not one of {tokens.SCOPES}")

    def register(view):
        endpoint = view.__name__
        bp.add_url_rule(rule, endpoint=endpoint, view_func=view, methods=[method])
        if public:
            PUBLIC_ENDPOINTS.add(f"{bp.name}.{endpoint}")
        else:
            ENDPOINT_SCOPES[f"{bp.name}.{endpoint}"] = scope
        if not_with_a_token:
            NOT_WITH_A_TOKEN[f"{bp.name}.{endpoint}"] = not_with_a_token
        OPERATIONS.append(Operation(
            rule=rule, method=method, endpoint=endpoint, summary=summary, tag=tag,
            description=description, query=query or [], body=body,
            body_required=body_required, responses=responses or {}, public=public,
            examples=examples or {}, scope=None if public else scope,
        ))
        return view

    return register


def param(name: str, schema: dict, description: str, *, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema}


PAGE_PARAMS = [
    param("page", {**INTEGER, "minimum": 1, "maximum": 1_000_000, "default": 1},
          "page number, from 1"),
    param("per_page", {**INTEGER, "minimum": 1, "maximum": MAX_PER_PAGE,
                       "default": DEFAULT_PER_PAGE}, "items per page"),
]
