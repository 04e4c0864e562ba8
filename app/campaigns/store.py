"""Moving campaigns between CampaignSpec and the database.

Every function here works inside the caller's transaction and never commits: one user
action is one transaction, committed (or rolled back) by the view or command that took it.
"""
from __future__ import annotations

import copy
from dataclasses import asdict, replace

from sqlalchemy import select

from app.audit import audit  # noqa: F401  (views record their edits through store.audit)
from app.campaigns import login_setups as login_rules
from app.campaigns import versions
from app.campaigns.ini import Change, diff_campaigns, parse_ini
from app.campaigns.spec import (
    DEFAULT_MAX_STAGES,
    STAGE_KEYS,
    CampaignSpec,
    DependencySpec,
    InvalidCampaign,
    JobTypeSpec,
    LoginSetupSpec,
    Problem,
    SharedNames,
    StageSpec,
)
from app.extensions import db
from app.models import (
    Campaign,
    CampaignStage,
    CampaignTag,
    Experiment,
    Experimenter,
    JobType,
    LoginSetup,
    StageDependency,
    Submission,
)

# Stage columns that hold a name of a shared definition rather than a value.
_REFERENCES = ("job_type", "login_setup")


class CampaignInUse(Exception):
    """The change would rewrite or remove something that has already launched."""


# --- reading -------------------------------------------------------------------------


def job_type_spec(job_type: JobType) -> JobTypeSpec:
    return JobTypeSpec(
        name=job_type.name,
        launch_script=job_type.launch_script,
        parameters=copy.deepcopy(job_type.parameters),
        output_file_patterns=job_type.output_file_patterns,
        recoveries=copy.deepcopy(job_type.recoveries),
    )


def login_setup_spec(login_setup: LoginSetup) -> LoginSetupSpec:
    return LoginSetupSpec(
        name=login_setup.name,
        host=login_setup.host,
        account=login_setup.account,
        setup=login_setup.setup,
    )


def stage_spec(stage: CampaignStage) -> StageSpec:
    values = {key: getattr(stage, key) for key in STAGE_KEYS if key not in _REFERENCES}
    return StageSpec(
        name=stage.name,
        job_type=stage.job_type.name,
        login_setup=stage.login_setup.name,
        **copy.deepcopy(values),
    )


def spec_from_campaign(campaign: Campaign) -> CampaignSpec:
    stages = list(campaign.stages)
    spec = CampaignSpec(
        name=campaign.name,
        experiment=campaign.experiment.name,
        poms_role=campaign.poms_role,
        state=campaign.state,
        tags=list(campaign.tags),
        keywords=dict(campaign.keywords or {}),
        defaults=copy.deepcopy(campaign.defaults or {}),
        node_positions=copy.deepcopy(campaign.node_positions or {}),
        stages=[stage_spec(s) for s in stages],
    )
    for stage in stages:
        for link in stage.parent_links:
            spec.dependencies.append(
                DependencySpec(
                    child=stage.name,
                    parent=link.parent.name,
                    position=link.position,
                    file_pattern=link.file_pattern,
                )
            )
        spec.job_types.setdefault(stage.job_type.name, job_type_spec(stage.job_type))
        spec.login_setups.setdefault(stage.login_setup.name, login_setup_spec(stage.login_setup))
    return spec


def find_campaign(experiment: Experiment, name: str) -> Campaign | None:
    return db.session.scalar(
        select(Campaign).where(Campaign.experiment_id == experiment.id, Campaign.name == name)
    )


def has_launched(campaign: Campaign) -> bool:
    stage_ids = [s.id for s in campaign.stages]
    if not stage_ids:
        return False
    found = db.session.scalar(
        select(Submission.id).where(Submission.campaign_stage_id.in_(stage_ids)).limit(1)
    )
    return found is not None


def _shared(model, experiment: Experiment, name: str):
    return db.session.scalar(
        select(model).where(model.experiment_id == experiment.id, model.name == name)
    )


def shared_definitions(
    experiment: Experiment,
) -> tuple[dict[str, JobTypeSpec], dict[str, LoginSetupSpec]]:
    """Every job type and login setup of the experiment, by name."""
    job_types = db.session.scalars(select(JobType).where(JobType.experiment_id == experiment.id))
    login_setups = db.session.scalars(
        select(LoginSetup).where(LoginSetup.experiment_id == experiment.id)
    )
    return (
        {jt.name: job_type_spec(jt) for jt in job_types},
        {ls.name: login_setup_spec(ls) for ls in login_setups},
    )


