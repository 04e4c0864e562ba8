"""The original client's commands (upload_wf, launch_jobs, get_submission_id_for, ...)
against a live dev-mode server: their options, what they print, and the exit codes the
original gives. Run in this process through poms_client.scripts, and once as installed
console scripts (pip install . into a scratch folder)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

import poms_client
from app.extensions import db
from app.launching.await_approval import awaiting
from app.models import Submission, SubmissionEvent
from poms_client import scripts
from tests.api.support import TUTORIAL, bearer_token_file, tutorial_text
from tests.client.support import credentials, definition, stage_fields

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Ran:
    code: int
    out: str
    err: str
    log: str


@pytest.fixture
def command(client_env, capsys, caplog):
    """command(name, *args, env=None) -> Ran: one of the original's commands, in-process."""
    def run(name: str, *args: str, env: dict | None = None) -> Ran:
        for key, value in (env or {}).items():
            if value is None:
                client_env.delenv(key, raising=False)
            else:
                client_env.setenv(key, value)
        capsys.readouterr()
        caplog.clear()
        try:
            code = getattr(scripts, name)([str(a) for a in args])
        except SystemExit as exit_:  # optparse/argparse: usage errors and --help
            code = exit_.code
        out = capsys.readouterr()
        return Ran(code, out.out, out.err, caplog.text)

    for key in ("EXPERIMENT", "POMS4_SUBMISSION_ID", "POMS_TASK_ID", "POMS_CAMPAIGN_ID"):
        # Set, then removed: the test's end puts back what was there before (nothing),
        # even what a command exported meanwhile (poms_run_script_stage: POMS_TASK_ID).
        client_env.setenv(key, "")
        client_env.delenv(key)
    return run


@pytest.fixture
def tutorial(dev_server, command):
    ran = command("upload_wf", "--experiment", "mu2e", TUTORIAL)
    assert ran.code == 0, ran.err + ran.log
    return ran


def stage_id(name: str) -> int:
    return poms_client.get_campaign_stage_id("mu2e", "srsoleti_tutorial", name)


def test_upload_wf_prints_what_changed_and_exits_1_on_a_bad_file(dev_server, command,
                                                                 tmp_path):
    ran = command("upload_wf", TUTORIAL, env={"EXPERIMENT": "mu2e"})
    assert ran.code == 0 and "Job type 'mu2e_reco_srsoleti_jobtype' is added." in ran.out
    changed = tmp_path / "changed.ini"
    changed.write_text(tutorial_text(**{"completion_pct=100": "completion_pct=90"}))
    ran = command("upload_wf", "--poms_role", "analysis", changed)
    assert ran.code == 0 and "completion_pct changes from 100 to 90" in ran.out
    bad = tmp_path / "bad.ini"
    bad.write_text(tutorial_text(**{"completion_pct=100": "completion_pct=all"}))
    ran = command("upload_wf", bad)
    assert ran.code == 1 and "bad.ini" in ran.err and "completion_pct" in ran.err
    production = command("upload_wf", "--poms_role", "production", TUTORIAL)
    assert production.code == 1 and "cannot act as production" in production.err
    assert command("upload_wf").code == 1
    assert command("upload_wf", "--no-such-option", TUTORIAL).code == 2
    assert command("upload_wf", "--dev", TUTORIAL).code == 1  # no test server configured


def test_upload_file_keeps_your_token_and_refresh_leaves_a_fresh_one(dev_server, command,
                                                                     tmp_path):
    token = tmp_path / "bt_u1000"
    token.write_bytes(bearer_token_file(30 * 86400))
    vault = {"BEARER_TOKEN_FILE": str(token)}
    ran = command("upload_file", "--experiment", "mu2e", "--vaulttoken", env=vault)
    assert ran.code == 0 and ran.out.strip() == f"uploaded: {token} to POMS server"
    first = credentials()
    assert [(c["kind"], c["role"]) for c in first] == [("token", "analysis")]

    ran = command("upload_file", "--vaulttoken", "--refresh", "--verbose", env=vault)
    assert ran.code == 0 and ran.out == "" and "less than 3 days old" in ran.log
    assert credentials() == first

    ran = command("upload_file", "--proxy", env={"X509_USER_PROXY": str(tmp_path / "none")})
    assert ran.code == 1 and "no proxy to upload" in ran.err
    assert command("upload_file", tmp_path / "missing").code == 1
    refused = command("upload_file", "--poms_role", "production", "--vaulttoken", env=vault)
    assert refused.code == 1 and "cannot act as production" in refused.err


