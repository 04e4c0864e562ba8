"""The launch command, built as the original POMS builds it, but without its quoting holes.

Order, as in the original (webservice SubmissionsPOMS.launch_jobs):
  1. the environment POMS hands to the launch (POMS_TASK_ID, POMS4_*, JOBSUB_GROUP, ...);
  2. the login setup's `setup` text (trusted shell text, run as the login account);
  3. the job type's `launch_script` (trusted shell text) followed by its `parameters`,
     merged with the overrides: with `merge_overrides` the campaign default
     param_overrides come first, then the stage's param_overrides, then for a test launch the
     stage's test_param_overrides, then the launch's own (a recovery's). A key already
     present keeps its place and takes the new value; a new key is appended.

A parameter is [key, value]. A key ending in a space gives two arguments ("-c " + "/path"
is `-c /path`), any other key one (`--stage=reco`); the value is always exactly one argument,
shell-quoted, so whatever it holds reaches the program literally.
"""
from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field

from app.launching.placeholders import PlaceholderError, expand

Parameters = list[list[str]]


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
    software_version: str = ""
    vo_role: str = ""
    dataset: str = ""
    param_overrides: Parameters = field(default_factory=list)
    test_param_overrides: Parameters = field(default_factory=list)
    merge_overrides: bool = False
    default_param_overrides: Parameters = field(default_factory=list)  # [campaign_defaults]
    extra_overrides: Parameters = field(default_factory=list)  # this launch's (recoveries)
    keywords: dict = field(default_factory=dict)  # campaign_keywords
    test: bool = False
    submission_id: int | None = None  # None for a dry run: nothing is allocated
    parent_submission_id: int | None = None
    poms_url: str = ""
    credential_var: str = ""  # X509_USER_PROXY or BEARER_TOKEN_FILE
    credential_path: str = ""
    extra_env: dict = field(default_factory=dict)  # the batch engine's own (local engine)


@dataclass
class LaunchPlan:
    env: dict[str, str]  # names and values, in the order exported
    setup: str  # the login setup text, placeholders expanded
    launch_script: str  # the job type's launch_script, placeholders expanded
    arguments: list[str]  # one entry per argument of the launch script
    script: str  # the whole shell script the launcher runs

    @property
    def command(self) -> str:
        """The launch command line as a person would type it."""
        return " ".join([self.launch_script, *(shlex.quote(a) for a in self.arguments)])


def group_for(experiment: str) -> str:
    # As the original: samdev's jobs run in the fermilab group.
    return "fermilab" if experiment == "samdev" else experiment


def _as_pairs(value, what: str) -> Parameters:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as err:
            raise LaunchError(f"{what} is not a JSON list of [key, value] pairs: {err}") from None
    pairs = []
    for item in value:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise LaunchError(f"{what}: {item!r} is not a [key, value] pair")
        pairs.append([str(item[0]), str(item[1])])
    return pairs


def merged_parameters(ctx: LaunchContext) -> Parameters:
    """The job type's parameters with every override applied, in launch order."""
    params: dict[str, str] = {}
    for key, value in _as_pairs(ctx.parameters, "the job type's parameters"):
        params[key] = value
    layers: list[tuple[object, str]] = []
    if ctx.merge_overrides:
        layers.append((ctx.default_param_overrides, "the campaign default param_overrides"))
    layers.append((ctx.param_overrides, "the stage's param_overrides"))
    if ctx.test:
        layers.append((ctx.test_param_overrides, "the stage's test_param_overrides"))
    layers.append((ctx.extra_overrides, "this launch's overrides"))
    for layer, what in layers:
        for key, value in _as_pairs(layer, what):
            params[key] = value  # dict order: an existing key keeps its place
    return [[k, v] for k, v in params.items()]


def arguments_for(pairs: Parameters, values: dict[str, str]) -> list[str]:
    """Each pair as argv entries; placeholders expanded in keys and values."""
    argv: list[str] = []
    for position, (key, value) in enumerate(pairs, start=1):
        where = f"parameter {position} ({key.strip() or 'no key'})"
        key = expand(key, values, where)
        value = expand(value, values, where)
        # A key is trusted text written by the job type's author: its words are separate
        # arguments (the original handed it to a shell). The value is one argument, always.
        words = key.split()
        if not words:
            argv.append(value)
        elif key[-1].isspace():
            argv.extend([*words, value])
        else:
            argv.extend([*words[:-1], words[-1] + value])
    return argv


