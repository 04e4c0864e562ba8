"""Building the launch script as the original POMS builds it (SubmissionsPOMS.launch_jobs).

`original_command` below restates what launch_jobs does to make its launch command: an
OrderedDict of the job type's parameters, updated by the campaign default overrides (with
merge_overrides), the stage's and the launch's own, then (a test launch) the stage's test
overrides inside a try/except that ignores a failure, then the launch's own again; the
line `launch_script + " " + " ".join(key + value)`; then `% formatdict`, where formatdict is
the campaign keywords updated by input_dict (dataset, parameter, version, group,
experimenter, experiment; the dataset and version themselves formatted with the keywords
alone when they hold a placeholder). Every real campaign file's stages are built both ways
and must agree byte for byte.
"""
from __future__ import annotations

import configparser
import json
import os
import sys
from collections import OrderedDict

import pytest

from app.launching.command import (
    LaunchContext,
    LaunchError,
    build_plan,
    combined_name,
    merged_parameters,
    recovery_problems,
)
from app.launching.launchers import LocalLauncher
from app.launching.placeholders import PlaceholderError, expand, expand_if_placeholders
from tests.fixtures.app import EXAMPLES


def context(**changes) -> LaunchContext:
    values = dict(
        experiment="mu2e", experimenter="alice", campaign_id=3, campaign_name="tut",
        stage_id=7, stage_name="reco_fcl", stage_type="regular", job_type_id=2,
        job_type_name="reco_jobtype", login_setup_name="mu2e_login",
        launch_script="fife_launch", parameters=[["-c ", "reco.cfg"], ["--stage=", "base"]],
        setup="setup fife_utils v3_5_0;", software_version="MDC2020t",
        dataset="mu2e_fcl_set", submission_id=41,
    )
    values.update(changes)
    return LaunchContext(**values)


# --- the original's command, restated ------------------------------------------------------


def original_command(launch_script, parameters, *, stage_overrides=(), default_overrides=(),
                     merge=False, test_overrides=(), test=False, launch_overrides=None,
                     keywords=None, dataset="None", version="", experiment="mu2e",
                     experimenter="alice"):
    keywords = dict(keywords or {})

    def with_keywords(text):
        return text % keywords if "%(" in text and ")s" in text else text

    group = "fermilab" if experiment == "samdev" else experiment
    input_dict = {"dataset": with_keywords(dataset), "parameter": with_keywords(dataset),
                  "version": with_keywords(version), "group": group,
                  "experimenter": experimenter, "experiment": experiment}
    params = OrderedDict(parameters)
    overrides = (list(default_overrides) if merge else []) + list(stage_overrides)
    if launch_overrides:
        overrides += launch_overrides
    params.update(overrides)
    if test:
        try:
            params.update(test_overrides)
        except (TypeError, ValueError):
            pass
    if launch_overrides is not None:
        params.update(launch_overrides)
    line = launch_script + " " + " ".join(k + v for k, v in params.items())
    formatdict = dict(keywords)
    formatdict.update(input_dict)
    return line % formatdict


# --- merging -------------------------------------------------------------------------------


def test_overrides_merge_in_the_originals_order_first_place_last_value():
    """launch_jobs: parameters, then defaults (merge_overrides) + stage + launch overrides,
    then test overrides, then the launch's again (they win over the test ones)."""
    ctx = context(
        parameters=[["-c ", "reco.cfg"], ["--stage=", "base"]],
        merge_overrides=True, default_param_overrides=[["-Oglobal.v=", "d"], ["--a=", "d"]],
        param_overrides=[["--stage=", "reco"], ["--a=", "s"]],
        extra_overrides=[["--a=", "r"], ["--new=", "r"]],
        test_param_overrides=[["--a=", "t"], ["--new=", "t"], ["--t=", "t"]], test=True)
    merged, warnings = merged_parameters(ctx)
    assert merged == [["-c ", "reco.cfg"], ["--stage=", "reco"], ["-Oglobal.v=", "d"],
                      ["--a=", "r"], ["--new=", "r"], ["--t=", "t"]]
    assert warnings == []
    assert build_plan(ctx).command == original_command(
        "fife_launch", ctx.parameters, stage_overrides=ctx.param_overrides,
        default_overrides=ctx.default_param_overrides, merge=True,
        test_overrides=ctx.test_param_overrides, test=True,
        launch_overrides=ctx.extra_overrides, dataset="mu2e_fcl_set", version="MDC2020t")


