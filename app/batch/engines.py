"""Which batch engine the settings choose: POMS_BATCH_ENGINE = local (the default), jobsub
or htcondor (app/batch/base.py is what they all answer).

Relative imports only: the embedded jobsub_submit runs this package as `batch`, without the
rest of POMS (app/launching/tools/jobsub_submit).
"""
from __future__ import annotations

from .accounts import AccountError, lookup
from .base import LAUNCH_ACCOUNT_SETTINGS, BatchEngine, BatchError
from .htcondor import HTCondorEngine
from .jobsub import JobsubEngine
from .local import LocalEngine


def engine_from_config(config: dict) -> BatchEngine:
    name = config.get("POMS_BATCH_ENGINE", "local")
    if name == "local":
        areas = launch_accounts(config)
        return LocalEngine(
            config["POMS_BATCH_DIR"], slots=int(config.get("POMS_LOCAL_SLOTS", 4)),
            areas=areas, areas_dir=config.get("POMS_LAUNCH_ACCOUNTS_DIR") or "",
            launch_python=config.get("POMS_LAUNCH_PYTHON") or "",
            runner_restarts=int(config.get("POMS_LOCAL_RUNNER_RESTARTS", 3)),
        )
    if name == "jobsub":
        return JobsubEngine(group=config.get("POMS_JOBSUB_GROUP", ""),
                            bin_dir=config.get("POMS_JOBSUB_BIN", ""))
    if name == "htcondor":
        return HTCondorEngine.from_config(config)
    raise BatchError(f"POMS_BATCH_ENGINE={name!r} is not one of local, jobsub, htcondor")


def launch_accounts(config) -> dict:
    """{campaign role: Account} of the configured launch accounts (none in plain dev mode).
    BatchError when one is not usable (create_app refuses to start with one first)."""
    found = {}
    for role, setting in LAUNCH_ACCOUNT_SETTINGS.items():
        name = config.get(setting) or ""
        if name:
            try:
                found[role] = lookup(name, setting)
            except AccountError as err:
                raise BatchError(str(err)) from None
    return found
