"""Launching a stage: ask (write the submission row), then run (once), then record.

  preview(stage, ...)        the dry run: the exact script (but for the submission's id),
                             environment, input, warnings; writes nothing
  request_launch(stage, ...) checks the command builds, writes the submission (state New)
                             and its first history row; the caller commits, then enqueues
  run_launch(id, config)     in a worker: claims the submission (a guarded UPDATE, so a launch
                             never runs twice), snapshots the definitions, runs the script
                             through the launcher, records the output file and batch ids; an
                             approval stage runs nothing and awaits approval, and so does a
                             launch whose script ran await_approval

Plain Python: the caller supplies the app config and commits (run_launch commits at each
step itself, since a launch is long and each step must survive a crash of the worker).
"""
from __future__ import annotations

import logging
import os
import re
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from app import states
from app.batch.accounts import Account
from app.batch.base import BatchEngine, BatchError, cluster_of
from app.batch.engines import engine_from_config
from app.batch.job_files import INPUT_LIST
from app.batch.jobsub import parse_submit_output, parse_submitted_jobs
from app.campaigns import login_setups as login_rules
from app.campaigns import store
from app.credentials.parse import CredentialError
from app.extensions import db
from app.launching import isolation, launch_hold, snapshots
from app.launching.await_approval import awaiting
from app.launching.command import (
    LaunchContext,
    LaunchError,
    LaunchPlan,
    build_plan,
    recovery_problems,
)
from app.launching.inputs import LaunchInput, choose_input, prepare_inputs
from app.launching.launchers import launcher_from_config, this_process
from app.launching.sandbox import Sandbox, SandboxError
from app.live import changes as live_changes
from app.models import (
    CampaignStage,
    Experimenter,
    Job,
    StageLaunchSettings,
    Submission,
)
from app.models.base import utcnow
from app.uploads.store import UploadError, credential_for, launch_files

log = logging.getLogger(__name__)

# Stages whose dependents read the submission's input dataset (the original's
# declare_approval_transfer_datasets and dependency_definition).
APPROVAL_STAGE_TYPES = ("approval", "datatransfer")


@dataclass
class Preview:
    plan: LaunchPlan
    input: LaunchInput
    launcher: str
    where: str
    warnings: list[str] = field(default_factory=list)  # it launches, but say this first
    sandbox: Sandbox | None = None

    @property
    def script(self) -> str:
        """Exactly what runs: the sandbox first (its archive's contents named, not shown),
        then the launch's own script."""
        shown = self.sandbox.preamble(shown=True) if self.sandbox else ""
        return shown + self.plan.script


def stage_settings(stage: CampaignStage, create: bool = False) -> StageLaunchSettings | None:
    row = db.session.get(StageLaunchSettings, stage.id)
    if row is None and create:
        row = StageLaunchSettings(campaign_stage_id=stage.id)
        db.session.add(row)
    return row


def stage_held(stage: CampaignStage) -> bool:
    """Its launches wait: the stage is held, or every launch of its experiment is."""
    return bool(held_why(stage))


def held_why(stage: CampaignStage) -> str:
    """Why the stage's launches wait, in words ("" when they do not)."""
    row = stage_settings(stage)
    if row and row.held:
        return f"stage {stage.name} is held"
    if launch_hold.held(stage.campaign.experiment_id):
        return f"every launch of {stage.campaign.experiment.name} is held"
    return ""


def _overrides_label(job_type: dict, recovery_position: int | None) -> str:
    """What a launch's own overrides are, for messages: a recovery's name them."""
    if not recovery_position:
        return "this launch's overrides"
    listed = job_type.get("recoveries") or []
    item = listed[recovery_position - 1] if recovery_position <= len(listed) else None
    kind = f" ({item[0]})" if isinstance(item, list | tuple) and item else ""
    return f"job type {job_type['name']}, recovery {recovery_position}{kind}"