def test_without_merge_overrides_the_campaign_defaults_are_not_used():
    merged, _ = merged_parameters(context(default_param_overrides=[["-Oglobal.v=", "d"]]))
    assert ["-Oglobal.v=", "d"] not in merged


def test_a_malformed_test_override_is_ignored_from_there_on_and_the_dry_run_says_so():
    """launch_jobs wraps the test overrides' update in try/except: what comes before the
    bad entry is applied, the rest is not, and the launch goes on."""
    ctx = context(test_param_overrides=[["--t1=", "a"], ["--bad"], ["--t2=", "b"]], test=True)
    plan = build_plan(ctx)
    assert "--t1=a" in plan.command and "--t2" not in plan.command
    assert plan.warnings and "entry 2" in plan.warnings[0] and "ignored" in plan.warnings[0]
    assert plan.command == original_command(
        "fife_launch", ctx.parameters, test_overrides=ctx.test_param_overrides, test=True,
        dataset="mu2e_fcl_set", version="MDC2020t")


def test_a_malformed_stage_or_job_type_entry_refuses_the_launch_naming_it():
    with pytest.raises(LaunchError, match=r"stage reco_fcl: param_overrides, entry 2: "
                                          r"\[\"-v\"\] is not a \[key, value\] pair"):
        build_plan(context(param_overrides=[["--a=", "1"], ["-v"]]))
    with pytest.raises(LaunchError, match=r"job type reco_jobtype: parameters, entry 1"):
        build_plan(context(parameters=[["-c ", ["nested"]]]))


def test_a_recovery_list_of_any_shape_is_named_when_it_cannot_be_built():
    """Mu2e's CampaignConfig_mdc2020_cry.ini gives proj_status the one-element entry
    ["-Oglobal.override_dataset=','%(dataset)s"]: the original's params.update stops on it
    (ValueError: a sequence element of length 1 where 2 are needed)."""
    recoveries = [["proj_status", [["-Oglobal.override_dataset=','%(dataset)s"],
                                   ["--stage ", "recovery"]]],
                  ["added_files", [["--stage ", "recovery"]]], "junk"]
    with pytest.raises(ValueError):
        OrderedDict().update(recoveries[0][1])
    problems = recovery_problems("cry_jobtype", recoveries)
    assert problems[0] == (
        "job type cry_jobtype, recovery 1 (proj_status), entry 1: "
        "[\"-Oglobal.override_dataset=','%(dataset)s\"] is not a [key, value] pair of two texts")
    assert problems[1].startswith("job type cry_jobtype, recovery 3:")
    assert len(problems) == 2
    ctx = context(extra_overrides=recoveries[0][1],
                  extra_overrides_label="job type cry_jobtype, recovery 1 (proj_status)")
    with pytest.raises(LaunchError, match=r"recovery 1 \(proj_status\), entry 1"):
        build_plan(ctx)


def test_a_recovery_override_takes_the_recovery_dataset_as_the_original_formats_it():
    ctx = context(dataset="poms_recover_41_1", param_overrides=[["--stage ", "reco"]],
                  extra_overrides=[["-Osubmit.dataset=", "%(dataset)s"]])
    plan = build_plan(ctx)
    assert plan.command.endswith("--stage reco -Osubmit.dataset=poms_recover_41_1")
    assert plan.command == original_command(
        "fife_launch", ctx.parameters, stage_overrides=ctx.param_overrides,
        launch_overrides=ctx.extra_overrides, dataset="poms_recover_41_1",
        version="MDC2020t")


