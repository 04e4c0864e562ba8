"""HTTP Digest authentication, server side (RFC 7616 with MD5, as UconDB's RFC 2617 code).

UconDB authenticates writes with Digest: realm = the folder's name, `qop="auth"`,
`algorithm=MD5`. Clients (requests.auth.HTTPDigestAuth, curl --digest) send the request, get
a 401 with a challenge, and send it again with

    response = MD5( MD5(user:realm:password) : nonce : nc : cnonce : qop : MD5(method:uri) )

Nonces are stateless: `<unix time>.<HMAC-SHA256(secret, time:realm) truncated>`, so any
worker process of the service can check a nonce another one issued, and nothing is stored.
A nonce is good for NONCE_TTL seconds; an older one with a correct answer gets a fresh
challenge with `stale=true` (clients retry without asking for the password again).
What this does not do: remember which (nonce, nc) pairs were seen, so an eavesdropper could
replay a captured request within the nonce's lifetime. Writes are idempotent (same key, same
content: no new version) and Digest does not protect the body anyway: run it behind TLS,
as Fermilab's server is.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

NONCE_TTL = 300  # seconds
_CLOCK_SLACK = 5  # a nonce from a few seconds in the future (another worker's clock) is fine


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324 (Digest's MD5)


def _signature(secret: bytes, stamp: str, realm: str) -> str:
    return hmac.new(secret, f"{stamp}:{realm}".encode(), hashlib.sha256).hexdigest()[:32]


def make_nonce(secret: bytes, realm: str, now: float | None = None) -> str:
    stamp = str(int(time.time() if now is None else now))
    return f"{stamp}.{_signature(secret, stamp, realm)}"


def nonce_state(secret: bytes, realm: str, nonce: str, now: float | None = None) -> str:
    """'ok', 'stale' (ours, but too old) or 'bad' (not ours, or for another realm)."""
    stamp, _, signature = (nonce or "").partition(".")
    if not stamp.isdigit() or not hmac.compare_digest(
        signature.encode(), _signature(secret, stamp, realm).encode()
    ):
        return "bad"
    age = (time.time() if now is None else now) - int(stamp)
    if age < -_CLOCK_SLACK:
        return "bad"
    return "stale" if age > NONCE_TTL else "ok"


def challenge(secret: bytes, realm: str, stale: bool = False) -> str:
    """The WWW-Authenticate value of a 401."""
    quoted = realm.replace("\\", "\\\\").replace('"', '\\"')
    header = (
        f'Digest realm="{quoted}", nonce="{make_nonce(secret, realm)}", '
        'qop="auth", algorithm=MD5'
    )
    return header + (", stale=true" if stale else "")


WRONG_CREDENTIALS = "wrong user name or password"


@dataclass
class Outcome:
    user: str | None  # who, when the answer was right
    stale: bool = False  # right password, old nonce: challenge again with stale=true
    reason: str = ""  # why not, for the log
    told: str = ""  # why not, for the 401's body (never which of user or password was wrong)

    def __post_init__(self):
        self.told = self.told or self.reason


def _same_target(signed_uri: str, request_target: str) -> bool:
    """The uri the client signed names this request (a proxy may add a path prefix)."""
    signed, actual = urlsplit(signed_uri), urlsplit(request_target)
    return unquote(signed.path).endswith(unquote(actual.path)) and signed.query == actual.query


def verify(
    params: dict, *, method: str, request_target: str, realm: str,
    passwords: dict[str, str], secret: bytes, now: float | None = None,
) -> Outcome:
    """Check a parsed `Authorization: Digest ...` header (its parameters as a dict)."""
    get = {k.lower(): v for k, v in params.items()}.get
    user = get("username")
    if not user:
        return Outcome(None, reason="no Digest credentials")
    if get("realm") != realm:
        return Outcome(None, reason=f"credentials are for realm {get('realm')!r}, not {realm!r}")
    if (get("algorithm") or "MD5").upper() != "MD5":
        return Outcome(None, reason=f"algorithm {get('algorithm')!r} is not offered (MD5)")
    if get("qop") != "auth" or not get("nc") or not get("cnonce"):
        return Outcome(None, reason='qop="auth" with nc and cnonce is required')
    uri = get("uri") or ""
    if not _same_target(uri, request_target):
        return Outcome(None, reason=f"the signed uri {uri!r} is not this request")
    state = nonce_state(secret, realm, get("nonce") or "", now)
    if state == "bad":
        return Outcome(None, reason="the nonce was not issued here")
    password = passwords.get(user)
    if password is None:
        return Outcome(None, reason=f"{user!r} is not a UconDB writer here",
                       told=WRONG_CREDENTIALS)
    ha1 = _md5(f"{user}:{realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    expected = _md5(f"{ha1}:{get('nonce')}:{get('nc')}:{get('cnonce')}:auth:{ha2}")
    if not hmac.compare_digest(expected, (get("response") or "").lower()):
        return Outcome(None, reason=f"wrong password for {user!r}", told=WRONG_CREDENTIALS)
    if state == "stale":
        return Outcome(None, stale=True, reason="the nonce is too old")
    return Outcome(user)


def parse_writers(spec: str) -> dict[str, str]:
    """`user:password,user2:password2` -> {user: password}; a malformed entry is refused."""
    writers = {}
    for number, entry in enumerate((spec or "").split(","), 1):
        entry = entry.strip()
        if not entry:
            continue
        user, sep, password = entry.partition(":")
        if not sep or not user.strip() or not password:
            # Say which entry, never what it holds: it may be a password.
            raise ValueError(f"POMS_UCONDB_WRITERS entry {number} is not user:password")
        writers[user.strip()] = password
    return writers
