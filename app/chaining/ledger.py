"""A stage's ledger: input = processed + in flight + failed + skipped, always.

The input of a stage is, per family (a first submission with all its recoveries), the
files of the first submission's catalogue project snapshot. Each (family, file) is in
exactly one column, so the sum holds by construction:

  processed   consumed by a job of any submission of the family
  in flight   not consumed, and the family is not settled yet (jobs running, a recovery
              to come or running)
  failed      not consumed, family settled, and it was given to a job (which failed)
  skipped     not consumed, family settled, and never given to a job (or skipped)

Counted in the database (one GROUP BY over the deliveries), never file by file in Python.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, literal_column, select

from app import states
from app.catalog.outputs import project_name
from app.extensions import db
from app.models import CampaignStage, Submission
from app.models.catalog import CatalogDelivery, CatalogProject, CatalogSnapshotFile
from app.models.chaining import ChainStep

_RANK = {"delivered": 1, "skipped": 2, "failed": 3, "consumed": 4}
_SETTLED_STATES = (states.FAILED, states.REMOVED, states.CANCELLED, states.LAUNCH_FAILED)


@dataclass
class Ledger:
    input: int = 0
    processed: int = 0
    in_flight: int = 0
    failed: int = 0
    skipped: int = 0
    families: dict[int, dict] = field(default_factory=dict)  # root id -> its own counts

    @property
    def adds_up(self) -> bool:
        return self.input == self.processed + self.in_flight + self.failed + self.skipped


def _families(stage: CampaignStage) -> tuple[dict[int, int], dict[int, bool]]:
    """(submission id -> its family's root id, root id -> settled) for the stage."""
    rows = db.session.execute(select(Submission.id, Submission.recovery_of_id,
                                     Submission.state)
                              .where(Submission.campaign_stage_id == stage.id)).all()
    parent = {r.id: r.recovery_of_id for r in rows}
    state = {r.id: r.state for r in rows}
    settled_ids = set(db.session.scalars(select(ChainStep.parent_submission_id).where(
        ChainStep.kind == "settled", ChainStep.child_stage_id == stage.id)))
    root_of: dict[int, int] = {}
    for sid in parent:
        root, seen = sid, set()
        while parent.get(root) and parent[root] in parent and root not in seen:
            seen.add(root)
            root = parent[root]
        root_of[sid] = root
    settled: dict[int, bool] = {}
    for sid, root in root_of.items():
        mine = sid in settled_ids or state[sid] in _SETTLED_STATES
        settled[root] = settled.get(root, True) and mine
    return root_of, settled


def _literal_case(column, mapping: dict[int, int]):
    """CASE column WHEN id THEN root ... with the (integer) ids written inline: grouped by,
    the expression must read the same in SELECT and GROUP BY (PostgreSQL compares the
    text, and bound parameters would be numbered differently)."""
    return case(*[(column == literal_column(str(int(k))), literal_column(str(int(v))))
                  for k, v in mapping.items()], else_=literal_column("0"))


def stage_ledger(stage: CampaignStage) -> Ledger:
    root_of, settled = _families(stage)
    ledger = Ledger()
    if not root_of:
        return ledger
    experiment = stage.campaign.experiment.name
    projects = dict(db.session.execute(select(CatalogProject.name, CatalogProject.id).where(
        CatalogProject.experiment == experiment,
        CatalogProject.name.in_([project_name(s) for s in root_of]))).all())
    family_of_project = {projects[project_name(s)]: root for s, root in root_of.items()
                         if project_name(s) in projects}
    root_projects = [pid for pid, root in family_of_project.items()
                     if pid == projects.get(project_name(root))]
    if not root_projects:
        return ledger
    fam = _literal_case(CatalogDelivery.project_id, family_of_project)
    rank = case(_RANK, value=CatalogDelivery.status, else_=0)
    best = (select(CatalogDelivery.file_id, fam.label("root"), func.max(rank).label("rank"))
            .where(CatalogDelivery.project_id.in_(list(family_of_project)))
            .group_by(CatalogDelivery.file_id, fam).subquery())
    root_case = _literal_case(CatalogProject.id,
                              {pid: family_of_project[pid] for pid in root_projects})
    inputs = (select(CatalogSnapshotFile.file_id, root_case.label("root"))
              .join(CatalogProject, CatalogProject.snapshot_id == CatalogSnapshotFile.snapshot_id)
              .where(CatalogProject.id.in_(root_projects)).subquery())
    joined = (select(inputs.c.root, func.coalesce(best.c.rank, 0).label("rank"))
              .select_from(inputs.outerjoin(best, (best.c.file_id == inputs.c.file_id)
                                            & (best.c.root == inputs.c.root))).subquery())
    counted = db.session.execute(
        select(joined.c.root, joined.c.rank, func.count()).group_by(joined.c.root,
                                                                    joined.c.rank)).all()
    for root, rank, n in counted:
        own = ledger.families.setdefault(
            root, {"input": 0, "processed": 0, "in_flight": 0, "failed": 0, "skipped": 0})
        if rank == _RANK["consumed"]:
            column = "processed"
        elif not settled.get(root, False):
            column = "in_flight"
        elif rank in (_RANK["failed"], _RANK["delivered"]):
            column = "failed"
        else:
            column = "skipped"
        own["input"] += n
        own[column] += n
        ledger.input += n
        setattr(ledger, column, getattr(ledger, column) + n)
    return ledger
