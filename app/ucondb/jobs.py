"""FCL stages' files into UconDB: the `uploads` work, and what holds the next stage.

A stage whose job type's output_file_patterns has an FCL pattern (`%.fcl`) is an FCL stage.
After each chaining job (workers/jobs.chain), `enqueue_uploads(config)` finds finished
jobs whose outputs the catalogue has recorded (app/chaining/delivery.py) and gives each an
FclUpload row and a job on the `uploads` queue (app/work.py; workers/jobs.upload runs
`run_upload(job_row_id)`), retried with backoff (POMS_UCONDB_UPLOAD_RETRIES,
POMS_UCONDB_UPLOAD_BACKOFF seconds, doubled each time: retry_delays).

The job stores each FCL file in the folder of its dataset (`fcl_dataset`: the file name
without its sequencer, as Mu2e names datasets; folder = dataset with `.` -> `_`), as an
object named and keyed by its file name (app/ucondb/fcl.py: storing the same bytes again
makes no new version, so a retry is harmless), and makes the file's catalogue location the
UconDB one, `HOST:/<database>/app/data/<folder>` (what `samweb locate-file` answers for
Mu2e's FCL files); the next stage's jobs fetch the file from there (app/batch/job_files.py).

`uploads_holding(submission, family)` is what chaining asks before it launches the stages
that depend on an FCL stage (app/chaining/chain.py): a sentence while an upload of the
family is missing, queued, retrying or failed; None when all are done. A failed upload shows on the
submission page (`upload_summary`) and waits for an operator (`retry_failed`).
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app import work
from app.catalog.cache import catalog_for
from app.catalog.outputs import matches, split_patterns
from app.extensions import db
from app.launching.snapshots import launched_job_type
from app.models import Job, StageDependency, Submission
from app.models.base import utcnow
from app.models.catalog import CatalogFile, CatalogLocation
from app.models.chaining import ChainJobRecord, ChainStep
from app.models.ucondb import FclUpload
from app.ucondb.client import UconDBClient
from app.ucondb.fcl import store_fcl_files

log = logging.getLogger(__name__)

QUEUED, RETRYING, DONE, FAILED = "queued", "retrying", "done", "failed"
UNFINISHED = (QUEUED, RETRYING)


# --- which stages, which files, which folder -----------------------------------------------


def fcl_patterns(patterns) -> list[str]:
    """The FCL file patterns among a job type's output_file_patterns."""
    return [p for p in split_patterns(patterns) if " " not in p and p.lower().endswith(".fcl")]


def is_fcl_submission(submission: Submission) -> bool:
    return bool(fcl_patterns(launched_job_type(submission).get("output_file_patterns")))


def fcl_dataset(file_name: str) -> str:
    """The dataset an FCL file belongs to: its name without the sequencer, the field before
    the extension (Mu2e: cnf.mu2e.tutorial.v0.001000_00000042.fcl -> cnf.mu2e.tutorial.v0.fcl;
    the demo's mu2e_reco.12_3.fcl -> mu2e_reco.fcl)."""
    parts = file_name.split(".")
    if len(parts) >= 3:
        del parts[-2]
    return ".".join(parts)


def enabled(config) -> bool:
    return bool(config.get("POMS_UCONDB_FCL_UPLOADS", True))


# --- after a tracking pass: new uploads onto the queue -------------------------------------


def _job_fcl_files(submission: Submission, job: Job, patterns: list[str]) -> list[dict]:
    """The job's declared outputs matching the FCL patterns, each with the path it is at."""
    experiment = submission.stage.campaign.experiment.name
    rows = db.session.execute(
        select(CatalogFile.id, CatalogFile.name).where(
            CatalogFile.experiment == experiment,
            CatalogFile.file_metadata["poms_task_id"].as_string() == str(submission.id),
            CatalogFile.file_metadata["poms_job_id"].as_string() == job.batch_job_id,
        ).order_by(CatalogFile.name)
    ).all()
    files = []
    for file_id, name in rows:
        if not any(matches(name, p) for p in patterns):
            continue
        places = list(db.session.scalars(
            select(CatalogLocation.location).where(CatalogLocation.file_id == file_id)
            .order_by(CatalogLocation.id)))
        local = [p for p in places if p.startswith("/") or p.startswith("file://")]
        directory = local[0].removeprefix("file://") if local else ""
        files.append({"name": name, "path": str(Path(directory) / name) if directory else "",
                      "dataset": fcl_dataset(name)})
    return files


