"""What the benchmarks share (a package, so `make bench` does not run it as a benchmark)."""
from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

# POMS_BENCH_DATABASES (sqlite,postgresql) picks the databases a benchmark measures.
DATABASES = os.environ.get("POMS_BENCH_DATABASES", "sqlite,postgresql").split(",")


def each_database(name: str, workdir: Path, measure: Callable[[str, str, Path], None]) -> int:
    """measure(kind, database_url, directory) on SQLite, then on a PostgreSQL started here
    (tests/fixtures/postgres.py), each with a directory of its own under `workdir` (not yet
    made). Returns the exit status: 1 when PostgreSQL could not be started, which is said
    on stderr after the SQLite figures, never skipped in silence."""
    from tests.fixtures.postgres import start_postgres_server

    if "sqlite" in DATABASES:
        measure("sqlite", f"sqlite:///{workdir / 'poms-sqlite.db'}", workdir / "sqlite")
    if "postgresql" in DATABASES:
        try:
            server = start_postgres_server()
        except BaseException as err:  # pytest's skip/fail outcomes are BaseExceptions
            if isinstance(err, KeyboardInterrupt):
                raise
            print(f"{name}: PostgreSQL could not be started ({err!r}); no _postgresql "
                  "figures", file=sys.stderr)
            return 1
        try:
            measure("postgresql", server.create_database("bench"), workdir / "postgresql")
        finally:
            server.stop()
    return 0
