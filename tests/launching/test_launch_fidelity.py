"""Launches that really run through the worker and the local launcher, checked against the
original's launch_jobs: the dry run's bytes are the bytes that run, the launched program
gets shell words, keywords and the login setup filled, and a test launch splits by the
stage's test_split_type (StagesPOMS.get_dataset_for)."""
from __future__ import annotations

import html
import json
import os
import re
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.catalog.embedded import EmbeddedCatalog
from app.extensions import db
from app.launching import service
from app.launching.inputs import choose_input
from app.models import AuditEntry, Submission
from tests.api.support import API, as_user
from tests.fixtures.app import csrf_token, signed_in
from tests.fixtures.launching import work
from tests.launching.conftest import SPLIT_FILES as FILES


def stage_of(campaign, name):
    return next(s for s in campaign.stages if s.name == name)


def dry_run_page_script(client, stage_id: int, test: bool = False) -> str:
    page = client.get(f"/e/mu2e/stage/{stage_id}/launch?test={int(test)}")
    assert page.status_code == 200, page.get_data(as_text=True)
    text = page.get_data(as_text=True)
    return html.unescape(re.search(r'<pre class="command" id="launch-command">(.*?)</pre>',
                                   text, re.S).group(1))


def with_id(script: str, submission_id: int) -> str:
    for name in ("POMS4_SUBMISSION_ID", "POMS_TASK_ID"):
        script = script.replace(f"export {name}=''\n", f"export {name}={submission_id}\n")
    return script


def test_the_dry_runs_show_the_bytes_that_run(launch_app, tutorial):
    """The page, the API and `flask poms launch --dry-run` show one script, and it is the
    submission's command and its launch.sh, byte for byte, but for the submission's id."""
    stage = stage_of(tutorial, "reco_fcl")
    client = signed_in(launch_app.test_client(), "alice")
    page = dry_run_page_script(client, stage.id)
    api = launch_app.test_client().post(
        f"{API}/experiments/mu2e/campaigns/{tutorial.name}/stages/reco_fcl/launch",
        json={"dry_run": True}, headers=as_user("alice")).get_json()
    assert api["command"] == page
    cli = launch_app.test_cli_runner().invoke(
        args=["poms", "launch", "mu2e", tutorial.name, "reco_fcl", "--dry-run"])
    assert cli.exit_code == 0 and page in cli.output
    assert "export POMS_TASK_ID=''" in page  # filled in at launch

    submission = service.request_launch(stage, tutorial.owner, test=False, origin="test",
                                        config=launch_app.config)
    db.session.commit()
    from workers.queues import enqueue_launch

    enqueue_launch(launch_app.config["POMS_REDIS_URL"], submission.id)
    work(launch_app)
    submission = db.session.get(Submission, submission.id)
    assert submission.batch_id, submission.launch_error
    assert submission.command == with_id(page, submission.id)
    written = Path(launch_app.config["POMS_LAUNCH_DIR"]) / str(submission.id) / "launch.sh"
    assert written.read_bytes() == submission.command.encode()


SHOW = """import json, os, sys
print("ARGV " + json.dumps(sys.argv[1:]))
print("ENV " + json.dumps({k: os.environ.get(k) for k in ("SETUP_SAW", "POMS_TEST")}))
"""


def test_a_launch_gives_the_program_shell_words_keywords_and_the_filled_setup(
        launch_app, tutorial, tmp_path):
    """launch_jobs: `launch_script key+value ...` % (keywords + input_dict), run by the shell
    on the launch host; the setup % input_dict. Here run by the worker's local launcher."""
    show = tmp_path / "show.py"
    show.write_text(SHOW)
    stage = stage_of(tutorial, "reco_fcl")
    tutorial.keywords = {"release": "MDC2020ag", "tier": "art"}
    stage.dataset_or_split_data = "sim.%(release)s.%(tier)s"
    stage.job_type.launch_script = f"{sys.executable} {show}"
    stage.job_type.parameters = [["-c ", "$HOME/x.cfg"]]
    stage.param_overrides = [["--name=", "'two words'"], ["--in=", "%(dataset)s"],
                             ["--tag=", '"%(release)s $HOME"'], ["--v=", "%(version)s"]]
    stage.login_setup.setup = "export SETUP_SAW=%(experiment)s_%(group)s_setup;"
    catalog = EmbeddedCatalog(db.session, "mu2e")
    catalog.declare_files([{"name": "a.art", "size": 1}])
    catalog.create_list_definition("sim.MDC2020ag.art", ["a.art"])
    db.session.commit()

    submission = service.request_launch(stage, tutorial.owner, test=False, origin="test",
                                        config=launch_app.config)
    db.session.commit()
    service.run_launch(submission.id, launch_app.config)
    db.session.expire_all()
    submission = db.session.get(Submission, submission.id)
    output = Path(submission.launch_output).read_text()
    argv = json.loads(next(x for x in output.splitlines() if x.startswith("ARGV "))[5:])
    env = json.loads(next(x for x in output.splitlines() if x.startswith("ENV "))[4:])
    home = os.environ["HOME"]
    assert argv == ["-c", f"{home}/x.cfg", "--name=two words", "--in=sim.MDC2020ag.art",
                    f"--tag=MDC2020ag {home}", "--v=MDC2020t"]
    assert env == {"SETUP_SAW": "mu2e_mu2e_setup", "POMS_TEST": "1"}
    assert submission.dataset == "sim.MDC2020ag.art" and submission.input_files == ["a.art"]
    # It submitted no jobs: a failed launch, said so.
    assert submission.state == "LaunchFailed" and "no jobs" in submission.launch_error


