"""A job's files on the local engine: what it was given, what it consumed, what it made.

The embedded stand-in for what SAM's project and ifdh do on the grid (imports nothing of
the app: the job wrapper and fife_launch run it without Flask):

  poms_inputs.json  written by POMS in the launch's work directory before the launch runs
                    (app/chaining/delivery.py): the submission's input files, each with
                    the catalogue location to fetch it from. fife_launch hands its path to
                    the jobs (POMS_INPUT_LIST) and, with [submit] n_files_per_job, sets
                    the number of jobs from the file count as the real fife_launch does
                    from `samweb count-files`.
  job share         job PROCESS of POMS_NJOBS takes files PROCESS, PROCESS+N, ... (what
                    SAM would deliver to it), fetched into $CONDOR_DIR_INPUT; the job sees
                    POMS_INPUT_FILE (the first) and POMS_INPUT_FILES (all, space-separated)
  poms_job.json     the job's report in its work directory: the inputs it was given, its
                    exit status, and its outputs (name, size, checksum, location). Written
                    before the program runs (so a job killed half-way still says what it
                    was given) and again at the end. POMS reads it when the job has ended
                    and records deliveries, consumption and outputs in the catalogue.
"""
from __future__ import annotations

import json
import os
import shutil
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

INPUT_LIST = "poms_inputs.json"
MANIFEST = "poms_job.json"


def write_json_atomic(path: Path, data, indent: int | None = 1) -> None:
    """`data` in `path`, whole or not at all (readers never see half a file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=indent))
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # half a file: it would only fill the disk further
        raise


def read_input_list(path: str | Path) -> list[dict]:
    data = json.loads(Path(path).read_text())
    return list(data.get("files", []))


def find_input_list(environ, cwd: Path | None = None) -> Path | None:
    """The launch's input list: POMS_INPUT_LIST, else poms_inputs.json where the launch runs."""
    named = environ.get("POMS_INPUT_LIST")
    if named and Path(named).is_file():
        return Path(named).resolve()
    here = (cwd or Path.cwd()) / INPUT_LIST
    return here.resolve() if here.is_file() else None


def share(files: list, process: int, njobs: int) -> list:
    """The files job `process` of `njobs` takes."""
    njobs = max(1, njobs)
    return files[process::njobs] if 0 <= process < njobs else []


def adler32(path: Path) -> str:
    value = 1
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            value = zlib.adler32(chunk, value)
    return f"adler32:{value & 0xffffffff:08x}"


def ucondb_file_url(location: str, name: str, base_url: str | None) -> str | None:
    """The URL of a file whose catalogue location is a UconDB folder, `HOST:/<database>/app/
    data/<folder>`, on the UconDB server at base_url (POMS_UCONDB_URL); None when the
    location is not on that server. (app/ucondb/fcl.py file_url, without the app.)"""
    host, sep, path = location.partition(":")
    if not base_url or not sep or not path.startswith("/") or "/" in host:
        return None
    base = urllib.parse.urlsplit(base_url)
    if host != base.hostname:
        return None
    return f"{base.scheme}://{base.netloc}{path}/{urllib.parse.quote(name, safe='')}"


def fetch(entry: dict, directory: Path, ucondb_url: str | None = None) -> Path:
    """Copy one input file from its location into `directory` (as ifdh cp would); a
    UconDB location is read over HTTP from the server at ucondb_url."""
    name, location = entry["name"], (entry.get("location") or "")
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    from_ucondb = ucondb_file_url(location, name, ucondb_url)
    if from_ucondb:
        with urllib.request.urlopen(from_ucondb, timeout=60) as answer, \
                open(target, "wb") as out:
            shutil.copyfileobj(answer, out)
        print(f"fetched {name} from {from_ucondb}", flush=True)
        return target
    if location.startswith(("http://", "https://")):
        url = location.rstrip("/") + "/" + name
        with urllib.request.urlopen(url, timeout=30) as answer, open(target, "wb") as out:
            shutil.copyfileobj(answer, out)
        return target
    if location.startswith("file://"):
        location = location[len("file://"):]
    source = Path(location) / name
    if not location or not source.is_file():
        raise FileNotFoundError(f"{name}: not found at location {location or '(none)'}")
    shutil.copy2(source, target)
    return target


def take_inputs(environ: dict, workdir: Path) -> tuple[list[str], dict[str, str], str]:
    """Fetch this job's share of the launch's inputs.

    Returns (names given, environment to add, error or ''). No input list: ([], {}, '').
    """
    listed = environ.get("POMS_INPUT_LIST")
    if not listed:
        return [], {}, ""
    try:
        files = read_input_list(listed)
    except (OSError, ValueError) as err:
        return [], {}, f"cannot read the input list {listed}: {err}"
    try:
        process = int(environ.get("PROCESS", "0"))
        njobs = int(environ.get("POMS_NJOBS", "1"))
    except ValueError:
        process, njobs = 0, 1
    mine = share(files, process, njobs)
    names = [f["name"] for f in mine]
    directory = Path(environ.get("CONDOR_DIR_INPUT") or (workdir / "input"))
    fetched = []
    for entry in mine:
        try:
            fetched.append(str(fetch(entry, directory, environ.get("POMS_UCONDB_URL"))))
        except (OSError, ValueError) as err:
            return names, {}, f"cannot fetch {entry['name']}: {err}"
    env = {"POMS_INPUT_FILES": " ".join(fetched)}
    if fetched:
        env["POMS_INPUT_FILE"] = fetched[0]
    return names, env, ""


def describe_outputs(paths: list[str]) -> list[dict]:
    out = []
    for text in paths:
        path = Path(text)
        if path.is_file():
            out.append({"name": path.name, "size": path.stat().st_size,
                        "checksum": adler32(path), "location": str(path.parent)})
    return out


def manifest_path(workdir: Path) -> Path:
    return workdir / MANIFEST


def read_manifest(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
