"""Building the launch command: merging as the original, placeholders, one value = one argument."""
from __future__ import annotations

import subprocess
import sys

import pytest

from app.launching.command import (
    LaunchContext,
    LaunchError,
    arguments_for,
    build_plan,
    merged_parameters,
)
from app.launching.placeholders import PlaceholderError, expand


def context(**changes) -> LaunchContext:
    values = dict(
        experiment="mu2e", experimenter="alice", campaign_id=3, campaign_name="tut",
        stage_id=7, stage_name="reco_fcl", stage_type="regular", job_type_id=2,
        launch_script="fife_launch", parameters=[["-c ", "reco.cfg"], ["--stage=", "base"]],
        setup="setup fife_utils v3_5_0;", software_version="MDC2020t", vo_role="Analysis",
        dataset="mu2e_fcl_set", submission_id=41,
    )
    values.update(changes)
    return LaunchContext(**values)


def test_an_override_replaces_the_same_key_in_place_and_new_keys_are_appended():
    ctx = context(param_overrides=[["--stage=", "reco"], ["-Oglobal.n=", "5"]])
    assert merged_parameters(ctx) == [["-c ", "reco.cfg"], ["--stage=", "reco"],
                                      ["-Oglobal.n=", "5"]]


def test_a_test_launch_adds_test_param_overrides_on_top():
    ctx = context(param_overrides=[["--stage=", "reco"]],
                  test_param_overrides=[["--stage=", "reco_test"], ["--debug", ""]], test=True)
    assert merged_parameters(ctx)[1:] == [["--stage=", "reco_test"], ["--debug", ""]]
    assert merged_parameters(context(test_param_overrides=[["--x", ""]]))[-1] != ["--x", ""]


def test_merge_overrides_starts_from_the_campaign_defaults():
    defaults = [["-Oglobal.version=", "v1"], ["--stage=", "default"]]
    merged = merged_parameters(context(merge_overrides=True, default_param_overrides=defaults,
                                       param_overrides=[["--stage=", "reco"]]))
    assert merged == [["-c ", "reco.cfg"], ["--stage=", "reco"], ["-Oglobal.version=", "v1"]]
    plain = merged_parameters(context(default_param_overrides=defaults))
    assert ["-Oglobal.version=", "v1"] not in plain


def test_a_key_ending_in_a_space_gives_two_arguments_any_other_one():
    assert arguments_for([["-c ", "/a b"], ["--stage=", "reco"], ["", "pos"]], {}) == [
        "-c", "/a b", "--stage=reco", "pos"]


def test_placeholders_are_substituted_and_percent_percent_is_percent():
    ctx = context(parameters=[["-Osubmit.dataset=", "%(dataset)s"],
                              ["--tag=", "%(experiment)s_%(version)s_%(group)s_%(role)s_%(kw)s"],
                              ["--pattern=", "100%%"]], keywords={"kw": "K"})
    plan = build_plan(ctx)
    assert plan.arguments == ["-Osubmit.dataset=mu2e_fcl_set",
                              "--tag=mu2e_MDC2020t_mu2e_Analysis_K", "--pattern=100%"]


def test_an_unknown_placeholder_is_an_error_before_anything_runs():
    with pytest.raises(LaunchError, match=r"unknown placeholder %\(datset\)s"):
        build_plan(context(param_overrides=[["--in=", "%(datset)s"]]))
    with pytest.raises(LaunchError, match="login setup"):
        build_plan(context(setup="setup %(nothing)s"))
    with pytest.raises(PlaceholderError):
        expand("%(dataset)d", {"dataset": "x"}, "here")


def test_samdev_launches_in_the_fermilab_group_and_the_environment_is_named_as_the_original():
    plan = build_plan(context(experiment="samdev", test=True, parent_submission_id=40,
                              credential_var="BEARER_TOKEN_FILE", credential_path="/c/tok"))
    env = plan.env
    assert env["JOBSUB_GROUP"] == env["GROUP"] == "fermilab"
    assert env["POMS_TASK_ID"] == env["POMS4_SUBMISSION_ID"] == "41"
    assert env["POMS4_CAMPAIGN_STAGE_ID"] == env["POMS_CAMPAIGN_ID"] == "7"
    assert env["POMS4_CAMPAIGN_ID"] == "3" and env["POMS4_CAMPAIGN_NAME"] == "tut"
    assert env["POMS4_TEST_LAUNCH"] == "True" and env["POMS_PARENT_TASK_ID"] == "40"
    assert env["POMS_LAUNCHER"] == "alice" and env["BEARER_TOKEN_FILE"] == "/c/tok"
    assert "X509_USER_PROXY" not in env


HOSTILE = ["; rm -rf ~", "$(touch /tmp/pwned)", "it's \"quoted\"", "two\nlines", "`id`", "*"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_value_reaches_the_program_as_one_literal_argument(value, tmp_path):
    # The launch script is a python program that writes its argv: run the real script.
    show = tmp_path / "show_args.py"
    show.write_text("import json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    ctx = context(launch_script=f"{sys.executable} {show}", setup="true",
                  parameters=[["--value=", "x"], ["-v ", "%(dataset)s"]],
                  param_overrides=[["--value=", value]], dataset=value)
    plan = build_plan(ctx)
    done = subprocess.run(["bash", "-s"], input=plan.script, capture_output=True, text=True,
                          cwd=tmp_path)
    import json

    line = next(x for x in done.stdout.splitlines() if x.startswith("["))
    assert json.loads(line) == [f"--value={value}", "-v", value]
    assert not (tmp_path / "pwned").exists()


def test_a_hostile_dataset_in_the_setup_text_stays_one_word(tmp_path):
    ctx = context(setup="echo setup-for %(dataset)s > setup.out", launch_script="true",
                  parameters=[], dataset="x; touch pwned")
    subprocess.run(["bash", "-s"], input=build_plan(ctx).script, capture_output=True,
                   text=True, cwd=tmp_path)
    assert (tmp_path / "setup.out").read_text() == "setup-for x; touch pwned\n"
    assert not (tmp_path / "pwned").exists()
