"""The UconDB settings, every one from a POMS_UCONDB_* variable (load_config reads them).

  POMS_UCONDB_URL       the UconDB API root the client uses. Default: this POMS's own embedded
                        server, http://<POMS_HOST>:<POMS_PORT or 5000>/ucondb/mu2e_ucondb_prod/app
                        (a wildcard bind address becomes localhost). Fermilab's:
                        https://dbdata0vm.fnal.gov:9443/mu2e_ucondb_prod/app
  POMS_UCONDB_USER      the client's web role for writes (default poms)
  POMS_UCONDB_PASSWORD  its password (default: a secret generated once into
                        instance/ucondb_password, 0600)
  POMS_UCONDB_WRITERS   `user:password,...` the embedded server accepts for writes (default:
                        poms with the generated secret, so the defaults work together)
  POMS_UCONDB_MAX_BLOB_BYTES  the largest version the embedded server stores (default 16 MiB)
  POMS_UCONDB_FCL_UPLOADS     yes (default) / no: FCL stages' files go to UconDB
                              (app/ucondb/jobs.py)
  POMS_UCONDB_UPLOAD_RETRIES  how often a failed upload is tried again (default 5)
  POMS_UCONDB_UPLOAD_BACKOFF  seconds before the first retry, doubled each time (default 30)
"""
from __future__ import annotations

import secrets
from pathlib import Path

from app.config.reading import kept_secret

DEFAULT_DATABASE = "mu2e_ucondb_prod"
DEFAULT_USER = "poms"
DEFAULT_MAX_BLOB_BYTES = 16 * 1024 * 1024
DEFAULT_UPLOAD_RETRIES = 5
DEFAULT_UPLOAD_BACKOFF = 30
_WILDCARDS = ("", "0.0.0.0", "::", "[::]")


def embedded_url(host: str, port: str | int, database: str = DEFAULT_DATABASE) -> str:
    host = "localhost" if host in _WILDCARDS else host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/ucondb/{database}/app"


def _generated_password(instance_path: Path) -> str:
    """A secret made once and kept in instance/ucondb_password (0600)."""
    return kept_secret(instance_path, "ucondb_password", lambda: secrets.token_urlsafe(24))


def url(environ) -> str:
    configured = environ.get("POMS_UCONDB_URL")
    if configured:
        return configured.rstrip("/")
    return embedded_url(environ.get("POMS_HOST", "127.0.0.1"), environ.get("POMS_PORT") or 5000)


def user(environ) -> str:
    return environ.get("POMS_UCONDB_USER") or DEFAULT_USER


def password(environ, instance_path: Path) -> str:
    configured = environ.get("POMS_UCONDB_PASSWORD")
    if configured:
        return configured
    # The generated secret is the embedded server's default writer's: only that user gets it.
    return _generated_password(instance_path) if user(environ) == DEFAULT_USER else ""


def writers(environ, instance_path: Path) -> str:
    configured = environ.get("POMS_UCONDB_WRITERS")
    if configured is not None:
        return configured
    return f"{DEFAULT_USER}:{_generated_password(instance_path)}"


def fcl_uploads(environ) -> bool:
    return (environ.get("POMS_UCONDB_FCL_UPLOADS") or "yes").strip().lower() not in (
        "no", "false", "0", "off")