# --- placeholders --------------------------------------------------------------------------


def test_keywords_fill_the_dataset_version_and_every_parameter_launch_names_win():
    ctx = context(
        keywords={"release": "MDC2020ag", "dataset": "kw_loses", "tier": "dig"},
        dataset="sim.mu2e.%(tier)s.%(release)s", software_version="%(release)s",
        param_overrides=[["-Oglobal.release=", "%(release)s"],
                         ["-Oglobal.in=", "%(dataset)s"], ["--v=", "%(version)s"]])
    plan = build_plan(ctx)
    assert plan.command == (
        "fife_launch -c reco.cfg --stage=base -Oglobal.release=MDC2020ag "
        "-Oglobal.in=sim.mu2e.dig.MDC2020ag --v=MDC2020ag")
    assert plan.command == original_command(
        "fife_launch", ctx.parameters, stage_overrides=ctx.param_overrides,
        keywords=ctx.keywords, dataset=ctx.dataset, version=ctx.software_version)


def test_a_stage_that_reads_no_dataset_gives_the_word_none_as_the_original():
    plan = build_plan(context(dataset="", param_overrides=[["-Oglobal.sam_dataset=",
                                                            "%(dataset)s"]]))
    assert plan.command.endswith("-Oglobal.sam_dataset=None")


def test_percent_percent_is_percent_and_a_stray_percent_stays():
    """Python's %: `%%` is `%` (the sample mock campaign writes -D %%(dataset)s and gets
    the text %(dataset)s). A `%` starting no placeholder would stop the original's launch;
    here it stays as written."""
    plan = build_plan(context(launch_script="run -D %%(dataset)s", parameters=[
        ["--pattern=", "100%%"], ["--date=", "+%Y"]]))
    assert plan.command == "run -D %(dataset)s --pattern=100% --date=+%Y"
    assert expand_if_placeholders("a%%b", {}, "here") == "a%%b"  # a dataset without one
    assert expand_if_placeholders("a%%b_%(k)s", {"k": "K"}, "here") == "a%b_K"


def test_an_unknown_placeholder_refuses_the_launch_naming_the_place():
    with pytest.raises(LaunchError, match=r"parameter 3 \(--in=\): unknown placeholder "
                                          r"%\(datset\)s \(known here: .*%\(dataset\)s"):
        build_plan(context(param_overrides=[["--in=", "%(datset)s"]]))
    with pytest.raises(LaunchError, match="job type reco_jobtype: launch_script"):
        build_plan(context(launch_script="run %(nothing)s"))
    with pytest.raises(LaunchError, match="login setup mu2e_login: setup"):
        build_plan(context(setup="setup %(nothing)s"))
    with pytest.raises(PlaceholderError, match="must end in 's'"):
        expand("%(dataset)d", {"dataset": "x"}, "here")


def test_the_login_setup_takes_the_launch_names_but_not_the_campaign_keywords():
    """The original formats launch_setup and the ssh target with input_dict alone."""
    plan = build_plan(context(setup="export X509_USER_PROXY=/opt/%(experiment)spro/x.proxy",
                              host="%(experiment)sgpvm01.fnal.gov", account="%(experiment)spro",
                              experiment="dune"))
    assert plan.setup == "export X509_USER_PROXY=/opt/dunepro/x.proxy"
    assert (plan.host, plan.account) == ("dunegpvm01.fnal.gov", "dunepro")
    with pytest.raises(LaunchError, match=r"%\(release\)s is not filled here: campaign "
                                          "keywords are not filled in a login setup"):
        build_plan(context(setup="setup %(release)s", keywords={"release": "v1"}))


def test_the_dataset_takes_only_the_campaign_keywords():
    with pytest.raises(LaunchError, match=r"the launch's dataset: %\(experiment\)s is not "
                                          "filled here"):
        build_plan(context(dataset="%(experiment)s_raw"))


# --- environment ---------------------------------------------------------------------------


