"""The README's production recipe, run for real: gunicorn serving POMS over TLS in Kerberos
mode with the test realm's keytab, a browser-like client with a ticket, Secure cookies."""
from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import gssapi
import pytest
import requests
import requests_gssapi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

pytestmark = pytest.mark.kerberos

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tls_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for `localhost` (the host the ticket is for)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "tls.crt", directory / "tls.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def gunicorn_poms(kdc, tmp_path):
    env = {
        **os.environ,
        "POMS_AUTH": "kerberos",
        "POMS_KEYTAB": kdc.keytab,
        "POMS_REALMS": kdc.realm,
        "POMS_SERVICE_PRINCIPAL": "HTTP@localhost",
        "POMS_SECRET_KEY": "gunicorn-test",
        "POMS_DATABASE_URL": f"sqlite:///{tmp_path / 'poms.db'}",
        "POMS_UPLOADS_DIR": str(tmp_path / "uploads"),
        # Outside dev mode POMS starts only with a launch account (this test launches
        # nothing; tests/security launches as real ones).
        "POMS_LOCAL_LAUNCH_USER": "nobody",
        "POMS_LAUNCH_ACCOUNTS_DIR": str(tmp_path / "launch-accounts"),
    }
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    for args in (["db", "upgrade"], ["poms", "add-member", "mu2e", f"alice@{kdc.realm}",
                                      "superuser"]):
        done = subprocess.run([*flask, *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    cert, key = tls_certificate(tmp_path)
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "wb")
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--certfile", str(cert), "--keyfile", str(key), "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60  # a loaded CI machine is slow to start workers
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError((tmp_path / "gunicorn.log").read_text()) from None
            time.sleep(0.05)
    yield f"https://localhost:{port}", str(cert)
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    log.close()


def test_gunicorn_over_tls_signs_in_once_with_secure_cookies(gunicorn_poms, kdc):
    url, cert = gunicorn_poms
    http = requests.Session()
    http.trust_env = False
    http.verify = cert
    assert http.get(f"{url}/", timeout=30).status_code == 401

    http.auth = requests_gssapi.HTTPSPNEGOAuth(
        creds=gssapi.Credentials(usage="initiate", store={"ccache": kdc.kinit("alice")}),
        mutual_authentication=requests_gssapi.REQUIRED,
    )
    first = http.get(f"{url}/e/mu2e/campaigns", timeout=30)
    assert first.status_code == 200, first.text
    assert first.headers["WWW-Authenticate"].startswith("Negotiate ")
    cookie = first.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert first.headers["Strict-Transport-Security"].startswith("max-age=")

    # Two workers, one session: the cookie is signed with the shared POMS_SECRET_KEY.
    http.auth = None
    for _ in range(4):
        again = http.get(f"{url}/e/mu2e/members", timeout=30)
        assert again.status_code == 200
        assert "WWW-Authenticate" not in again.headers