def shared_names(experiment: Experiment) -> SharedNames:
    """The names of the experiment's job types and login setups (what a file may use
    without defining)."""
    return SharedNames(
        experiment=experiment.name,
        job_types=frozenset(db.session.scalars(
            select(JobType.name).where(JobType.experiment_id == experiment.id))),
        login_setups=frozenset(db.session.scalars(
            select(LoginSetup.name).where(LoginSetup.experiment_id == experiment.id))),
    )


def read_ini(
    experiment: Experiment, text: str, filename: str, max_stages: int = DEFAULT_MAX_STAGES,
) -> tuple[CampaignSpec, list[Problem]]:
    """Read an uploaded campaign file against the experiment: (spec, warnings), or
    InvalidCampaign with every problem.

    The one way every upload reads its file (the upload page, the API's upload and
    `poms import-ini`, each passing the server's POMS_MAX_STAGES): a stage may name a job
    type or login setup the file does not define when the experiment holds one of that
    name, and then uses it as it is.
    """
    spec, warnings = parse_ini(text, filename, shared_names(experiment), max_stages)
    problems = login_setup_problems(experiment, spec, filename)
    if problems:
        raise InvalidCampaign(problems, warnings)
    return spec, warnings


def login_setup_problems(experiment: Experiment, spec: CampaignSpec,
                         source: str) -> list[Problem]:
    """What the campaign's login setups would let run where it must not: a stage using a
    login setup of another role (app/campaigns/login_setups.py), a host or account ssh
    would read as an option. A login setup the file makes takes the campaign's role."""
    problems = []
    for name, ls in spec.login_setups.items():
        for key, reason in login_rules.address_problems(ls.host, ls.account):
            problems.append(Problem(source, f"login_setup {name}", key, reason))
    for stage in spec.stages:
        row = _shared(LoginSetup, experiment, stage.login_setup)
        role = row.role if row is not None else login_rules.role_of_campaign(spec.poms_role)
        if not login_rules.may_use(role, spec.poms_role):
            problems.append(Problem(
                source, f"campaign_stage {stage.name}", "login_setup",
                login_rules.refusal(stage.name, stage.login_setup, role, spec.poms_role)))
    return problems


def _with_shared(experiment: Experiment, spec: CampaignSpec) -> CampaignSpec:
    """A copy of the spec with the experiment's definitions added for the names its stages
    use but it does not define (a file read by read_ini), so it compares with the campaign
    as it will be stored."""
    job_types, login_setups = dict(spec.job_types), dict(spec.login_setups)
    for stage in spec.stages:
        if stage.job_type not in job_types and (jt := _shared(JobType, experiment,
                                                              stage.job_type)):
            job_types[stage.job_type] = job_type_spec(jt)
        if stage.login_setup not in login_setups and (
            ls := _shared(LoginSetup, experiment, stage.login_setup)
        ):
            login_setups[stage.login_setup] = login_setup_spec(ls)
    return replace(spec, job_types=job_types, login_setups=login_setups)


def upload_plan(experiment: Experiment, spec: CampaignSpec) -> tuple[Campaign | None, list]:
    """What uploading `spec` would change: the existing campaign (or None) and the changes.

    Job types and login setups belong to the experiment, not to one campaign. One the
    file defines is compared with the experiment's of that name, even when the campaign
    itself is new: saving replaces the experiment's definition, so a change to one that
    other campaigns use says which (Change.used_by). One the stages use without the file
    defining it is the experiment's as it is: no change (read_ini's warning names it).
    """
    existing = find_campaign(experiment, spec.name)
    if existing is not None:
        old = spec_from_campaign(existing)
    else:
        old = CampaignSpec(name=spec.name, experiment=experiment.name)
    new = _with_shared(experiment, spec)
    # Shared definitions the campaign does not use yet are still compared, by name.
    for name in new.job_types:
        if name not in old.job_types and (jt := _shared(JobType, experiment, name)):
            old.job_types[name] = job_type_spec(jt)
    for name in new.login_setups:
        if name not in old.login_setups and (ls := _shared(LoginSetup, experiment, name)):
            old.login_setups[name] = login_setup_spec(ls)
    changes = diff_campaigns(old, new)
    if existing is None:
        changes = [c for c in changes if c.kind in _SHARED_KINDS]
    for change in changes:
        if change.kind in _SHARED_KINDS and change.field is not None:
            change.used_by = _other_users(experiment, change, spec.name)
    return existing, changes


_SHARED_KINDS = ("job type changed", "login setup changed")


def redefined_shared(experiment: Experiment, spec: CampaignSpec) -> list[JobType | LoginSetup]:
    """The experiment's job types and login setups the file defines differently: saving it
    replaces them, for every campaign that uses them."""
    rows: list[JobType | LoginSetup] = []
    for name, wanted in spec.job_types.items():
        if (row := _shared(JobType, experiment, name)) and job_type_spec(row) != wanted:
            rows.append(row)
    for name, wanted in spec.login_setups.items():
        if (row := _shared(LoginSetup, experiment, name)) and login_setup_spec(row) != wanted:
            rows.append(row)
    return rows