def test_launch_jobs_prints_true_and_fails_with_1(tutorial, command, app, redis_server,
                                                  redis_conn):
    app.config["POMS_REDIS_URL"] = redis_server.url
    reco_fcl = stage_id("reco_fcl")
    # launch_jobs acts as production by default, as the original: alice is analysis.
    refused = command("launch_jobs", "--campaign_stage", reco_fcl, "--experiment", "mu2e")
    assert refused.code == 1 and "cannot act as production" in refused.err
    ran = command("launch_jobs", "--campaign_stage", reco_fcl, "--poms_role", "analysis")
    assert ran.code == 0 and ran.out.strip() == "True"
    launched = db.session.query(Submission).one()
    assert launched.stage.name == "reco_fcl" and launched.state == "New"
    assert command("launch_jobs", "--campaign", "99999", "--poms_role", "analysis").code == 1


def test_get_submission_id_for_and_get_task_id_for(tutorial, command):
    reco = stage_id("reco")
    ran = command("get_submission_id_for", "--campaign", reco, "--command_executed",
                  "./run.sh", "--input_dataset", "mu2e.fcl")
    assert ran.code == 0, ran.err
    sid = int(ran.out)
    made = db.session.get(Submission, sid)
    assert made.origin == "external" and made.command == "./run.sh"
    again = command("get_task_id_for", "--campaign", "srsoleti_tutorial/reco", "--task_id",
                    sid, "--command_executed", "./run.sh --again")
    assert again.code == 0 and int(again.out) == sid and "deprecated" in again.log
    child = command("get_submission_id_for", "--campaign", "reco_fcl",
                    "--parent_submission_id", sid)
    assert child.code == 0
    assert db.session.get(Submission, int(child.out)).recovery_of_id == sid
    assert command("get_submission_id_for", "--campaign", "nope").code == 1
    assert command("get_submission_id_for", "--verbose", "--campaign", "nope").code == 1


def test_register_poms_campaign_answers_an_existing_stage(tutorial, command):
    ran = command("register_poms_campaign", "--campaign", "reco", "--poms_role", "analysis",
                  "--version", "MDC2020t")
    assert ran.code == 0 and ran.out.strip().endswith(str(stage_id("reco")))
    missing = command("register_poms_campaign", "--campaign", "new_one",
                      "--poms_role", "analysis")
    assert missing.code == 1 and "upload a campaign file with upload_wf" in missing.err


def test_await_approval_marks_the_submission(tutorial, command):
    sid = poms_client.get_submission_id_for(stage_id("reco"), experiment="mu2e")
    ran = command("await_approval", "--poms_role", "analysis",
                  env={"POMS4_SUBMISSION_ID": str(sid)})
    assert ran.code == 0, ran.err
    db.session.expire_all()
    assert db.session.get(Submission, sid).state == "Awaiting Approval"
    again = command("await_approval", "--poms_role", "analysis", "--submission_id", sid)
    assert again.code == 0  # already awaiting: nothing changes
    no_id = command("await_approval", env={"POMS4_SUBMISSION_ID": None})
    assert no_id.code == 1 and "POMS4_SUBMISSION_ID" in no_id.err
    dataset = command("await_approval", "--submission_id", sid, "--dataset", "x",
                      "--poms_role", "analysis")
    assert dataset.code == 1 and "only from the submission's own launch" in dataset.err


def test_await_approval_in_its_launch_says_so_on_the_output_poms_reads(tutorial, command):
    sid = poms_client.get_submission_id_for(stage_id("reco"), experiment="mu2e")
    launch = {"POMS4_SUBMISSION_ID": str(sid), "POMS_TASK_ID": str(sid)}
    ran = command("await_approval", "--dataset", "mu2e.fcl.approved", env=launch)
    assert ran.code == 0, ran.err
    assert awaiting(ran.out, sid) == (True, "mu2e.fcl.approved")
    db.session.expire_all()
    assert db.session.get(Submission, sid).state == "New"  # the launch's end records it


