"""A file's provenance: the job that made it, as launched, and its files back and forward.

    trace = file_provenance("mu2e", "mu2e_reco.12_0.art", limit=50, depth=20)

Read from the embedded catalogue's tables (catalog_file, catalog_file_parent,
catalog_location) and POMS's own: job_output says which job made a file (files declared
before it existed are found by the poms_task_id / poms_job_id their metadata carries), the
submission's snapshots say what the job type, login setup and stage were at its launch, and
the FCL stage's upload row says where UconDB keeps an FCL file.

Inputs and outputs go generation by generation (parents, grandparents, ...; children, ...).
Each generation shows at most `limit` files (by name) and says how many more there are; only
the files shown are followed further, so a file with 100,000 descendants costs a few
bounded queries per generation, and a cycle in the parentage ends where it meets a file
already seen. `depth` bounds the number of generations.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from app.campaigns import store
from app.catalog.outputs import split_patterns
from app.extensions import db
from app.launching import snapshots
from app.models import CampaignStage, Job, Submission
from app.models.catalog import CatalogFile, CatalogFileParent, CatalogLocation
from app.models.chaining import JobOutput
from app.provenance import fcl

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
DEFAULT_DEPTH = 20
MAX_DEPTH = 100


class NoSuchFile(LookupError):
    pass


@dataclass
class Producer:
    """The job that made a file, and where it stood when it was launched."""
    job_id: int
    batch_job_id: str
    job_state: str
    exit_code: int | None
    submission_id: int
    submission_state: str
    test: bool
    stage_id: int
    stage: str
    campaign_id: int
    campaign: str
    job_type: str
    login_setup: str
    command: str
    launched: datetime | None
    snapshots: bool  # False: launched before snapshots, the definitions as they are now
    # The snapshots taken at launch (app/launching/snapshots.py): what ran, not what is now.
    job_type_as_launched: dict = field(default_factory=dict)
    login_setup_as_launched: dict = field(default_factory=dict)
    stage_as_launched: dict = field(default_factory=dict)
    param_overrides: list = field(default_factory=list)  # this launch's own extras


@dataclass
class Relative:
    """A file of a generation: its name, the stage that made it, and the files of the
    generation before through which it was reached."""
    name: str
    stage: str = ""
    submission_id: int | None = None
    via: list[str] = field(default_factory=list)


@dataclass
class Generation:
    number: int  # 1: parents (or children), 2: grandparents, ...
    files: list[Relative]
    more: int = 0  # files of this generation not shown (nor followed further)


@dataclass
class Provenance:
    experiment: str
    name: str
    file_id: int
    size: int
    checksum: str
    created: datetime | None
    version: str | None
    data_tier: str | None
    metadata: dict
    locations: list[str]
    producer: Producer | None
    ucondb: fcl.UconDBPlace | None
    inputs: list[Generation]
    outputs: list[Generation]
    limit: int
    depth: int
    inputs_cut: bool = False  # stopped at `depth` with more to go
    outputs_cut: bool = False


def bounded(limit, depth) -> tuple[int, int]:
    """The limit and depth asked for, within their bounds (ValueError when not numbers)."""
    limit = DEFAULT_LIMIT if limit in (None, "") else int(limit)
    depth = DEFAULT_DEPTH if depth in (None, "") else int(depth)
    return max(1, min(limit, MAX_LIMIT)), max(0, min(depth, MAX_DEPTH))


def file_provenance(experiment: str, name: str, *, limit=None, depth=None) -> Provenance:
    limit, depth = bounded(limit, depth)
    row = db.session.scalar(select(CatalogFile).where(
        CatalogFile.experiment == experiment, CatalogFile.name == name))
    if row is None:
        raise NoSuchFile(f"no file {name} in {experiment}'s catalogue")
    locations = list(db.session.scalars(select(CatalogLocation.location).where(
        CatalogLocation.file_id == row.id).order_by(CatalogLocation.id)))
    job = producing_job(experiment, row)
    inputs, inputs_cut = _generations(row.id, CatalogFileParent.child_id,
                                      CatalogFileParent.parent_id, limit, depth)
    outputs, outputs_cut = _generations(row.id, CatalogFileParent.parent_id,
                                        CatalogFileParent.child_id, limit, depth)
    return Provenance(
        experiment=experiment, name=row.name, file_id=row.id, size=row.size,
        checksum=row.checksum, created=row.create_date, version=row.version,
        data_tier=row.data_tier, metadata=dict(row.file_metadata or {}),
        locations=locations, producer=_producer(job) if job else None,
        ucondb=fcl.ucondb_place(row.name, locations, job),
        inputs=inputs, outputs=outputs, limit=limit, depth=depth,
        inputs_cut=inputs_cut, outputs_cut=outputs_cut)


@dataclass(frozen=True)
class Unanswered:
    """Why a request for a file's provenance has no answer, as the file page and the API
    both say it: the HTTP status, the message, and the request's argument at fault."""
    status: int
    message: str
    field: str