def placeholder_values(ctx: LaunchContext) -> dict[str, str]:
    values = {str(k): str(v) for k, v in (ctx.keywords or {}).items()}
    values.update(
        dataset=ctx.dataset or "",
        parameter=ctx.dataset or "",  # the original's other name for it
        experiment=ctx.experiment,
        experimenter=ctx.experimenter,
        version=ctx.software_version or "",
        group=group_for(ctx.experiment),
        role=ctx.vo_role or "",
    )
    return values


def launch_env(ctx: LaunchContext) -> dict[str, str]:
    """The environment of the launch, named as the original names it."""
    sid = "" if ctx.submission_id is None else str(ctx.submission_id)
    group = group_for(ctx.experiment)
    # The original's POMS_CAMPAIGN_NAME joins campaign and stage names, blanks made _.
    if ctx.stage_name == ctx.campaign_name:
        combined = ctx.stage_name
    else:
        combined = f"{ctx.campaign_name}__{ctx.stage_name}"
    env = {
        "POMS_TASK_ID": sid,
        "POMS4_SUBMISSION_ID": sid,
        "POMS4_CAMPAIGN_ID": str(ctx.campaign_id),
        "POMS4_CAMPAIGN_NAME": ctx.campaign_name.replace(" ", "_"),
        "POMS4_CAMPAIGN_STAGE_ID": str(ctx.stage_id),
        "POMS4_CAMPAIGN_STAGE_NAME": ctx.stage_name.replace(" ", "_"),
        "POMS4_CAMPAIGN_STAGE_TYPE": ctx.stage_type,
        "POMS4_TEST_LAUNCH": "True" if ctx.test else "False",
        "POMS_CAMPAIGN_ID": str(ctx.stage_id),
        "POMS_CAMPAIGN_NAME": combined.replace(" ", "_"),
        "POMS_PARENT_TASK_ID": "" if ctx.parent_submission_id is None
        else str(ctx.parent_submission_id),
        "POMS_LAUNCHER": ctx.experimenter,
        "POMS_TASK_DEFINITION_ID": str(ctx.job_type_id),
        "POMS_URL": ctx.poms_url,
        "JOBSUB_GROUP": group,
        "GROUP": group,
        "EXPERIMENT": ctx.experiment,
    }
    if ctx.credential_var and ctx.credential_path:
        env[ctx.credential_var] = ctx.credential_path
    env.update({k: str(v) for k, v in ctx.extra_env.items()})
    return env


def build_plan(ctx: LaunchContext) -> LaunchPlan:
    """The whole launch, or LaunchError naming the first thing that stops it."""
    if not ctx.launch_script.strip():
        raise LaunchError(f"job type {ctx.job_type_id} has no launch_script")
    values = placeholder_values(ctx)
    try:
        setup = expand(ctx.setup, values, "the login setup's setup", shell=True)
        script = expand(ctx.launch_script, values, "the job type's launch_script", shell=True)
        arguments = arguments_for(merged_parameters(ctx), values)
    except PlaceholderError as err:
        raise LaunchError(str(err)) from None
    env = launch_env(ctx)
    lines = [
        "# POMS launch" + (f" of submission {ctx.submission_id}" if ctx.submission_id else ""),
        "exec 2>&1",
        *(f"export {name}={shlex.quote(value)}" for name, value in env.items()),
        "echo \"== process_id: $$ ==\"",
        "set -x",
        setup,
        # The engine's own commands (jobsub_submit, fife_launch for the local engine) go on
        # the front of PATH after the user's setup, as the original re-sets up
        # poms_jobsub_wrapper last so its jobsub_submit wins.
        'if [ -n "${POMS_TOOLS_DIR:-}" ]; then export PATH="$POMS_TOOLS_DIR:$PATH"; fi',
        " ".join([script, *(shlex.quote(a) for a in arguments)]),
        "status=$?",
        "set +x",
        "echo \"== completed: $status ==\"",
        "exit $status",
    ]
    return LaunchPlan(
        env=env, setup=setup, launch_script=script, arguments=arguments,
        script="\n".join(lines) + "\n",
    )
