"""A submission's files in the embedded catalogue: what its jobs consumed, what they made.

(What they were given is started at launch: app/launching/inputs.prepare_inputs.)

After jobs end (`record_finished_jobs`, called after each tracking pass): each finished
job's report (poms_job.json in its work directory on the local engine) is read once; its
inputs are recorded as delivered to the job's process and consumed (exit 0) or failed, the
process is ended completed or bad, and its outputs matching the job type's
output_file_patterns are declared with the inputs as parents, the stage's software version
and `poms_task_id` (the submission) in their metadata, at their location. A job that left
no report consumed nothing. The outputs of up to RECORD_CHUNK jobs are declared together,
as if one job after the other (a 100,000-job submission is not 700,000 statements).
With SAM (POMS_CATALOG=samweb) the jobs report to SAM themselves and nothing is recorded
here.
"""
from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import exists, insert, select

from app.batch.local import SpoolFile, job_file
from app.catalog.base import CatalogError
from app.catalog.cache import catalog_for
from app.catalog.outputs import declare_outputs, project_name
from app.extensions import any_of, db
from app.launching.snapshots import launched_job_type, launched_stage
from app.models import Job, Submission
from app.models.base import utcnow
from app.models.catalog import CatalogFile, CatalogLocation, CatalogProject
from app.models.chaining import ChainJobRecord, ChainStep, JobOutput

log = logging.getLogger(__name__)

JOB_FINISHED = ("Completed", "Failed", "Removed")
RECORD_CHUNK = 500  # jobs whose outputs are declared together


# --- after jobs end ------------------------------------------------------------------------


def _report_file(config, batch_job_id: str) -> SpoolFile | None:
    """A local-engine job's report (poms_job.json in its work directory), in the service's
    spool or its launch account's area; read without following links."""
    return job_file(config, batch_job_id, "work/poms_job.json")


def _report_path(config, batch_job_id: str) -> Path | None:
    found = _report_file(config, batch_job_id)
    return found.path if found else None


def unrecorded_jobs(submission_ids: list[int] | None = None) -> dict[int, list]:
    """Finished jobs of unsettled submissions whose files are not recorded yet."""
    settled = exists().where(ChainStep.parent_submission_id == Job.submission_id,
                             ChainStep.kind == "settled")
    query = (
        select(Job.id, Job.submission_id, Job.batch_job_id, Job.state, Job.exit_code)
        .outerjoin(ChainJobRecord, ChainJobRecord.job_id == Job.id)
        .where(ChainJobRecord.job_id.is_(None), Job.state.in_(JOB_FINISHED), ~settled)
        .order_by(Job.id)
    )
    if submission_ids is not None:
        query = query.where(Job.submission_id.in_(submission_ids))
    found: dict[int, list] = defaultdict(list)
    for row in db.session.execute(query):
        found[row.submission_id].append(row)
    return found


def has_unrecorded_jobs(submission_id: int) -> bool:
    """Whether a finished job of the submission has its files not recorded yet (one row
    looked for, not all of a 100,000-job submission's)."""
    return db.session.scalar(
        select(Job.id).outerjoin(ChainJobRecord, ChainJobRecord.job_id == Job.id)
        .where(Job.submission_id == submission_id, Job.state.in_(JOB_FINISHED),
               ChainJobRecord.job_id.is_(None)).limit(1)) is not None


def record_finished_jobs(config, submission_ids: list[int] | None = None, *,
                         until: float | None = None) -> int:
    """Record every finished, unrecorded job's files, RECORD_CHUNK jobs per transaction
    (each job's files recorded whole, or not yet). `until`: a time.monotonic() after which
    no more chunks are begun (the rest is left for the next call: the tracking worker
    reads new job events in between). Returns how many jobs were recorded."""
    done = 0
    for submission_id, rows in unrecorded_jobs(submission_ids).items():
        submission = db.session.get(Submission, submission_id)
        for start in range(0, len(rows), RECORD_CHUNK):
            if until is not None and time.monotonic() > until:
                return done
            chunk = rows[start:start + RECORD_CHUNK]
            try:
                record_jobs(submission, chunk, config)
                db.session.commit()
                done += len(chunk)
            except Exception:  # one bad report must not stop the others
                db.session.rollback()
                log.exception("recording the files of submission %s", submission_id)
                break
    return done


def _declarable(name: str) -> bool:
    return bool(name) and "/" not in name and len(name) <= 255


def _existing(experiment: str, names: list[str]) -> set[str]:
    found: set[str] = set()
    names = list(dict.fromkeys(names))
    for start in range(0, len(names), 500):
        found.update(db.session.scalars(select(CatalogFile.name).where(
            CatalogFile.experiment == experiment,
            any_of(CatalogFile.name, names[start:start + 500]))))
    return found


