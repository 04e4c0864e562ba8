"""What an uploaded credential file is, whose, and until when; no Flask, no database.

Two kinds, told apart by their content:
  proxy  an X.509 proxy in PEM (voms-proxy-init's x509up_u<uid>): the proxy certificate,
         its private key, then the certificate chain it was signed with. Expires when the
         first certificate of the chain does.
  token  a bearer token (a JWT, as SciTokens and WLCG tokens are): header.payload.signature
         in base64url; `exp` is read from the payload without checking the signature,
         which the grid services do when the token is used.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

KINDS = {"proxy": "X.509 proxy", "token": "bearer token"}
RENEW_WITHIN = timedelta(days=7)
MAX_BYTES = 64 * 1024  # proxies are a few KiB, tokens under 4 KiB

_PEM_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?\r?\n-----END \1-----", re.DOTALL
)
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
# RFC 3820 proxyCertInfo (and the pre-RFC draft OID some Globus tools still write).
_PROXY_CERT_INFO = ("1.3.6.1.5.5.7.1.14", "1.3.6.1.4.1.3536.1.222")


class CredentialError(ValueError):
    """The file cannot be used, said so the person who uploaded it knows what to do."""


@dataclass(frozen=True)
class ParsedCredential:
    kind: str  # proxy, token
    subject: str  # the proxy's DN (/DC=org/.../CN=...), or the token's `sub`
    issuer: str  # the proxy's issuer DN, or the token's `iss`
    expires: datetime  # naive UTC, as the database keeps times
    not_before: datetime | None = None
    details: dict = field(default_factory=dict)  # shown on the page: scope, groups, ...

    @property
    def kind_words(self) -> str:
        return KINDS[self.kind]


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def parse_credential(data: bytes) -> ParsedCredential:
    """Tell the kind from the content and parse it; CredentialError when it is neither."""
    if not data or not data.strip():
        raise CredentialError("the file is empty")
    if len(data) > MAX_BYTES:
        raise CredentialError(
            f"the file is {len(data)} bytes, too large for a proxy or a token "
            f"(at most {MAX_BYTES})"
        )
    if b"-----BEGIN" in data:
        return parse_proxy(data)
    return parse_token(data)


def recognise_credential(data: bytes) -> ParsedCredential | None:
    """Is an uploaded file a proxy or a token? None for an ordinary file (a CFG, a script,
    a certificate bundle); CredentialError for one that holds a private key or is shaped
    like a token but cannot be used, since keeping it would only fail a launch later (or
    keep a long-lived key POMS has no business holding)."""
    if b"PRIVATE KEY-----" in data:
        if b"-----BEGIN CERTIFICATE-----" not in data:
            raise CredentialError(
                "the file holds a private key and no proxy certificate: POMS keeps no "
                "private keys but a proxy's (upload the x509up_u... file voms-proxy-init wrote)"
            )
        return parse_credential(data)
    if len(data) <= MAX_BYTES and _looks_like_token(data):
        return parse_credential(data)
    return None


def _looks_like_token(data: bytes) -> bool:
    try:
        text = data.decode("ascii").strip()
    except UnicodeDecodeError:
        return False
    if text.lower().startswith("bearer "):
        text = text[7:].strip()
    # A JWT's header is base64url JSON, so it starts with the encoding of '{"'.
    return text.startswith("eyJ") and bool(_JWT.match(text))


# --- X.509 proxies ---------------------------------------------------------------------


def _dn(name) -> str:
    """The grid's slash form of a distinguished name: /DC=org/DC=cilogon/C=US/CN=..."""
    parts = []
    for rdn in name.rdns:
        for attribute in rdn:
            parts.append(f"{attribute.rfc4514_attribute_name}={attribute.value}")
    return "/" + "/".join(parts)


def _is_proxy(certificate) -> bool:
    if any(ext.oid.dotted_string in _PROXY_CERT_INFO for ext in certificate.extensions):
        return True
    common_names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    # Legacy Globus proxies: the last CN is "proxy" or "limited proxy".
    return bool(common_names) and common_names[-1].value in ("proxy", "limited proxy")


