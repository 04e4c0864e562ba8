"""Every setting POMS has, read from POMS_* environment variables (the bottom layer: this
package imports nothing else of POMS).

  __init__.py   load_config: the app's settings, and the sign-in and network ones
  launching.py  launching, batch engines and tracking
  ucondb.py     UconDB, where FCL files are kept
  watching.py   mail, webhooks and circuit breakers
  reading.py    ConfigError, and how a value is read

The defaults are the embedded service: SQLite under instance/, a Redis on a local port,
sign-in by typed user name (dev). A production deployment changes only the environment.
"""
from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path

from app.config import ucondb
from app.config.launching import launch_settings
from app.config.reading import (
    ConfigError,
    integer,
    kept_secret,
    list_of,
    not_negative,
    positive,
)
from app.config.watching import watch_settings

__all__ = ["ConfigError", "is_loopback", "is_trusted_proxy", "load_config", "trusted_proxies"]

AUTH_MODES = ("dev", "kerberos", "remote_user")


def _secret_key(instance_path: Path) -> str:
    """A stable secret for the embedded service, kept in instance/ with 0600 permissions."""
    return kept_secret(instance_path, "secret_key", lambda: secrets.token_hex(32))


def load_config(instance_path: Path, environ=None) -> dict:
    environ = os.environ if environ is None else environ
    auth = environ.get("POMS_AUTH", "dev")
    if auth not in AUTH_MODES:
        raise ConfigError(f"POMS_AUTH={auth!r} is not one of {', '.join(AUTH_MODES)}")
    return {
        # A relative SQLite URL lands under instance/ (Flask-SQLAlchemy does that).
        "SQLALCHEMY_DATABASE_URI": environ.get("POMS_DATABASE_URL", "sqlite:///poms.db"),
        "POMS_REDIS_URL": environ.get("POMS_REDIS_URL", "redis://127.0.0.1:6390/0"),
        "POMS_AUTH": auth,
        "POMS_KEYTAB": environ.get("POMS_KEYTAB", ""),
        "POMS_REALMS": list_of(environ.get("POMS_REALMS", "FNAL.GOV")),
        "POMS_ADMINS": list_of(environ.get("POMS_ADMINS")),
        # remote_user mode: the front ends' addresses (or networks, 10.0.0.0/24). None by
        # default: a header is believed only from a front end someone named.
        "POMS_TRUSTED_PROXIES": trusted_proxies(environ.get("POMS_TRUSTED_PROXIES", "")),
        # remote_user mode: the header a trusted front end (Apache with mod_auth_gssapi and
        # mod_proxy) puts the authenticated principal in.
        "POMS_REMOTE_USER_HEADER": environ.get("POMS_REMOTE_USER_HEADER", "X-Remote-User"),
        # kerberos mode: the service a ticket must be for ("HTTP@poms.fnal.gov" or
        # "HTTP/poms.fnal.gov@FNAL.GOV"); empty accepts a ticket for any key in the keytab.
        "POMS_SERVICE_PRINCIPAL": environ.get("POMS_SERVICE_PRINCIPAL", ""),
        # Uploaded files (CFG files, scripts, proxies, tokens): outside the web root, and
        # what each experimenter may keep there per experiment (app/uploads/store.py).
        "POMS_UPLOADS_DIR": environ.get("POMS_UPLOADS_DIR") or str(instance_path / "uploads"),
        "POMS_UPLOADS_QUOTA_BYTES": integer(environ, "POMS_UPLOADS_QUOTA_BYTES", 10 * 1024 * 1024),
        "POMS_HOST": environ.get("POMS_HOST", "127.0.0.1"),
        "POMS_PAGE_SIZE": integer(environ, "POMS_PAGE_SIZE", 25),
        # How far back "needs attention" looks (failures, refused recoveries), and how soon
        # before it expires a credential is listed there (app/overview/attention.py).
        "POMS_ATTENTION_DAYS": positive(environ, "POMS_ATTENTION_DAYS", 7),
        "POMS_MAX_UPLOAD_BYTES": integer(environ, "POMS_MAX_UPLOAD_BYTES", 1024 * 1024),
        # The most stages one campaign file may hold (app/campaigns/spec.DEFAULT_MAX_STAGES
        # is the same number, for readers given no setting).
        "POMS_MAX_STAGES": positive(environ, "POMS_MAX_STAGES", 500),
        "SECRET_KEY": environ.get("POMS_SECRET_KEY") or _secret_key(instance_path),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Over plain HTTP (the embedded default on loopback) a Secure cookie would never
        # come back; every other mode sits behind TLS.
        "SESSION_COOKIE_SECURE": auth != "dev",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        # Launching, batch engines and tracking (app/config/launching.py).
        **launch_settings(instance_path, environ),
        # UconDB, where FCL files are kept (app/config/ucondb.py says what each one is).
        "POMS_UCONDB_URL": ucondb.url(environ),
        "POMS_UCONDB_USER": ucondb.user(environ),
        "POMS_UCONDB_PASSWORD": ucondb.password(environ, instance_path),
        "POMS_UCONDB_WRITERS": ucondb.writers(environ, instance_path),
        "POMS_UCONDB_MAX_BLOB_BYTES": integer(
            environ, "POMS_UCONDB_MAX_BLOB_BYTES", ucondb.DEFAULT_MAX_BLOB_BYTES
        ),
        "POMS_UCONDB_FCL_UPLOADS": ucondb.fcl_uploads(environ),
        "POMS_UCONDB_UPLOAD_RETRIES": integer(
            environ, "POMS_UCONDB_UPLOAD_RETRIES", ucondb.DEFAULT_UPLOAD_RETRIES
        ),
        "POMS_UCONDB_UPLOAD_BACKOFF": integer(
            environ, "POMS_UCONDB_UPLOAD_BACKOFF", ucondb.DEFAULT_UPLOAD_BACKOFF
        ),
        # Watches and circuit breakers (app/config/watching.py says what each one is).
        **watch_settings(environ),
        # Database connections per process (every web worker, every RQ worker): kept open,
        # added under load, and how long a request waits for one before it is answered
        # 503 "busy". Only a request running queries holds one; an open live page holds
        # none. Keep workers x (size + overflow) under the server's max_connections.
        "POMS_DB_POOL_SIZE": positive(environ, "POMS_DB_POOL_SIZE", 10),
        "POMS_DB_MAX_OVERFLOW": not_negative(environ, "POMS_DB_MAX_OVERFLOW", 10),
        "POMS_DB_POOL_TIMEOUT": positive(environ, "POMS_DB_POOL_TIMEOUT", 10),
        # Live pages (app/live): pushed over Server-Sent Events unless 0; per page, a
        # submission's topics at most once per POMS_LIVE_SPACING_MS however often it
        # changes, an experiment's, campaign's or stage's once per ..._AGGREGATE_SPACING_MS.
        "POMS_LIVE_PUSH": environ.get("POMS_LIVE_PUSH", "1").strip().lower()
        not in ("0", "no", "false", "off"),
        "POMS_LIVE_SPACING": positive(environ, "POMS_LIVE_SPACING_MS", 500) / 1000,
        "POMS_LIVE_AGGREGATE_SPACING":
            positive(environ, "POMS_LIVE_AGGREGATE_SPACING_MS", 3000) / 1000,
        # One commit changes many submissions at once (a tracking pass, a burst of job
        # ends): each page hears of its submission at its own moment within
        # POMS_LIVE_SPREAD_MS, so their fetches do not all reach the server together (0: at
        # once).
        "POMS_LIVE_SPREAD": not_negative(environ, "POMS_LIVE_SPREAD_MS", 150) / 1000,
        # A tab hidden this long lets its stream go (0: never) and catches up when shown:
        # over HTTP/1.1 a browser holds 6 connections a host, so streams held by background
        # tabs would keep the next tab from loading at all.
        "POMS_LIVE_HIDDEN": integer(environ, "POMS_LIVE_HIDDEN_MS", 30_000) / 1000,
    }


def is_loopback(host: str | None) -> bool:
    """Whether `host` is a loopback address: 127.0.0.0/8, ::1 (bracketed or not), or the
    name localhost. A name that only starts like one (127.0.0.1.example.org) is not."""
    host = (host or "").strip()
    if host.lower() == "localhost":
        return True
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def trusted_proxies(value: str | None) -> list[str]:
    """POMS_TRUSTED_PROXIES: addresses or networks, comma-separated. A request's peer is an
    address, so a host name here could never match: refused at start-up."""
    entries = list_of(value)
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ConfigError(
                f"POMS_TRUSTED_PROXIES: {entry!r} is not an IP address or network "
                "(the front end's address as POMS sees it, e.g. 10.0.0.5 or 10.0.0.0/24)"
            ) from None
    return entries


def is_trusted_proxy(address: str | None, proxies: list[str]) -> bool:
    try:
        peer = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    for entry in proxies:
        try:
            if peer in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False
