"""The UconDB settings: the defaults are this POMS's embedded server, and work together."""
from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

import pytest

from app.config import ConfigError, load_config


def test_the_default_url_is_the_embedded_servers_own(tmp_path):
    config = load_config(tmp_path, {})
    assert config["POMS_UCONDB_URL"] == "http://127.0.0.1:5000/ucondb/mu2e_ucondb_prod/app"
    config = load_config(tmp_path, {"POMS_HOST": "poms.example.org", "POMS_PORT": "8080"})
    assert config["POMS_UCONDB_URL"] == "http://poms.example.org:8080/ucondb/mu2e_ucondb_prod/app"
    config = load_config(tmp_path, {"POMS_HOST": "0.0.0.0", "POMS_AUTH": "kerberos"})
    assert config["POMS_UCONDB_URL"].startswith("http://localhost:5000/")
    config = load_config(tmp_path, {"POMS_HOST": "::1"})
    assert config["POMS_UCONDB_URL"].startswith("http://[::1]:5000/")


def test_fermilabs_server_is_one_variable_away(tmp_path):
    fermilab = "https://dbdata0vm.fnal.gov:9443/mu2e_ucondb_prod/app/"
    config = load_config(tmp_path, {"POMS_UCONDB_URL": fermilab,
                                    "POMS_UCONDB_USER": "mu2e_ucon_web",
                                    "POMS_UCONDB_PASSWORD": "fermilabs-password"})
    assert config["POMS_UCONDB_URL"] == fermilab.rstrip("/")
    assert (config["POMS_UCONDB_USER"], config["POMS_UCONDB_PASSWORD"]) == ("mu2e_ucon_web",
                                                                         "fermilabs-password")
    # The embedded server keeps its own writer: Fermilab's password is not accepted here.
    # (A long name: the writer's password is random, and may hold any short string.)
    assert "fermilabs-password" not in config["POMS_UCONDB_WRITERS"]


def test_the_default_client_and_embedded_writer_share_a_generated_secret(tmp_path):
    config = load_config(tmp_path, {})
    secret = (tmp_path / "ucondb_password").read_text()
    assert len(secret) >= 24
    assert stat.S_IMODE((tmp_path / "ucondb_password").stat().st_mode) == 0o600
    assert config["POMS_UCONDB_USER"] == "poms" and config["POMS_UCONDB_PASSWORD"] == secret
    assert config["POMS_UCONDB_WRITERS"] == f"poms:{secret}"
    assert load_config(tmp_path, {})["POMS_UCONDB_PASSWORD"] == secret  # kept, not remade
    assert config["POMS_UCONDB_MAX_BLOB_BYTES"] == 16 * 1024 * 1024


def test_another_user_gets_no_generated_password(tmp_path):
    config = load_config(tmp_path, {"POMS_UCONDB_USER": "someone"})
    assert config["POMS_UCONDB_PASSWORD"] == ""


def test_malformed_writers_stop_the_app_at_start(tmp_path, monkeypatch):
    from app import create_app

    monkeypatch.setenv("POMS_UCONDB_WRITERS", "alice")
    with pytest.raises(ConfigError, match="POMS_UCONDB_WRITERS entry 1"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                    "SECRET_KEY": "x", "POMS_AUTH": "dev"})


def test_a_blob_limit_that_is_not_a_number_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="POMS_UCONDB_MAX_BLOB_BYTES"):
        load_config(tmp_path, {"POMS_UCONDB_MAX_BLOB_BYTES": "big"})


def _secrets_of(instance: str) -> tuple[str, str, str]:
    config = load_config(Path(instance), {})
    return instance, config["SECRET_KEY"], config["POMS_UCONDB_PASSWORD"]


def test_processes_starting_at_once_share_one_secret_key_and_password(tmp_path):
    """A server's workers (and the test suite's, under xdist) start on a fresh instance/ at
    the same moment: none fails, and all of them sign and write with the same secrets.
    Eight processes race on each of 40 fresh folders."""
    folders = [str(tmp_path / f"instance-{n}") for n in range(40)]
    with multiprocessing.get_context("fork").Pool(8) as pool:
        seen = pool.map(_secrets_of, [f for f in folders for _ in range(8)], chunksize=1)
    for folder in folders:
        instance = Path(folder)
        found = {(key, password) for where, key, password in seen if where == folder}
        assert len(found) == 1, (folder, found)
        ((key, password),) = found
        assert (instance / "secret_key").read_text() == key and len(key) == 64
        assert (instance / "ucondb_password").read_text() == password
        assert stat.S_IMODE((instance / "secret_key").stat().st_mode) == 0o600
        assert sorted(p.name for p in instance.iterdir()) == ["secret_key", "ucondb_password"]