def sandbox_files(config, experiment, user, poms_role: str) -> tuple[list, tuple | None]:
    """([(name, path)], (variable, name) or None): the files a launch's sandbox holds (the
    launching person's uploaded files, app/uploads) and which of them is its credential.

    The credential is the person's uploaded proxy or token for this kind of work: a bearer
    token (BEARER_TOKEN_FILE) first, else an X.509 proxy (X509_USER_PROXY). Without one the
    variable is left unset and the launch uses whatever its login host provides, as
    launches from a login host with its own credentials do.
    """
    directory = config["POMS_UPLOADS_DIR"]
    try:
        files = [(f.name, f.path)
                 for f in launch_files(experiment, user, directory=directory, role=poms_role)]
    except UploadError as err:
        raise LaunchError(str(err)) from None
    try:
        row, _path = credential_for(experiment, user, poms_role, directory=directory)
    except CredentialError as err:
        log.info("launch without a stored credential: %s", err)
        return files, None
    variable = "BEARER_TOKEN_FILE" if row.credential_kind == "token" else "X509_USER_PROXY"
    return files, (variable, row.name)


def check_login_setup(stage: CampaignStage) -> None:
    """LaunchError unless the stage's login setup is of its campaign's role (checked at
    upload and edit too; again here, for definitions stored before the rule)."""
    setup = stage.login_setup
    if not login_rules.may_use(setup.role, stage.campaign.poms_role):
        raise LaunchError(login_rules.refusal(stage.name, setup.name, setup.role,
                                              stage.campaign.poms_role))


def destination(plan: LaunchPlan, login_setup_name: str, config, poms_role: str,
                experiment: str) -> tuple[str, str]:
    """(account, host) an ssh launch goes to: the login setup's, its placeholders filled
    (%(experiment)spro, by build_plan), each a plain name, on a host the campaign's role
    launches on."""
    where = f"login setup {login_setup_name}"
    try:
        login_rules.check_destination(plan.host, plan.account, where)
    except ValueError as err:
        raise LaunchError(str(err)) from None
    isolation.check_launch_host(config, poms_role=poms_role, experiment=experiment,
                                host=plan.host, where=where)
    return plan.account, plan.host


@dataclass
class Placement:
    """Where and as whom a launch runs, and what its sandbox holds."""

    launcher: object
    account: Account | None  # the local launch account; None: ssh, or dev mode's service
    where: str
    sandbox: Sandbox
    ssh_account: str = ""
    ssh_host: str = ""


def place(stage: CampaignStage, plan: LaunchPlan, config, user: Experimenter,
          submission_id: int | None) -> Placement:
    """LaunchError when the launch may not run: a login setup of another role, no launch
    account for the role, a host the role does not launch on, a file the sandbox refuses."""
    campaign = stage.campaign
    check_login_setup(stage)
    launcher = launcher_from_config(config)
    files, credential = sandbox_files(config, campaign.experiment, user, campaign.poms_role)
    if launcher.kind == "ssh":
        account, host = destination(plan, stage.login_setup.name, config, campaign.poms_role,
                                    campaign.experiment.name)
        box = Sandbox(files=files, credential=credential)
        return Placement(launcher, None, launcher.where(account, host), box, account, host)
    account = isolation.local_account(config, campaign.poms_role)
    workdir = ""
    if account is not None:
        area = Path(config["POMS_LAUNCH_ACCOUNTS_DIR"]) / account.name
        workdir = str(area / "launches" / (str(submission_id) if submission_id else "NEW"))
    where = f"this machine, as {account.name}" if account else "this machine"
    try:
        box = Sandbox(files=files, credential=credential, workdir=workdir)
        box.entries()
    except SandboxError as err:
        raise LaunchError(str(err)) from None
    return Placement(launcher, account, where, box)


