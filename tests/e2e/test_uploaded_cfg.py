"""A `$UPLOADS` stage really reads the uploaded CFG (issue 13).

The campaign is the seed tutorial (../shared/examples/mu2e_reco_tutorial.ini) with its job
types naming `-c $UPLOADS/reco.cfg`, as Mu2e's production files name
`$UPLOADS/mdc2020.cfg`. alice uploads a CFG that differs from the demo's in what its jobs do
(two jobs, not three; FCL files starting at run 4242, not 1202), its job scripts and her
proxy. A real worker launches reco_fcl through the local launcher (dev mode, and as the
analysis launch account) and the ssh launcher (a real sshd on loopback); the embedded
fife_launch reads the CFG in the launch's sandbox, and the jobs it submits carry the CFG's
values into the FCL files they write. A stage naming a CFG nobody uploaded fails its launch,
and the submission says why in fife_launch's words.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app.auth.members import ensure_member, find_or_create_experiment
from app.auth.session import find_or_create_experimenter
from app.catalog.embedded import EmbeddedCatalog
from app.extensions import db
from app.launching import service
from app.models import Submission, SubmissionEvent
from app.uploads.store import save_uploads
from tests.api.support import API, as_user, tutorial_text
from tests.credentials import makers
from tests.e2e.support import REPO, drive
from tests.fixtures.launching import work
from tests.security.conftest import isolated_app, people, upload  # noqa: F401 (fixtures)
from workers.queues import enqueue_launch

pytestmark = pytest.mark.e2e

SEED_CFG = "/mu2e/app/users/srsoleti/tutorial/reco.cfg"
DEMO = REPO / "examples" / "mu2e"
FIRST_RUN = 4242  # the demo's reco.cfg says 1202
NJOBS = 2  # the demo's reco.cfg says 3 for reco_fcl


def uploaded_cfg() -> bytes:
    """The demo CFG with the values a job shows changed: two quick jobs, run 4242."""
    text = (DEMO / "reco.cfg").read_text()
    for old, new in (("first_run = 1202", f"first_run = {FIRST_RUN}"),
                     ("work_seconds = 2", "work_seconds = 0"),
                     ("global.njobs = 3", f"global.njobs = {NJOBS}")):
        assert old in text, old
        text = text.replace(old, new)
    return text.encode()


def uploads() -> list[tuple[str, bytes]]:
    """What alice uploads, as the tutorial says: her proxy, the CFG and its job scripts."""
    return [("x509up_u1000", makers.proxy()), ("reco.cfg", uploaded_cfg()),
            ("reco_fcl.sh", (DEMO / "reco_fcl.sh").read_bytes()),
            ("reco.sh", (DEMO / "reco.sh").read_bytes())]


def seed_campaign(user, cfg: str = "$UPLOADS/reco.cfg"):
    """The seed tutorial, its job types naming `-c CFG`, saved as `user` uploads it."""
    return upload(tutorial_text(**{SEED_CFG: cfg}), user, "mu2e_reco_tutorial.ini")


def api_upload(app, username: str, files) -> None:
    """Through the uploads API, as `poms upload-file` sends them (dev mode)."""
    import io

    answer = app.test_client().post(
        f"{API}/experiments/mu2e/uploads", headers=as_user(username),
        content_type="multipart/form-data",
        data={"files": [(io.BytesIO(data), name) for name, data in files]})
    assert answer.status_code == 201, answer.get_json()


def analysis_member(name: str):
    user = find_or_create_experimenter(name)
    ensure_member(find_or_create_experiment("mu2e"), user, "analysis")
    db.session.commit()
    return user


def over_ssh(app, campaign, sshd) -> None:
    """The ssh launcher to the fixture's sshd, as the login setup's account there."""
    app.config.update(POMS_LAUNCHER="ssh", POMS_SSH_OPTIONS=sshd.options)
    for stage in campaign.stages:
        stage.login_setup.host = "127.0.0.1"
        stage.login_setup.account = sshd.account
    db.session.commit()


def launch_reco_fcl(app, campaign, user) -> Submission:
    stage = next(s for s in campaign.stages if s.name == "reco_fcl")
    submission = service.request_launch(stage, user, test=False, origin="test",
                                        config=app.config)
    db.session.commit()
    enqueue_launch(app.config["POMS_REDIS_URL"], submission.id)
    return submission


def located(app, submission_id: int) -> Submission:
    def done():
        db.session.expire_all()
        submission = db.session.get(Submission, submission_id)
        if submission.state in ("LaunchFailed", "Failed"):
            raise AssertionError(f"{submission.state}: {submission.launch_error}\n"
                                 f"{service.read_output(submission)}")
        return submission if submission.state == "Located" else None

    return drive(app, done, timeout=90, what=f"submission {submission_id} to be Located")


def assert_the_jobs_ran_the_uploaded_cfg(submission: Submission) -> None:
    # On record: the command as written, `$UPLOADS` left for the launch host's shell.
    assert "fife_launch -c $UPLOADS/reco.cfg --stage reco_fcl" in submission.command
    output = service.read_output(submission)
    # On the launch host the shell expanded it to the launch's sandbox, removed since.
    read = re.search(r"\+ fife_launch -c (/\S+)/reco\.cfg --stage reco_fcl", output)
    assert read, output
    sandbox = Path(read[1])
    assert sandbox.name.startswith("poms_uploads.") and not sandbox.exists()
    assert f"-f dropbox://{sandbox}/reco_fcl.sh" in output, "the job script travels -f"
    # What the CFG says reached the jobs: its number of jobs and the run they write.
    assert (submission.jobs_total, submission.jobs_done) == (NJOBS, NJOBS)
    catalog = EmbeddedCatalog(db.session, "mu2e")
    names = sorted(catalog.list_files(
        f"poms_task_id '{submission.id}' and file_name like '%.fcl'"))
    assert len(names) == NJOBS
    for name in names:
        text = (Path(catalog.locate(name)[0]) / name).read_text()
        assert f"source.firstRun : {FIRST_RUN}\n" in text, text


@pytest.mark.parametrize("launcher", ["local", "ssh"])
def test_a_launch_reads_the_uploaded_cfg_in_dev_mode(launch_app, launcher, request):
    app = launch_app
    alice = analysis_member("alice")
    api_upload(app, "alice", uploads())
    campaign = seed_campaign(alice)
    if launcher == "ssh":
        over_ssh(app, campaign, request.getfixturevalue("sshd"))
    submission = located(app, launch_reco_fcl(app, campaign, alice).id)
    assert submission.launcher_kind == launcher
    assert_the_jobs_ran_the_uploaded_cfg(submission)


def test_a_launch_account_reads_the_uploaded_cfg(isolated_app, people,  # noqa: F811
                                                 launch_accounts):
    app = isolated_app
    alice = people["alice"]
    save_uploads(find_or_create_experiment("mu2e"), alice, uploads(), acting_role="analysis",
                 directory=app.config["POMS_UPLOADS_DIR"],
                 quota=app.config["POMS_UPLOADS_QUOTA_BYTES"])
    db.session.commit()
    campaign = seed_campaign(alice)
    submission = located(app, launch_reco_fcl(app, campaign, alice).id)
    account = launch_accounts.analysis
    assert submission.launch_account == account
    assert submission.batch_id.endswith(f"@local.{account}")
    assert_the_jobs_ran_the_uploaded_cfg(submission)
    catalog = EmbeddedCatalog(db.session, "mu2e")
    area = launch_accounts.directory / account
    for name in catalog.list_files(f"poms_task_id '{submission.id}'"):
        assert catalog.locate(name)[0].startswith(str(area)), "written as the account"


@pytest.mark.parametrize("launcher", ["local", "ssh"])
def test_a_cfg_nobody_uploaded_fails_the_launch_saying_so(launch_app, launcher, request):
    app = launch_app
    alice = analysis_member("alice")
    api_upload(app, "alice", uploads())
    campaign = seed_campaign(alice, cfg="$UPLOADS/missing.cfg")
    if launcher == "ssh":
        over_ssh(app, campaign, request.getfixturevalue("sshd"))
    submission = launch_reco_fcl(app, campaign, alice)
    work(app)
    submission = db.session.get(Submission, submission.id)
    output = service.read_output(submission)
    said = re.search(r"^fife_launch: -c configfile '(/\S+)/missing\.cfg' not found "
                     r"\(looked in \. and FIFE_LAUNCH_PATH\)$", output, re.MULTILINE)
    assert said, output
    assert Path(said[1]).name.startswith("poms_uploads.")
    assert submission.state == "LaunchFailed"
    assert submission.launch_error == (
        "the launch exited with status 1 and submitted no jobs; its output ends: "
        f"{said[0]}")
    assert (submission.batch_id, submission.jobs_total) == ("", 0)
    last = db.session.scalars(select(SubmissionEvent).where(
        SubmissionEvent.submission_id == submission.id).order_by(SubmissionEvent.id.desc())
    ).first()
    assert (last.to_state, last.cause) == ("LaunchFailed", submission.launch_error)
