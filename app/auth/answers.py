"""How sign-in answers a page or an htmx request (what session.py and kerberos.py share)."""
from __future__ import annotations

from flask import Response, render_template, request
from markupsafe import escape


def is_htmx() -> bool:
    """The request came from htmx: answer a fragment, not a page."""
    return request.headers.get("HX-Request") == "true"


def auth_page(template: str, status: int, headers: dict | None = None, **context) -> Response:
    """A sign-in answer: the full page, or for htmx one sentence where the swap would go."""
    if is_htmx():
        sentence = context.get("sentence", "Please sign in again.")
        body = f'<p class="error" role="alert">{escape(sentence)}</p>'
    else:
        body = render_template(template, **context)
    response = Response(body, status=status, mimetype="text/html")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
