"""Issue 17, critical: a launch never runs as the POMS service.

The probe that found it: an analysis member's job type ran `bash` as the service account,
read every credential file, instance/secret_key, the UconDB writer's password and the
database URL from /proc/$PPID/environ, signed a session cookie and made itself superuser.
Here the same script, launched as an analysis member outside dev mode, gets nothing: it
runs as the analysis launch account, with a clean environment, in its own area, and finds
its own sandbox ($UPLOADS) and nothing else.
"""
from __future__ import annotations

import os
import pwd
import shlex
import subprocess
from pathlib import Path

import pytest

from app.auth.members import find_or_create_experiment
from app.batch.accounts import command as run_as
from app.batch.accounts import lookup, sudoers_line
from app.extensions import db
from app.models import Submission
from app.uploads.store import save_credential
from tests.credentials import makers
from tests.fixtures import require
from tests.fixtures.launching import wait_for
from tests.security.conftest import campaign_ini, launch, upload

# The probe: what it can read and signal, where it is, what it holds. Each file it names
# is printed whole if it can be read.
PROBE_SETUP = (
    'echo "WHO=$(id -un) GROUPS=$(id -G)"; echo "WHERE=$PWD"; '
    'echo "SANDBOX=$UPLOADS"; ls -ln "$UPLOADS"; '
    'echo "TOKEN=$BEARER_TOKEN_FILE"; head -c 40 "$BEARER_TOKEN_FILE"; echo; '
    'for f in /proc/$PPID/environ /proc/1/environ; do '
    'if tr "\\0" "\\n" < $f; then echo "READ $f"; else echo "DENIED $f"; fi; done; '
    'kill -0 $PPID 2>/dev/null && echo SIGNAL-PARENT-OK || echo SIGNAL-PARENT-DENIED; '
    'echo ENV-BEGIN; env | sort; echo ENV-END'
)
PROBE_SCRIPT = ("bash -c 'for f in \"$@\"; do if cat -- \"$f\"; then echo \"READ $f\"; "
                "else echo \"DENIED $f\"; fi; done' probe")


def probe_campaign(files: list[str]) -> str:
    script = " ".join([PROBE_SCRIPT, *(shlex.quote(f) for f in files)])
    return campaign_ini("probe", login_setup="alice_here", job_type="probe", definitions=f"""
[login_setup alice_here]
host = localhost
account = alice
setup = {PROBE_SETUP}

[job_type probe]
launch_script = {script}
parameters = []
""")


def secrets_of(app) -> dict[str, str]:
    instance = Path(app.instance_path)
    return {
        "secret key": (instance / "secret_key").read_text().strip(),
        "UconDB writer password": (instance / "ucondb_password").read_text().strip(),
    }


def test_the_probe_launched_by_an_analysis_member_gets_nothing(isolated_app, people,
                                                             launch_accounts, tmp_path):
    config = isolated_app.config
    # bob's token, and alice's own: the launch may see alice's copy, never a stored file.
    bob_token, alice_token = makers.token(sub="bob"), makers.token(sub="alice")
    mu2e = find_or_create_experiment("mu2e")
    for user, token in ((people["bob"], bob_token), (people["alice"], alice_token)):
        save_credential(mu2e, user, "analysis", token.encode(), acting_role="analysis",
                        directory=config["POMS_UPLOADS_DIR"],
                    quota=config["POMS_UPLOADS_QUOTA_BYTES"])
    db.session.commit()
    instance = Path(isolated_app.instance_path)
    database = db.engine.url.database or ""
    stored = sorted(f for f in Path(config["POMS_UPLOADS_DIR"]).rglob("*") if f.is_file())
    files = [str(instance / "secret_key"), str(instance / "ucondb_password"),
             *(str(p) for p in stored)]
    if database:  # SQLite: the file itself
        files.append(database)
    campaign = upload(probe_campaign(files), people["alice"])

    submission = launch(isolated_app, campaign.stages[0], people["alice"])
    out = Path(submission.launch_output).read_text()

    analysis = pwd.getpwnam(launch_accounts.analysis)
    assert f"WHO={launch_accounts.analysis} GROUPS={analysis.pw_gid}\n" in out, out
    assert submission.launch_account == launch_accounts.analysis
    assert f"WHERE={launch_accounts.directory / launch_accounts.analysis}/launches/" \
           f"{submission.id}\n" in out
    for path in files:
        assert f"DENIED {path}" in out and f"READ {path}" not in out, (path, out)
    for what, secret in secrets_of(isolated_app).items():
        assert secret not in out, what
    assert bob_token not in out
    assert "DENIED /proc/" in out and "READ /proc/" not in out
    assert "SIGNAL-PARENT-DENIED" in out
    # A clean environment: nothing of the service's (database URL, keys, its own POMS_*
    # settings); what the launch was given is what the plan exports.
    env = out.split("ENV-BEGIN\n", 1)[1].split("ENV-END", 1)[0]
    names = {line.split("=", 1)[0] for line in env.splitlines() if "=" in line}
    assert not {"POMS_DATABASE_URL", "SQLALCHEMY_DATABASE_URI", "POMS_SECRET_KEY",
                "SECRET_KEY", "POMS_UCONDB_PASSWORD", "POMS_REDIS_URL"} & names
    assert str(config["SQLALCHEMY_DATABASE_URI"]) not in out
    # The sandbox: alice's own token, copied in, owned by the launch account, then gone.
    sandbox = out.split("SANDBOX=", 1)[1].split("\n", 1)[0]
    assert sandbox and f"TOKEN={sandbox}/" in out
    assert alice_token[:40] in out
    listing = out.split(f"SANDBOX={sandbox}\n", 1)[1].split("TOKEN=", 1)[0]
    assert f" {analysis.pw_uid} " in listing and "-rw-------" in listing, listing
    assert not os.path.exists(sandbox), "the sandbox is removed when the launch ends"
    # What ran is on record, without the token.
    assert alice_token not in submission.command and "not shown" in submission.command


