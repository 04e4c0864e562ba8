"""Where a webhook may post. Anyone who may see an experiment may add a webhook, and the
workers post to it from inside the service's network: outside dev mode, a URL whose host is
(or resolves to) this machine, a private network or a link-local address is refused unless
POMS_WEBHOOK_INTERNAL_HOSTS names it, so a watch cannot be used to reach internal services
(Redis, the database, a cloud metadata address)."""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from app.config.watching import setting


def _internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved
            or ip.is_multicast or ip.is_unspecified)


def refusal(url: str, config) -> str | None:
    """Why POMS may not post to `url`, or None."""
    host = (urlsplit(url).hostname or "").lower()
    if config.get("POMS_AUTH", "dev") == "dev":
        return None  # the embedded service on a laptop: loopback hooks are the usual ones
    if host in [h.lower() for h in setting(config, "POMS_WEBHOOK_INTERNAL_HOSTS")]:
        return None
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        return f"the webhook host {host} is not known"
    inside = sorted(a for a in addresses if _internal(a))
    if inside:
        return (f"the webhook host {host} is on this machine or an internal network "
                f"({', '.join(inside)}); POMS_WEBHOOK_INTERNAL_HOSTS must name it")
    return None