def test_campaign_stage_edit_and_its_exit_codes(tutorial, command):
    common = ["--experiment", "mu2e", "--poms_role", "analysis", "--campaign_name",
              "srsoleti_tutorial", "--campaign_stage_name", "ana", "--vo_role", "Analysis",
              "--dataset", "mu2e.art", "--launch_name", "srsoleti_poms_login",
              "--job_type", "mu2e_reco_srsoleti_jobtype"]
    ran = command("campaign_stage_edit", "--action", "add", *common, "--param_overrides",
                  '[["-Oa=",', '"1"]]', "--depends_on",
                  '{"campaigns": ["reco"], "file_patterns": ["%.art"]}')
    assert ran.code == 0, ran.err + ran.log
    assert "Succeeded." in ran.log
    stages = poms_client.show_campaign_stages("srsoleti_tutorial")[1]["campaign_stages"]
    assert stages[-1]["name"] == "ana" and stages[-1]["depends_on"][0]["stage"] == "reco"
    edited = command("campaign_stage_edit", "--action", "edit", *common, "--completion", "80")
    assert edited.code == 0
    fields = stage_fields("srsoleti_tutorial", "ana")
    # An edit changes what was given; the new stage took the original's defaults.
    assert fields["completion_pct"] == 80 and fields["software_version"] == "Non provide"
    assert fields["param_overrides"] == [["-Oa=", "1"]]
    assert fields["test_param_overrides"] == [["-Oa=", "1"]]

    # The original checked these itself, said so, and exited 0.
    for bad, said in ((["--action", "rename"], "must be add, edit or delete"),
                      (["--completion", "0"], "(0-100]"),
                      (["--vo_role", "Boss"], "Analysis or Production")):
        args = ["--action", "edit", *common, *bad] if bad[0] != "--action" else [*bad, *common]
        ran = command("campaign_stage_edit", *args)
        assert ran.code == 0 and said in ran.log, bad
    assert command("campaign_stage_edit", "--action", "add").code == 2  # required options
    failed = command("campaign_stage_edit", "--action", "add", *common)  # exists already
    assert failed.code == 1 and "already has a stage 'ana'" in failed.err
    assert command("campaign_stage_edit", "--action", "delete", *common).code == 0
    assert len(poms_client.show_campaign_stages("srsoleti_tutorial")[1]["campaign_stages"]) == 2


def test_job_type_edit_and_launch_template_edit(tutorial, command):
    ran = command("job_type_edit", "--action", "add", "--name", "mine", "--experiment", "mu2e",
                  "--poms_role", "analysis", "--launch_script", "fife_launch -c", "x.cfg",
                  "--def_parameter", '[["-Oa=",', '"1"]]', "--output_file_patterns", "%.root")
    assert ran.code == 0, ran.err + ran.log
    ini = definition("job_types", "mine")
    assert ini["launch_script"] == "fife_launch -c x.cfg"
    assert ini["parameters"] == '[["-Oa=", "1"]]' and ini["output_file_patterns"] == "%.root"
    bad = command("job_type_edit", "--action", "copy", "--name", "mine",
                  "--poms_role", "analysis")
    assert bad.code == 0 and "must be add, edit or delete" in bad.log
    in_use = command("job_type_edit", "--action", "delete", "--name",
                     "mu2e_reco_srsoleti_jobtype", "--poms_role", "analysis")
    assert in_use.code == 1 and "used by 1 stage" in in_use.err
    assert command("job_type_edit", "--action", "delete", "--name", "mine",
                   "--poms_role", "analysis").code == 0
    assert command("job_type_edit", "--name", "x").code == 2

    ran = command("launch_template_edit", "--action", "add", "--launch_name", "mine_login",
                  "--host", "mu2egpvm01.fnal.gov", "--launch_account", "mu2epro",
                  "--setup", "source", "/cvmfs/setup.sh", "--poms_role", "analysis",
                  env={"EXPERIMENT": "mu2e"})
    assert ran.code == 0, ran.err + ran.log
    assert definition("login_setups", "mine_login")["setup"] == "source /cvmfs/setup.sh"
    missing = command("launch_template_edit", "--action", "add", "--launch_name", "x",
                      "--poms_role", "analysis")
    assert missing.code == 1 and "Failed: ('failed', -1)" in missing.log
    assert command("launch_template_edit", "--action", "delete", "--launch_name",
                   "mine_login", "--poms_role", "analysis").code == 0