def new_uploads(config) -> list[int]:
    """FclUpload rows for FCL stages' finished jobs whose files are recorded and that have
    none yet (committed); the ids of those with files to upload."""
    if not enabled(config):
        return []
    settled = exists().where(ChainStep.parent_submission_id == Job.submission_id,
                             ChainStep.kind == "settled")
    has_row = exists().where(FclUpload.job_id == Job.id)
    waiting = (select(Job).join(ChainJobRecord, ChainJobRecord.job_id == Job.id)
               .where(Job.state == "Completed", ChainJobRecord.outputs > 0, ~has_row,
                      ~settled))
    # Per submission first: the jobs of stages that make no FCL files are not read.
    patterns_of = {}
    for submission_id in db.session.scalars(
            waiting.with_only_columns(Job.submission_id).distinct()):
        submission = db.session.get(Submission, submission_id)
        patterns = fcl_patterns(launched_job_type(submission).get("output_file_patterns"))
        if patterns:
            patterns_of[submission_id] = (submission, patterns)
    if not patterns_of:
        return []
    made = []
    for job in db.session.scalars(
            waiting.where(Job.submission_id.in_(list(patterns_of))).order_by(Job.id)).all():
        submission, patterns = patterns_of[job.submission_id]
        made.append((job.id, submission.id, _job_fcl_files(submission, job, patterns)))
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    queued = []
    now = utcnow()
    for job_id, submission_id, files in made:
        # Another worker may make the same row at once: only the one that wrote it queues it.
        written = db.session.execute(
            insert(FclUpload).values(
                job_id=job_id, submission_id=submission_id, files=files, locations=[],
                state=QUEUED if files else DONE, attempts=0, created=now, updated=now,
                error="" if files else "no FCL files among the job's outputs")
            .on_conflict_do_nothing(index_elements=["job_id"]).returning(FclUpload.job_id)
        ).scalar()
        if written is not None and files:
            queued.append(job_id)
    db.session.commit()
    return queued


def retry_delays(config) -> list[int]:
    """The seconds before each retry of a failed upload: POMS_UCONDB_UPLOAD_BACKOFF,
    doubled each time, POMS_UCONDB_UPLOAD_RETRIES times."""
    retries = max(0, int(config.get("POMS_UCONDB_UPLOAD_RETRIES", 5)))
    backoff = max(0, int(config.get("POMS_UCONDB_UPLOAD_BACKOFF", 30)))
    return [backoff * 2 ** i for i in range(retries)]


def enqueue(config, job_row_ids: list[int]) -> int:
    """Queue one `uploads` job per job row (unless one is queued, running or scheduled)."""
    return work.queue_uploads(config, job_row_ids, retry_delays(config))


def enqueue_uploads(config) -> str:
    """What workers/jobs.chain calls after each chaining job: new uploads, and unfinished
    ones whose queued job was lost (Redis restarted), onto the `uploads` queue."""
    if not enabled(config):
        return ""
    try:
        fresh = new_uploads(config)
        unfinished = list(db.session.scalars(
            select(FclUpload.job_id).where(FclUpload.state.in_(UNFINISHED))))
        queued = enqueue(config, list(dict.fromkeys(fresh + unfinished)))
    except Exception as err:  # the chaining job that calls this must not fail for it
        db.session.rollback()
        log.exception("queueing FCL uploads")
        return f"; FCL uploads not queued ({err}): the next pass tries again"
    return f"; {queued} FCL uploads queued" if queued else ""


# --- the upload (the RQ `uploads` job, workers/jobs.upload, runs it) -----------------------


def _client(config) -> UconDBClient:
    return UconDBClient.from_config(config)


def set_location(catalog, name: str, location: str) -> None:
    """Make `location` the file's location (the embedded catalogue forgets the job's output
    directory, as SAM knows Mu2e's FCL files only in UconDB)."""
    catalog.add_location(name, location)
    if catalog.kind == "embedded":
        file_id = db.session.scalar(select(CatalogFile.id).where(
            CatalogFile.experiment == catalog.experiment, CatalogFile.name == name))
        db.session.execute(delete(CatalogLocation).where(
            CatalogLocation.file_id == file_id, CatalogLocation.location != location))


