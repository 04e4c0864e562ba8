"""Split and recovery over 1,000,000 catalogue files (the embedded catalogue).

Prints `BENCH <name> <value> <unit>` lines:
  split_1m_files_s      nfiles(10000): the next slice half-way through a 1M-file dataset
                        (definition, count, snapshot of the slice, frozen definition)
  recovery_1m_files_s   consumed_status over a project of 1M files, 1% not consumed:
                        the list of files to recover, each with its reason
and, for context, the setup steps and a few other splits/recoveries.

POMS_BENCH_DATABASE_URL picks the database (a temporary SQLite file by default);
POMS_BENCH_FILES the number of files (1,000,000).
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, event, insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.catalog.embedded import EmbeddedCatalog  # noqa: E402
from app.catalog.recovery import SubmissionFacts, consumed_status, process_status  # noqa: E402
from app.catalog.splits import SplitState, next_slice  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models.catalog import (  # noqa: E402
    CatalogDefinition,
    CatalogDelivery,
    CatalogFile,
    CatalogFileParent,
    CatalogLocation,
    CatalogProcess,
    CatalogProject,
    CatalogSnapshot,
    CatalogSnapshotFile,
)

N = int(os.environ.get("POMS_BENCH_FILES", "1000000"))
EXPERIMENT = "bench"
T0 = datetime(2026, 1, 1)
TABLES = [m.__table__ for m in (CatalogFile, CatalogFileParent, CatalogLocation,
                                CatalogDefinition, CatalogSnapshot, CatalogSnapshotFile,
                                CatalogProject, CatalogProcess, CatalogDelivery)]


def bench(name: str, seconds: float, unit: str = "s") -> None:
    print(f"BENCH {name} {seconds:.3f} {unit}", flush=True)


def bulk_insert(session, table: str, columns: tuple, rows: list[tuple]) -> None:
    """executemany straight to the driver: benchmark setup at a million rows."""
    conn = session.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
           f"VALUES ({', '.join([mark] * len(columns))})")
    conn.exec_driver_sql(sql, rows)


_last_cpu = [0.0]


def timed(fn):
    """(result, wall seconds); the process CPU seconds are kept for cpu_bench."""
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    _last_cpu[0] = time.process_time() - cpu
    return result, time.perf_counter() - start


def cpu_bench(name: str) -> None:
    """The CPU this process spent on the last timed step (SQLite runs in-process): on a
    shared, loaded machine the wall time can be several times more."""
    bench(name, _last_cpu[0])


def main() -> int:
    tmp = tempfile.TemporaryDirectory()
    url = os.environ.get("POMS_BENCH_DATABASE_URL") or f"sqlite:///{tmp.name}/bench.db"
    if os.environ.get("POMS_BENCH_KEEP"):
        url = os.environ["POMS_BENCH_KEEP"]
    engine = create_engine(url)
    if url.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _pragmas(conn, _):
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
    db.metadata.drop_all(engine, tables=TABLES)
    db.metadata.create_all(engine, tables=TABLES)
    session = Session(engine)
    catalog = EmbeddedCatalog(session, EXPERIMENT)

    # --- 1M files, Core executemany in chunks ---
    def load_files():
        chunk = 50_000
        columns = ("experiment", "name", "size", "checksum", "metadata", "create_date",
                   "version", "run_number", "data_tier")
        for start in range(0, N, chunk):
            rows = [
                (EXPERIMENT, f"raw_{i:07d}.art", 1000 + i % 977, "",
                 json.dumps({"data_tier": "raw", "runs": [[1 + i // 1000, i % 1000,
                                                           "physics"]]}),
                 (T0 + timedelta(seconds=30 * i)).isoformat(" "), "v1", 1 + i // 1000, "raw")
                for i in range(start, min(start + chunk, N))
            ]
            bulk_insert(session, "catalog_file", columns, rows)
        session.commit()

    def load_files_then_index():
        # As a bulk loader does: the secondary indexes are built once, after the rows.
        indexes = list(CatalogFile.__table__.indexes)
        for index in indexes:
            index.drop(session.connection())
        load_files()
        for index in indexes:
            index.create(session.connection())
        session.commit()

    _, seconds = timed(load_files_then_index)
    bench("catalog_insert_1m_files_s", seconds)
    catalog.create_definition("ds", "data_tier raw")
    session.commit()

    # --- split: nfiles half-way ---
    half = {"slice": (N // 2) // 10_000, "files": N // 2}
    now = T0 + timedelta(days=400)
    got, seconds = timed(lambda: next_slice("nfiles(10000)", "ds", SplitState(half), catalog,
                                            now))
    session.commit()
    assert catalog.count_files(f"defname: {got.dataset}") == min(10_000, N - N // 2)
    bench("split_1m_files_s", seconds)
    cpu_bench("split_1m_files_cpu_s")

    _, seconds = timed(lambda: catalog.count_files("defname: ds"))
    bench("count_1m_files_s", seconds)

    drained, seconds = timed(lambda: next_slice("drainingn(10000)", "ds", SplitState(), catalog,
                                                now))
    session.commit()
    bench("split_drainingn_first_1m_files_s", seconds)
    _, seconds = timed(lambda: next_slice("drainingn(10000)", "ds", drained.state, catalog, now))
    session.commit()
    bench("split_drainingn_second_1m_files_s", seconds)
    _, seconds = timed(lambda: next_slice("byrun(low=500,high=600)", "ds", SplitState(),
                                          catalog, now))
    bench("split_byrun_1m_files_s", seconds)

    # --- a project over all of it: snapshot, 1,000 processes, deliveries ---
    _, seconds = timed(lambda: catalog.start_project("p1", "ds"))
    session.commit()
    bench("project_snapshot_1m_files_s", seconds)
    project_id = session.scalar(select(CatalogProject.id).where(CatalogProject.name == "p1"))
    procs = 1000
    session.execute(insert(CatalogProcess.__table__), [
        {"project_id": project_id, "description": f"job.{j}",
         "status": "bad" if j % 100 == 7 else "completed", "created": now}
        for j in range(procs)
    ])
    proc_ids = list(session.scalars(
        select(CatalogProcess.id).where(CatalogProcess.project_id == project_id)
        .order_by(CatalogProcess.id)))
    file_ids = list(session.scalars(select(CatalogFile.id).order_by(CatalogFile.id)))

    def load_deliveries():
        chunk = 50_000
        per_proc = max(N // procs, 1)
        columns = ("project_id", "process_id", "file_id", "status", "delivered_at",
                   "updated_at")
        stamp = now.isoformat(" ")
        for start in range(0, N, chunk):
            rows = [
                (project_id, proc_ids[min(i // per_proc, procs - 1)], file_ids[i],
                 "failed" if i % 200 == 5 else "consumed", stamp, stamp)
                for i in range(start, min(start + chunk, N))
                if i % 200 != 3  # 0.5% never delivered
            ]
            bulk_insert(session, "catalog_delivery", columns, rows)
        session.commit()

    def load_deliveries_then_index():
        indexes = list(CatalogDelivery.__table__.indexes)
        for index in indexes:
            index.drop(session.connection())
        load_deliveries()
        for index in indexes:
            index.create(session.connection())
        session.commit()

    _, seconds = timed(load_deliveries_then_index)
    bench("deliveries_insert_1m_files_s", seconds)

    facts = SubmissionFacts(project="p1", dataset="ds", software_version="v1",
                            output_file_patterns="%.root", created=now)
    recovery, seconds = timed(lambda: consumed_status(facts, catalog))
    assert recovery.count == N // 100, recovery.count
    bench("recovery_1m_files_s", seconds)
    cpu_bench("recovery_1m_files_cpu_s")
    recovery, seconds = timed(lambda: process_status(facts, catalog))
    bench("recovery_process_status_1m_files_s", seconds)
    session.close()
    engine.dispose()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
