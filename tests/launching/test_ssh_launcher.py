"""The ssh launcher against a real OpenSSH server on loopback: the launch script travels on
stdin to `account@host`, runs there, and its output comes back into the output file."""
from __future__ import annotations

from app.extensions import db
from app.launching import service
from app.launching.launchers import SshLauncher
from app.models import Submission
from tests.fixtures.launching import work
from workers.queues import enqueue_launch


def test_the_ssh_launcher_runs_the_script_as_the_account_on_the_host(sshd, tmp_path):
    script = tmp_path / "s.sh"
    script.write_text('echo "on $(hostname) as $(id -un) via ${SSH_CONNECTION%% *}"\n'
                      'printf "%s\\n" "$0" one-arg\nexit 7\n')
    started = SshLauncher(sshd.options).start(script, tmp_path / "w", tmp_path / "out",
                                              account=sshd.account, host="127.0.0.1")
    assert started.wait(timeout=30) == 7
    out = (tmp_path / "out").read_text()
    assert f"as {sshd.account} via 127.0.0.1" in out
    assert started.host == f"{sshd.account}@127.0.0.1"


def test_a_stage_launches_over_ssh_and_its_jobs_are_found(launch_app, tutorial, sshd):
    launch_app.config.update(POMS_LAUNCHER="ssh", POMS_SSH_OPTIONS=sshd.options)
    stage = next(s for s in tutorial.stages if s.name == "reco_fcl")
    stage.login_setup.host = "127.0.0.1"
    stage.login_setup.account = sshd.account
    stage.login_setup.setup = 'echo "launching via ${SSH_CONNECTION%% *}"; ' + \
        stage.login_setup.setup
    db.session.commit()
    submission = service.request_launch(stage, tutorial.owner, test=True, origin="test",
                                        config=launch_app.config)
    db.session.commit()
    enqueue_launch(launch_app.config["POMS_REDIS_URL"], submission.id)
    work(launch_app)
    submission = db.session.get(Submission, submission.id)
    output = service.read_output(submission)
    assert "launching via 127.0.0.1" in output
    assert submission.state in ("Idle", "Running", "Completed", "Located"), \
        submission.launch_error
    assert submission.launcher_kind == "ssh"
    assert submission.launch_host == f"{sshd.account}@127.0.0.1"
    assert submission.jobs_total == 3

