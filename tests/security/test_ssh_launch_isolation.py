"""The probe through the ssh launcher (a real sshd on loopback, tests/fixtures/sshd.py): it
runs as the analysis login setup's account on the launch host, finds its own sandbox
($UPLOADS, carried over the same connection in the script, removed at the end) and
nothing of the service's."""
from __future__ import annotations

import os
from pathlib import Path

from app.auth.members import find_or_create_experiment
from app.extensions import db
from app.uploads.store import save_credential
from tests.credentials import makers
from tests.security.conftest import campaign_ini, launch, upload
from tests.security.test_launch_runs_as_a_launch_account import PROBE_SCRIPT, secrets_of


def test_the_probe_over_ssh_gets_its_sandbox_and_nothing_else(isolated_app, people, sshd,
                                                             launch_accounts):
    config = isolated_app.config
    account = launch_accounts.analysis
    launch_accounts.authorize(account, sshd.public_key())
    config.update(POMS_LAUNCHER="ssh", POMS_SSH_OPTIONS=sshd.options,
                  POMS_ANALYSIS_LAUNCH_HOSTS=["127.0.0.1"])
    mu2e = find_or_create_experiment("mu2e")
    token, bob_token = makers.token(sub="alice"), makers.token(sub="bob")
    save_credential(mu2e, people["alice"], "analysis", token.encode(), acting_role="analysis",
                    directory=config["POMS_UPLOADS_DIR"],
                    quota=config["POMS_UPLOADS_QUOTA_BYTES"])
    save_credential(mu2e, people["bob"], "analysis", bob_token.encode(),
                    acting_role="analysis", directory=config["POMS_UPLOADS_DIR"],
                    quota=config["POMS_UPLOADS_QUOTA_BYTES"])
    db.session.commit()
    instance = Path(isolated_app.instance_path)
    files = [str(instance / "secret_key"), str(instance / "ucondb_password"),
             *(str(f) for f in Path(config["POMS_UPLOADS_DIR"]).rglob("*") if f.is_file())]
    setup = ('echo "WHO=$(id -un) VIA=${SSH_CONNECTION%% *}"; echo "SANDBOX=$UPLOADS"; '
             'cat "$BEARER_TOKEN_FILE"; echo; stat -c "%U %a" "$UPLOADS" "$BEARER_TOKEN_FILE"')
    text = campaign_ini("over_ssh", login_setup="alice_ssh", job_type="probe_ssh",
                        definitions=f"""
[login_setup alice_ssh]
host = 127.0.0.1
account = {account}
setup = {setup}

[job_type probe_ssh]
launch_script = {" ".join([PROBE_SCRIPT, *files])}
parameters = []
""")
    campaign = upload(text, people["alice"])
    submission = launch(isolated_app, campaign.stages[0], people["alice"])
    out = Path(submission.launch_output).read_text()
    assert f"WHO={account} VIA=127.0.0.1" in out, out
    assert submission.launch_host == f"{account}@127.0.0.1"
    assert token in out, "the launch has its own credential, from its sandbox"
    sandbox = out.split("SANDBOX=", 1)[1].split("\n", 1)[0]
    assert f"{account} 700\n" in out and f"{account} 600\n" in out
    assert not os.path.exists(sandbox), "removed when the launch ended"
    for path in files:
        assert f"DENIED {path}" in out, (path, out)
    assert bob_token not in out
    for what, secret in secrets_of(isolated_app).items():
        assert secret not in out, what
    # The script on record (and the dry run) carry no credential.
    assert token not in submission.command