def requested_provenance(experiment: str, name: str, limit, depth) -> Provenance | Unanswered:
    """file_provenance for a request's own arguments (the limit and depth as given)."""
    try:
        return file_provenance(experiment, name, limit=limit, depth=depth)
    except ValueError:
        return Unanswered(400, "limit and depth: give whole numbers", "limit")
    except NoSuchFile as err:
        return Unanswered(404, str(err), "file_name")


def producing_job(experiment: str, row: CatalogFile) -> Job | None:
    """The job that made the file: job_output, else what its metadata names (a file
    declared before job_output was kept, or by hand), within the same experiment."""
    job = db.session.scalar(select(Job).join(JobOutput, JobOutput.job_id == Job.id)
                            .where(JobOutput.file_id == row.id))
    if job is None:
        md = row.file_metadata or {}
        task, batch_job = str(md.get("poms_task_id") or ""), str(md.get("poms_job_id") or "")
        if not task.isdigit() or len(task) > 9:  # not a submission id POMS could have
            return None
        query = select(Job).where(Job.submission_id == int(task))
        if batch_job:
            query = query.where(Job.batch_job_id == batch_job)
        job = db.session.scalars(query.order_by(Job.id)).first()
    if job is None:
        return None
    submission = db.session.get(Submission, job.submission_id)
    if submission.stage.campaign.experiment.name != experiment:
        return None  # metadata naming another experiment's job proves nothing
    return job


def _producer(job: Job) -> Producer:
    sub = db.session.get(Submission, job.submission_id)
    stage = sub.stage
    # A submission from before snapshots (or one never launched) has none: the definitions
    # as they are now stand in, and the page says so.
    return Producer(
        job_id=job.id, batch_job_id=job.batch_job_id, job_state=job.state,
        exit_code=job.exit_code, submission_id=sub.id, submission_state=sub.state,
        test=sub.test, stage_id=stage.id, stage=stage.name, campaign_id=stage.campaign_id,
        campaign=stage.campaign.name, job_type=stage.job_type.name,
        login_setup=stage.login_setup.name, command=sub.command or "",
        launched=sub.launch_started_at or sub.created,
        snapshots=sub.job_type_snapshot is not None,
        job_type_as_launched=(dict(sub.job_type_snapshot.data) if sub.job_type_snapshot
                              else asdict(store.job_type_spec(stage.job_type))),
        login_setup_as_launched=(dict(sub.login_setup_snapshot.data)
                                 if sub.login_setup_snapshot
                                 else asdict(store.login_setup_spec(stage.login_setup))),
        stage_as_launched=(dict(sub.stage_snapshot.data) if sub.stage_snapshot
                           else snapshots.stage_data(stage)),
        param_overrides=list(sub.param_overrides or []))


def _generations(start: int, near, far, limit: int, depth: int):
    """Generations from file `start` along the parentage: `near` is the column naming the
    file we stand on, `far` the relative. Returns (generations, cut short by depth)."""
    seen, frontier, out = {start}, [start], []
    for number in range(1, depth + 1):
        query = select(far).where(near.in_(frontier))
        if len(seen) <= 1000:  # beyond, files met again are dropped below, after the count
            query = query.where(far.notin_(seen))
        ids = query.distinct().subquery()
        total = db.session.scalar(select(func.count()).select_from(ids))
        shown = [(i, n) for i, n in db.session.execute(
            select(CatalogFile.id, CatalogFile.name)
            .where(CatalogFile.id.in_(select(ids.c[0])))
            .order_by(CatalogFile.name).limit(limit)).all() if i not in seen]
        if not shown:
            return out, False
        ids_shown = [i for i, _n in shown]
        via = _links(frontier, ids_shown, near, far)
        made = _made_by(ids_shown)
        out.append(Generation(number=number, more=max(total - len(shown), 0), files=[
            Relative(name=n, via=via.get(i, []), **made.get(i, {})) for i, n in shown]))
        seen.update(ids_shown)
        frontier = ids_shown
    further = db.session.scalar(select(far).where(near.in_(frontier), far.notin_(seen))
                                .limit(1)) if frontier and len(seen) <= 1000 else None
    return out, further is not None


