"""At Located: recoveries first, then the dependent stages. Each decision happens once.

`settle(submission, config)` is called for every Located (or otherwise ended) submission
not settled yet. For a Located one:

  1. recoveries: the job type's `recoveries` is an ordered list of [type, overrides]. From
     the position after the submission's own (a recovery of a recovery continues the
     list), the first type whose file list (app/catalog/recovery.py) is not empty, plus
     any files an operator marked to be processed again, launches on exactly those files:
     a definition poms_recover_<submission>_<position> holding them, the recovery's
     overrides added (after the stage's, winning over its test overrides, as the
     original's launch_jobs: app/launching/command.py), %(dataset)s being that definition.
     As the original, it records its family's first submission as its parent
     (recovery_of, POMS_PARENT_TASK_ID); recovery_position is its place in the list. A
     recovery whose overrides are not [key, value] pairs is not launched: its step says
     why, naming the job type, recovery and entry (the original crashes on it).
  2. no recovery needed: each stage depending on this one launches by itself on the
     outputs of the family (the first submission and all its recoveries) whose names match
     its file_pattern_N (SAM wildcards: `%` any run, `%%` the same), as a definition
     named after the family's first submission (poms_depends_<id>_<N>, or
     poms_<user>_depends_... for analysis campaigns); %(dataset)s is that definition.
     An approval or datatransfer stage's dependents read its input dataset instead (the
     files of it matching the pattern), and so do those of a launch that ran
     `await_approval --dataset D` (D), as in the original.
     A stage that depends on itself launches again on its next split instead, as the
     original does, unless its split type takes the same input every time (relaunch_self).

Every decision first inserts its chain_step row with INSERT ... ON CONFLICT DO NOTHING on
(parent submission, stage, kind): when two workers see the same completion at once, one
row is written and only its writer launches. The caller commits (one transaction per
submission) and enqueues the returned submission ids afterwards.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app import states
from app.campaigns.spec import SAME_INPUT_SPLITS
from app.catalog.base import CatalogError
from app.catalog.cache import catalog_for
from app.catalog.dimensions import DimensionError, quote
from app.catalog.outputs import dependency_definition_name, project_name
from app.catalog.recovery import Recovery, RecoveryFile, SubmissionFacts, recover
from app.catalog.splits import parse_split_type
from app.chaining.delivery import has_unrecorded_jobs
from app.extensions import db
from app.launching import service
from app.launching.command import LaunchError
from app.launching.snapshots import launched_job_type, launched_stage
from app.models import CampaignStage, Job, StageDependency, Submission, SubmissionEvent
from app.models.base import utcnow
from app.models.catalog import CatalogProject
from app.models.chaining import ChainStep, ReprocessMark
from app.models.logs import JobAnalysis
from app.results.memory import memory_recovery_overrides
from app.ucondb.jobs import uploads_holding

log = logging.getLogger(__name__)

# Final states with nothing to chain (LaunchFailed is not final: tracking may correct it).
ENDED = (states.FAILED, states.REMOVED, states.CANCELLED)


@dataclass
class Settled:
    launched: list[int] = field(default_factory=list)  # new submissions: enqueue them
    notes: list[str] = field(default_factory=list)
    waiting: bool = False  # not settled yet (jobs' files still to record)


# --- families ------------------------------------------------------------------------------


def root_of(submission: Submission) -> Submission:
    seen = set()
    while submission.recovery_of_id and submission.id not in seen:
        seen.add(submission.id)
        submission = db.session.get(Submission, submission.recovery_of_id)
    return submission


def family_of(root: Submission) -> list[Submission]:
    """The first submission and every recovery below it, in launch order."""
    out, frontier = [root], [root.id]
    while frontier:
        children = list(db.session.scalars(
            select(Submission).where(Submission.recovery_of_id.in_(frontier))
            .order_by(Submission.id)))
        out.extend(children)
        frontier = [c.id for c in children]
    return out


def is_settled(submission_id: int) -> bool:
    return db.session.scalar(select(ChainStep.id).where(
        ChainStep.parent_submission_id == submission_id, ChainStep.kind == "settled")
    ) is not None


# --- the guard -----------------------------------------------------------------------------


def claim_step(parent_id: int, stage_id: int, kind: str, position: int = 0,
               note: str = "") -> ChainStep | None:
    """Insert the decision's row unless it exists: the step when this call wrote it, None
    when another worker (or an earlier pass) did. No savepoint: ON CONFLICT DO NOTHING."""
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    result = db.session.execute(
        insert(ChainStep)
        .values(parent_submission_id=parent_id, child_stage_id=stage_id, kind=kind,
                position=position, note=note, definition="", file_count=0,
                created=_now())
        .on_conflict_do_nothing(index_elements=["parent_submission_id", "child_stage_id",
                                                "kind"])
        .returning(ChainStep.id)
    )
    new_id = result.scalar()
    if new_id is None:
        return None
    return db.session.get(ChainStep, new_id)


def _now():
    return utcnow()


# --- recoveries ----------------------------------------------------------------------------


def recovery_list(submission: Submission) -> list[tuple[str, object]]:
    """[(type, overrides)] as stored: the overrides are checked when the recovery's command
    is built, so a malformed list is refused there with a message naming it."""
    out = []
    for item in launched_job_type(submission).get("recoveries") or []:
        if isinstance(item, list | tuple) and item:
            out.append((str(item[0]), item[1] if len(item) > 1 and item[1] else []))
    return out


def facts_for(submission: Submission) -> SubmissionFacts:
    data = launched_stage(submission)
    return SubmissionFacts(
        project=project_name(submission.id),
        dataset=submission.dataset or "",
        output_file_patterns=launched_job_type(submission).get("output_file_patterns") or "",
        software_version=data.get("software_version") or "",
        created=submission.created,
        output_ancestor_depth=int(data.get("output_ancestor_depth") or 1),
        keywords=dict(submission.stage.campaign.keywords or {}),
    )


def has_project(submission: Submission) -> bool:
    return db.session.scalar(select(CatalogProject.id).where(
        CatalogProject.experiment == submission.stage.campaign.experiment.name,
        CatalogProject.name == project_name(submission.id))) is not None


def open_marks(family_ids: list[int]) -> list[ReprocessMark]:
    return list(db.session.scalars(select(ReprocessMark).where(
        ReprocessMark.submission_id.in_(family_ids), ReprocessMark.used_by_id.is_(None)
    ).order_by(ReprocessMark.id)))


def recovery_files(submission: Submission, rtype: str, config) -> Recovery:
    """The files of `submission` the recovery type would re-run, each with why."""
    if rtype == "reprocess" or not has_project(submission):
        return Recovery(rtype, "", ())
    catalog = catalog_for(submission, config)
    try:
        return recover(rtype, facts_for(submission), catalog)
    except (CatalogError, DimensionError, ValueError) as err:
        log.warning("submission %s: recovery %s: %s", submission.id, rtype, err)
        return Recovery(rtype, "", ())


def next_recovery(submission: Submission, config) -> tuple[int, str, list, list[RecoveryFile]]:
    """(position, type, overrides, files) of the next recovery to launch; files empty when
    none is needed. Marked files ride along with the first recovery that runs."""
    family_ids = [s.id for s in family_of(root_of(submission))]
    marked = [RecoveryFile(m.file_name, f"marked to be processed again: {m.reason}")
              for m in open_marks(family_ids)]
    listed = recovery_list(submission)
    start = (submission.recovery_position or 0) + 1
    for position in range(start, len(listed) + 1):
        rtype, overrides = listed[position - 1]
        found = list(recovery_files(submission, rtype, config).files)
        names = {f.name for f in found}
        found += [m for m in marked if m.name not in names]
        if found:
            return position, rtype, overrides, found
    if marked:
        return start, "reprocess", [], marked
    return 0, "", [], []


def launch_recovery(submission: Submission, position: int, rtype: str, overrides: list,
                    files: list[RecoveryFile], config, *, origin: str = "",
                    user=None) -> ChainStep | None:
    """Launch a recovery of `submission` on exactly `files` (once: None when it was
    launched already). Caller commits, then enqueues step.submission_id."""
    stage = submission.stage
    step = claim_step(submission.id, stage.id, "recovery", position)
    if step is None:
        return None
    names = list(dict.fromkeys(f.name for f in files))
    catalog = catalog_for(submission, config)
    defname = f"poms_recover_{submission.id}_{position}"
    step.definition, step.file_count = defname, len(names)
    # issue 7: memory failures get more memory
    more_memory, memory_raise = memory_recovery_overrides(submission)
    if more_memory and isinstance(overrides, list | tuple):
        overrides = [*overrides, *more_memory]
    elif more_memory and not overrides:
        overrides = more_memory
    # (otherwise the stored list is malformed: the launch below refuses it, naming it)
    try:
        catalog.create_list_definition(defname, names)
        launched = service.request_launch(
            stage, user or submission.launcher or stage.campaign.owner, test=submission.test,
            origin=origin or f"recovery {position} ({rtype}) of {submission.id}",
            config=config, dataset_override=defname, recovery_of=submission,
            recovery_position=position, extra_overrides=overrides,
        )
    except (LaunchError, CatalogError, ValueError) as err:
        step.note = f"recovery {rtype} not launched: {err}"
        return step
    step.submission_id = launched.id
    step.note = f"{rtype}: {len(names)} files"
    if memory_raise is not None:
        step.note += f"; memory: {memory_raise.reason}"
    family_ids = [s.id for s in family_of(root_of(submission))]
    for mark in open_marks(family_ids):
        if mark.file_name in names:
            mark.used_by_id = launched.id
    return step


# --- dependents ----------------------------------------------------------------------------


def dependent_links(stage: CampaignStage) -> dict[int, list[StageDependency]]:
    """Per child stage, its dependencies on `stage` (several patterns are one launch)."""
    links = db.session.scalars(select(StageDependency).where(
        StageDependency.parent_id == stage.id).order_by(StageDependency.child_id,
                                                        StageDependency.position))
    out: dict[int, list[StageDependency]] = {}
    for link in links:
        out.setdefault(link.child_id, []).append(link)
    return out


def output_dims(family_ids: list[int], patterns: list[str], dataset: str = "") -> str:
    """The files a dependent reads: the family's outputs matching the patterns, or those
    of `dataset` (an approval's input)."""
    likes = " or ".join(
        p if " " in p else f"file_name like {quote(p)}" for p in patterns
    )
    if dataset:
        return f"defname: {quote(dataset)} and ( {likes} )"
    ids = ",".join(quote(str(i)) for i in family_ids)
    return f"poms_task_id {ids} and ( {likes} )"


def launch_dependents(root: Submission, config) -> Settled:
    out = Settled()
    family_ids = [s.id for s in family_of(root)]
    catalog = catalog_for(root, config)
    campaign = root.stage.campaign
    analysis_user = campaign.owner.username if campaign.poms_role == "analysis" else None
    # As the original numbers them: the N of poms_depends_<submission>_<N> counts this
    # stage's dependents, so each child gets its own definition.
    for number, (child_id, links) in enumerate(dependent_links(root.stage).items(), 1):
        child = db.session.get(CampaignStage, child_id)
        step = claim_step(root.id, child.id, "dependent", links[0].position)
        if step is None:
            continue
        if child.id == root.stage.id:
            relaunch_self(root, step, config, out)
            continue
        patterns = [link.file_pattern for link in links]
        defname = dependency_definition_name(root.id, number, analysis_user)
        try:
            dims = output_dims(family_ids, patterns, root.dependents_dataset)
            # The matching files frozen as the definition, in the catalogue itself.
            count = catalog.create_frozen_definition(defname, dims)
        except (CatalogError, DimensionError, ValueError) as err:
            step.note = f"outputs not found: {err}"
            continue
        if not count:
            read = (f"no files of {root.dependents_dataset}" if root.dependents_dataset
                    else f"no outputs of {root.id}")
            step.note = f"{read} match {', '.join(patterns)}"
            out.notes.append(f"{child.name}: {step.note}")
            continue
        step.definition, step.file_count = defname, count
        try:
            launched = service.request_launch(
                child, root.launcher or campaign.owner, test=root.test,
                origin=f"parent {root.id}", config=config, dataset_override=defname,
            )
        except (LaunchError, CatalogError, ValueError) as err:
            step.note = f"not launched: {err}"
            out.notes.append(f"{child.name}: {step.note}")
            continue
        step.submission_id = launched.id
        step.note = f"{count} files of {root.id} matching {', '.join(patterns)}"
        out.launched.append(launched.id)
        out.notes.append(f"{child.name}: launched {launched.id} on {defname}")
    return out


def relaunch_self(root: Submission, step: ChainStep, config, out: Settled) -> None:
    """A stage that depends on itself launches again as an ordinary launch, its next split,
    as the original's launch_dependents does ("self-reference, just do a normal launch");
    not when its split type gives the same input every time, which would never end."""
    stage = root.stage
    split = (stage.cs_split_type or "").strip()
    try:
        same_input = parse_split_type(split).name in SAME_INPUT_SPLITS
    except ValueError:
        same_input = False  # the launch below fails on it, and says why
    if same_input:
        step.note = (f"depends on itself, but split type {split or 'none'} takes the same "
                     "input every launch: not launched again (it would never end)")
        out.notes.append(f"{stage.name}: {step.note}")
        return
    try:
        launched = service.request_launch(
            stage, root.launcher or stage.campaign.owner, test=root.test,
            origin=f"parent {root.id} (the stage depends on itself)", config=config)
    except (LaunchError, CatalogError, ValueError) as err:
        step.note = f"not launched again: {err}"
        out.notes.append(f"{stage.name}: {step.note}")
        return
    step.submission_id = launched.id
    step.note = f"launched again on its next split ({split})"
    out.launched.append(launched.id)
    out.notes.append(f"{stage.name}: launched {launched.id} again, its next split")


# --- settling ------------------------------------------------------------------------------


def settle(submission: Submission, config) -> Settled:
    """Chain what follows an ended submission, once. Caller commits, then enqueues."""
    out = Settled()
    if is_settled(submission.id):
        return out
    if submission.state == states.LOCATED:
        if has_unrecorded_jobs(submission.id):
            out.waiting = True
            return out
        position, rtype, overrides, files = next_recovery(submission, config)
        if files and analyses_pending(submission, config):
            # Its failed jobs' logs are being analysed: a recovery of memory failures asks
            # for more memory (app/results/memory.py), so it waits for them, a while.
            out.waiting = True
            return out
        if has_recovery(submission.id):
            # Recovered already (an operator's "recover now"): its recovery chains on.
            out.notes.append(f"{submission.id} was recovered already")
        elif files:
            step = launch_recovery(submission, position, rtype, overrides, files, config)
            if step is not None and step.submission_id:
                out.launched.append(step.submission_id)
                out.notes.append(f"recovery {rtype} of {submission.id}: {len(files)} files")
        else:
            root = root_of(submission)
            # FCL files not in UconDB yet
            held = uploads_holding(submission, [s.id for s in family_of(root)], config)
            if held:
                out.waiting = True
                out.notes.append(held)
                return out
            got = launch_dependents(root, config)
            out.launched += got.launched
            out.notes += got.notes
        claim_step(submission.id, submission.campaign_stage_id, "settled",
                   note="; ".join(out.notes) or "nothing to chain")
        return out
    if submission.state in ENDED:
        claim_step(submission.id, submission.campaign_stage_id, "settled",
                   note=f"{submission.state}: nothing chained")
    return out


def analyses_pending(submission: Submission, config) -> bool:
    """Failed jobs of the submission whose logs are not analysed yet, while it has been
    Located for less than POMS_RECOVERY_ANALYSIS_WAIT_S seconds (60)."""
    wait = int(config.get("POMS_RECOVERY_ANALYSIS_WAIT_S", 60))
    located = db.session.scalar(select(func.max(SubmissionEvent.at)).where(
        SubmissionEvent.submission_id == submission.id,
        SubmissionEvent.to_state == states.LOCATED))
    if wait <= 0 or located is None or utcnow() - located > timedelta(seconds=wait):
        return False
    return db.session.scalar(select(Job.id).where(
        Job.submission_id == submission.id, Job.state == "Failed",
        ~exists().where(JobAnalysis.job_id == Job.id)).limit(1)) is not None


def steps_of(submission_id: int) -> list[ChainStep]:
    return list(db.session.scalars(select(ChainStep).where(
        ChainStep.parent_submission_id == submission_id).order_by(ChainStep.id)))


def has_recovery(submission_id: int) -> bool:
    return db.session.scalar(select(ChainStep.id).where(
        ChainStep.parent_submission_id == submission_id, ChainStep.kind == "recovery")
    ) is not None


def unsettled_ended(limit: int = 500) -> list[int]:
    """Located or ended submissions whose chaining is not settled yet."""
    settled = select(ChainStep.parent_submission_id).where(ChainStep.kind == "settled")
    return list(db.session.scalars(
        select(Submission.id).where(
            Submission.state.in_((states.LOCATED, *ENDED)), Submission.id.not_in(settled),
        ).order_by(Submission.id).limit(limit)))
