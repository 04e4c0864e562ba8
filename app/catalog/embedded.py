"""The embedded catalogue: files, definitions, snapshots and projects in the POMS database.

    catalog = EmbeddedCatalog(db.session, "mu2e")
    catalog.declare_file("a.fcl", size=10, metadata={"version": "v1"}, parents=["in.art"])
    catalog.count_files("defname: mydata minus snapshot_id 3")

Writes are flushed, not committed: the caller owns the transaction (a worker commits its
unit of work; a test commits or rolls back). `declare_files` takes many files at once
through Core inserts, for job outputs and benchmarks.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import func, insert, literal, select, update

from app.catalog.base import Catalog, CatalogError, Delivery, NotFound
from app.catalog.dimensions import DimensionError, parse
from app.catalog.query import _RANK, count_query, file_query
from app.catalog.query import _status_rank as _rank_case
from app.models.base import utcnow
from app.models.catalog import (
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

FILE_STATUSES = ("delivered", "consumed", "failed", "skipped")
PROCESS_STATUSES = ("active", "completed", "bad")
_CHUNK = 500  # names per IN (...) list


def extracted_fields(metadata: dict) -> dict:
    """The metadata fields kept in indexed columns: version, run_number, data_tier.

    `runs` is SAM's list of [run, subrun, type]; its first run is the file's run_number.
    """
    version = metadata.get("version", metadata.get("application", {}).get("version")
                           if isinstance(metadata.get("application"), dict) else None)
    run = metadata.get("run_number")
    if run is None and metadata.get("runs"):
        first = metadata["runs"][0]
        run = first[0] if isinstance(first, list | tuple) else first
    try:
        run = int(run) if run is not None else None
    except (TypeError, ValueError):
        run = None
    tier = metadata.get("data_tier")
    return {
        "version": str(version) if version is not None else None,
        "run_number": run,
        "data_tier": str(tier) if tier is not None else None,
    }


def _chunks(items: list, size: int = _CHUNK):
    for i in range(0, len(items), size):
        yield items[i : i + size]


class EmbeddedCatalog(Catalog):
    kind = "embedded"

    def __init__(self, session, experiment: str):
        self.session = session
        self.experiment = experiment

    # --- helpers ---
    def _file(self, name: str) -> CatalogFile:
        found = self.session.scalar(
            select(CatalogFile).where(
                CatalogFile.experiment == self.experiment, CatalogFile.name == name
            )
        )
        if found is None:
            raise NotFound(f"no file named '{name}' in {self.experiment}")
        return found

    def _ids(self, names: Iterable[str]) -> dict[str, int]:
        names = list(dict.fromkeys(names))
        found: dict[str, int] = {}
        for chunk in _chunks(names):
            found.update(
                self.session.execute(
                    select(CatalogFile.name, CatalogFile.id).where(
                        CatalogFile.experiment == self.experiment, CatalogFile.name.in_(chunk)
                    )
                ).all()
            )
        missing = [n for n in names if n not in found]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise NotFound(f"no such file in {self.experiment}: {shown}")
        return found

    def _project(self, name: str) -> CatalogProject:
        found = self.session.scalar(
            select(CatalogProject).where(
                CatalogProject.experiment == self.experiment, CatalogProject.name == name
            )
        )
        if found is None:
            raise NotFound(f"no project named '{name}' in {self.experiment}")
        return found

    # --- files ---
    def declare_file(self, name, *, size=0, checksum="", metadata=None, parents=(),
                     create_date=None) -> None:
        self.declare_files(
            [
                {
                    "name": name,
                    "size": size,
                    "checksum": checksum,
                    "metadata": metadata or {},
                    "parents": list(parents),
                    "create_date": create_date,
                }
            ]
        )

    def declare_files(self, files: list[dict], *, looked_up: bool = False) -> dict[str, int]:
        """Declare many files: dicts with name and optional size, checksum, metadata,
        parents (names, declared before or earlier in this list), create_date. Returns
        each new file's id by name (from the INSERT itself: no second look-up).
        looked_up: the caller found none of the names declared in this transaction (job
        outputs: app/chaining/delivery.py), so they are not looked up again; the
        catalogue's unique name still refuses a name declared meanwhile."""
        if not files:
            return {}
        names = [f["name"] for f in files]
        if len(set(names)) != len(names):
            raise CatalogError("the same file name is declared twice")
        for name in names:
            if not name or "/" in name or len(name) > 255:
                raise CatalogError(f"'{name}' is not a file name (no '/', 1 to 255 characters)")
        existing = set()
        for chunk in [] if looked_up else _chunks(names):
            existing.update(
                self.session.scalars(
                    select(CatalogFile.name).where(
                        CatalogFile.experiment == self.experiment, CatalogFile.name.in_(chunk)
                    )
                )
            )
        if existing:
            raise CatalogError(
                f"already declared in {self.experiment}: {', '.join(sorted(existing)[:5])}"
            )
        now = utcnow()
        rows = []
        for f in files:
            metadata = dict(f.get("metadata") or {})
            rows.append(
                {
                    "experiment": self.experiment,
                    "name": f["name"],
                    "size": int(f.get("size") or 0),
                    "checksum": str(f.get("checksum") or ""),
                    "metadata": metadata,
                    "create_date": f.get("create_date") or now,
                    **extracted_fields(metadata),
                }
            )
        table = CatalogFile.__table__
        ids = dict(self.session.execute(insert(table).returning(table.c.name, table.c.id),
                                        rows).all())
        declared = dict(ids)
        parent_names = {p for f in files for p in f.get("parents") or ()}
        if parent_names:
            ids.update(self._ids(parent_names - set(ids)))
            links = [
                {"child_id": ids[f["name"]], "parent_id": ids[p]}
                for f in files
                for p in dict.fromkeys(f.get("parents") or ())
            ]
            self.session.execute(insert(CatalogFileParent.__table__), links)
        self.session.flush()
        return declared

    def add_location(self, name: str, location: str) -> None:
        location = (location or "").strip()
        if not location:
            raise CatalogError("a location cannot be empty")
        file = self._file(name)
        exists = self.session.scalar(
            select(CatalogLocation.id).where(
                CatalogLocation.file_id == file.id, CatalogLocation.location == location
            )
        )
        if exists is None:
            self.session.add(CatalogLocation(file_id=file.id, location=location))
            self.session.flush()

    def locate(self, name: str) -> list[str]:
        file = self._file(name)
        return list(
            self.session.scalars(
                select(CatalogLocation.location)
                .where(CatalogLocation.file_id == file.id)
                .order_by(CatalogLocation.id)
            )
        )

    def get_metadata(self, name: str) -> dict:
        file = self._file(name)
        parents = self.session.scalars(
            select(CatalogFile.name)
            .join(CatalogFileParent, CatalogFileParent.parent_id == CatalogFile.id)
            .where(CatalogFileParent.child_id == file.id)
            .order_by(CatalogFile.name)
        )
        return {
            **file.file_metadata,
            "file_name": file.name,
            "file_id": file.id,
            "file_size": file.size,
            "checksum": [file.checksum] if file.checksum else [],
            "create_date": file.create_date.isoformat() + "+00:00",
            "parents": [{"file_name": p} for p in parents],
        }

    def parents(self, name: str) -> list[str]:
        return [p["file_name"] for p in self.get_metadata(name)["parents"]]

    def children(self, name: str) -> list[str]:
        file = self._file(name)
        return list(
            self.session.scalars(
                select(CatalogFile.name)
                .join(CatalogFileParent, CatalogFileParent.child_id == CatalogFile.id)
                .where(CatalogFileParent.parent_id == file.id)
                .order_by(CatalogFile.id)
            )
        )

    # --- queries ---
    def count_files(self, dims: str) -> int:
        return self.session.scalar(count_query(self.session, self.experiment, dims))

    def list_files(self, dims: str) -> list[str]:
        return list(self.session.scalars(file_query(self.session, self.experiment, dims)))

    def list_files_with(self, dims: str, *columns) -> list[tuple]:
        """Rows of the given CatalogFile columns for the selected files, in id order."""
        return [tuple(r) for r in self.session.execute(
            file_query(self.session, self.experiment, dims, columns=columns)
        )]

    def list_files_located(self, dims: str) -> dict[str, str]:
        """Each selected file's first location ("" for none), in id order: one query, a
        join (a dependent stage's 100,000 inputs; a correlated `ORDER BY id LIMIT 1` per
        file made PostgreSQL walk catalog_location's primary key for each)."""
        files = file_query(self.session, self.experiment, dims,
                           columns=(CatalogFile.id, CatalogFile.name)).subquery()
        rows = self.session.execute(
            select(files.c.name, CatalogLocation.location)
            .outerjoin(CatalogLocation, CatalogLocation.file_id == files.c.id)
            .order_by(files.c.id, CatalogLocation.id))
        out: dict[str, str] = {}
        for name, where in rows:
            out.setdefault(name, where or "")
        return out

    def frozen_dims(self, dims: str) -> str:
        """The selected files as file_id ranges: short however many files there are."""
        ids = list(self.session.scalars(
            file_query(self.session, self.experiment, dims, columns=(CatalogFile.id,))
        ))
        if not ids:
            return "file_id 0"
        ranges, start, prev = [], ids[0], ids[0]
        for i in ids[1:]:
            if i != prev + 1:
                ranges.append(f"{start}-{prev}" if prev > start else str(start))
                start = i
            prev = i
        ranges.append(f"{start}-{prev}" if prev > start else str(start))
        return "file_id " + ",".join(ranges)

    # --- definitions and snapshots ---
    def create_definition(self, name: str, dims: str) -> None:
        if not name or len(name) > 255 or any(c.isspace() for c in name):
            raise CatalogError(f"'{name}' is not a definition name (no spaces, 1 to 255 long)")
        parse(dims)  # refuse what does not read, with the reason
        found = self.session.scalar(
            select(CatalogDefinition).where(
                CatalogDefinition.experiment == self.experiment, CatalogDefinition.name == name
            )
        )
        if found is None:
            self.session.add(
                CatalogDefinition(experiment=self.experiment, name=name, dimensions=dims)
            )
        else:
            found.dimensions = dims
        self.session.flush()

    def create_list_definition(self, name: str, files: list[str]) -> None:
        """An explicit file list: kept as a snapshot, the definition is `snapshot_id N`."""
        if not files:
            raise CatalogError(f"definition '{name}': an explicit list needs files")
        ids = self._ids(files)
        snapshot_id = self._snapshot_of_ids(name, [ids[f] for f in dict.fromkeys(files)])
        self.create_definition(name, f"snapshot_id {snapshot_id}")

    def create_frozen_definition(self, name: str, dims: str) -> int:
        """As create_list_definition over the files `dims` selects, in the database (INSERT
        ... SELECT): a dependent stage's 100,000 inputs never pass through Python."""
        query = file_query(self.session, self.experiment, dims, columns=(CatalogFile.id,))
        snapshot_id = self._snapshot_of_ids(name, None, query=query.subquery())
        snapshot = self.session.get(CatalogSnapshot, snapshot_id)
        if not snapshot.file_count:
            self.session.delete(snapshot)
            self.session.flush()
            return 0
        self.create_definition(name, f"snapshot_id {snapshot_id}")
        return snapshot.file_count

    def definition_dimensions(self, name: str) -> str:
        dims = self.session.scalar(
            select(CatalogDefinition.dimensions).where(
                CatalogDefinition.experiment == self.experiment, CatalogDefinition.name == name
            )
        )
        if dims is None:
            raise NotFound(f"no definition named '{name}' in {self.experiment}")
        return dims

    def definitions(self) -> list[tuple[str, str]]:
        return [tuple(r) for r in self.session.execute(
            select(CatalogDefinition.name, CatalogDefinition.dimensions)
            .where(CatalogDefinition.experiment == self.experiment)
            .order_by(CatalogDefinition.name)
        )]

    def _snapshot_of_ids(self, defname: str, ids: list[int] | None, query=None) -> int:
        snapshot = CatalogSnapshot(experiment=self.experiment, definition_name=defname)
        self.session.add(snapshot)
        self.session.flush()
        table = CatalogSnapshotFile.__table__
        if query is not None:
            # INSERT ... SELECT: a million files never pass through Python.
            self.session.execute(
                table.insert().from_select(
                    ["snapshot_id", "file_id"],
                    select(literal(snapshot.id), query.c.id),
                )
            )
        else:
            self.session.execute(
                insert(table), [{"snapshot_id": snapshot.id, "file_id": i} for i in ids]
            )
        snapshot.file_count = self.session.scalar(
            select(func.count()).where(CatalogSnapshotFile.snapshot_id == snapshot.id)
        )
        self.session.flush()
        return snapshot.id

    def take_snapshot(self, defname: str) -> int:
        dims = self.definition_dimensions(defname)
        query = file_query(self.session, self.experiment, dims, columns=(CatalogFile.id,))
        return self._snapshot_of_ids(defname, None, query=query.subquery())

    def snapshot_files(self, snapshot_id: int) -> list[str]:
        return self.list_files(f"snapshot_id {int(snapshot_id)}")

    # --- projects ---
    def start_project(self, project: str, defname: str) -> int:
        """Start a project over a definition: its files are snapshotted now."""
        exists = self.session.scalar(
            select(CatalogProject.id).where(
                CatalogProject.experiment == self.experiment, CatalogProject.name == project
            )
        )
        if exists is not None:
            raise CatalogError(f"project '{project}' exists already in {self.experiment}")
        dims = self.definition_dimensions(defname)
        frozen = re.fullmatch(r"snapshot_id (\d+)", dims.strip())
        # A list definition is a snapshot already (create_list_definition): the project
        # shares it rather than copying a dependent stage's 100,000 rows.
        if frozen and self.session.get(CatalogSnapshot, int(frozen.group(1))) is not None:
            snapshot_id = int(frozen.group(1))
        else:
            snapshot_id = self.take_snapshot(defname)
        self.session.add(
            CatalogProject(
                experiment=self.experiment,
                name=project,
                definition_name=defname,
                snapshot_id=snapshot_id,
            )
        )
        self.session.flush()
        return snapshot_id

    def _process(self, project: CatalogProject, description: str, create=True):
        process = self.session.scalar(
            select(CatalogProcess).where(
                CatalogProcess.project_id == project.id,
                CatalogProcess.description == description,
            )
        )
        if process is None and create:
            process = CatalogProcess(project_id=project.id, description=description)
            self.session.add(process)
            self.session.flush()
        if process is None:
            raise NotFound(f"project '{project.name}' has no process '{description}'")
        return process

    def deliver(self, project: str, process: str, file_name: str) -> None:
        proj = self._project(project)
        if proj.status != "running":
            raise CatalogError(f"project '{project}' has ended")
        proc = self._process(proj, process)
        file_id = self._ids([file_name])[file_name]
        in_snapshot = self.session.scalar(
            select(CatalogSnapshotFile.file_id).where(
                CatalogSnapshotFile.snapshot_id == proj.snapshot_id,
                CatalogSnapshotFile.file_id == file_id,
            )
        )
        if in_snapshot is None:
            raise CatalogError(f"'{file_name}' is not in project '{project}'s snapshot")
        exists = self.session.scalar(
            select(CatalogDelivery.id).where(
                CatalogDelivery.process_id == proc.id, CatalogDelivery.file_id == file_id
            )
        )
        if exists is None:
            self.session.add(
                CatalogDelivery(project_id=proj.id, process_id=proc.id, file_id=file_id)
            )
            self.session.flush()

    def set_file_status(self, project: str, process: str, file_name: str, status: str) -> None:
        if status == "completed":
            status = "consumed"
        if status not in FILE_STATUSES:
            raise CatalogError(f"'{status}' is not a file status ({', '.join(FILE_STATUSES)})")
        proj = self._project(project)
        proc = self._process(proj, process, create=False)
        file_id = self._ids([file_name])[file_name]
        result = self.session.execute(
            update(CatalogDelivery)
            .where(CatalogDelivery.process_id == proc.id, CatalogDelivery.file_id == file_id)
            .values(status=status, updated_at=utcnow())
        )
        if result.rowcount == 0:
            raise CatalogError(f"'{file_name}' was never delivered to '{process}' in '{project}'")
        self.session.flush()

    def end_process(self, project: str, process: str, status: str = "completed") -> None:
        if status not in PROCESS_STATUSES:
            raise CatalogError(
                f"'{status}' is not a process status ({', '.join(PROCESS_STATUSES)})"
            )
        proc = self._process(self._project(project), process)
        proc.status = status
        proc.ended = utcnow()
        self.session.flush()

    def end_project(self, project: str) -> None:
        proj = self._project(project)
        proj.status = "completed"
        proj.ended = utcnow()
        self.session.flush()

    def project_summary(self, project: str) -> dict:
        proj = self._project(project)
        D = CatalogDelivery
        per_file = (
            select(D.file_id, func.max(_rank_case(D.status)).label("rank"))
            .where(D.project_id == proj.id)
            .group_by(D.file_id)
            .subquery()
        )
        by_rank = dict(
            self.session.execute(
                select(per_file.c.rank, func.count()).group_by(per_file.c.rank)
            ).all()
        )
        names = {v: k for k, v in _RANK.items()}
        file_counts = {s: 0 for s in FILE_STATUSES}
        for rank, n in by_rank.items():
            file_counts[names.get(rank, "delivered")] += n
        in_snapshot = self.session.scalar(
            select(CatalogSnapshot.file_count).where(CatalogSnapshot.id == proj.snapshot_id)
        ) or 0
        file_counts["not_delivered"] = in_snapshot - sum(by_rank.values())
        process_counts = {s: 0 for s in PROCESS_STATUSES}
        process_counts.update(
            self.session.execute(
                select(CatalogProcess.status, func.count())
                .where(CatalogProcess.project_id == proj.id)
                .group_by(CatalogProcess.status)
            ).all()
        )
        return {
            "project_name": proj.name,
            "project_status": proj.status,
            "dataset_def_name": proj.definition_name,
            "snapshot_id": proj.snapshot_id,
            "files_in_snapshot": in_snapshot,
            "file_counts": file_counts,
            "process_counts": process_counts,
            "tot_consumed": file_counts["consumed"],
            "tot_failed": file_counts["failed"],
            "tot_skipped": file_counts["skipped"],
            "tot_delivered": file_counts["delivered"],
            "tot_unknown": file_counts["not_delivered"],
            "tot_jobs": sum(process_counts.values()),
            "tot_jobfails": process_counts["bad"],
        }

    def recovery_dimensions(self, project: str, useprocess: bool = False) -> str:
        self._project(project)
        done = "consumed_status consumed"
        if useprocess:
            done += " and process_status completed"
        dims = (
            f"snapshot_for_project_name {project} minus (project_name {project} and {done})"
        )
        return dims if self.count_files(dims) else ""

    def deliveries(self, project: str, names: list[str]) -> dict[str, Delivery]:
        """Per file: its best status in the project and the process that got it last."""
        proj = self._project(project)
        out = {n: Delivery(n, "not delivered") for n in names}
        for chunk in _chunks(list(names)):
            # By file first (the names' index), then their deliveries (the file_id index):
            # a project may hold a million deliveries, the chunk only 500 files.
            ids = dict(
                self.session.execute(
                    select(CatalogFile.id, CatalogFile.name).where(
                        CatalogFile.experiment == self.experiment, CatalogFile.name.in_(chunk)
                    )
                ).all()
            )
            if not ids:
                continue
            found = self.session.execute(
                select(
                    CatalogDelivery.file_id,
                    CatalogDelivery.status,
                    CatalogProcess.description,
                    CatalogProcess.status,
                    CatalogDelivery.id,
                )
                .join(CatalogProcess, CatalogProcess.id == CatalogDelivery.process_id)
                .where(CatalogDelivery.file_id.in_(list(ids)))
                .where(CatalogDelivery.project_id + 0 == proj.id)  # + 0: use the file index
                .order_by(CatalogDelivery.id)
            ).all()
            rows = [(ids[file_id], *rest) for file_id, *rest in found]
            for name, status, process, pstatus, _ in rows:
                current = out[name]
                if current.status == "not delivered" or _RANK[status] >= _RANK.get(
                    current.status, 0
                ):
                    out[name] = Delivery(name, status, process, pstatus)
        return out


def check_dimensions(dims: str) -> str | None:
    """None when the dimensions read, else the reason (for forms)."""
    try:
        parse(dims)
    except DimensionError as err:
        return str(err)
    return None


__all__ = ["EmbeddedCatalog", "check_dimensions", "extracted_fields"]