class _Declarations:
    """What declare_outputs declares for several jobs, collected to be declared at once
    (the embedded catalogue's declare_files: a few statements for hundreds of jobs, where
    one declare_file and add_location per output cost seven)."""

    def __init__(self):
        self.files: list[dict] = []
        self.locations: list[tuple[str, str]] = []
        self.made_by: dict[str, tuple[int, int]] = {}  # name -> (job id, submission id)

    def declare_file(self, name, *, size=0, checksum="", metadata=None, parents=(),
                     create_date=None) -> None:
        self.files.append({"name": name, "size": size, "checksum": checksum,
                           "metadata": metadata or {}, "parents": list(parents),
                           "create_date": create_date})

    def add_location(self, name: str, location: str) -> None:
        location = (location or "").strip()
        if not location:
            raise CatalogError("a location cannot be empty")
        self.locations.append((name, location))

    def declare(self, catalog) -> None:
        # record_jobs looked the names up (_existing); every name below is one of these.
        ids = catalog.declare_files(self.files, looked_up=True)
        if self.made_by:
            db.session.execute(insert(JobOutput.__table__), [
                {"file_id": ids[name], "job_id": job_id, "submission_id": submission_id}
                for name, (job_id, submission_id) in self.made_by.items() if name in ids])
        if self.locations:
            # The files were declared just now: none has a location yet.
            now = utcnow()
            rows = dict.fromkeys((ids[name], where) for name, where in self.locations)
            db.session.execute(insert(CatalogLocation.__table__), [
                {"file_id": file_id, "location": where, "created": now}
                for file_id, where in rows])
        db.session.flush()


def record_job(submission: Submission, row, config) -> JobRecord:
    """One finished job's report into the catalogue (caller commits)."""
    return record_jobs(submission, [row], config)[0]


@dataclass
class JobRecord:
    """A ChainJobRecord row to be, written with the others of its chunk in one statement
    (a 100,000-job submission's records are not 100,000 ORM objects)."""

    job_id: int
    submission_id: int
    inputs: int = 0
    consumed: int = 0
    outputs: int = 0
    note: str = ""


def _insert_records(records: list[JobRecord]) -> None:
    if records:
        now = utcnow()
        db.session.execute(insert(ChainJobRecord.__table__),
                           [{**vars(r), "recorded_at": now} for r in records])


def record_jobs(submission: Submission, rows: list, config) -> list[JobRecord]:
    """Finished jobs' reports into the catalogue (caller commits): each as if recorded one
    after the other (an output an earlier job declared is not declared again), their
    outputs declared together."""
    catalog = catalog_for(submission, config)
    records, reported = [], []
    for row in rows:
        record, outputs, inputs = _read_report(submission, row, config, catalog)
        records.append(record)
        if outputs is not None:
            reported.append((record, row, outputs, inputs))
    if not reported:
        _insert_records(records)
        return records
    patterns = launched_job_type(submission).get("output_file_patterns")
    version = launched_stage(submission).get("software_version") or ""
    declared_before = _existing(catalog.experiment,
                                [o["name"] for _r, _row, outs, _i in reported for o in outs])
    # An input the catalogue does not know cannot be a parent; refusing the whole report
    # for it would hold the submission's recording, and its chaining, for ever.
    known_inputs = _existing(catalog.experiment,
                             [name for _r, _row, _o, inputs in reported for name in inputs])
    batch = _Declarations()
    for record, row, outputs, inputs in reported:
        already = {o["name"] for o in outputs} & declared_before
        fresh = [o for o in outputs if o["name"] not in already]
        # (an output of an earlier job of this batch will be declared before it: it counts)
        parents = [name for name in inputs if name in known_inputs or name in declared_before]
        unknown = [name for name in inputs if name not in parents]
        notes = [record.note] if record.note else []
        if already:
            notes.append(f"already declared, not again: {', '.join(sorted(already)[:5])}")
        if unknown:
            notes.append("inputs not in the catalogue, not made parents: "
                         + ", ".join(unknown[:5]))
        record.note = "; ".join(notes)[:2000]
        declared = declare_outputs(
            batch, fresh, parents, patterns, version,
            metadata={"poms_task_id": str(submission.id), "poms_job_id": row.batch_job_id},
        )
        declared_before.update(declared)
        batch.made_by.update(dict.fromkeys(declared, (row.id, submission.id)))
        record.outputs = len(declared)
    batch.declare(catalog)
    _insert_records(records)
    return records


def _read_report(submission: Submission, row, config, catalog):
    """A job's record, its inputs' delivery and consumption recorded; with the outputs to
    declare (those the catalogue would not refuse) when it succeeded, else None."""
    record = JobRecord(job_id=row.id, submission_id=submission.id)
    if catalog.kind != "embedded":
        record.note = "the jobs report to SAM themselves"
        return record, None, []
    found = _report_file(config, row.batch_job_id)
    report = found.read_json() if found else None
    if not isinstance(report, dict):
        report = None
    if report is None:
        record.note = "the job left no report of its files"
        return record, None, []
    inputs = [str(n) for n in report.get("inputs") or []]
    ok = report.get("status") == 0 and row.state == "Completed"
    project = project_name(submission.id)
    record.inputs = len(inputs)
    if inputs:
        has_project = db.session.scalar(select(CatalogProject.id).where(
            CatalogProject.experiment == catalog.experiment, CatalogProject.name == project))
        if has_project is None:
            record.note = f"no catalogue project {project}: consumption not recorded"
        else:
            refused = []
            for name in inputs:
                try:
                    catalog.deliver(project, row.batch_job_id, name)
                    catalog.set_file_status(project, row.batch_job_id, name,
                                            "consumed" if ok else "failed")
                except CatalogError as err:  # not in the project: said, not fatal
                    refused.append(f"{name}: {err}")
            catalog.end_process(project, row.batch_job_id, "completed" if ok else "bad")
            record.consumed = len(inputs) - len(refused) if ok else 0
            if refused:
                record.note = "; ".join(refused)[:2000]
    if not ok:
        return record, None, inputs
    # What the catalogue would refuse (and so refuse the whole report) is left out.
    outputs = list({o["name"]: o for o in report.get("outputs") or []
                    if isinstance(o, dict) and _declarable(str(o.get("name") or ""))
                    }.values())
    return record, outputs, inputs