def test_the_environment_is_named_and_ordered_as_the_original():
    plan = build_plan(context(experiment="samdev", test=True, parent_submission_id=40,
                              credential_var="BEARER_TOKEN_FILE", credential_path="/c/tok",
                              poms_test="int"))
    env = plan.env
    assert env["JOBSUB_GROUP"] == env["GROUP"] == "fermilab"
    assert env["POMS_TASK_ID"] == env["POMS4_SUBMISSION_ID"] == "41"
    assert env["POMS4_CAMPAIGN_STAGE_ID"] == env["POMS_CAMPAIGN_ID"] == "7"
    assert env["POMS4_CAMPAIGN_ID"] == "3" and env["POMS4_CAMPAIGN_NAME"] == "tut"
    assert env["POMS4_TEST_LAUNCH"] == "True" and env["POMS_PARENT_TASK_ID"] == "40"
    assert env["POMS_LAUNCHER"] == "alice" and env["BEARER_TOKEN_FILE"] == "/c/tok"
    assert env["POMS_TEST"] == "int" and env["_condor_SEC_CREDENTIAL_STORER"] == "/bin/true"
    assert "X509_USER_PROXY" not in env
    # The credential before the login setup, POMS's own names after it (they win).
    script = plan.script
    assert script.index("BEARER_TOKEN_FILE=") < script.index(plan.setup) \
        < script.index("export POMS_TASK_ID=")


def test_poms_campaign_name_joins_as_the_original():
    assert combined_name("mdc2020", "mdc2020") == "mdc2020"
    assert combined_name("mdc2020", "mdc2020_reco") == "mdc2020___reco"
    assert combined_name("tut", "reco fcl") == "tut__reco_fcl"


# --- every real campaign file --------------------------------------------------------------


def _value(raw: str):
    value = json.loads(raw)
    return json.loads(value) if isinstance(value, str) else value


def _ini_stages():
    """(file, stage, job type section, login setup section, defaults, keywords, stage
    section) of every stage of the shared example files whose job type the file defines,
    read with configparser alone (independent of our importer)."""
    out = []
    for path in sorted(EXAMPLES.rglob("*.ini")):
        ini = configparser.RawConfigParser(interpolation=None, strict=False)
        ini.read_string(path.read_text())
        if not ini.has_section("campaign"):
            continue
        defaults = dict(ini["campaign_defaults"]) if ini.has_section("campaign_defaults") else {}
        # Some Mu2e files write them in [campaign_defaults].
        keywords = _value(ini["campaign"].get("campaign_keywords")
                          or defaults.get("campaign_keywords") or "{}")
        for section in ini.sections():
            if not section.startswith("campaign_stage "):
                continue
            stage = {**defaults, **dict(ini[section])}
            job_type = f"job_type {stage.get('job_type', '').strip()}"
            login = f"login_setup {stage.get('login_setup', '').strip()}"
            if ini.has_section(job_type):  # a login setup defined elsewhere: none here
                out.append((path.name, section.split(" ", 1)[1], dict(ini[job_type]),
                            dict(ini[login]) if ini.has_section(login) else {}, defaults,
                            keywords or {}, stage))
    return out


