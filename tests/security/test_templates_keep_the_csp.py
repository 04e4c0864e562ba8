"""The pages' Content-Security-Policy (app/auth/session.py: script-src 'self', no
'unsafe-eval', no 'unsafe-inline' for scripts) makes the browser refuse, silently, whatever a
template would run as script text: an inline <script>, an on...= handler, and htmx's
evaluated attributes (hx-on, hx-vars, js: values, trigger filters in [...]). What the
policy refuses does not work (a polled panel's filter once failed this way and the panel threw
away what people typed), so no template may use them; behaviour goes in app/static/*.js."""
from __future__ import annotations

import re
from pathlib import Path

from app.auth.session import _CSP

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"

REFUSED = {
    "an inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "an inline event handler": re.compile(r"\son[a-z]+\s*=", re.I),
    "hx-on (evaluated)": re.compile(r"\b(?:data-)?hx-on", re.I),
    "hx-vars (evaluated)": re.compile(r"\b(?:data-)?hx-vars", re.I),
    "a js: or javascript: value": re.compile(r"=\s*[\"'][^\"']*\b(?:js|javascript):", re.I),
    "an htmx trigger filter (evaluated)":
        re.compile(r"\b(?:data-)?hx-trigger\s*=\s*\"[^\"]*\[[^\"]*\]", re.I),
}


def test_the_policy_refuses_script_text():
    assert "script-src 'self'" in _CSP
    assert "unsafe-eval" not in _CSP and "'unsafe-inline'" not in _CSP.split("style-src")[0]


def test_no_template_needs_script_text_the_policy_refuses():
    found = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text()
        for what, pattern in REFUSED.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{template.relative_to(TEMPLATES)}:{line}: {what}")
    assert found == [], "\n".join(found)