JOB_SETUP = ("printf '#!/bin/sh\\necho \"job $PROCESS as $(id -un)\"\\nsleep $1\\n' > job.sh; "
             "chmod +x job.sh")


def jobs_campaign(name: str = "work", role: str = "analysis", setup_name: str = "alice_here",
                  seconds: int = 0) -> str:
    return campaign_ini(name, role=role, login_setup=setup_name, job_type=f"{name}_jobs",
                        definitions=f"""
[login_setup {setup_name}]
host = localhost
account = someone
setup = {JOB_SETUP}

[job_type {name}_jobs]
launch_script = jobsub_submit -G mu2e -N 2 file://$PWD/job.sh
parameters = [["", "{seconds}"]]
""")


def test_jobs_run_as_the_launch_account_and_are_controlled_as_it(isolated_app, people,
                                                                  launch_accounts):
    from app.batch.engines import engine_from_config
    from app.tracking import actions
    from app.tracking.tracker import track_pass

    campaign = upload(jobs_campaign(seconds=60), people["alice"])
    submission = launch(isolated_app, campaign.stages[0], people["alice"])
    assert submission.state in ("Idle", "Running"), (submission.launch_error,
                                        Path(submission.launch_output).read_text())
    account = launch_accounts.analysis
    assert submission.batch_id.endswith(f"@local.{account}")
    engine = engine_from_config(isolated_app.config)

    def running():
        return sorted(j.state for j in engine.query(submission.batch_ids)) == ["Running"] * 2

    wait_for(running, what="both jobs running")
    wait_for(lambda: f"job 0 as {account}" in engine.fetch_log(submission.batch_id),
             what="the job's first line in its log")
    track_pass(isolated_app.config)
    db.session.refresh(submission)
    assert submission.jobs_running == 2 and not submission.tracking_error
    # Killed through the account (this service never writes in the account's area).
    actions.kill(submission, people["alice"], engine)
    db.session.commit()
    wait_for(lambda: sorted(j.state for j in engine.query(submission.batch_ids))
             == ["Removed"] * 2, what="both jobs removed")
    area = launch_accounts.directory / account
    owners = {p.stat().st_uid for p in area.rglob("*") if not p.is_symlink()}
    assert owners == {pwd.getpwnam(account).pw_uid}, "everything in the area is the account's"


def test_a_production_campaign_launches_as_the_production_account(isolated_app, people,
                                                                  launch_accounts):
    campaign = upload(jobs_campaign("prod", role="production", setup_name="pro_here"),
                      people["pat"])
    submission = launch(isolated_app, campaign.stages[0], people["pat"])
    assert submission.launch_account == launch_accounts.production
    assert submission.batch_id.endswith(f"@local.{launch_accounts.production}")


def test_the_sudoers_line_lets_a_service_account_start_launches_as_the_launch_account(
        launch_accounts, tmp_path):
    """A service not running as root starts launches through sudo, allowed by exactly the
    line the README documents, and nothing of its environment passes."""
    sudo = require("sudo", "sudo for a service that is not root: apt-get install sudo")
    service = "pomst-svc"
    from tests.fixtures.accounts import ensure_account

    ensure_account(service)
    rule = Path("/etc/sudoers.d/pomst-svc")
    rule.write_text(sudoers_line(launch_accounts.analysis, service) + "\n")
    rule.chmod(0o440)
    try:
        account = lookup(launch_accounts.analysis)
        argv, options = run_as(account, ["/bin/sh", "-c", 'echo "$(id -un) ${SECRET:-none}"'],
                               account.environment(), as_root=False)
        assert argv[:6] == [os.path.basename(sudo), "-n", "-u", account.name, "--",
                            "/usr/bin/env"]
        runuser = require("runuser", "runuser: apt-get install util-linux")
        done = subprocess.run([runuser, "-u", service, "--", *argv], capture_output=True,
                              text=True, timeout=30, cwd="/",
                              env={**options["env"], "SECRET": "service-secret"})
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"{account.name} none\n"
        # The launch script travels on standard input, through sudo, as it does for a launch.
        argv, options = run_as(account, ["/bin/bash", "-s"], account.environment(),
                               as_root=False)
        done = subprocess.run([runuser, "-u", service, "--", *argv], capture_output=True,
                              text=True, timeout=30, cwd="/", env=options["env"],
                              input='echo "script as $(id -un)"\n')
        assert done.stdout == f"script as {account.name}\n", done.stderr
        # Only as the launch account: not as root, not as the production account.
        for other in ("root", launch_accounts.production):
            refused = subprocess.run([runuser, "-u", service, "--", "sudo", "-n", "-u",
                                      other, "--", "/usr/bin/env", "id"],
                                     capture_output=True, text=True, timeout=30, cwd="/")
            assert refused.returncode != 0
    finally:
        rule.unlink()