def _other_users(experiment: Experiment, change: Change, campaign: str) -> tuple[str, ...]:
    """The other campaigns whose stages use the job type or login setup `change` is about."""
    if change.kind == "job type changed":
        model, column = JobType, CampaignStage.job_type_id
    else:
        model, column = LoginSetup, CampaignStage.login_setup_id
    row = _shared(model, experiment, change.subject)
    if row is None:
        return ()
    return tuple(db.session.scalars(
        select(Campaign.name).distinct()
        .join(CampaignStage, CampaignStage.campaign_id == Campaign.id)
        .where(column == row.id, Campaign.name != campaign)
        .order_by(Campaign.name)
    ))


# --- writing -------------------------------------------------------------------------


def _put_job_type(experiment: Experiment, spec: JobTypeSpec, who: Experimenter) -> JobType:
    row = _shared(JobType, experiment, spec.name)
    if row is None:
        row = JobType(experiment=experiment, name=spec.name, creator=who)
        db.session.add(row)
    elif job_type_spec(row) != spec:
        before = asdict(job_type_spec(row))
        audit(experiment, who, "job type changed", spec.name, before, asdict(spec))
    row.launch_script = spec.launch_script
    row.parameters = copy.deepcopy(spec.parameters)
    row.output_file_patterns = spec.output_file_patterns
    row.recoveries = copy.deepcopy(spec.recoveries)
    return row


def _put_login_setup(
    experiment: Experiment, spec: LoginSetupSpec, who: Experimenter, role: str
) -> LoginSetup:
    row = _shared(LoginSetup, experiment, spec.name)
    if row is None:
        row = LoginSetup(experiment=experiment, name=spec.name, creator=who, role=role)
        db.session.add(row)
    elif login_setup_spec(row) != spec:
        before = asdict(login_setup_spec(row))
        audit(experiment, who, "login setup changed", spec.name, before, asdict(spec))
    row.host, row.account, row.setup = spec.host, spec.account, spec.setup
    return row


def save_campaign(experiment: Experiment, spec: CampaignSpec, who: Experimenter,
                  renamed: dict[str, str] | None = None, *, source: str = "",
                  reason: str = "") -> Campaign:
    """Create the campaign, or update the one with this name in place (never a duplicate).
    `renamed` ({stored name: name in spec}) keeps a renamed stage's row and submissions,
    as the original's editor does; otherwise a stage is matched by its name.

    Each job type and login setup the spec defines is made the experiment's definition of
    that name (created, or replaced and audited: other campaigns using it see the change,
    which upload_plan shows first). A stage naming one the spec does not define uses the
    experiment's existing one as it is (a file read by read_ini); ValueError if there is
    none.

    Every save goes through here, so here each change records a new version of the
    campaign (app/campaigns/versions.py), in the same transaction: `source` says how it
    came (versions.SOURCES), `reason` why, as the person gave it.
    """
    # Checked here as well as when the file was read: page and API edits come this way.
    problems = login_setup_problems(experiment, spec, f"campaign {spec.name}")
    if problems:
        raise InvalidCampaign(problems)
    campaign = find_campaign(experiment, spec.name)
    before_spec = spec_from_campaign(campaign) if campaign else None
    before = asdict(before_spec) if before_spec else None
    if campaign is None:
        campaign = Campaign(experiment=experiment, name=spec.name, owner=who)
        db.session.add(campaign)
    job_types = {n: _put_job_type(experiment, jt, who) for n, jt in spec.job_types.items()}
    role = login_rules.role_of_campaign(spec.poms_role)
    login_setups = {
        n: _put_login_setup(experiment, ls, who, role) for n, ls in spec.login_setups.items()
    }
    # Before any stage is added (a query would flush it without its job type).
    for stage_spec_ in spec.stages:
        _use_existing(JobType, experiment, job_types, stage_spec_)
        _use_existing(LoginSetup, experiment, login_setups, stage_spec_)

    campaign.poms_role = spec.poms_role
    campaign.state = spec.state
    campaign.keywords = dict(spec.keywords)
    campaign.defaults = copy.deepcopy(spec.defaults)
    campaign.node_positions = copy.deepcopy(spec.node_positions)
    _set_tags(campaign, spec.tags)
    if renamed:
        _rename_stages(campaign, renamed)

    by_name = {s.name: s for s in campaign.stages}
    wanted = {s.name for s in spec.stages}
    removed = [stage for name, stage in by_name.items() if name not in wanted]
    for stage in removed:
        if stage.id is not None and _stage_launched(stage):
            raise CampaignInUse(
                f"stage {stage.name!r} has submissions and cannot be removed from "
                f"campaign {spec.name!r}"
            )
        del by_name[stage.name]
    for position, stage_spec_ in enumerate(spec.stages):
        stage = by_name.get(stage_spec_.name)
        if stage is None:
            stage = CampaignStage(name=stage_spec_.name)
            campaign.stages.append(stage)
            by_name[stage.name] = stage
        stage.position = position
        for key in STAGE_KEYS:
            if key not in _REFERENCES:
                setattr(stage, key, copy.deepcopy(getattr(stage_spec_, key)))
        stage.job_type = job_types[stage_spec_.job_type]
        stage.login_setup = login_setups[stage_spec_.login_setup]
    # Keep the campaign's stage list ordered as the INI lists it.
    campaign.stages.sort(key=lambda s: s.position)

    _set_dependencies(by_name, spec.dependencies)
    # Stages go once no kept dependency points at them: deleting a stage deletes the
    # dependencies the database still holds it as the parent of, and so would delete one
    # just moved from it to a kept stage.
    db.session.flush()
    for stage in removed:
        campaign.stages.remove(stage)
    db.session.flush()
    after_spec = spec_from_campaign(campaign)
    after = asdict(after_spec)
    if before != after:
        action = "campaign updated" if before else "campaign created"
        if source == "rollback":
            action = "campaign rolled back"  # its new version's reason names the one put back
        audit(experiment, who, action, spec.name, before, after)
        versions.record(campaign, before_spec, after_spec, who, source, reason)
    return campaign