def _engine_environment(config, campaign) -> dict[str, str]:
    """What a launch needs to reach the batch engine: for a launch account, its own spool
    and a copy of the embedded tools it can read."""
    engine = engine_from_config(config)
    if config.get("POMS_LAUNCHER", "local") != "local":
        return engine.launch_environment()
    account = isolation.local_account(config, campaign.poms_role)
    if account is None:
        return engine.launch_environment()
    return {**engine.launch_environment_for(account), **isolation.tool_environment(config)}


def _context(stage_data: dict, job_type: dict, login_setup: dict, *, stage: CampaignStage,
             user: Experimenter, test: bool, dataset: str, submission_id: int | None,
             parent_id: int | None, extra_overrides, config,
             recovery_position: int | None = None) -> LaunchContext:
    campaign = stage.campaign
    return LaunchContext(
        experiment=campaign.experiment.name,
        experimenter=user.username,
        campaign_id=campaign.id,
        campaign_name=campaign.name,
        stage_id=stage.id,
        stage_name=stage.name,
        stage_type=stage_data["stage_type"],
        job_type_id=stage.job_type_id,
        launch_script=job_type["launch_script"],
        parameters=job_type["parameters"],
        setup=login_setup["setup"],
        host=login_setup["host"],
        account=login_setup["account"],
        job_type_name=job_type["name"],
        login_setup_name=login_setup["name"],
        software_version=stage_data["software_version"],
        dataset=dataset,
        param_overrides=stage_data["param_overrides"],
        test_param_overrides=stage_data["test_param_overrides"],
        merge_overrides=stage_data["merge_overrides"],
        default_param_overrides=stage_data.get("default_param_overrides") or [],
        extra_overrides=extra_overrides or [],
        extra_overrides_label=_overrides_label(job_type, recovery_position),
        keywords=stage_data.get("keywords") or {},
        test=test,
        submission_id=submission_id,
        parent_submission_id=parent_id,
        poms_url=config.get("POMS_URL", ""),
        poms_test=config.get("POMS_TEST", "1"),
        # The credential is the sandbox's: its variable names the copy in $UPLOADS.
        # POMS_UCONDB_URL: where jobs fetch FCL files whose location is UconDB's (job_files.py)
        extra_env={**_engine_environment(config, campaign),
                   "POMS_UCONDB_URL": config.get("POMS_UCONDB_URL", "")},
    )


def _live_definitions(stage: CampaignStage) -> tuple[dict, dict, dict]:
    return (
        snapshots.stage_data(stage),
        asdict(store.job_type_spec(stage.job_type)),
        asdict(store.login_setup_spec(stage.login_setup)),
    )


def preview(stage: CampaignStage, user: Experimenter, *, test: bool, config,
            dataset_override: str | None = None, extra_overrides=None,
            recovery_of: Submission | None = None,
            recovery_position: int | None = None) -> Preview:
    """What a launch would run, now: the script exactly as it will be written, except the
    submission's id (POMS_TASK_ID, POMS4_SUBMISSION_ID), which exists only once the launch
    is asked for. Raises LaunchError; writes nothing."""
    stage_data, job_type, login_setup = _live_definitions(stage)
    chosen = choose_input(stage, dataset_override=dataset_override, preview=True,
                          config=config, test=test)
    ctx = _context(stage_data, job_type, login_setup, stage=stage, user=user, test=test,
                   dataset=chosen.dataset, submission_id=None,
                   parent_id=recovery_parent(recovery_of),
                   extra_overrides=extra_overrides, config=config,
                   recovery_position=recovery_position)
    plan = build_plan(ctx)
    placed = place(stage, plan, config, user, None)
    warnings = list(plan.warnings)
    if stage.stage_type == "approval":
        warnings.insert(0, "an approval stage runs nothing: its submission waits for a "
                           "person to approve it, as in the original")
    if not recovery_position:
        warnings += [f"{problem}: that recovery will not launch"
                     for problem in recovery_problems(job_type["name"], job_type["recoveries"])]
    return Preview(plan=plan, input=chosen, launcher=placed.launcher.kind, where=placed.where,
                   warnings=warnings, sandbox=placed.sandbox)


