"""Real credentials made on the spot: a CA, a user certificate, RFC 3820 and legacy proxies
(with the `cryptography` package, as voms-proxy-init would lay them out), and JWT bearer
tokens shaped like SciTokens/WLCG ones (signature not checked by POMS, so random bytes)."""
from __future__ import annotations

import base64
import itertools
import json
import secrets
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

PROXY_CERT_INFO = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.14")
# ProxyCertInfo ::= SEQUENCE { proxyPolicy SEQUENCE { policyLanguage id-ppl-inheritAll } }
INHERIT_ALL = bytes.fromhex("300c300a06082b06010505071501")


def now() -> datetime:
    return datetime.now(UTC)


_KEYS: list = []
_next = itertools.count()


def key():
    """One of five RSA keys, in turn: making 2048-bit keys is the slow part, and no test
    needs more than three different keys at once."""
    if len(_KEYS) < 5:
        _KEYS.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        return _KEYS[-1]
    return _KEYS[next(_next) % len(_KEYS)]


def name(*parts: tuple) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in parts])


USER_DN = name(
    (NameOID.DOMAIN_COMPONENT, "org"), (NameOID.DOMAIN_COMPONENT, "cilogon"),
    (NameOID.COUNTRY_NAME, "US"), (NameOID.ORGANIZATION_NAME, "Fermi National Accelerator Lab"),
    (NameOID.COMMON_NAME, "Alice Tester"),
)


def _cert(subject, issuer, public_key, signing_key, start, end, extensions=()):
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(issuer).public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signing_key, hashes.SHA256())


def pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def pem_key(private_key, password: bytes | None = None) -> bytes:
    encryption = (serialization.BestAvailableEncryption(password) if password
                  else serialization.NoEncryption())
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, encryption
    )


def user_certificate(valid_for=timedelta(days=365)):
    ca_key = key()
    ca_name = name((NameOID.COMMON_NAME, "Test CA"))
    user_key = key()
    cert = _cert(USER_DN, ca_name, user_key.public_key(), ca_key,
                 now() - timedelta(days=1), now() + valid_for)
    return user_key, cert


def proxy(
    valid_for=timedelta(days=10),
    *,
    style: str = "rfc",
    user_valid_for=timedelta(days=365),
    starts=timedelta(minutes=-5),
) -> bytes:
    """A proxy file: proxy certificate, its key, the user certificate (voms-proxy-init's
    order). style: "rfc" (proxyCertInfo), "legacy" (CN=proxy)."""
    user_key, user_cert = user_certificate(user_valid_for)
    proxy_key = key()
    if style == "rfc":
        cn = str(secrets.randbelow(2**31))
        extensions = [(x509.UnrecognizedExtension(PROXY_CERT_INFO, INHERIT_ALL), True)]
    else:
        cn, extensions = "proxy", []
    subject = x509.Name([*USER_DN, x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = _cert(subject, USER_DN, proxy_key.public_key(), user_key,
                 now() + starts, now() + valid_for, extensions)
    return pem(cert) + pem_key(proxy_key) + pem(user_cert)


def long_lived_certificate_and_key(password: bytes | None = None) -> bytes:
    user_key, user_cert = user_certificate()
    return pem(user_cert) + pem_key(user_key, password)


def token(expires_in=timedelta(days=3), **claims) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    payload = {
        "iss": "https://cilogon.org/fermilab", "sub": "alice-uuid", "wlcg.ver": "1.0",
        "scope": "compute.create compute.read storage.read:/mu2e",
        "iat": int(now().timestamp()),
        "exp": int((now() + expires_in).timestamp()),
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    signature = base64.urlsafe_b64encode(secrets.token_bytes(64)).rstrip(b"=").decode()
    return f"{part({'alg': 'RS256', 'typ': 'JWT', 'kid': 'key1'})}.{part(payload)}.{signature}"
