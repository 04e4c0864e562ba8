"""The launch script, built as the original POMS builds it (SubmissionsPOMS.launch_jobs).

What reaches the shell on the launch host is what the original sends there:

  1. the login setup's `setup` text, its placeholders filled from the launch's own names
     (dataset, parameter, version, group, experimenter, experiment: the original's
     input_dict; campaign keywords are not filled there, as in the original);
  2. the POMS environment (POMS_TASK_ID, POMS4_*, POMS_TEST, JOBSUB_GROUP, GROUP, ...),
     exported after the setup, as the original does, so a setup cannot change them;
  3. the launch command: the job type's `launch_script`, a blank, then every parameter as
     `key + value` joined by blanks, the whole line then formatted with the campaign
     keywords and the launch's names (those win). Parameters are the job type's, updated
     in order by the campaign default param_overrides (with merge_overrides), the stage's
     param_overrides, this launch's (a recovery's), for a test launch the stage's
     test_param_overrides, and this launch's again: a key keeps its first place and takes
     its last value.

Parameter values are therefore shell words on the launch host, as in the original:
`-c $UPLOADS/x.cfg` expands there and quotes in a value act as shell quotes. That is
deliberate fidelity, not an oversight: campaigns are written for it. The safety is in who
may change what runs under which account (role checks on stages, job types and login
setups; launch accounts owned by the campaign's role; every change audited) and in the dry
run, which shows this script byte for byte, as it is written to launch.sh and recorded as
the submission's command. Everything POMS itself inserts (its environment values) is
shell-quoted.

A placeholder the launch cannot fill is an error naming it and where it was found, before
anything runs (the original crashes halfway through the launch); see placeholders.py.
"""
from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field

from app.launching.placeholders import PlaceholderError, expand, expand_if_placeholders

Parameters = list[list[str]]

# The names the original fills in a login setup, its host and account (input_dict).
LAUNCH_NAMES = ("dataset", "parameter", "version", "group", "experimenter", "experiment")
# What %(dataset)s is for a stage that reads no dataset: the original's stage holds the
# word None there and hands it on as it is.
NO_DATASET = "None"


class LaunchError(ValueError):
    """The launch cannot be built; nothing ran. The message says why, in users' words."""


@dataclass
class LaunchContext:
    """Everything a launch command depends on, as plain data (from snapshots or the models)."""

    experiment: str
    experimenter: str  # the person the launch acts for
    campaign_id: int
    campaign_name: str
    stage_id: int
    stage_name: str
    stage_type: str
    job_type_id: int
    launch_script: str
    parameters: Parameters
    setup: str
    host: str = ""
    account: str = ""
    job_type_name: str = ""
    login_setup_name: str = ""
    software_version: str = ""
    dataset: str = ""  # "" when the launch reads no dataset
    param_overrides: Parameters = field(default_factory=list)
    test_param_overrides: Parameters = field(default_factory=list)
    merge_overrides: bool = False
    default_param_overrides: Parameters = field(default_factory=list)  # [campaign_defaults]
    extra_overrides: Parameters = field(default_factory=list)  # this launch's (recoveries)
    # What extra_overrides are, for messages: "job type X, recovery 1 (proj_status)".
    extra_overrides_label: str = "this launch's overrides"
    keywords: dict = field(default_factory=dict)  # campaign_keywords
    test: bool = False
    submission_id: int | None = None  # None for a dry run: nothing is allocated
    parent_submission_id: int | None = None
    poms_url: str = ""
    poms_test: str = "1"  # POMS_TEST, see app/config/launching.py
    credential_var: str = ""  # X509_USER_PROXY or BEARER_TOKEN_FILE
    credential_path: str = ""
    extra_env: dict = field(default_factory=dict)  # the batch engine's own (local engine)


@dataclass
class LaunchPlan:
    env: dict[str, str]  # names and values, in the order exported
    setup: str  # the login setup text, placeholders filled
    command: str  # the launch command line, as the original's lcmd
    script: str  # the whole shell script the launcher runs, byte for byte
    host: str = ""  # the login setup's host and account, placeholders filled
    account: str = ""
    warnings: list[str] = field(default_factory=list)  # launches anyway; the dry run says


def group_for(experiment: str) -> str:
    # As the original: samdev's jobs run in the fermilab group.
    return "fermilab" if experiment == "samdev" else experiment


def combined_name(campaign: str, stage: str) -> str:
    """The original's POMS_CAMPAIGN_NAME: campaign and stage names joined by `__` (a stage
    named after its campaign alone; a campaign-name prefix of the stage name not repeated),
    blanks made `_`."""
    if stage == campaign:
        name = stage
    elif stage.startswith(campaign):
        name = f"{campaign}__{stage[len(campaign):]}"
    else:
        name = f"{campaign}__{stage}"
    return name.replace(" ", "_")


# --- parameter lists -----------------------------------------------------------------------


def _word(part) -> str | None:
    if isinstance(part, str):
        return part
    if isinstance(part, bool | int | float):
        return str(part)
    return None