def recovery_parent(recovery_of: Submission | None) -> int | None:
    """The id a recovery names as its parent (POMS_PARENT_TASK_ID): as the original, the
    first submission of its family, whichever of the family it re-runs files of."""
    seen: set[int] = set()
    while recovery_of is not None and recovery_of.recovery_of_id \
            and recovery_of.id not in seen:
        seen.add(recovery_of.id)
        recovery_of = db.session.get(Submission, recovery_of.recovery_of_id)
    return recovery_of.id if recovery_of is not None else None


def request_launch(stage: CampaignStage, user: Experimenter, *, test: bool, origin: str,
                   config, dataset_override: str | None = None,
                   recovery_of: Submission | None = None, recovery_position: int | None = None,
                   extra_overrides=None) -> Submission:
    """Write the submission (New) after checking its command builds. Caller commits and
    then enqueues `run_launch` (workers.queues.enqueue_launch)."""
    # Raises LaunchError before anything is written.
    preview(stage, user, test=test, config=config, dataset_override=dataset_override,
            extra_overrides=extra_overrides, recovery_of=recovery_of,
            recovery_position=recovery_position)
    submission = Submission(
        campaign_stage_id=stage.id,
        experiment_id=stage.campaign.experiment_id,
        state=states.NEW,
        launcher_id=user.id,
        test=test,
        origin=origin,
        # As the original, a recovery records its family's first submission as its parent.
        recovery_of_id=recovery_parent(recovery_of),
        recovery_position=recovery_position,
        dataset=dataset_override or "",
        param_overrides=list(extra_overrides or []),
        created=utcnow(),
    )
    db.session.add(submission)
    db.session.flush()
    cause = f"{'test ' if test else ''}launch asked by {user.username} ({origin})"
    if why := held_why(stage):
        cause += f"; waiting: {why}"
    states.record_creation(submission, cause, actor_id=user.id)
    return submission


# --- in the worker -----------------------------------------------------------------------