def test_an_unknown_placeholder_stops_the_dry_run_and_the_launch_naming_it(launch_app,
                                                                           tutorial):
    stage = stage_of(tutorial, "reco_fcl")
    stage.param_overrides = [["--stage ", "reco_fcl"], ["--rel=", "%(relase)s"]]
    db.session.commit()
    client = signed_in(launch_app.test_client(), "alice")
    page = client.get(f"/e/mu2e/stage/{stage.id}/launch")
    assert page.status_code == 422
    assert "parameter 3 (--rel=): unknown placeholder %(relase)s" in html.unescape(
        page.get_data(as_text=True))
    from app.launching.command import LaunchError

    with pytest.raises(LaunchError, match=r"%\(relase\)s"):
        service.request_launch(stage, tutorial.owner, test=False, origin="test",
                               config=launch_app.config)
    db.session.rollback()
    assert db.session.scalar(select(Submission.id)) is None


def test_poms_test_comes_from_the_setting(launch_app, tutorial):
    stage = stage_of(tutorial, "reco_fcl")
    launch_app.config["POMS_TEST"] = ""  # a production instance
    shown = service.preview(stage, tutorial.owner, test=False, config=launch_app.config)
    assert shown.plan.env["POMS_TEST"] == "" and "export POMS_TEST=''" in shown.plan.script


# --- test_split_type -------------------------------------------------------------------


def test_a_test_launch_splits_by_test_split_type_from_its_own_position(launch_app,
                                                                      split_stage):
    """get_dataset_for: a test launch with test_split_type set splits by it. Here its
    position is its own, so test launches never move or restart the stage's launches."""
    config = launch_app.config
    split_stage.test_split_type = "nfiles(1)"
    db.session.commit()
    taken = []
    for test in (True, False, True, False):
        taken.append(sorted(choose_input(split_stage, config=config, test=test).files))
        db.session.commit()
    assert taken == [FILES[:1], FILES[:2], FILES[1:2], FILES[2:4]]
    shown = service.preview(split_stage, split_stage.campaign.owner, test=True, config=config)
    assert shown.input.files == FILES[2:3] and "nfiles(1)" in shown.input.note
    # Without a test_split_type a test launch takes the stage's next slice, as the original.
    split_stage.test_split_type = ""
    db.session.commit()
    assert sorted(choose_input(split_stage, config=config, test=True).files) == FILES[4:]


def test_the_stage_page_sets_test_split_type_checked_audited_and_by_editors_only(
        launch_app, split_stage, member):
    client = signed_in(launch_app.test_client(), "alice")
    url = f"/e/mu2e/stage/{split_stage.id}/test_split_type"
    page = client.get(f"/e/mu2e/stage/{split_stage.id}").get_data(as_text=True)
    assert 'id="field-test_split_type"' in page
    token = csrf_token(client, f"/e/mu2e/stage/{split_stage.id}")
    bad = client.post(url, data={"csrf_token": token, "value": "nfile(3)"})
    assert "unknown split type 'nfile' (did you mean 'nfiles'?)" in html.unescape(
        bad.get_data(as_text=True))
    good = client.post(url, data={"csrf_token": token, "value": "limitn( 1 )"})
    assert "limitn(1)" in good.get_data(as_text=True)
    db.session.expire_all()
    assert split_stage.test_split_type == "limitn(1)"
    (entry,) = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "test split type changed"))
    assert entry.before == {"test_split_type": ""} and entry.after == {
        "test_split_type": "limitn(1)"}
    member("mu2e", "bob", "analysis")
    other = signed_in(launch_app.test_client(), "bob")
    refused = other.post(url, data={"csrf_token": csrf_token(other, f"/e/mu2e/stage/"
                                                                    f"{split_stage.id}"),
                                    "value": "none"})
    assert refused.status_code == 403
    # It is no INI field: the export leaves it out, as the original's does.
    exported = client.get(f"/e/mu2e/campaign/{split_stage.campaign_id}/export")
    assert "test_split_type" not in exported.get_data(as_text=True)


def test_a_failed_launch_says_what_its_commands_printed_last():
    """LaunchFailed's reason ends with the launch's own last words, not the script's trace
    or trailer (app/launching/command.py), and is kept short."""
    output = ("== process_id: 41 ==\n+ setup fife_utils\n+ fife_launch -c /tmp/u/x.cfg\n"
              "fife_launch: -c configfile '/tmp/u/x.cfg' not found\n+ status=1\n+ set +x\n"
              "== completed: 1 ==\n")
    assert service.last_said(output) == "fife_launch: -c configfile '/tmp/u/x.cfg' not found"
    assert service.last_said("== process_id: 1 ==\n+ true\n== completed: 0 ==\n") == ""
    long = service.last_said("x" * 1000 + "\n")
    assert long == "x" * service.LAST_SAID_CHARS + "..."
