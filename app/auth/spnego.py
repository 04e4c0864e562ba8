"""SPNEGO (HTTP ``Negotiate``) authentication, done in-process.

Why here and not in Apache: the original POMS sat behind Apache with
mod_auth_gssapi, which did the Kerberos work and handed the application a
``REMOTE_USER``.  This rebuild accepts the ``Authorization: Negotiate <token>``
header itself, with python-gssapi and a keytab for ``HTTP/<host>``, so the
service runs (and is tested) without Apache or any other front end.

The acceptor's output token (the Kerberos AP-REP, wrapped in SPNEGO) is
returned as :attr:`Accepted.token`; the caller sends it back in
``WWW-Authenticate: Negotiate <token>`` so that clients asking for mutual
authentication (``requests-gssapi`` with ``mutual_authentication=REQUIRED``,
``curl --negotiate``) can check they talked to the real service.

Errors are classified so the web layer can map them without looking at GSSAPI:

* :class:`NoCredentials` -- the *server* cannot accept anything (keytab
  missing, unreadable, not a keytab, or without a key for the service):
  HTTP 503.
* :class:`BadToken` -- the *client's* token is unusable (not ``Negotiate``,
  not base64, garbage, a ticket for another service, expired, replayed,
  anonymous): HTTP 401.  ``reason`` is a short machine-readable tag and
  ``token`` the base64 SPNEGO reject/KRB-ERROR token when GSSAPI made one.

This module imports no Flask.  MIT libkrb5 reads ``KRB5_CONFIG``,
``KRB5RCACHEDIR`` and ``KRB5_KTNAME`` when called, not at import time.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass

import gssapi
import gssapi.exceptions

__all__ = [
    "Accepted",
    "BadToken",
    "NoCredentials",
    "SpnegoError",
    "accept",
    "realm_allowed",
    "split_principal",
]

SCHEME = "Negotiate"
#: Larger headers are refused before base64-decoding them.  Kerberos tickets
#: with a big PAC (Active Directory) reach about 12 KiB; 64 KiB is generous.
MAX_HEADER = 64 * 1024

_KEYTAB_MAGIC = (b"\x05\x01", b"\x05\x02")
_ANONYMOUS = "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS"

# Substrings of MIT krb5 minor-status messages -> BadToken.reason.  The minor
# *numbers* GSSAPI reports are assigned at run time by the mechglue, so only the
# text is stable.
_REASONS = (
    ("not found in keytab", "wrong-service"),
    ("wrong principal", "wrong-service"),
    ("cannot find key", "wrong-service"),
    ("ticket expired", "expired"),
    ("ticket not yet valid", "expired"),
    ("replay", "replay"),
    ("clock skew", "clock-skew"),
    ("malformed", "malformed"),
    ("corrupt", "malformed"),
    ("integrity check", "malformed"),
)


class SpnegoError(Exception):
    """Base class of everything :func:`accept` raises."""


class NoCredentials(SpnegoError):
    """The acceptor has no usable keytab (HTTP 503: the server's fault)."""

    def __init__(self, message: str, keytab: str | None = None):
        super().__init__(message)
        self.keytab = keytab


class BadToken(SpnegoError):
    """The client's ``Authorization`` value is unusable (HTTP 401)."""

    def __init__(self, message: str, reason: str = "rejected", token: str | None = None):
        super().__init__(message)
        #: short tag: malformed, wrong-scheme, wrong-service, expired, replay,
        #: clock-skew, anonymous, rejected
        self.reason = reason
        #: base64 SPNEGO error token (may be sent back in WWW-Authenticate), or None
        self.token = token


@dataclass(frozen=True)
class Accepted:
    """Result of :func:`accept`.

    When ``complete`` is False the client must answer ``token`` in another
    round trip; ``principal``, ``user`` and ``realm`` are then None.  A
    stateless web service cannot finish such an exchange (the next request
    creates a new context), so callers normally answer 401 with ``token``.
    """

    principal: str | None
    user: str | None
    realm: str | None
    token: str | None
    complete: bool


def split_principal(principal: str) -> tuple[str, str]:
    """Split ``"alice@POMS.TEST"`` into ``("alice", "POMS.TEST")``.

    The split is at the last ``@`` not escaped by a backslash (``a\\@b@R`` ->
    ``("a\\@b", "R")``).  Without a realm the realm is ``""``.
    """
    i, cut = 0, -1
    while i < len(principal):
        ch = principal[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "@":
            cut = i
        i += 1
    if cut < 0:
        return principal, ""
    return principal[:cut], principal[cut + 1 :]


def realm_allowed(realm: str, allowed: list[str]) -> bool:
    """True if ``realm`` is in ``allowed``.

    Kerberos realm names are case-sensitive, so the comparison is exact; an
    empty list allows nothing.
    """
    return bool(realm) and realm in allowed


def _parse_header(value: object) -> bytes:
    if not isinstance(value, str) or not value.strip():
        raise BadToken("no Authorization header value", reason="malformed")
    if len(value) > MAX_HEADER:
        raise BadToken(
            f"Authorization header longer than {MAX_HEADER} characters", reason="malformed"
        )
    parts = value.strip().split(None, 1)
    if parts[0].lower() != SCHEME.lower():
        raise BadToken(
            f"authorization scheme {parts[0][:20]!r} is not {SCHEME}", reason="wrong-scheme"
        )
    if len(parts) < 2:
        raise BadToken(f"{SCHEME} without a token", reason="malformed")
    try:
        token = base64.b64decode(parts[1].strip(), validate=True)
    except (binascii.Error, ValueError) as e:
        raise BadToken(f"{SCHEME} token is not base64: {e}", reason="malformed") from None
    if not token:
        raise BadToken(f"{SCHEME} token is empty", reason="malformed")
    return token


def _check_keytab(keytab: str | None) -> str:
    """Return the keytab name for GSSAPI, or raise NoCredentials."""
    keytab = keytab or os.environ.get("KRB5_KTNAME") or ""
    if not keytab:
        raise NoCredentials("no acceptor keytab configured (and KRB5_KTNAME is not set)")
    kind, sep, rest = keytab.partition(":")
    if sep and kind.isalpha() and len(kind) > 1:
        if kind.upper() not in ("FILE", "WRFILE"):
            return keytab  # MEMORY:, KEYRING:, ... -- nothing to check on disk
        path = rest
    else:
        path = keytab
    if not os.path.exists(path):
        raise NoCredentials(f"acceptor keytab {path}: does not exist", keytab=path)
    if not os.path.isfile(path):
        raise NoCredentials(f"acceptor keytab {path}: is not a regular file", keytab=path)
    try:
        with open(path, "rb") as f:
            head = f.read(2)
    except OSError as e:
        raise NoCredentials(
            f"acceptor keytab {path}: cannot be read: {e.strerror}", keytab=path
        ) from None
    if not head:
        raise NoCredentials(f"acceptor keytab {path}: is empty", keytab=path)
    if head not in _KEYTAB_MAGIC:
        raise NoCredentials(
            f"acceptor keytab {path}: is not a keytab (bad header {head!r})", keytab=path
        )
    return keytab


def _service_name(service: str) -> gssapi.Name:
    # "HTTP@host" is a host-based service name; "HTTP/host[@REALM]" a principal.
    if "/" in service:
        return gssapi.Name(service, gssapi.NameType.kerberos_principal)
    return gssapi.Name(service, gssapi.NameType.hostbased_service)


def _canonical(name: gssapi.Name) -> str:
    return str(name.canonicalize(gssapi.MechType.kerberos))


def _b64(token: bytes | None) -> str | None:
    return base64.b64encode(token).decode("ascii") if token else None


def _reason(error: gssapi.exceptions.GSSError) -> str:
    if isinstance(error, gssapi.exceptions.DuplicateTokenError):
        return "replay"
    if isinstance(
        error, gssapi.exceptions.ExpiredTokenError | gssapi.exceptions.ExpiredCredentialsError
    ):
        return "expired"
    if isinstance(error, gssapi.exceptions.InvalidTokenError | gssapi.exceptions.BadMechanismError):
        return "malformed"
    text = _gss_message(error).lower()
    for needle, reason in _REASONS:
        if needle in text:
            return reason
    return "rejected"


def _gss_message(error: gssapi.exceptions.GSSError) -> str:
    try:
        return error.gen_message()
    except Exception:  # pragma: no cover - message generation itself failed
        return repr(error)


def accept(
    authorization_header_value: str, keytab: str | None, service: str | None = None
) -> Accepted:
    """Accept one SPNEGO token from an ``Authorization: Negotiate ...`` header.

    ``keytab`` is a file path (or ``FILE:path``; empty -> ``$KRB5_KTNAME``).
    ``service`` (``"HTTP@host"`` or ``"HTTP/host@REALM"``) restricts which
    key may be used *and* checks the ticket was issued for that principal --
    with ``ignore_acceptor_hostname`` any key in the keytab would otherwise do.
    Without ``service`` any principal in the keytab is accepted.

    Raises :class:`NoCredentials` or :class:`BadToken`; never anything else
    for bad input.
    """
    token = _parse_header(authorization_header_value)
    keytab = _check_keytab(keytab)

    try:
        name = _service_name(service) if service else None
    except gssapi.exceptions.GSSError as e:
        raise NoCredentials(
            f"acceptor service name {service!r} is invalid: {_gss_message(e)}", keytab
        ) from None
    try:
        creds = gssapi.Credentials(name=name, usage="accept", store={"keytab": keytab})
    except gssapi.exceptions.GSSError as e:
        raise NoCredentials(
            f"acceptor keytab {keytab}: no usable key: {_gss_message(e)}", keytab=keytab
        ) from None

    ctx = gssapi.SecurityContext(creds=creds, usage="accept")
    # python-gssapi otherwise swallows an error that comes with an error token
    # (e.g. a SPNEGO reject wrapping KRB-ERROR "ticket not found in keytab"),
    # returns the token and leaves the context silently incomplete.
    ctx.__DEFER_STEP_ERRORS__ = False
    try:
        out = ctx.step(token)
    except gssapi.exceptions.MissingCredentialsError as e:
        # The keytab went away (or lost its keys) after the credentials were acquired.
        raise NoCredentials(f"acceptor keytab {keytab}: {_gss_message(e)}", keytab=keytab) from None
    except gssapi.exceptions.GSSError as e:
        raise BadToken(
            f"Kerberos rejected the token: {_gss_message(e)}",
            reason=_reason(e),
            token=_b64(getattr(e, "token", None)),
        ) from None

    if not ctx.complete:
        return Accepted(principal=None, user=None, realm=None, token=_b64(out), complete=False)

    try:
        principal = str(ctx.initiator_name)
        target = str(ctx.target_name)
        flags = ctx.actual_flags
    except gssapi.exceptions.GSSError as e:
        raise BadToken(f"Kerberos context unusable: {_gss_message(e)}", reason=_reason(e)) from None

    if gssapi.RequirementFlag.anonymity in flags or principal == _ANONYMOUS:
        raise BadToken("anonymous Kerberos tickets are not accepted", reason="anonymous")
    if service:
        wanted = _canonical(name)
        if target != wanted:
            raise BadToken(f"ticket is for {target}, not {wanted}", reason="wrong-service")
    user, realm = split_principal(principal)
    if not user or not realm:
        raise BadToken(f"initiator name {principal!r} is not user@REALM", reason="rejected")
    return Accepted(principal=principal, user=user, realm=realm, token=_b64(out), complete=True)