def _pair(item) -> list[str] | None:
    if isinstance(item, list | tuple) and len(item) == 2:
        key, value = _word(item[0]), _word(item[1])
        if key is not None and value is not None:
            return [key, value]
    return None


def _show(item) -> str:
    return json.dumps(item, ensure_ascii=False, default=str)


def _entries(value, what: str) -> list:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as err:
            raise LaunchError(f"{what} is not a JSON list of [key, value] pairs: {err}") from None
    if isinstance(value, dict):  # the original's OrderedDict.update takes a mapping too
        return [[k, v] for k, v in value.items()]
    if not isinstance(value, list | tuple):
        raise LaunchError(f"{what}: {_show(value)} is not a list of [key, value] pairs")
    return list(value)


def parameter_pairs(value, what: str) -> Parameters:
    """A stored parameter list as [key, value] pairs, or LaunchError naming the first entry
    that is not one (the original stops the launch there: it cannot use it)."""
    pairs = []
    for position, item in enumerate(_entries(value, what), start=1):
        pair = _pair(item)
        if pair is None:
            raise LaunchError(f"{what}, entry {position}: {_show(item)} is not a "
                              "[key, value] pair of two texts")
        pairs.append(pair)
    return pairs


def _leading_pairs(value, what: str) -> tuple[Parameters, str]:
    """The pairs before the first entry that is not one, and a warning about the rest: how
    the original takes test_param_overrides (an update it lets fail quietly)."""
    try:
        entries = _entries(value, what)
    except LaunchError as err:
        return [], f"{err}: ignored, as the original ignores it"
    pairs = []
    for position, item in enumerate(entries, start=1):
        pair = _pair(item)
        if pair is None:
            return pairs, (f"{what}, entry {position}: {_show(item)} is not a [key, value] "
                           "pair; it and the entries after it are ignored, as the original "
                           "ignores them")
        pairs.append(pair)
    return pairs, ""


def merged_parameters(ctx: LaunchContext) -> tuple[Parameters, list[str]]:
    """The job type's parameters with every override applied, in the original's order;
    with the warnings the dry run shows. LaunchError for a list the original cannot use."""
    job_type = f"job type {ctx.job_type_name or ctx.job_type_id}"
    params: dict[str, str] = {}

    def update(pairs: Parameters) -> None:
        for key, value in pairs:
            params[key] = value  # dict order: an existing key keeps its place

    update(parameter_pairs(ctx.parameters, f"{job_type}: parameters"))
    if ctx.merge_overrides:
        update(parameter_pairs(ctx.default_param_overrides,
                               "the campaign defaults' param_overrides"))
    update(parameter_pairs(ctx.param_overrides, f"stage {ctx.stage_name}: param_overrides"))
    own = parameter_pairs(ctx.extra_overrides, ctx.extra_overrides_label)
    update(own)
    warnings = []
    if ctx.test:
        pairs, warning = _leading_pairs(ctx.test_param_overrides,
                                        f"stage {ctx.stage_name}: test_param_overrides")
        update(pairs)
        if warning:
            warnings.append(warning)
    update(own)  # as the original: the launch's own overrides win over the test ones
    return [[k, v] for k, v in params.items()], warnings


def recovery_problems(job_type_name: str, recoveries) -> list[str]:
    """What stops each of a job type's recoveries from launching (their overrides are not
    [key, value] pairs), one message per recovery that cannot; nothing launches here."""
    problems = []
    for position, item in enumerate(recoveries or [], start=1):
        if not isinstance(item, list | tuple) or not item:
            problems.append(f"job type {job_type_name}, recovery {position}: "
                            f"{_show(item)} is not [recovery type, parameters]")
            continue
        label = f"job type {job_type_name}, recovery {position} ({item[0]})"
        try:
            parameter_pairs(item[1] if len(item) > 1 else [], label)
        except LaunchError as err:
            problems.append(str(err))
    return problems


# --- placeholders --------------------------------------------------------------------------


def launch_names(ctx: LaunchContext) -> tuple[dict[str, str], dict[str, str]]:
    """(the launch's own names, the command's names) as the original's input_dict and
    formatdict: the dataset, version and group take the campaign keywords (only those);
    the command takes the keywords and the launch's names, which win."""
    keywords = {str(k): str(v) for k, v in (ctx.keywords or {}).items()}
    why = "only the campaign keywords are filled in it, as in the original"
    dataset = expand_if_placeholders(ctx.dataset or NO_DATASET, keywords,
                                     "the launch's dataset", not_here=LAUNCH_NAMES,
                                     not_here_why=why)
    version = expand_if_placeholders(ctx.software_version or "", keywords,
                                     f"stage {ctx.stage_name}: software_version",
                                     not_here=LAUNCH_NAMES, not_here_why=why)
    group = group_for(ctx.experiment)
    own = {
        "dataset": dataset,
        "parameter": dataset,  # the original's other name for it
        "version": version,
        "group": group,
        "experimenter": ctx.experimenter,
        "experiment": ctx.experiment,
    }
    return own, {**keywords, **own}