@pytest.mark.parametrize("mode", ["kerberos", "remote_user"])
def test_the_service_refuses_to_start_without_a_launch_account(mode, new_database, tmp_path):
    from app import create_app
    from app.config import ConfigError

    with pytest.raises(ConfigError, match="POMS_LOCAL_LAUNCH_USER"):
        create_app({"SQLALCHEMY_DATABASE_URI": new_database(), "SECRET_KEY": "x",
                    "POMS_AUTH": mode, "POMS_KEYTAB": "", "POMS_LAUNCHER": "local"})


def test_launch_accounts_that_cannot_isolate_are_refused_at_start(new_database, tmp_path,
                                                                  launch_accounts):
    from app import create_app
    from app.config import ConfigError

    base = {"SQLALCHEMY_DATABASE_URI": new_database(), "SECRET_KEY": "x",
            "POMS_AUTH": "remote_user", "POMS_LAUNCH_ACCOUNTS_DIR": str(tmp_path / "a")}
    cases = [
        ({"POMS_LOCAL_LAUNCH_USER": "root"}, "is root"),
        ({"POMS_LOCAL_LAUNCH_USER": pwd.getpwuid(os.geteuid()).pw_name}, "is root|own account"),
        ({"POMS_LOCAL_LAUNCH_USER": "pomst-no-such"}, "no such account"),
        ({"POMS_LOCAL_LAUNCH_USER": "-oProxy"}, "not an account name"),
        ({"POMS_LOCAL_LAUNCH_USER": launch_accounts.analysis,
          "POMS_LOCAL_PRODUCTION_LAUNCH_USER": launch_accounts.analysis}, "same account"),
        ({"POMS_LOCAL_LAUNCH_USER": launch_accounts.analysis,
          "POMS_LAUNCH_ACCOUNTS_DIR": "relative/dir"}, "absolute directory"),
    ]
    for extra, reason in cases:
        with pytest.raises(ConfigError, match=reason):
            create_app({**base, **extra})


def test_gunicorn_says_why_it_does_not_start(tmp_path):
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith("POMS_")}
    env.update(POMS_AUTH="kerberos", POMS_SECRET_KEY="x", POMS_LAUNCHER="local",
               POMS_DATABASE_URL=f"sqlite:///{tmp_path / 'poms.db'}")
    done = subprocess.run([str(Path(sys.executable).parent / "gunicorn"), "--bind",
                           "127.0.0.1:0", "--workers", "1", "wsgi:app"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "POMS cannot start: POMS_AUTH=kerberos with the local launcher needs a launch " \
           "account" in done.stderr


def test_instance_and_the_sqlite_file_are_the_service_s_alone(tmp_path):
    from app import create_app

    database = tmp_path / "fresh.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "SECRET_KEY": "x",
                      "POMS_AUTH": "dev"})
    assert os.stat(app.instance_path).st_mode & 0o777 == 0o700
    assert database.stat().st_mode & 0o777 == 0o600
    assert (Path(app.instance_path) / "secret_key").stat().st_mode & 0o777 == 0o600


def test_the_job_record_of_a_submission_is_not_readable_through_links(isolated_app, people,
                                                                     launch_accounts):
    """A launch account owns its spool: a status or log file it turns into a link to this
    service's files is refused, never followed."""
    from app.batch.base import BatchError
    from app.batch.engines import engine_from_config

    campaign = upload(jobs_campaign(), people["alice"])
    submission = launch(isolated_app, campaign.stages[0], people["alice"])
    engine = engine_from_config(isolated_app.config)
    wait_for(lambda: sorted(j.state for j in engine.query(submission.batch_ids))
             == ["Completed"] * 2, what="both jobs done")
    cluster = submission.batch_id.split(".")[0]
    directory = launch_accounts.directory / launch_accounts.analysis / "clusters" / cluster
    secret = Path(isolated_app.instance_path) / "secret_key"
    (directory / "0" / "stdout").unlink()
    (directory / "0" / "stdout").symlink_to(secret)
    with pytest.raises(BatchError, match="symbolic link"):
        engine.fetch_log(submission.batch_id)
    (directory / "status.json").unlink()
    (directory / "status.json").symlink_to(secret)
    with pytest.raises(BatchError):
        engine.query(submission.batch_ids)
    assert isinstance(db.session.get(Submission, submission.id), Submission)