def run_upload(job_row_id: int, config, *, final: bool = True) -> str:
    """Store one job's FCL files and record their locations. Raises when the attempt failed
    (recorded as retrying, or failed when `final`), so RQ tries again."""
    row = db.session.get(FclUpload, job_row_id)
    if row is None:
        return f"job {job_row_id}: no FCL upload"
    if row.state == DONE:
        return f"job {job_row_id}: FCL files uploaded already"
    attempts = row.attempts + 1
    try:
        submission = db.session.get(Submission, row.submission_id)
        catalog = catalog_for(submission, config)
        client = _client(config)
        by_dataset: dict[str, list[dict]] = defaultdict(list)
        for entry in row.files:
            by_dataset[entry["dataset"]].append(entry)
        locations = []
        for dataset, entries in by_dataset.items():
            missing = [e["name"] for e in entries if not e["path"] or not Path(e["path"]).is_file()]
            if missing:
                raise FileNotFoundError(f"not found where the job left them: {', '.join(missing)}")
            stored = store_fcl_files(client, dataset, [Path(e["path"]) for e in entries])
            for entry, where in zip(entries, stored, strict=True):
                set_location(catalog, entry["name"], where["location"])
                locations.append({"name": entry["name"], **where})
        row.attempts, row.state, row.error, row.locations = attempts, DONE, "", locations
        db.session.commit()
    except Exception as err:
        db.session.rollback()
        row = db.session.get(FclUpload, job_row_id)
        row.attempts = attempts
        row.state = FAILED if final else RETRYING
        row.error = str(err)[:2000]
        db.session.commit()
        log.warning("FCL upload of job %s, attempt %s%s: %s", job_row_id, attempts,
                    " (the last)" if final else "", err)
        raise
    return f"stored {len(locations)} FCL files of job {job_row_id} in UconDB"


# --- what holds the next stage, what the page shows ----------------------------------------


@dataclass
class UploadSummary:
    jobs: int = 0  # finished jobs with FCL files to upload
    done: int = 0
    pending: int = 0  # queued or retrying
    failed: int = 0
    files: int = 0  # files stored
    error: str = ""  # the last failure's message
    folders: tuple[str, ...] = ()

    @property
    def holding(self) -> bool:
        return bool(self.pending or self.failed)


def upload_summary(submission_ids: list[int]) -> UploadSummary:
    rows = db.session.scalars(select(FclUpload).where(
        FclUpload.submission_id.in_(submission_ids)).order_by(FclUpload.updated)
    ) if submission_ids else []
    out = UploadSummary()
    folders = []
    for row in rows:
        if not row.files:
            continue
        out.jobs += 1
        if row.state == DONE:
            out.done += 1
            out.files += len(row.locations)
            folders += [loc["location"].rsplit("/", 1)[-1] for loc in row.locations]
        elif row.state == FAILED:
            out.failed += 1
            out.error = row.error
        else:
            out.pending += 1
            out.error = out.error or row.error
    out.folders = tuple(dict.fromkeys(folders))
    return out


def uploads_holding(submission: Submission, family: list[int], config) -> str | None:
    """Why the stages depending on this FCL submission's family (the ids of its first
    submission and every recovery of it: app/chaining/chain.family_of) must wait, or
    None."""
    if not enabled(config) or not is_fcl_submission(submission):
        return None
    has_dependents = db.session.scalar(select(StageDependency.id).where(
        StageDependency.parent_id == submission.campaign_stage_id).limit(1))
    if has_dependents is None:
        return None
    has_row = exists().where(FclUpload.job_id == Job.id)
    not_queued = db.session.scalar(
        select(Job.id).join(ChainJobRecord, ChainJobRecord.job_id == Job.id)
        .where(Job.submission_id.in_(family), Job.state == "Completed",
               ChainJobRecord.outputs > 0, ~has_row).limit(1))
    summary = upload_summary(family)
    if summary.failed:
        return (f"FCL uploads failed for {summary.failed} jobs (last: {summary.error}): "
                "dependent stages wait until they are uploaded")
    if summary.pending or not_queued is not None:
        return f"FCL uploads pending for {summary.pending or 'some'} jobs"
    return None


def retry_failed(submission_id: int) -> list[int]:
    """An operator's "upload again": the failed uploads of a submission are queued again
    (after commit, by the caller: enqueue(config, ids)). Returns the ids."""
    rows = list(db.session.scalars(select(FclUpload).where(
        FclUpload.submission_id == submission_id, FclUpload.state == FAILED)))
    for row in rows:
        row.state, row.error = QUEUED, ""
    return [row.job_id for row in rows]