# --- environment and script ----------------------------------------------------------------


def launch_env(ctx: LaunchContext) -> tuple[dict[str, str], dict[str, str]]:
    """(exported before the login setup, exported after it), named as the original names
    them. Before: the credential (the original's X509_USER_PROXY comes first too) and the
    batch engine's own variables. After: what the original exports after the setup."""
    before: dict[str, str] = {}
    if ctx.credential_var and ctx.credential_path:
        before[ctx.credential_var] = ctx.credential_path
    before.update({k: str(v) for k, v in ctx.extra_env.items()})
    sid = "" if ctx.submission_id is None else str(ctx.submission_id)
    group = group_for(ctx.experiment)
    after = {
        # The launch host's condor_vault_storer is not run: credentials are POMS's concern.
        "_condor_SEC_CREDENTIAL_STORER": "/bin/true",
        "POMS4_CAMPAIGN_STAGE_ID": str(ctx.stage_id),
        "POMS4_CAMPAIGN_STAGE_NAME": ctx.stage_name.replace(" ", "_"),
        "POMS4_CAMPAIGN_STAGE_TYPE": ctx.stage_type,
        "POMS4_CAMPAIGN_ID": str(ctx.campaign_id),
        "POMS4_CAMPAIGN_NAME": ctx.campaign_name.replace(" ", "_"),
        "POMS4_SUBMISSION_ID": sid,
        "POMS4_TEST_LAUNCH": "True" if ctx.test else "False",
        "POMS_CAMPAIGN_ID": str(ctx.stage_id),
        "POMS_CAMPAIGN_NAME": combined_name(ctx.campaign_name, ctx.stage_name),
        "POMS_PARENT_TASK_ID": "" if ctx.parent_submission_id is None
        else str(ctx.parent_submission_id),
        "POMS_TASK_ID": sid,
        "POMS_LAUNCHER": ctx.experimenter,
        "POMS_TEST": ctx.poms_test,
        "POMS_TASK_DEFINITION_ID": str(ctx.job_type_id),
        "JOBSUB_GROUP": group,
        "GROUP": group,
        "EXPERIMENT": ctx.experiment,
        "POMS_URL": ctx.poms_url,
    }
    return before, after


def _exports(env: dict[str, str]) -> list[str]:
    return [f"export {name}={shlex.quote(value)}" for name, value in env.items()]


def build_plan(ctx: LaunchContext) -> LaunchPlan:
    """The whole launch, or LaunchError naming the first thing that stops it."""
    if not ctx.launch_script.strip():
        raise LaunchError(f"job type {ctx.job_type_name or ctx.job_type_id} has no "
                          "launch_script")
    login = f"login setup {ctx.login_setup_name}" if ctx.login_setup_name else "the login setup"
    job_type = f"job type {ctx.job_type_name or ctx.job_type_id}"
    params, warnings = merged_parameters(ctx)
    try:
        own, names = launch_names(ctx)
        keywords_why = ("campaign keywords are not filled in a login setup, as in the "
                        "original (it fills only " + ", ".join(LAUNCH_NAMES) + ")")
        setup, host, account = (
            expand(text, own, f"{login}: {key}", not_here=ctx.keywords or {},
                   not_here_why=keywords_why)
            for key, text in (("setup", ctx.setup), ("host", ctx.host),
                              ("account", ctx.account)))
        # Each piece alone first, so an unknown name is reported where it was written.
        expand(ctx.launch_script, names, f"{job_type}: launch_script")
        for position, (key, value) in enumerate(params, start=1):
            expand(key + value, names, f"parameter {position} ({key.strip() or value})")
        command = expand(ctx.launch_script + " " + " ".join(k + v for k, v in params),
                         names, "the launch command")
    except PlaceholderError as err:
        raise LaunchError(str(err)) from None
    before, after = launch_env(ctx)
    lines = [
        "# POMS launch script: run as written here, on the login setup's host and account",
        "exec 2>&1",
        'echo "== process_id: $$ =="',
        *_exports(before),
        # The embedded tools (a no-op `setup`, fife_launch, jobsub_submit) are there for the
        # login setup, behind the host's own commands, as the original sets up fife_utils
        # before the user's setup...
        'if [ -n "${POMS_TOOLS_DIR:-}" ]; then export PATH="$PATH:$POMS_TOOLS_DIR"; fi',
        "set -x",
        setup,
        *_exports(after),
        # ... and in front after it, as the original sets up poms_jobsub_wrapper last so its
        # jobsub_submit wins.
        'if [ -n "${POMS_TOOLS_DIR:-}" ]; then export PATH="$POMS_TOOLS_DIR:$PATH"; fi',
        command,
        "status=$?",
        "set +x",
        'echo "== completed: $status =="',
        "exit $status",
    ]
    return LaunchPlan(
        env={**before, **after}, setup=setup, command=command,
        script="\n".join(lines) + "\n", host=host, account=account, warnings=warnings,
    )
