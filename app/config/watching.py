"""Watches and circuit breakers (app/watching), every one from a POMS_* variable.

  POMS_SMTP_URL            where mail goes: smtp://host:port, smtps://host:port, or
                           smtp+starttls://user:password@host:port (default: none, so email
                           deliveries fail saying so and the page shows it)
  POMS_MAIL_FROM           the From of every message (default poms@localhost)
  POMS_MAIL_DOMAIN         an email watch with no address goes to <username>@this
                           (default fnal.gov)
  POMS_NOTIFY_RETRIES      how often a failed delivery is tried again (default 5)
  POMS_NOTIFY_BACKOFF      seconds before the first retry, doubled each time (default 30)
  POMS_BREAKER_MIN_JOBS    the fewest finished jobs a breaker judges (default 10): no
                           policy may ask for fewer
  POMS_CREDENTIAL_WARNING_HOURS  a credential expiring within this is told (default 72)
  POMS_WEBHOOK_INTERNAL_HOSTS    hosts on this machine or a private network that webhooks
                           may still post to (default none; in dev mode every host may be)
"""
from __future__ import annotations

from app.config.reading import integer, list_of, positive

DEFAULTS = {
    "POMS_SMTP_URL": "",
    "POMS_MAIL_FROM": "poms@localhost",
    "POMS_MAIL_DOMAIN": "fnal.gov",
    "POMS_NOTIFY_RETRIES": 5,
    "POMS_NOTIFY_BACKOFF": 30,
    "POMS_BREAKER_MIN_JOBS": 10,
    "POMS_CREDENTIAL_WARNING_HOURS": 72,
    "POMS_WEBHOOK_INTERNAL_HOSTS": [],
}


def watch_settings(environ) -> dict:
    return {
        "POMS_SMTP_URL": environ.get("POMS_SMTP_URL", ""),
        "POMS_MAIL_FROM": environ.get("POMS_MAIL_FROM", DEFAULTS["POMS_MAIL_FROM"]),
        "POMS_MAIL_DOMAIN": environ.get("POMS_MAIL_DOMAIN", DEFAULTS["POMS_MAIL_DOMAIN"]),
        "POMS_NOTIFY_RETRIES": integer(environ, "POMS_NOTIFY_RETRIES", 5),
        "POMS_NOTIFY_BACKOFF": positive(environ, "POMS_NOTIFY_BACKOFF", 30),
        "POMS_BREAKER_MIN_JOBS": positive(environ, "POMS_BREAKER_MIN_JOBS", 10),
        "POMS_CREDENTIAL_WARNING_HOURS": positive(environ, "POMS_CREDENTIAL_WARNING_HOURS", 72),
        "POMS_WEBHOOK_INTERNAL_HOSTS": list_of(environ.get("POMS_WEBHOOK_INTERNAL_HOSTS")),
    }


def setting(config, name: str):
    """A setting from the app's config, or its default (tests build configs by hand)."""
    return config.get(name, DEFAULTS[name])