def _claim(submission_id: int) -> bool:
    """Take the launch, once: a second worker (or a retried job) finds it taken."""
    result = db.session.execute(
        update(Submission)
        .where(Submission.id == submission_id, Submission.state == states.NEW,
               Submission.launch_claimed_at.is_(None))
        .values(launch_claimed_at=utcnow(), launch_claimed_by=this_process())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def give_back(submission_id: int, config, why: str) -> str:
    """A claimed launch of which nothing ran and nothing but the claim was committed (its
    script, input and split slice are written in one commit, before the script starts):
    give the claim back so the scheduler launches it again (workers/main.py tick, through
    tracker.stale_unclaimed), at most POMS_LAUNCH_ATTEMPTS times; then LaunchFailed, saying
    why. The guarded update gives back only such a claim, once."""
    db.session.rollback()
    submission = db.session.get(Submission, submission_id)
    if submission is None or submission.state != states.NEW or submission.command:
        return f"submission {submission_id}: not given back"
    attempts = (submission.launch_attempts or 0) + 1
    limit = max(1, int(config.get("POMS_LAUNCH_ATTEMPTS", 3)))
    if attempts >= limit:
        submission.launch_attempts = attempts
        submission.launch_finished_at = utcnow()
        _fail(submission, f"launch not run ({attempts} attempts): {why}")
        return f"submission {submission_id}: failed: {why}"
    result = db.session.execute(
        update(Submission)
        .where(Submission.id == submission_id, Submission.state == states.NEW,
               Submission.launch_claimed_at == submission.launch_claimed_at,
               Submission.command == "")
        .values(launch_claimed_at=None, launch_claimed_by="", launch_attempts=attempts,
                launch_error=f"attempt {attempts} of {limit} did not run: {why}; "
                             "it is tried again")
        .execution_options(synchronize_session=False)
    )
    live_changes.note(db.session, "submission", submission_id)  # a raw UPDATE: say so
    db.session.commit()
    if result.rowcount != 1:
        return f"submission {submission_id}: not given back"
    log.warning("submission %s: launch given back (%s)", submission_id, why)
    return f"submission {submission_id}: {why}; tried again"


def _fail(submission: Submission, why: str) -> None:
    submission.launch_error = why
    states.transition(submission, states.LAUNCH_FAILED, why)
    db.session.commit()


def launch_dir(config, submission_id: int) -> Path:
    return Path(config["POMS_LAUNCH_DIR"]) / str(submission_id)


def _private_stdin(directory: Path, text: str) -> Path:
    """The whole script with its sandbox archive (the credential), readable by this service
    only, for the launcher to open; the caller removes it once the launch has started."""
    path = directory / "launch.stdin"
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    return path


def run_launch(submission_id: int, config) -> str:
    """Run one submission's launch. Returns what happened, in words (for the worker log)."""
    submission = db.session.get(Submission, submission_id)
    if submission is None:
        return f"submission {submission_id}: gone"
    if submission.state != states.NEW:
        return f"submission {submission_id}: already {submission.state}"
    stage = submission.stage
    if why := held_why(stage):
        return f"submission {submission_id}: waits, {why}"
    if not _claim(submission_id):
        return f"submission {submission_id}: already launched by another worker"
    db.session.refresh(submission)
    user = submission.launcher or stage.campaign.owner

    try:
        stage_snap, job_type_snap, login_snap = snapshots.take(stage)
        submission.stage_snapshot_id = stage_snap.id
        submission.job_type_snapshot_id = job_type_snap.id
        submission.login_setup_snapshot_id = login_snap.id
        chosen = choose_input(stage, dataset_override=submission.dataset or None,
                              config=config, test=submission.test)
        if stage.stage_type in APPROVAL_STAGE_TYPES:
            # As the original: their dependents read this input, not outputs.
            submission.dependents_dataset = chosen.dataset
        if stage.stage_type == "approval":
            # As the original: nothing runs (its input is chosen, a split moves on); a
            # person approves.
            submission.dataset = chosen.dataset
            states.transition(submission, states.AWAITING_APPROVAL,
                              "approval stage: waits for a person to approve")
            db.session.commit()
            return f"submission {submission_id}: awaiting approval"
        ctx = _context(stage_snap.data, job_type_snap.data, login_snap.data, stage=stage,
                       user=user, test=submission.test, dataset=chosen.dataset,
                       submission_id=submission.id, parent_id=submission.recovery_of_id,
                       extra_overrides=submission.param_overrides, config=config,
                       recovery_position=submission.recovery_position)
        plan = build_plan(ctx)
        placed = place(stage, plan, config, user, submission.id)
        launcher = placed.launcher
        # a missing ssh host fails here, before running
        launcher.argv(placed.ssh_account, placed.ssh_host)
        area = isolation.prepare_area(config, placed.account) if placed.account else None
    except (LaunchError, ValueError, OSError) as err:
        _fail(submission, f"launch not run: {err}")
        return f"submission {submission_id}: {err}"
    except SQLAlchemyError as err:
        return give_back(submission_id, config, f"the database failed while the launch was "
                                                f"prepared ({_first_line(err)})")

    # This service's record of the launch (instance/launches/N): the script as shown, the
    # output. A launch account's launch works in its own area instead.
    workdir = launch_dir(config, submission.id)
    try:
        return _prepare_and_start(submission, config, chosen, plan, placed, area, workdir)
    except SQLAlchemyError as err:
        # Nothing ran, nothing but the claim is committed: safe to try again.
        return give_back(submission_id, config, f"the database failed while the launch was "
                                                f"prepared ({_first_line(err)})")
    except OSError as err:
        return give_back(submission_id, config, f"the launch directory {workdir} could not "
                                                f"be written ({err.strerror or err})")


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:300]


