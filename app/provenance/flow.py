"""A campaign's data flow: per stage, the files it was given, made, and has still to process.

    flow = campaign_flow(campaign)   # [StageFlow, ...] in the campaign's stage order

  files in       the files given to the stage's submissions (their catalogue projects'
                 snapshots: app/chaining/ledger.py's input), with how many were processed
  files out      the files its jobs made (job_output)
  to process     the files the stage may take and no job of it has consumed yet: a stage
                 that depends on others may take its parents' outputs matching each
                 dependency's file pattern (as chaining picks them); every stage, the files
                 it was given
  from           per dependency: the parent stage, its pattern, how many of the parent's
                 outputs match

Every number is one COUNT in the database, never a walk over files in Python.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, exists, func, select, union

from app.catalog.outputs import project_name
from app.chaining.ledger import stage_ledger
from app.extensions import db
from app.models import Campaign, CampaignStage, Submission
from app.models.catalog import (
    CatalogDelivery,
    CatalogFile,
    CatalogProject,
    CatalogSnapshotFile,
)
from app.models.chaining import JobOutput


@dataclass
class Source:
    stage: str
    stage_id: int
    pattern: str
    matching: int | None  # None: the pattern is a dimension fragment, not a name pattern


@dataclass
class StageFlow:
    stage_id: int
    stage: str
    files_in: int = 0
    processed: int = 0
    files_out: int = 0
    to_process: int = 0
    sources: list[Source] = field(default_factory=list)
    note: str = ""


def like_pattern(pattern: str) -> str | None:
    """A SAM file name pattern (% any run, ? one character) as SQL LIKE with `\\` escaping;
    None for a dimension fragment (it has a space)."""
    pattern = (pattern or "%").strip()
    if " " in pattern:
        return None
    out = []
    for c in pattern:
        if c in "%*":
            out.append("%")
        elif c == "?":
            out.append("_")
        elif c in "_\\":
            out.append("\\" + c)
        else:
            out.append(c)
    return "".join(out)


def _outputs_of(stage_id: int):
    return (select(JobOutput.file_id)
            .join(Submission, Submission.id == JobOutput.submission_id)
            .where(Submission.campaign_stage_id == stage_id))


def _projects_of(stage: CampaignStage, experiment: str):
    names = [project_name(i) for i in db.session.scalars(
        select(Submission.id).where(Submission.campaign_stage_id == stage.id))]
    if not names:
        return select(CatalogProject.id).where(CatalogProject.id.is_(None))
    return select(CatalogProject.id).where(CatalogProject.experiment == experiment,
                                           CatalogProject.name.in_(names))


def _matching(parent_id: int, pattern: str):
    like = like_pattern(pattern)
    if like is None:
        return None
    return (_outputs_of(parent_id).join(CatalogFile, CatalogFile.id == JobOutput.file_id)
            .where(CatalogFile.name.like(like, escape="\\")))


def stage_flow(stage: CampaignStage) -> StageFlow:
    experiment = stage.campaign.experiment.name
    ledger = stage_ledger(stage)
    row = StageFlow(stage_id=stage.id, stage=stage.name, files_in=ledger.input,
                    processed=ledger.processed)
    row.files_out = db.session.scalar(select(func.count()).select_from(
        _outputs_of(stage.id).subquery())) or 0
    projects = _projects_of(stage, experiment)
    given = (select(CatalogSnapshotFile.file_id.label("file_id"))
             .join(CatalogProject, CatalogProject.snapshot_id == CatalogSnapshotFile.snapshot_id)
             .where(CatalogProject.id.in_(projects)))
    offered = [given]
    for link in stage.parent_links:
        matching = _matching(link.parent_id, link.file_pattern)
        count = None
        if matching is not None:
            count = db.session.scalar(select(func.count()).select_from(matching.subquery()))
            offered.append(matching)
        else:
            row.note = (f"pattern {link.file_pattern!r} is a dimension fragment: its files "
                        "are counted once given to the stage")
        row.sources.append(Source(stage=link.parent.name, stage_id=link.parent_id,
                                  pattern=link.file_pattern, matching=count))
    available = union(*offered).subquery() if len(offered) > 1 else given.subquery()
    consumed = exists().where(and_(CatalogDelivery.file_id == available.c.file_id,
                                   CatalogDelivery.status == "consumed",
                                   CatalogDelivery.project_id.in_(projects)))
    row.to_process = db.session.scalar(
        select(func.count()).select_from(available).where(~consumed)) or 0
    return row


def campaign_flow(campaign: Campaign) -> list[StageFlow]:
    return [stage_flow(stage) for stage in campaign.stages]


def as_dict(row: StageFlow) -> dict:
    return {"stage": row.stage, "files_in": row.files_in, "processed": row.processed,
            "files_out": row.files_out, "to_process": row.to_process, "note": row.note,
            "sources": [{"stage": s.stage, "pattern": s.pattern, "matching": s.matching}
                        for s in row.sources]}
