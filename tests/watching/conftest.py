"""Real receivers for what watchers are sent: an SMTP server (aiosmtpd on loopback) and an
HTTP server standing in for a Mattermost/Slack incoming webhook; and the app on Redis."""
from __future__ import annotations

import json
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from tests.fixtures.redis_server import free_port


@pytest.fixture
def app(launch_app):
    """Pages here need Redis and the local engine: the app is launch_app."""
    return launch_app


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        mail = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, mail))
        return "250 OK"


@pytest.fixture
def smtp_server(launch_app):
    """Mail received on loopback; the app's POMS_SMTP_URL points at it."""
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    launch_app.config["POMS_SMTP_URL"] = f"smtp://127.0.0.1:{controller.port}"
    inbox.port = controller.port
    yield inbox
    controller.stop()


class Webhook:
    """Records each POST's JSON body; answers `fail_next` requests with a 500 first."""

    def __init__(self):
        self.bodies: list[dict] = []
        self.fail_next = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if hook.fail_next > 0:
                    hook.fail_next -= 1
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b"down for maintenance")
                    return
                hook.bodies.append(json.loads(data))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/poms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    hook = Webhook()
    yield hook
    hook.stop()


# The `poms` client against a live server (tests/client/conftest.py's fixtures).
from tests.client.conftest import client_env, dev_server, poms  # noqa: E402, F401