def _rename_stages(campaign: Campaign, renamed: dict[str, str]) -> None:
    moving = [(stage, renamed[stage.name]) for stage in campaign.stages
              if stage.name in renamed]
    # Through names no stage can have, so that a rename onto another's old name (a to b, b to
    # c) never meets the (campaign, name) unique constraint half done.
    for stage, _new in moving:
        stage.name = f"renaming, {stage.id}"  # a comma: never a stage's name
    db.session.flush()
    for stage, new in moving:
        stage.name = new


def _use_existing(model, experiment: Experiment, rows: dict, stage: StageSpec) -> None:
    """Add to `rows` the experiment's job type or login setup the stage names, when the
    spec does not define it."""
    key = "job_type" if model is JobType else "login_setup"
    name = getattr(stage, key)
    if name in rows:
        return
    row = _shared(model, experiment, name)
    if row is None:
        raise ValueError(
            f"stage {stage.name!r} names {key.replace('_', ' ')} {name!r}, which neither the "
            f"campaign nor experiment {experiment.name!r} defines"
        )
    rows[name] = row


def _stage_launched(stage: CampaignStage) -> bool:
    found = db.session.scalar(
        select(Submission.id).where(Submission.campaign_stage_id == stage.id).limit(1)
    )
    return found is not None


def _set_tags(campaign: Campaign, tags: list[str]) -> None:
    have = {t.tag: t for t in campaign.tag_rows}
    for tag, row in have.items():
        if tag not in tags:
            campaign.tag_rows.remove(row)
    for tag in tags:
        if tag not in have:
            campaign.tag_rows.append(CampaignTag(tag=tag))


def _set_dependencies(stages: dict[str, CampaignStage], deps: list[DependencySpec]) -> None:
    wanted = {(d.child, d.position): d for d in deps}
    for stage in stages.values():
        for link in list(stage.parent_links):
            dep = wanted.pop((stage.name, link.position), None)
            if dep is None:
                stage.parent_links.remove(link)
            else:
                link.parent = stages[dep.parent]
                link.file_pattern = dep.file_pattern
    for dep in wanted.values():
        stages[dep.child].parent_links.append(
            StageDependency(
                parent=stages[dep.parent], position=dep.position, file_pattern=dep.file_pattern
            )
        )


def clone_campaign(campaign: Campaign, new_name: str, who: Experimenter) -> Campaign:
    """A copy under a new name, sharing the same job types and login setups; its first
    version says whose copy it is."""
    if find_campaign(campaign.experiment, new_name) is not None:
        raise ValueError(f"campaign {new_name!r} already exists in {campaign.experiment.name}")
    spec = spec_from_campaign(campaign)
    spec.name = new_name
    return save_campaign(campaign.experiment, spec, who, source="clone",
                         reason=f"copy of campaign {campaign.name}")


def delete_campaign(campaign: Campaign, who: Experimenter) -> None:
    if has_launched(campaign):
        raise CampaignInUse(
            f"campaign {campaign.name!r} has launched; it can be made Inactive, not deleted"
        )
    audit(
        campaign.experiment, who, "campaign deleted", campaign.name,
        asdict(spec_from_campaign(campaign)), None,
    )
    db.session.delete(campaign)
    db.session.flush()
