"""Where the client's settings come from: flags, then POMS_* environment variables, then
~/.config/poms/config.ini (or $POMS_CONFIG), section [poms]:

    [poms]
    server = https://pomsgpvm01.fnal.gov
    experiment = mu2e
    # user = alice            (a dev-mode server only)
    # token_file = ~/.config/poms/token   (a robot's API token; or POMS_TOKEN)
    # role = production       (act in this role, at or below your own; or POMS_ROLE)
    # test_server = https://pomsgpvm01.fnal.gov:8443   (the original client's --dev/--test;
    # int_server = https://...                          or POMS_TEST_SERVER, POMS_INT_SERVER)
"""
from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from pathlib import Path


class ConfigProblem(Exception):
    """A setting the client cannot work without, or cannot read."""


@dataclass
class Settings:
    server: str
    experiment: str | None
    user: str | None
    token: str | None
    timeout: float = 60.0
    role: str | None = None  # sent as X-POMS-Role: act in this role (at or below one's own)


def config_path(environ=None) -> Path:
    environ = os.environ if environ is None else environ
    if environ.get("POMS_CONFIG"):
        return Path(environ["POMS_CONFIG"]).expanduser()
    base = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME", "~")) / ".config")
    return Path(base).expanduser() / "poms" / "config.ini"


def _file_values(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError) as err:
        raise ConfigProblem(f"{path}: cannot read it: {err}") from None
    if not parser.has_section("poms"):
        return {}
    return {key: value.strip() for key, value in parser.items("poms")}


def _read_token(path: str) -> str:
    try:
        return Path(path).expanduser().read_text().strip()
    except OSError as err:
        raise ConfigProblem(f"token file {path}: {err.strerror}") from None


# Which server: the usual one, or the original client's test (--dev, --test) or
# integration (--int) instance.
SERVER_KEYS = {"server": "POMS_SERVER", "test_server": "POMS_TEST_SERVER",
               "int_server": "POMS_INT_SERVER"}


def resolve(server=None, experiment=None, user=None, token_file=None, timeout=None,
            environ=None, role=None, server_key="server", config_file=None) -> Settings:
    """`config_file` reads that file instead of the usual one (the original client's
    `configfile`); `server_key` picks test_server or int_server instead of server."""
    environ = os.environ if environ is None else environ
    path = Path(config_file).expanduser() if config_file else config_path(environ)
    if config_file and not path.exists():
        raise ConfigProblem(f"{path}: no such config file")
    values = _file_values(path)

    def pick(flag, env, key):
        return flag or environ.get(env) or values.get(key) or None

    server = pick(server, SERVER_KEYS[server_key], server_key)
    if not server:
        if server_key != "server":
            raise ConfigProblem(
                f"no {server_key.replace('_', ' ')}: set {SERVER_KEYS[server_key]}, or put "
                f"{server_key} = URL in {path} under [poms]")
        raise ConfigProblem(
            "no server: give --server URL, set POMS_SERVER, or put server = URL in "
            f"{path} under [poms]"
        )
    token = None
    if token_file:
        token = _read_token(token_file)
    elif environ.get("POMS_TOKEN"):
        token = environ["POMS_TOKEN"].strip()
    elif values.get("token_file"):
        token = _read_token(values["token_file"])
    return Settings(
        server=server.rstrip("/"),
        experiment=pick(experiment, "POMS_EXPERIMENT", "experiment"),
        user=pick(user, "POMS_USER", "user"),
        token=token or None,
        timeout=float(timeout or values.get("timeout") or 60),
        role=pick(role, "POMS_ROLE", "role"),
    )