def _prepare_and_start(submission: Submission, config, chosen: LaunchInput, plan: LaunchPlan,
                       placed: Placement, area, workdir: Path) -> str:
    submission_id = submission.id
    launcher = placed.launcher
    workdir.mkdir(parents=True, exist_ok=True)
    output = workdir / "output.log"
    output.touch()
    # The input files for the jobs and the catalogue project that records what they
    # consume (app/chaining/delivery.py).
    chosen.files = prepare_inputs(submission, chosen.dataset, chosen.files, workdir, config)
    box = placed.sandbox
    if area is not None and (workdir / INPUT_LIST).exists():
        # the jobs read it after the launch ends: it goes to the working directory
        box.files.append((INPUT_LIST, workdir / INPUT_LIST))
        box.keep.append(INPUT_LIST)
    shown = Preview(plan=plan, input=chosen, launcher=launcher.kind, where=placed.where,
                    sandbox=box).script
    (workdir / "launch.sh").write_bytes(shown.encode())  # the bytes the dry run shows
    submission.dataset = chosen.dataset
    submission.input_files = chosen.files
    submission.command = shown
    submission.launch_env = plan.env
    submission.launcher_kind = launcher.kind
    submission.launch_account = placed.account.name if placed.account else ""
    submission.engine = config.get("POMS_BATCH_ENGINE", "local")
    submission.launch_output = str(output)
    db.session.commit()  # what will run is on record before it runs

    try:
        stdin = _private_stdin(workdir, box.preamble() + plan.script)
        try:
            started = launcher.start(stdin, area or workdir, output,
                                     account=placed.ssh_account, host=placed.ssh_host,
                                     run_as_account=placed.account)
        finally:
            stdin.unlink(missing_ok=True)  # it holds the credential; the launch has it open
    except (OSError, SandboxError) as err:
        _fail(submission, f"the launcher could not start: {err}")
        return f"submission {submission_id}: launcher failed"
    submission.launch_pid = started.pid
    submission.launch_worker = socket.gethostname()
    submission.launch_host = started.host
    submission.launch_started_at = utcnow()
    db.session.commit()

    code = started.wait(timeout=float(config.get("POMS_LAUNCH_TIMEOUT", 1800)))
    return record_launch_end(submission, code, engine_from_config(config),
                             stopped_after=started.stopped_after)


def confirmed_ids(submission: Submission, claimed: list[str],
                  engine: BatchEngine) -> tuple[list[str], list[str]]:
    """The claimed batch ids the engine confirms are this submission's launch's clusters,
    and the refused ones with why. BatchError when the engine does not answer."""
    if not claimed:
        return [], []
    return engine.confirm(submission.id, claimed, submission.launch_account or "")


