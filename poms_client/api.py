"""Talking to /api/v1: authentication, JSON errors, and nothing kept between requests.

Every request authenticates by itself: with the API token when there is one, otherwise
with the Kerberos ticket from the credential cache (sent up front, so a write never rides
on a cookie and needs no CSRF token), plus `X-POMS-User` when a user is named (only a
dev-mode server listens to it), and `X-POMS-Role` when a role is named. Cookies are
refused.
"""
from __future__ import annotations

import http.cookiejar
import logging
from urllib.parse import quote

import requests

from poms_client import __version__
from poms_client.config import Settings


class ApiFailure(Exception):
    """The server refused or failed (exit 1), with its message and the field at fault."""

    def __init__(self, message: str, status: int | None = None, field: str | None = None,
                 body: dict | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field
        self.body = body or {}


def _kerberos_auth():
    try:
        from requests_gssapi import OPTIONAL, HTTPSPNEGOAuth
    except ImportError:  # pragma: no cover - requests-gssapi is a dependency
        return None
    # Without a ticket the opportunistic attempt fails quietly; the server's 401 says so.
    logging.getLogger("requests_gssapi").setLevel(logging.CRITICAL)
    return HTTPSPNEGOAuth(mutual_authentication=OPTIONAL, opportunistic_auth=True)


class Api:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.session = requests.Session()
        self.session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        self.session.headers["User-Agent"] = f"poms-client/{__version__}"
        self.session.headers["Accept"] = "application/json"
        if settings.token:
            self.session.headers["Authorization"] = f"Bearer {settings.token}"
        else:
            self.session.auth = _kerberos_auth()
        if settings.user:
            self.session.headers["X-POMS-User"] = settings.user
        if settings.role:
            self.session.headers["X-POMS-Role"] = settings.role

    # -- paths ------------------------------------------------------------------------
    def experiment_path(self, *parts) -> str:
        if not self.settings.experiment:
            raise ApiFailure("no experiment: give --experiment NAME or set POMS_EXPERIMENT")
        return "/experiments/" + "/".join(quote(str(p), safe="") for p in
                                          (self.settings.experiment, *parts))

    # -- requests ---------------------------------------------------------------------
    def request(self, method: str, path: str, *, expect_json: bool = True, **kwargs):
        url = self.settings.server + "/api/v1" + path
        kwargs.setdefault("timeout", self.settings.timeout)
        try:
            response = self.session.request(method, url, **kwargs)
        except requests.exceptions.SSLError as err:
            raise ApiFailure(f"TLS problem talking to {self.settings.server}: {err}") from None
        except requests.exceptions.ConnectionError:
            raise ApiFailure(f"cannot reach the POMS server at {self.settings.server}") from None
        except requests.exceptions.Timeout:
            raise ApiFailure(f"{self.settings.server} did not answer in time") from None
        except requests.exceptions.RequestException as err:
            raise ApiFailure(f"request failed: {err}") from None
        if response.status_code >= 400:
            raise self._failure(response)
        if not expect_json:
            return response
        try:
            return response.json()
        except ValueError:
            raise ApiFailure(
                f"{url} answered {response.status_code} without JSON: is {self.settings.server} "
                "a POMS server?", response.status_code) from None

    def _failure(self, response) -> ApiFailure:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        message = body.get("error") or f"{response.status_code} {response.reason}"
        if response.status_code == 401 and not self.settings.token:
            if "negotiate" in response.headers.get("WWW-Authenticate", "").lower():
                message += " (no usable Kerberos ticket? run kinit)"
            elif not self.settings.user:
                message += " (give --user on a dev-mode server, or POMS_TOKEN)"
        return ApiFailure(message, response.status_code, body.get("field"), body)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def pages(self, path, params=None, limit: int | None = None):
        """Every item of a paged list (or the first `limit`)."""
        params = dict(params or {})
        params.setdefault("per_page", 200)
        page, items = 1, []
        while True:
            answer = self.get(path, params={**params, "page": page})
            items.extend(answer["items"])
            if limit is not None and len(items) >= limit:
                return items[:limit], answer["total"]
            if page >= answer["pages"]:
                return items, answer["total"]
            page += 1
