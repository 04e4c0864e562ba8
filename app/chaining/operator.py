"""What an operator does about recoveries (pages and CLI are thin callers; they commit).

  recovery_preview(submission, config)   the files the next recovery of its family would
                                         re-run, each with why, and which type it is
  recover_now(submission, user, config)  launch that recovery now (once: the same guard
                                         as automatic recoveries)
  reprocess(submission, files, user)     mark input files to be processed again (audited);
                                         they ride along with the family's next recovery,
                                         launched at once when the family has settled
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app import states
from app.campaigns import store
from app.catalog.cache import catalog_for
from app.catalog.outputs import project_name
from app.catalog.recovery import RecoveryFile
from app.chaining import chain
from app.extensions import db
from app.launching import service
from app.launching.command import LaunchError
from app.models import Experimenter, Submission
from app.models.chaining import ReprocessMark

RECOVERABLE = (states.LOCATED, states.FAILED, states.REMOVED)


class RecoveryRefused(Exception):
    """The recovery cannot be done now; says why."""


@dataclass
class RecoveryPreview:
    submission_id: int  # the submission the recovery would recover (its family's last)
    position: int
    type: str
    files: list[RecoveryFile] = field(default_factory=list)
    note: str = ""
    problem: str = ""  # why its command cannot be built (it would not launch)


def last_of_family(submission: Submission) -> Submission:
    return chain.family_of(chain.root_of(submission))[-1]


def recovery_preview(submission: Submission, config, rtype: str | None = None
                     ) -> RecoveryPreview:
    target = last_of_family(submission)
    if rtype:
        found = list(chain.recovery_files(target, rtype, config).files)
        names = {f.name for f in found}
        marks = chain.open_marks([s.id for s in chain.family_of(chain.root_of(target))])
        found += [RecoveryFile(m.file_name, f"marked to be processed again: {m.reason}")
                  for m in marks if m.file_name not in names]
        position, overrides_type = (target.recovery_position or 0) + 1, rtype
    else:
        position, overrides_type, _overrides, found = chain.next_recovery(target, config)
        if not found:
            # The list is used up: "recover now" re-runs what is left with the first of
            # the job type's recovery types that finds something.
            for listed_type, _ in chain.recovery_list(target):
                found = list(chain.recovery_files(target, listed_type, config).files)
                if found:
                    position = (target.recovery_position or 0) + 1
                    overrides_type = listed_type
                    break
    note = "" if found else "nothing to recover: every input file was processed"
    if target.state not in RECOVERABLE:
        note = f"submission {target.id} is {target.state}: recoveries wait until it ends"
    problem = recovery_problem(target, position, overrides_type or "", config) if found else ""
    return RecoveryPreview(target.id, position, overrides_type or "", found, note, problem)


def recovery_problem(target: Submission, position: int, rtype: str, config) -> str:
    """What stops the recovery's command from being built ("" when it builds): its dry
    run, with the definition name it would read."""
    overrides = dict(chain.recovery_list(target)).get(rtype, [])
    try:
        service.preview(target.stage, target.launcher or target.stage.campaign.owner,
                        test=target.test, config=config,
                        dataset_override=f"poms_recover_{target.id}_{position}",
                        extra_overrides=overrides, recovery_of=target,
                        recovery_position=position)
    except LaunchError as err:
        return str(err)
    return ""


def recover_now(submission: Submission, user: Experimenter, config,
                rtype: str | None = None) -> Submission:
    """Launch the family's next recovery now; the new submission (caller commits, then
    enqueues it). RecoveryRefused when there is nothing to do or it is too early."""
    target = last_of_family(submission)
    if target.state not in RECOVERABLE:
        raise RecoveryRefused(
            f"submission {target.id} is {target.state}: a recovery waits until it ends")
    shown = recovery_preview(target, config, rtype)
    if not shown.files:
        raise RecoveryRefused(f"submission {target.id}: {shown.note}")
    listed = dict(chain.recovery_list(target))
    overrides = listed.get(shown.type, [])
    step = chain.launch_recovery(
        target, shown.position, shown.type, overrides, shown.files, config,
        origin=f"recover now by {user.username}", user=user)
    if step is None:
        raise RecoveryRefused(f"submission {target.id} was recovered already")
    if not step.submission_id:
        raise RecoveryRefused(step.note)
    return db.session.get(Submission, step.submission_id)


def family_inputs(submission: Submission, names: list[str], config) -> set[str]:
    """Which of `names` are input files of the submission's family."""
    root = chain.root_of(submission)
    catalog = catalog_for(root, config)
    if not chain.has_project(root):
        return set()
    mine = set(catalog.list_files(f"snapshot_for_project_name {project_name(root.id)}"))
    return {n for n in names if n in mine}


def reprocess(submission: Submission, files: list[str], user: Experimenter, config,
              reason: str = "") -> tuple[list[ReprocessMark], Submission | None]:
    """Mark files to be processed again (audited). When the family has settled, their
    recovery launches now and is returned (caller commits, then enqueues it)."""
    files = list(dict.fromkeys(f.strip() for f in files if f.strip()))
    if not files:
        raise RecoveryRefused("name the files to process again")
    known = family_inputs(submission, files, config)
    unknown = [f for f in files if f not in known]
    if unknown:
        raise RecoveryRefused(
            f"not input files of submission {chain.root_of(submission).id}: "
            + ", ".join(unknown[:5]))
    root = chain.root_of(submission)
    family = chain.family_of(root)
    waiting = {m.file_name for m in chain.open_marks([s.id for s in family])}
    marks = []
    for name in files:
        if name in waiting:
            continue
        mark = ReprocessMark(submission_id=root.id, file_name=name,
                             reason=reason or f"asked by {user.username}",
                             marked_by_id=user.id)
        db.session.add(mark)
        marks.append(mark)
    db.session.flush()
    store.audit(root.stage.campaign.experiment, user, "files marked to process again",
                f"submission {root.id}", None, {"files": files, "reason": reason})
    launched = None
    target = family[-1]
    if target.state in RECOVERABLE and chain.is_settled(target.id) \
            and not chain.has_recovery(target.id):
        launched = recover_now(target, user, config)
    return marks, launched


def marks_of(submission: Submission) -> list[ReprocessMark]:
    root = chain.root_of(submission)
    return list(db.session.scalars(select(ReprocessMark).where(
        ReprocessMark.submission_id == root.id).order_by(ReprocessMark.id)))
