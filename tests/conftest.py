"""Shared pytest setup. Fixture modules live in tests/fixtures/; list new ones here."""

import os

from hypothesis import settings

pytest_plugins = [
    "tests.fixtures.redis_server",
    "tests.fixtures.live_server",
    "tests.fixtures.browser",
    "tests.fixtures.app",
    "tests.fixtures.kdc",
    "tests.fixtures.launching",
    "tests.fixtures.sshd",
    "tests.fixtures.postgres",
    "tests.fixtures.htcondor_pool",
]

# CI machines are slow and shared: no per-example deadline there, and say how to reproduce.
settings.register_profile("ci", deadline=None, print_blob=True)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")
