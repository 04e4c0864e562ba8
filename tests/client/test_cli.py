"""Every `poms` command against a live dev-mode server (real HTTP), its --json, its exit
codes, and where it finds its settings."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.api.support import TUTORIAL, bearer_token_file, tutorial_text


def test_upload_dry_run_then_upload_then_update(poms, dev_server, tmp_path):
    run = poms("upload-ini", TUTORIAL, "--dry-run")
    assert run.code == 0, run.err
    assert "dry run: campaign srsoleti_tutorial would be created; nothing was written" in run.out
    assert poms("campaigns").out.strip() == "(none)"

    run = poms("upload-ini", TUTORIAL)
    assert run.code == 0 and "campaign srsoleti_tutorial created" in run.out

    changed = tmp_path / "changed.ini"
    changed.write_text(tutorial_text(**{"completion_pct=100": "completion_pct=90"}))
    run = poms("--json", "upload-ini", changed)
    assert run.code == 0
    body = run.json
    assert body["version"] == 1 and body["ok"] is True and body["created"] is False
    assert any("completion_pct changes from 100 to 90" in c["text"] for c in body["changes"])


def test_invalid_file_exits_1_with_every_problem(poms, dev_server, tmp_path):
    bad = tmp_path / "bad.ini"
    # (A completion_pct of 140 is kept with a warning, as the original keeps it.)
    bad.write_text(tutorial_text(**{"completion_pct=100": "completion_pct=all",
                                    "output_ancestor_depth=1": "output_ancestor_depth=x"}))
    run = poms("upload-ini", bad)
    assert run.code == 1
    assert "poms: bad.ini:" in run.err
    assert "whole number" in run.err and "output_ancestor_depth" in run.err
    run = poms("--json", "upload-ini", bad)
    assert run.code == 1
    assert run.json["version"] == 1 and run.json["ok"] is False and run.json["status"] == 422
    assert len(run.json["problems"]) == 2


def test_list_show_export_round_trip_clone_edit_delete(poms, dev_server, tmp_path):
    assert poms("upload-ini", TUTORIAL).code == 0
    listing = poms("campaigns")
    assert "srsoleti_tutorial" in listing.out and "analysis" in listing.out
    assert poms("--json", "campaigns").json["campaigns"][0]["stages"] == 2

    shown = poms("campaign", "srsoleti_tutorial")
    assert "stage reco: job type mu2e_reco_srsoleti_jobtype" in shown.out
    assert "after reco_fcl on %.fcl" in shown.out

    exported = poms("export-ini", "srsoleti_tutorial")
    assert exported.code == 0 and exported.out.startswith("[campaign]")
    out = tmp_path / "again.ini"
    assert poms("export-ini", "srsoleti_tutorial", "-o", out).code == 0
    assert out.read_text() == exported.out
    again = poms("--json", "upload-ini", out)
    assert again.json["changes"] == [] and "no changes" in poms("upload-ini", out).out
    assert poms("--json", "export-ini", "srsoleti_tutorial").json["ini"] == exported.out

    assert "cloned srsoleti_tutorial as copy" in poms("clone", "srsoleti_tutorial", "copy").out
    edited = poms("edit-campaign", "copy", "state=Inactive", "tags=mdc, test")
    assert edited.code == 0 and "Inactive" in edited.out
    assert poms("campaigns", "--state", "Inactive", "--json").json["total"] == 1

    stage = poms("stage", "copy", "reco_fcl")
    assert "completion_pct" in stage.out and "= 100" in stage.out
    edited = poms("edit-stage", "copy", "reco_fcl", "completion_pct=75", "cs_split_type=nfiles(2)")
    assert edited.code == 0 and "cs_split_type" in edited.out and "nfiles(2)" in edited.out
    bad = poms("edit-stage", "copy", "reco_fcl", "completion_pct=175")
    assert bad.code == 1 and "[completion_pct]" in bad.err

    assert "mu2e_reco_srsoleti_jobtype" in poms("definitions", "job_types").out
    login = poms("definitions", "login_setups", "srsoleti_poms_login")
    assert "account" in login.out and "poms_launcher" in login.out

    assert poms("delete-campaign", "copy").out.strip() == "deleted campaign copy"
    gone = poms("campaign", "copy")
    assert gone.code == 1 and "no campaign 'copy' in mu2e" in gone.err


def test_refusals_exit_1_and_usage_exits_2(poms, dev_server):
    assert poms("upload-ini", TUTORIAL).code == 0
    refused = poms("--user", "bob", "edit-stage", "srsoleti_tutorial", "reco", "vo_role=x")
    assert refused.code == 1
    assert "acting as analysis, you may not change campaign srsoleti_tutorial" in refused.err
    refused = poms("--json", "--user", "bob", "delete-campaign", "srsoleti_tutorial")
    assert refused.code == 1 and refused.json["status"] == 403
    stranger = poms("--user", "mallory", "campaigns")
    assert stranger.code == 1 and "not registered" in stranger.err
    elsewhere = poms("--experiment", "dune", "campaigns")
    assert elsewhere.code == 1 and "no experiment 'dune'" in elsewhere.err

    assert poms("edit-stage", "srsoleti_tutorial", "reco", "novalue").code == 2
    assert poms("upload-ini").code == 2
    assert poms("no-such-command").code == 2
    assert poms("token", "revoke", "abc").code == 2
    assert poms("upload-ini", "/no/such/file.ini").code == 1


def test_whoami_experiments_and_global_flags_anywhere(poms, dev_server):
    assert poms("whoami").out.strip() == "alice (signed in by dev); experiments: mu2e (analysis)"
    run = poms("experiments", "--json")
    assert run.json == {"version": 1, "ok": True, "total": 1,
                        "experiments": [{"name": "mu2e", "description": "", "role": "analysis"}]}
    assert poms("whoami", "--user", "pat").out.startswith("pat ")


def test_settings_from_flags_environment_and_config_file(poms, dev_server, client_env, tmp_path):
    url = dev_server.url
    client_env.delenv("POMS_SERVER")
    client_env.delenv("POMS_USER")
    missing = poms("whoami")
    assert missing.code == 1 and "no server" in missing.err
    assert poms("--server", url, "--user", "bob", "whoami").out.startswith("bob ")

    config = tmp_path / "config.ini"
    config.write_text(f"[poms]\nserver = {url}\nexperiment = mu2e\nuser = pat\n")
    client_env.setenv("POMS_CONFIG", str(config))
    client_env.delenv("POMS_EXPERIMENT")
    assert poms("whoami").out.startswith("pat ")
    assert poms("whoami", env={"POMS_USER": "bob"}).out.startswith("bob ")  # env beats file
    assert poms("--user", "alice", "whoami").out.startswith("alice ")  # flag beats env

    unreachable = poms("--server", "http://localhost:9", "whoami")
    assert unreachable.code == 1 and "cannot reach" in unreachable.err


def test_credentials_upload_and_list(poms, dev_server, tmp_path):
    token = tmp_path / "bt_u1000"
    token.write_bytes(bearer_token_file(3 * 86400))
    run = poms("upload-credential", token)
    assert run.code == 0 and "kept your analysis token" in run.out
    assert "warning: it expires in under 7 days" in run.out
    listed = poms("credentials")
    assert "RENEW" in listed.out and "token" in listed.out
    refused = poms("upload-credential", token, "--role", "production")
    assert refused.code == 1 and "may not keep a credential for production" in refused.err
    expired = tmp_path / "old"
    expired.write_bytes(bearer_token_file(-10))
    assert "expired" in poms("upload-credential", expired).err
    assert poms("--json", "credentials").json["credentials"][0]["renew"] is True


def test_api_tokens_from_the_client(poms, dev_server, tmp_path):
    made = poms("--json", "token", "create", "nightly", "--days", "5")
    assert made.code == 0
    secret = made.json["token"]["token"]
    listed = poms("token", "list")
    assert "nightly" in listed.out and secret not in listed.out

    # A robot: the token from the environment, or from a file; no user named.
    robot = {"POMS_TOKEN": secret, "POMS_USER": ""}
    assert poms("whoami", env=robot).out.startswith("alice (signed in by token)")
    token_file = tmp_path / "token"
    token_file.write_text(secret + "\n")
    assert poms("--token-file", token_file, "whoami", env={"POMS_TOKEN": "", "POMS_USER": ""}
                ).out.startswith("alice (signed in by token)")
    assert poms("upload-ini", TUTORIAL, env=robot).code == 0
    child = poms("token", "create", "child", env=robot)
    assert child.code == 1 and "cannot make API tokens" in child.err

    token_id = made.json["token"]["id"]
    assert poms("token", "revoke", token_id).code == 0
    revoked = poms("whoami", env=robot)
    assert revoked.code == 1 and "revoked" in revoked.err


def test_the_installed_console_script(dev_server, tmp_path):
    poms = Path(sys.executable).with_name("poms")
    assert poms.exists(), "make venv installs the repo (pip install -e . --no-deps)"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "POMS_SERVER": dev_server.url,
           "POMS_EXPERIMENT": "mu2e", "POMS_USER": "pat"}
    done = subprocess.run([str(poms), "--json", "upload-ini", str(TUTORIAL)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"version": 1' in done.stdout and '"created": true' in done.stdout
    usage = subprocess.run([str(poms), "launch-everything"], env=env, capture_output=True,
                           text=True, timeout=120)
    assert usage.returncode == 2 and "invalid choice" in usage.stderr


def test_failure_signatures(poms, dev_server):
    listed = poms("signatures")
    assert listed.code == 0 and "memory" in listed.out
    refused = poms("add-signature", "mine", "--category", "site", "--pattern", "boom")
    assert refused.code == 1 and "may not change failure signatures" in refused.err
    added = poms("--user", "pat", "--json", "add-signature", "mine", "--category", "site",
                 "--pattern", "boom", "--exit-codes", "3")
    assert added.code == 0 and added.json["signature"]["name"] == "mine"
    assert "mine" in poms("signatures").out


def test_ucondb_folders_objects_put_get(poms, dev_server, app, tmp_path):
    # The server's own embedded UconDB, at the live server's address; alice may write.
    app.config["POMS_UCONDB_URL"] = f"{dev_server.url}/ucondb/mu2e_ucondb_prod/app"
    app.config["POMS_UCONDB_WRITERS"] = "alice:s3cret"
    writer = {"POMS_UCONDB_USER": "alice", "POMS_UCONDB_PASSWORD": "s3cret"}
    fcl = tmp_path / "job_0001.fcl"
    fcl.write_text('#include "reco.fcl"\nsource.fileNames: ["a.art"]\n')

    assert poms("ucondb", "folders").out.strip() == "(none)"
    missing = poms("ucondb", "put", "mu2e_fcl", "job_0001.fcl", fcl, env=writer)
    assert missing.code == 1 and "UconDB:" in missing.err
    stored = poms("--json", "ucondb", "put", "mu2e_fcl", "job_0001.fcl", fcl, "--key", "k1",
                  "--create-folder", env=writer)
    assert stored.code == 0, stored.err
    assert stored.json["metadata"]["data_size"] == len(fcl.read_bytes())
    assert poms("ucondb", "folders").out.strip() == "mu2e_fcl"
    assert poms("ucondb", "objects", "mu2e_fcl").out.strip() == "job_0001.fcl"
    got = poms("ucondb", "get", "mu2e_fcl", "job_0001.fcl")
    assert got.code == 0 and got.out == fcl.read_text()
    out = tmp_path / "copy.fcl"
    assert poms("ucondb", "get", "mu2e_fcl", "job_0001.fcl", "--key", "k1", "-o", out).code == 0
    assert out.read_bytes() == fcl.read_bytes()

    wrong = poms("ucondb", "put", "mu2e_fcl", "x", fcl,
                 env={"POMS_UCONDB_USER": "alice", "POMS_UCONDB_PASSWORD": "nope"})
    assert wrong.code == 1 and "authorization failed" in wrong.err
    nobody = poms("ucondb", "put", "mu2e_fcl", "x", fcl, env={"POMS_UCONDB_USER": ""})
    assert nobody.code == 1 and "POMS_UCONDB_PASSWORD" in nobody.err
    assert poms("ucondb", "get", "mu2e_fcl", "nothing").code == 1
    assert poms("ucondb", "objects").code == 2
