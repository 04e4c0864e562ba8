"""POMS_AUTH=remote_user: a fronting web server did the Kerberos work and says who it was.

Apache with mod_auth_gssapi in front of gunicorn passes the principal in a request header
(POMS_REMOTE_USER_HEADER, default X-Remote-User: `RequestHeader set X-Remote-User
"%{REMOTE_USER}s"`), or a server sets REMOTE_USER in the WSGI environment (mod_wsgi; gunicorn
with --forwarder-headers REMOTE_USER). Anyone can send a header, so either is believed only
when the request comes straight from an address in POMS_TRUSTED_PROXIES (addresses or
networks; there is no default, not even 127.0.0.1: any local process could otherwise speak
for anyone); from anywhere else it is ignored (and logged) and the request is anonymous.

The identity is read afresh on every request and never kept in the session.
"""
from __future__ import annotations

import logging

from flask import current_app, request

from app.auth.kerberos import sign_in_principal
from app.auth.spnego import split_principal
from app.config import is_trusted_proxy

log = logging.getLogger(__name__)


def identify():
    """before_request: the front end's word on who is asking, if it may be believed."""
    config = current_app.config
    if config["POMS_AUTH"] != "remote_user" or request.endpoint == "static":
        return None
    value = request.environ.get("REMOTE_USER") or request.headers.get(
        config["POMS_REMOTE_USER_HEADER"], ""
    )
    value = value.strip()
    if not value:
        return None
    if not is_trusted_proxy(request.remote_addr, config["POMS_TRUSTED_PROXIES"]):
        log.warning(
            "ignoring a remote user %r from %s: not in POMS_TRUSTED_PROXIES",
            value[:80], request.remote_addr,
        )
        return None
    username, realm = split_principal(value)
    # mod_auth_gssapi with GssapiLocalName maps the principal already: a bare name is fine.
    return sign_in_principal(value, username, realm, remember=False)