def test_poms_run_script_stage_reports_each_state(tutorial, command, tmp_path):
    reco = stage_id("reco")
    marker = tmp_path / "ran"
    ran = command("poms_run_script_stage", "--experiment=mu2e", "--poms_role=analysis",
                  "sh", "-c", f"touch {marker}", env={"POMS_CAMPAIGN_ID": str(reco)})
    assert ran.code == 0, ran.err + ran.log
    assert marker.exists()
    sid = int(os.environ["POMS_TASK_ID"])
    db.session.expire_all()
    s = db.session.get(Submission, sid)
    assert s.state == "Completed" and s.origin == "external"
    assert s.command == f"poms_run_script_stage sh -c 'touch {marker}'"
    states = [e.to_state for e in db.session.query(SubmissionEvent).filter_by(
        submission_id=sid).order_by(SubmissionEvent.id)]
    assert states == ["New", "Idle", "Running", "Completed"]

    # A failing command is reported Failed; the wrapper itself exits 0, as the original.
    failing = command("poms_run_script_stage", "sh", "-c", "exit 3",
                      env={"POMS_TASK_ID": None, "POMS_CAMPAIGN_ID": str(reco),
                           "POMS_ROLE": "analysis"})
    assert failing.code == 0
    db.session.expire_all()
    assert db.session.get(Submission, int(os.environ["POMS_TASK_ID"])).state == "Failed"

    assert command("poms_run_script_stage", "true",
                   env={"POMS_TASK_ID": None, "POMS_CAMPAIGN_ID": None}).code == 1
    assert command("poms_run_script_stage", "--dev").code == 2


def test_wrap_proj_runs_project_py_on_the_patched_xml(command, tmp_path):
    xml = tmp_path / "job.xml"
    xml.write_text("<project>\n<stage name='a'>\n<inputdef>old</inputdef>\n</stage>\n"
                   "<stage name='b'>\n<inputdef>old</inputdef>\n</stage>\n"
                   "<numevents>10</numevents>\n</project>\n")
    copy = tmp_path / "seen.xml"
    scratch = Path(tempfile.gettempdir())
    before = set(scratch.glob("xmlpatch*.xml"))
    fake_project = [sys.executable, "-c",
                    "import shutil, sys; shutil.copy(sys.argv[sys.argv.index('--xml') + 1], "
                    f"{str(copy)!r})"]
    ran = command("wrap_proj", "-Ostage.inputdef[2]=new_b", "-Onumevents=5", "--",
                  *fake_project, "--xml", xml)
    assert ran.code == 0, ran.err
    assert copy.read_text() == ("<project>\n<stage name='a'>\n<inputdef>old</inputdef>\n"
                                "</stage>\n<stage name='b'>\n<inputdef>new_b</inputdef>\n"
                                "</stage>\n<numevents>5</numevents>\n</project>\n")
    assert "<numevents>10</numevents>" in xml.read_text()  # the original file is untouched
    assert set(scratch.glob("xmlpatch*.xml")) == before  # the patched copy is removed
    assert command("wrap_proj", "-Oa=b", "--", "true").code == 1  # no --xml to patch
    failing = command("wrap_proj", "--", "false", "--xml", xml)
    assert failing.code == 0  # as the original: project.py's status is not wrap_proj's


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The client installed by pip (as `pip install .` does) into a scratch folder, from a
    copy of the package (pip builds in the source tree; the repository stays clean)."""
    source = tmp_path_factory.mktemp("source")
    shutil.copy(REPO / "pyproject.toml", source)
    shutil.copytree(REPO / "poms_client", source / "poms_client",
                    ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path_factory.mktemp("installed")
    ours = Path(sys.executable).with_name("poms")
    had_poms = ours.exists()
    # --target: pip leaves the running environment alone (with --prefix alone it would
    # uninstall the venv's own copy of this project first).
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                           "--target", str(target), str(source)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert ours.exists() == had_poms, "pip changed the venv the tests run in"
    return target


def test_pip_install_gives_every_original_command(installed, tutorial, dev_server, tmp_path):
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert set(scripts.COMMANDS) <= set(declared)
    assert all(declared[name] == f"poms_client.scripts:{name}" for name in scripts.COMMANDS)
    for name in scripts.COMMANDS:
        assert (installed / "bin" / name).exists(), name
    env = {"PATH": f"{installed / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path),
           "PYTHONPATH": str(installed), "POMS_SERVER": dev_server.url, "EXPERIMENT": "mu2e",
           "POMS_USER": "alice", "POMS_CONFIG": str(tmp_path / "none.ini")}

    def run(*argv):
        return subprocess.run([str(a) for a in argv], env=env, capture_output=True,
                              text=True, timeout=120)

    done = run("get_submission_id_for", "--campaign", stage_id("reco"))
    assert done.returncode == 0, done.stderr
    assert db.session.get(Submission, int(done.stdout)).origin == "external"
    assert run("upload_wf", "--poms_role", "analysis", TUTORIAL).returncode == 0
    assert run("upload_wf", "--bogus").returncode == 2
    assert run("launch_template_edit").returncode == 2
    assert run("wrap_proj", "--", "true").returncode == 1
