"""Reading proxies and tokens: app.credentials.parse, no database, no Flask."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from app.credentials.parse import (
    CredentialError,
    check_usable,
    describe_time_left,
    needs_renewal,
    now_utc,
    parse_credential,
)
from tests.credentials import makers


def test_rfc_proxy_subject_issuer_and_expiry():
    parsed = parse_credential(makers.proxy(timedelta(days=10)))
    assert parsed.kind == "proxy"
    assert parsed.issuer == ("/DC=org/DC=cilogon/C=US/O=Fermi National Accelerator Lab"
                             "/CN=Alice Tester")
    assert parsed.subject.startswith(parsed.issuer + "/CN=")
    assert abs(parsed.expires - (now_utc() + timedelta(days=10))) < timedelta(minutes=1)
    assert parsed.details == {"certificates": 2}
    check_usable(parsed)
    assert not needs_renewal(parsed.expires)


def test_legacy_proxy_is_a_proxy():
    assert parse_credential(makers.proxy(style="legacy")).subject.endswith("/CN=proxy")


def test_proxy_expires_with_its_chain():
    parsed = parse_credential(makers.proxy(timedelta(days=30), user_valid_for=timedelta(days=3)))
    assert abs(parsed.expires - (now_utc() + timedelta(days=3))) < timedelta(minutes=1)
    assert needs_renewal(parsed.expires)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (lambda: makers.long_lived_certificate_and_key(), "is not a proxy"),
        (lambda: makers.long_lived_certificate_and_key(b"secret"), "protected by a passphrase"),
        (lambda: makers.proxy().split(b"-----BEGIN RSA PRIVATE KEY-----")[0], "no private key"),
        (lambda: makers.pem(makers.user_certificate()[1]) + makers.pem_key(makers.key()),
         "does not belong to the first certificate"),
        (lambda: b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n",
         "cannot be read"),
        (lambda: b"-----BEGIN CERTIFICATE-----\nMIIB", "no complete"),
        (lambda: b"", "the file is empty"),
        (lambda: b"   \n", "the file is empty"),
        (lambda: b"x" * 70000, "too large"),
        (lambda: b"\x89PNG\r\n\x1a\n\x00\x00", "not text"),
        (lambda: b"hello world", "neither a PEM proxy"),
        (lambda: b"a.b", "neither a PEM proxy"),
        (lambda: b"!!!.@@@.###", "neither a PEM proxy"),
        (lambda: b"bm90IGpzb24.e30.sig", "header is not base64url JSON"),
        (lambda: makers.token(exp=None).encode(), "has no expiry"),
        (lambda: makers.token(exp="tomorrow").encode(), "'exp' is not a number"),
        (lambda: makers.token(exp=True).encode(), "'exp' is not a number"),
        (lambda: makers.token(exp=10**20).encode(), "not a usable time"),
        (lambda: b"e30." + base64.urlsafe_b64encode(b"[1,2]").rstrip(b"=") + b".x",
         "payload is not a JSON object"),
    ],
)
def test_unparseable_files_are_refused_with_a_reason(data, message):
    with pytest.raises(CredentialError) as err:
        parse_credential(data())
    assert message in str(err.value)


def test_token_claims_and_expiry():
    text = makers.token(timedelta(days=2), sub="alice", iss="https://cilogon.org/mu2e")
    parsed = parse_credential(text.encode() + b"\n")  # files end with a newline
    assert (parsed.kind, parsed.subject, parsed.issuer) == (
        "token", "alice", "https://cilogon.org/mu2e")
    assert parsed.details["scope"].startswith("compute.create")
    assert needs_renewal(parsed.expires)
    assert describe_time_left(parsed.expires).endswith("hours left")
    assert parse_credential(b"Bearer " + text.encode()).subject == "alice"


def test_expired_credentials_are_refused():
    for data in (makers.proxy(timedelta(hours=-1), starts=timedelta(days=-2)),
                 makers.token(timedelta(seconds=-5)).encode()):
        parsed = parse_credential(data)
        with pytest.raises(CredentialError, match="expired on .* make a new one"):
            check_usable(parsed)


def test_not_yet_valid_token_is_refused():
    parsed = parse_credential(
        makers.token(nbf=int((makers.now() + timedelta(days=1)).timestamp())).encode())
    with pytest.raises(CredentialError, match="not valid before"):
        check_usable(parsed)


@pytest.mark.parametrize(
    ("left", "warn", "words"),
    [
        (timedelta(days=8), False, "8 days left"),
        (timedelta(days=6, hours=23), True, "6 days left"),
        (timedelta(hours=5, minutes=1), True, "5 hours left"),
        (timedelta(minutes=3, seconds=1), True, "3 minutes left"),
        (timedelta(seconds=-1), True, "expired"),
    ],
)
def test_renewal_warning_under_seven_days(left, warn, words):
    now = now_utc()
    assert needs_renewal(now + left, now) is warn
    assert describe_time_left(now + left, now) == words