def _links(frontier: list[int], ids: list[int], near, far) -> dict[int, list[str]]:
    rows = db.session.execute(
        select(far, CatalogFile.name).join(CatalogFile, CatalogFile.id == near)
        .where(near.in_(frontier), far.in_(ids)).order_by(CatalogFile.name)).all()
    via: dict[int, list[str]] = {}
    for relative, name in rows:
        via.setdefault(relative, []).append(name)
    return via


def _made_by(ids: list[int]) -> dict[int, dict]:
    rows = db.session.execute(
        select(JobOutput.file_id, JobOutput.submission_id, CampaignStage.name)
        .join(Submission, Submission.id == JobOutput.submission_id)
        .join(CampaignStage, CampaignStage.id == Submission.campaign_stage_id)
        .where(JobOutput.file_id.in_(ids))).all()
    return {f: {"submission_id": s, "stage": stage} for f, s, stage in rows}


def parameters_as_launched(producer: Producer) -> list[list[str]]:
    """The job type's parameters, then the stage's overrides (its test overrides for a
    test launch), then the launch's own, as the snapshots have them; the launch command
    (Producer.command) is the exact word."""
    params = list(producer.job_type_as_launched.get("parameters") or [])
    stage = producer.stage_as_launched
    params += list(stage.get("test_param_overrides" if producer.test else "param_overrides")
                   or [])
    params += producer.param_overrides
    return [list(p) if isinstance(p, list | tuple) else [str(p)] for p in params]


def output_patterns(producer: Producer) -> list[str]:
    return split_patterns(producer.job_type_as_launched.get("output_file_patterns"))


def _iso(moment) -> str | None:
    return moment.isoformat() + "Z" if moment is not None else None


def as_dict(trace: Provenance) -> dict:
    """The provenance as plain JSON values (the API's answer, `poms file --json`)."""
    producer = None
    if trace.producer is not None:
        p = trace.producer
        producer = {
            "job_id": p.job_id, "batch_job_id": p.batch_job_id, "job_state": p.job_state,
            "exit_code": p.exit_code, "submission_id": p.submission_id,
            "submission_state": p.submission_state, "test": p.test, "stage": p.stage,
            "campaign": p.campaign, "job_type": p.job_type, "login_setup": p.login_setup,
            "launched": _iso(p.launched), "command": p.command,
            "snapshots": p.snapshots,
            "job_type_as_launched": p.job_type_as_launched,
            "login_setup_as_launched": p.login_setup_as_launched,
            "stage_as_launched": p.stage_as_launched,
            "parameters_as_launched": parameters_as_launched(p)}

    def generations(items: list[Generation]) -> list[dict]:
        return [{"generation": g.number, "more": g.more, "files": [
            {"name": f.name, "stage": f.stage, "submission_id": f.submission_id,
             "via": f.via} for f in g.files]} for g in items]

    return {
        "experiment": trace.experiment, "name": trace.name, "size": trace.size,
        "checksum": trace.checksum, "created": _iso(trace.created),
        "version": trace.version, "data_tier": trace.data_tier, "metadata": trace.metadata,
        "locations": trace.locations, "made_by": producer,
        "ucondb": None if trace.ucondb is None else {
            "folder": trace.ucondb.folder, "version": trace.ucondb.version,
            "location": trace.ucondb.location, "database": trace.ucondb.database},
        "inputs": generations(trace.inputs), "outputs": generations(trace.outputs),
        "inputs_cut": trace.inputs_cut, "outputs_cut": trace.outputs_cut,
        "limit": trace.limit, "depth": trace.depth}
