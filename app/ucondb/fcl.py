"""FCL files into UconDB: what an FCL stage's `uploads` job does for each finished job.

    stored = store_fcl_files(client, "cnf.mu2e.tutorial.fcl", [Path("a.fcl"), ...])

The dataset's folder (dataset name with `.` -> `_`) is created when missing; each file is
stored as an object named, and keyed, by its file name, so storing it again with the same
bytes makes no new version (a retried upload is harmless) and storing other bytes under the
same name is refused (KeyConflict): an FCL file name means one content. The answer is, per
file, its folder, the UconDB version that holds it (for provenance) and its catalogue
location, `HOST:/<path to the API>/data/<folder>` (what `samweb
locate-file` answers for Mu2e's FCL files, e.g. dbdata0vm.fnal.gov:/mu2e_ucondb_prod/app/data/F);
a job fetches the file from `<API root>/data/<folder>/<file name>`.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from app.ucondb.client import UconDBClient
from app.ucondb.naming import check_object, folder_for_dataset


def store_fcl_files(client: UconDBClient, dataset: str, files: list[Path]) -> list[dict]:
    folder = folder_for_dataset(dataset)
    paths = [Path(f) for f in files]
    for path in paths:  # every name is checked before anything is written
        check_object(path.name)
    client.ensure_folder(folder)
    stored = []
    for path in paths:
        meta = client.put_data(folder, path.name, path.read_bytes(), key=path.name)
        stored.append({"folder": folder, "version": (meta or {}).get("id"),
                       "location": client.location(folder)})
    return stored


def file_url(location: str, file_name: str, base_url: str) -> str:
    """The URL a job fetches a file from, given its catalogue location and the API root the
    location was made with (its scheme and port are not in the location)."""
    host, sep, path = location.partition(":")
    base = urlsplit(base_url)
    if not sep or host != base.hostname:
        raise ValueError(f"location {location!r} is not on the UconDB server {base_url}")
    return f"{base.scheme}://{base.netloc}{path}/{file_name}"