def record_launch_end(submission: Submission, code: int | None, engine: BatchEngine, *,
                      stopped_after: float | None = None) -> str:
    """Read the launch's output for batch ids and move the submission on.

    The output only claims ids (a launch may print any "Use job id" line): those the engine
    confirms are this launch's clusters are recorded; the others are named and ignored.
    When the engine does not answer, the launch stays unrecorded and tracking finishes it
    (as after a worker crash)."""
    submission.launch_exit_code = code
    text = read_output(submission)
    try:
        ids, refused = confirmed_ids(submission, parse_submit_output(text), engine)
    except BatchError as err:
        db.session.commit()
        return (f"submission {submission.id}: launch ended; its batch ids wait for the "
                f"engine ({err})")
    submission.launch_finished_at = submission.launch_finished_at or utcnow()
    if refused:
        submission.launch_error = "batch ids not taken: " + "; ".join(refused)
    waits, passed = awaiting(text, submission.id)
    if waits:
        # The launch script ran await_approval: as the original, it waits for a person.
        if passed:
            submission.dependents_dataset = passed
        if ids:
            remember_batch_ids(submission, ids)
        states.transition(submission, states.AWAITING_APPROVAL,
                          "the launch script ran await_approval: waits for a person to "
                          "approve" + (f"; its dependents read {passed}" if passed else ""))
        db.session.commit()
        return f"submission {submission.id}: awaiting approval"
    stopped = (f"the launch was stopped after {stopped_after:g} s (POMS_LAUNCH_TIMEOUT)"
               if stopped_after is not None else "")
    if ids:
        remember_batch_ids(submission, ids)
        remember_jobs(submission, [j for j in parse_submitted_jobs(text)
                                   if cluster_of(j) in ids])
        earlier = ""
        if submission.launch_attempts and submission.launch_error.startswith("attempt "):
            # A launch given back and tried again: its history says so, its page need not.
            earlier, submission.launch_error = f"; earlier, {submission.launch_error}", ""
        if stopped:
            submission.launch_error = f"it submitted batch id {ids[0]}, then {stopped}"
        db.session.commit()
        states.transition(submission, states.IDLE, f"launched: batch id {ids[0]}"
                          + (f"; then {stopped}" if stopped else "") + earlier)
        db.session.commit()
        return f"submission {submission.id}: launched {', '.join(ids)}"
    if stopped:
        why = f"{stopped} and submitted no jobs"
    elif code:
        why = f"the launch exited with status {code} and submitted no jobs"
    else:
        why = "the launch submitted no jobs (no batch id in its output)"
    said = last_said(text)
    if said:
        why += f"; its output ends: {said}"
    if refused:
        why = f"the launch submitted no jobs of its own ({'; '.join(refused)})"
    _fail(submission, why)
    return f"submission {submission.id}: {why}"


# The launch script's own lines (app/launching/command.py): its `set -x` trace and trailer.
_SCRIPT_LINE = re.compile(r"\+|== (?:completed: -?\d+|process_id: \d+) ==$")
LAST_SAID_CHARS = 300


def last_said(output: str) -> str:
    """The last line the launch's commands printed (not the script's trace): what a failed
    launch says went wrong, e.g. fife_launch's "-c configfile ... not found"."""
    for line in reversed(output.splitlines()):
        line = line.strip()
        if line and not _SCRIPT_LINE.match(line):
            return line if len(line) <= LAST_SAID_CHARS else line[:LAST_SAID_CHARS] + "..."
    return ""


def remember_batch_ids(submission: Submission, ids: list[str]) -> None:
    known = list(submission.batch_ids or [])
    for batch_id in ids:
        if batch_id not in known:
            known.append(batch_id)
    submission.batch_ids = known
    submission.batch_id = submission.batch_id or known[0]


def remember_jobs(submission: Submission, job_ids: list[str]) -> None:
    """Job rows (Idle) for the jobs the launch announced and tracking has not seen yet: the
    page shows them at once, and a job that ends before the first tracking pass is not
    missed by an engine that lists only queued jobs."""
    if not job_ids:
        return
    known = set(db.session.scalars(
        select(Job.batch_job_id).where(Job.submission_id == submission.id)))
    rows = [{"submission_id": submission.id, "batch_job_id": job_id, "state": "Idle"}
            for job_id in job_ids if job_id not in known]
    if rows:
        db.session.execute(insert(Job), rows)


def read_output(submission: Submission, limit: int | None = None, offset: int = 0) -> str:
    if not submission.launch_output:
        return ""
    path = Path(submission.launch_output)
    if not path.exists():
        return ""
    with open(path, "rb") as fh:
        fh.seek(offset)
        data = fh.read() if limit is None else fh.read(limit)
    return data.decode("utf-8", "replace")


def waiting_submissions(stage: CampaignStage) -> list[Submission]:
    """Launches asked for while the stage was held, oldest first."""
    return list(db.session.scalars(
        select(Submission).where(
            Submission.campaign_stage_id == stage.id, Submission.state == states.NEW,
            Submission.launch_claimed_at.is_(None),
        ).order_by(Submission.id)
    ))
