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
    "tests.fixtures.fresh_machine",
    "tests.fixtures.accounts",
]

# CI machines are slow and shared: no per-example deadline there, and say how to reproduce.
settings.register_profile("ci", deadline=None, print_blob=True)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")


# The tests that take minutes, started first, longest first: `make test` runs the suite on
# several processes (pytest-xdist, --dist loadgroup: with no xdist_group marks, each test is
# handed out alone, in this order, as a process becomes free), so none of these is left
# running alone at the end.
STARTED_FIRST = (
    "tests/test_fresh_machine.py",  # make run and make test in a Debian root
    "tests/security/test_ini_fuzz.py::test_generated_files_through_the_store",  # 2,000 files
    "tests/security/test_ini_fuzz.py",  # 500 through the API, 50 through `poms import-ini`
    "tests/e2e/",  # whole campaigns with real workers
)


def _started_first(item) -> int:
    for rank, prefix in enumerate(STARTED_FIRST):
        if item.nodeid.startswith(prefix):
            return rank
    return len(STARTED_FIRST)


def pytest_collection_modifyitems(config, items):
    items.sort(key=_started_first)  # stable: the rest keep their order
    _keep_database_tests_on_postgresql(config, items)


def _keep_database_tests_on_postgresql(config, items):
    """On the PostgreSQL run (POMS_TEST_DATABASE=postgresql) keep the tests that touch the
    app's database (every fixture that makes one goes through new_database: app, make_app,
    launch_app, so launching, tracking, chaining and the API's submissions run there too),
    or PostgreSQL itself; the others (browser-only, batch engines, parsers) would only
    repeat the SQLite run, word for word, and double CI's time."""
    if os.environ.get("POMS_TEST_DATABASE") != "postgresql":
        return
    kept, skipped = [], []
    for item in items:
        uses_db = "new_database" in getattr(item, "fixturenames", ())
        (kept if uses_db or item.get_closest_marker("postgres") else skipped).append(item)
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        items[:] = kept