def parse_proxy(data: bytes) -> ParsedCredential:
    blocks = _PEM_BLOCK.findall(data)
    if not blocks:
        raise CredentialError(
            "the file looks like PEM but has no complete -----BEGIN/END----- block"
        )
    try:
        chain = x509.load_pem_x509_certificates(data)
    except ValueError as err:
        raise CredentialError(f"the certificates in the file cannot be read ({err})") from None
    keys = [m.group(0) for m in _PEM_BLOCK.finditer(data) if b"PRIVATE KEY" in m.group(1)]
    if not keys:
        raise CredentialError(
            "the file has certificates but no private key: a proxy file carries its key "
            "(upload the whole x509up_u... file that voms-proxy-init wrote)"
        )
    try:
        key = serialization.load_pem_private_key(keys[0], password=None)
    except TypeError:
        raise CredentialError(
            "the private key is protected by a passphrase, so this is not a proxy: upload "
            "the file voms-proxy-init wrote, not your long-lived certificate"
        ) from None
    except (ValueError, binascii.Error) as err:
        raise CredentialError(f"the private key cannot be read ({err})") from None
    proxy = chain[0]
    if proxy.public_key() != key.public_key():
        raise CredentialError("the private key does not belong to the first certificate")
    if not _is_proxy(proxy):
        raise CredentialError(
            "the first certificate is not a proxy (no proxyCertInfo): upload the output of "
            "voms-proxy-init, never a long-lived certificate and its key"
        )
    expires = min(_naive_utc(c.not_valid_after_utc) for c in chain)
    not_before = max(_naive_utc(c.not_valid_before_utc) for c in chain)
    return ParsedCredential(
        kind="proxy",
        subject=_dn(proxy.subject),
        issuer=_dn(proxy.issuer),
        expires=expires,
        not_before=not_before,
        details={"certificates": len(chain)},
    )


# --- bearer tokens ---------------------------------------------------------------------


def _b64url_json(part: str, what: str) -> dict:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError) as err:
        raise CredentialError(f"the token's {what} is not base64url JSON ({err})") from None
    if not isinstance(value, dict):
        raise CredentialError(f"the token's {what} is not a JSON object")
    return value


def _timestamp(payload: dict, claim: str) -> datetime | None:
    value = payload.get(claim)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CredentialError(f"the token's {claim!r} is not a number of seconds")
    try:
        return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        raise CredentialError(f"the token's {claim!r} is not a usable time ({value})") from None


def parse_token(data: bytes) -> ParsedCredential:
    try:
        text = data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise CredentialError(
            "the file is neither a PEM proxy nor a token (it is not text)"
        ) from None
    if text.lower().startswith("bearer "):
        text = text[7:].strip()
    if not _JWT.match(text):
        raise CredentialError(
            "the file is neither a PEM proxy (-----BEGIN CERTIFICATE-----) nor a bearer token "
            "(a JWT: three base64url parts joined by dots)"
        )
    header_part, payload_part, _signature = text.split(".")
    _b64url_json(header_part, "header")
    payload = _b64url_json(payload_part, "payload")
    expires = _timestamp(payload, "exp")
    if expires is None:
        raise CredentialError(
            "the token has no expiry ('exp' claim): POMS cannot tell how long it is good for"
        )
    details = {
        key: payload[key]
        for key in ("scope", "wlcg.groups", "aud", "wlcg.ver", "ver")
        if key in payload
    }
    return ParsedCredential(
        kind="token",
        subject=str(payload.get("sub", "")),
        issuer=str(payload.get("iss", "")),
        expires=expires,
        not_before=_timestamp(payload, "nbf"),
        details=details,
    )


# --- is it usable ----------------------------------------------------------------------


def check_usable(parsed: ParsedCredential, now: datetime | None = None) -> None:
    now = now or now_utc()
    if parsed.expires <= now:
        raise CredentialError(
            f"this {parsed.kind_words} expired on {parsed.expires:%Y-%m-%d %H:%M} UTC: "
            "make a new one and upload that"
        )
    if parsed.not_before and parsed.not_before > now + timedelta(minutes=5):
        raise CredentialError(
            f"this {parsed.kind_words} is not valid before {parsed.not_before:%Y-%m-%d %H:%M} UTC"
        )


def time_left(expires: datetime, now: datetime | None = None) -> timedelta:
    return expires - (now or now_utc())


def needs_renewal(expires: datetime, now: datetime | None = None) -> bool:
    """Under 7 days left: the page warns, so a launch never finds it expired."""
    return time_left(expires, now) < RENEW_WITHIN


def describe_time_left(expires: datetime, now: datetime | None = None) -> str:
    left = time_left(expires, now)
    if left <= timedelta(0):
        return "expired"
    if left >= timedelta(days=2):
        return f"{left.days} days left"
    hours = int(left.total_seconds() // 3600)
    if hours >= 1:
        return f"{hours} hour{'s' if hours != 1 else ''} left"
    return f"{max(1, int(left.total_seconds() // 60))} minutes left"
