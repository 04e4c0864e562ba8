"""One job's files: what it was given (and what became of each) and what it made.

    files = job_files(job, limit=200)

Inputs are the deliveries to the job's process in its submission's catalogue project (the
process is named by the batch job id); outputs are job_output's rows. Each list is cut at
`limit` names, by name, with the whole count beside it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from app.catalog.outputs import project_name
from app.extensions import db
from app.models import Job
from app.models.catalog import CatalogDelivery, CatalogFile, CatalogProcess, CatalogProject
from app.models.chaining import JobOutput


@dataclass
class JobFiles:
    inputs: list[tuple[str, str]] = field(default_factory=list)  # (name, status)
    outputs: list[str] = field(default_factory=list)
    inputs_count: int = 0
    outputs_count: int = 0


def job_files(job: Job, experiment: str, limit: int = 200) -> JobFiles:
    delivered = (select(CatalogFile.name, CatalogDelivery.status)
                 .join(CatalogDelivery, CatalogDelivery.file_id == CatalogFile.id)
                 .join(CatalogProcess, CatalogProcess.id == CatalogDelivery.process_id)
                 .join(CatalogProject, CatalogProject.id == CatalogProcess.project_id)
                 .where(CatalogProject.experiment == experiment,
                        CatalogProject.name == project_name(job.submission_id),
                        CatalogProcess.description == job.batch_job_id))
    made = (select(CatalogFile.name).join(JobOutput, JobOutput.file_id == CatalogFile.id)
            .where(JobOutput.job_id == job.id))
    return JobFiles(
        inputs=[tuple(r) for r in db.session.execute(
            delivered.order_by(CatalogFile.name).limit(limit))],
        outputs=list(db.session.scalars(made.order_by(CatalogFile.name).limit(limit))),
        inputs_count=db.session.scalar(select(func.count()).select_from(
            delivered.subquery())) or 0,
        outputs_count=db.session.scalar(select(func.count()).select_from(made.subquery())) or 0)
