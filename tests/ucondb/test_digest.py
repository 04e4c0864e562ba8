"""The server side of Digest: stateless nonces and the writers list (HTTP in test_api.py)."""
from __future__ import annotations

import pytest

from app.ucondb import digest

SECRET = b"secret"


def test_a_nonce_is_good_for_its_realm_and_lifetime_only():
    nonce = digest.make_nonce(SECRET, "folder_a", now=1000)
    assert digest.nonce_state(SECRET, "folder_a", nonce, now=1000 + digest.NONCE_TTL) == "ok"
    assert digest.nonce_state(SECRET, "folder_a", nonce,
                              now=1001 + digest.NONCE_TTL) == "stale"
    assert digest.nonce_state(SECRET, "folder_b", nonce, now=1000) == "bad"
    assert digest.nonce_state(b"other secret", "folder_a", nonce, now=1000) == "bad"
    assert digest.nonce_state(SECRET, "folder_a", nonce, now=900) == "bad"  # from the future
    assert digest.nonce_state(SECRET, "folder_a", "garbage", now=1000) == "bad"


def test_the_challenge_offers_md5_with_qop_auth():
    header = digest.challenge(SECRET, 'f"x')
    assert header.startswith('Digest realm="f\\"x", nonce="')
    assert 'qop="auth", algorithm=MD5' in header and "stale" not in header
    assert digest.challenge(SECRET, "f", stale=True).endswith(", stale=true")


def test_writers_parse_and_malformed_entries_are_refused_without_showing_them():
    assert digest.parse_writers("a:pw1, b:p:w:2,") == {"a": "pw1", "b": "p:w:2"}
    assert digest.parse_writers("") == {}
    with pytest.raises(ValueError) as caught:
        digest.parse_writers("a:pw1,secretwithoutuser")
    assert "entry 2" in str(caught.value) and "secretwithoutuser" not in str(caught.value)


def test_verify_refuses_what_it_should():
    nonce = digest.make_nonce(SECRET, "f")
    base = dict(username="u", realm="f", nonce=nonce, uri="/x?a=1", qop="auth", nc="00000001",
                cnonce="c", response="0" * 32)
    kwargs = dict(method="POST", request_target="/x?a=1", realm="f", passwords={"u": "p"},
                  secret=SECRET)
    wrong = digest.verify(base, **kwargs)
    assert wrong.user is None and "wrong password for 'u'" in wrong.reason
    assert wrong.told == "wrong user name or password"  # what the client is told
    assert "realm" in digest.verify(base | {"realm": "g"}, **kwargs).reason
    assert "algorithm" in digest.verify(base | {"algorithm": "SHA-256"}, **kwargs).reason
    assert "qop" in digest.verify(base | {"qop": ""}, **kwargs).reason
    assert "not this request" in digest.verify(base | {"uri": "/y?a=1"}, **kwargs).reason
    assert "not a UconDB writer" in digest.verify(base | {"username": "v"}, **kwargs).reason