def test_every_real_stage_launches_the_command_the_original_would():
    stages = _ini_stages()
    assert len(stages) > 200  # the Mu2e production files and the POMS samples
    assert sum(1 for s in stages if s[5]) >= 7  # with campaign keywords
    checked = 0
    for name, stage_name, job_type, login, defaults, keywords, stage in stages:
        dataset = stage.get("dataset_or_split_data", "None").strip()
        if stage.get("cs_split_type", "None").strip() not in ("None", "none", ""):
            dataset = "a_slice_of_it"  # what the splitter hands on (tested in test_splits)
        for test in (False, True):
            ctx = context(
                launch_script=job_type["launch_script"].strip(),
                parameters=_value(job_type.get("parameters", "[]")),
                param_overrides=_value(stage.get("param_overrides", "[]") or "[]"),
                test_param_overrides=_value(stage.get("test_param_overrides", "[]") or "[]"),
                merge_overrides=stage.get("merge_overrides", "False").strip() == "True",
                default_param_overrides=_value(defaults.get("param_overrides", "[]") or "[]"),
                keywords=keywords, dataset="" if dataset in ("None", "none") else dataset,
                software_version=stage.get("software_version", "").strip(), test=test,
                setup=login.get("setup", ""), host=login.get("host", ""),
                account=login.get("account", ""))
            expected = original_command(
                ctx.launch_script, ctx.parameters, stage_overrides=ctx.param_overrides,
                default_overrides=ctx.default_param_overrides, merge=ctx.merge_overrides,
                test_overrides=ctx.test_param_overrides, test=test, keywords=keywords,
                dataset=dataset, version=ctx.software_version)
            assert build_plan(ctx).command == expected, (name, stage_name, test)
            checked += 1
    assert checked == 2 * len(stages)


# --- the script, run -----------------------------------------------------------------------

SHOW = """import json, os, sys
print("ARGV " + json.dumps(sys.argv[1:]))
print("ENV " + json.dumps({k: os.environ.get(k) for k in
      ("SETUP_SAW", "POMS_TEST", "POMS_TASK_ID", "POMS_CAMPAIGN_NAME", "JOBSUB_GROUP")}))
"""


def run_through_the_local_launcher(plan, tmp_path):
    script = tmp_path / "launch.sh"
    script.write_bytes(plan.script.encode())
    output = tmp_path / "output.log"
    started = LocalLauncher().start(script, tmp_path, output)
    assert started.wait(timeout=60) == 0, output.read_text()
    text = output.read_text()
    argv = json.loads(next(x for x in text.splitlines() if x.startswith("ARGV "))[5:])
    env = json.loads(next(x for x in text.splitlines() if x.startswith("ENV "))[4:])
    return argv, env, text


def test_the_launched_program_receives_what_the_shell_makes_of_the_words(tmp_path):
    """Parameter values are shell words on the launch host: $HOME expands there, quotes
    inside a value act as shell quotes, keywords fill the dataset and the parameters, the
    login setup's text has %(experiment)s filled."""
    show = tmp_path / "show.py"
    show.write_text(SHOW)
    plan = build_plan(context(
        launch_script=f"{sys.executable} {show}",
        parameters=[["-c ", "$HOME/x.cfg"]],
        param_overrides=[["--name=", "'two words'"], ["--in=", "%(dataset)s"],
                         ["--rel=", "%(release)s"], ["--lit=", "'$HOME'"]],
        keywords={"release": "MDC2020ag"}, dataset="sim.%(release)s.art",
        setup="export SETUP_SAW=%(experiment)s_setup", poms_test="1"))
    argv, env, text = run_through_the_local_launcher(plan, tmp_path)
    assert argv == ["-c", f"{os.environ['HOME']}/x.cfg", "--name=two words",
                    "--in=sim.MDC2020ag.art", "--rel=MDC2020ag", "--lit=$HOME"]
    assert env == {"SETUP_SAW": "mu2e_setup", "POMS_TEST": "1", "POMS_TASK_ID": "41",
                   "POMS_CAMPAIGN_NAME": "tut__reco_fcl", "JOBSUB_GROUP": "mu2e"}
    assert "== completed: 0 ==" in text


def test_a_launch_setup_cannot_change_the_poms_environment(tmp_path):
    """As the original, POMS exports its names after the login setup."""
    show = tmp_path / "show.py"
    show.write_text(SHOW)
    plan = build_plan(context(launch_script=f"{sys.executable} {show}", parameters=[],
                              setup="export POMS_TASK_ID=999 JOBSUB_GROUP=other"))
    _argv, env, _text = run_through_the_local_launcher(plan, tmp_path)
    assert env["POMS_TASK_ID"] == "41" and env["JOBSUB_GROUP"] == "mu2e"
