"""Sending one delivery: mail through SMTP, or a webhook POST.

    deliver_once(delivery_id, config, final=...)   # raises while it fails, so RQ tries again

Mail goes to POMS_SMTP_URL (smtp://host:port, smtps://host:port, smtp+starttls://...; a
user and password in the URL log in). A webhook gets {"text": subject and body} as JSON,
which Mattermost and Slack incoming webhooks post as a message. Each attempt is counted
on the row; the last failed one (`final`) marks it failed, with the reason, for the
deliveries page.
"""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import requests

from app.config.watching import setting
from app.extensions import db
from app.models.base import utcnow
from app.models.watching import Delivery
from app.watching import webhooks

log = logging.getLogger(__name__)
WEBHOOK_TIMEOUT_S = 15
SMTP_TIMEOUT_S = 30
SCHEMES = {"smtp": 25, "smtps": 465, "smtp+starttls": 587}


class DeliveryFailed(Exception):
    """This attempt did not get through; the message says why."""


def send_mail(config, to: str, subject: str, body: str) -> None:
    url = setting(config, "POMS_SMTP_URL")
    if not url:
        raise DeliveryFailed("no mail server is set (POMS_SMTP_URL)")
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise DeliveryFailed(f"POMS_SMTP_URL: {parts.scheme or url!r} is not one of "
                             f"{', '.join(s + '://host:port' for s in SCHEMES)}")
    message = EmailMessage()
    message["From"] = setting(config, "POMS_MAIL_FROM")
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    port = parts.port or SCHEMES[parts.scheme]
    kind = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    try:
        with kind(parts.hostname, port, timeout=SMTP_TIMEOUT_S) as server:
            if parts.scheme == "smtp+starttls":
                server.starttls()
            if parts.username:
                server.login(unquote(parts.username), unquote(parts.password or ""))
            server.send_message(message)
    except (OSError, smtplib.SMTPException) as err:
        raise DeliveryFailed(f"mail to {to} via {parts.hostname}:{port}: {err}") from err


def post_webhook(url: str, subject: str, body: str) -> None:
    """POST {"text": ...}; a redirect is not followed (it could lead inside: webhooks.py)."""
    try:
        answer = requests.post(url, json={"text": f"**{subject}**\n{body}"},
                               timeout=WEBHOOK_TIMEOUT_S, allow_redirects=False)
    except requests.RequestException as err:
        raise DeliveryFailed(f"webhook {urlsplit(url).netloc}: {err}") from err
    if answer.status_code >= 300:
        raise DeliveryFailed(f"webhook {urlsplit(url).netloc} answered "
                             f"{answer.status_code}: {answer.text[:200]}")


def deliver_once(delivery_id: int, config, *, final: bool = True) -> str:
    row = db.session.get(Delivery, delivery_id)
    if row is None:
        return f"delivery {delivery_id}: gone"
    if row.state in ("sent", "failed"):
        return f"delivery {delivery_id}: {row.state} already"
    row.attempts += 1
    try:
        if row.channel == "email":
            send_mail(config, row.target, row.subject, row.body)
        else:
            refused = webhooks.refusal(row.target, config)  # DNS may have changed since
            if refused:
                raise DeliveryFailed(refused)
            post_webhook(row.target, row.subject, row.body)
    except DeliveryFailed as err:
        row.state = "failed" if final else "retrying"
        row.error = str(err)[:2000]
        db.session.commit()
        log.warning("delivery %s, attempt %s%s: %s", delivery_id, row.attempts,
                    " (the last)" if final else "", err)
        raise
    row.state, row.error, row.sent_at = "sent", "", utcnow()
    db.session.commit()
    return f"delivery {delivery_id}: sent by {row.channel} to {row.target}"


def retry_delays(config) -> list[int]:
    """Seconds before each retry: the backoff, doubled each time."""
    first = int(setting(config, "POMS_NOTIFY_BACKOFF"))
    return [first * 2 ** n for n in range(int(setting(config, "POMS_NOTIFY_RETRIES")))]
