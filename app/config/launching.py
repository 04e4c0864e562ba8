"""Launching, batch and tracking settings, from POMS_* environment variables.

load_config (app/config/__init__.py) merges these into the app config; defaults are the
embedded service (local launcher, local batch engine under instance/).
"""
from __future__ import annotations

import os
from pathlib import Path

from app.config.reading import ConfigError, integer

LAUNCHERS = ("local", "ssh")
ENGINES = ("local", "jobsub", "htcondor")


def launch_settings(instance_path: Path, environ=None) -> dict:
    environ = os.environ if environ is None else environ
    launcher = environ.get("POMS_LAUNCHER", "local")
    if launcher not in LAUNCHERS:
        raise ConfigError(f"POMS_LAUNCHER={launcher!r} is not one of {', '.join(LAUNCHERS)}")
    engine = environ.get("POMS_BATCH_ENGINE", "local")
    if engine not in ENGINES:
        raise ConfigError(f"POMS_BATCH_ENGINE={engine!r} is not one of {', '.join(ENGINES)}")
    return {
        # How a launch command runs: "local" (a shell here, as the launch account of the
        # campaign's role) or "ssh" (to the login setup's account@host, as in production).
        "POMS_LAUNCHER": launcher,
        # The unprivileged OS accounts local launches (and their local-engine jobs) run as,
        # by campaign role; never this service's own account (app/launching/isolation.py).
        # Outside dev mode the local launcher needs one; a role without one cannot launch.
        "POMS_LOCAL_LAUNCH_USER": environ.get("POMS_LOCAL_LAUNCH_USER", "").strip(),
        "POMS_LOCAL_PRODUCTION_LAUNCH_USER":
            environ.get("POMS_LOCAL_PRODUCTION_LAUNCH_USER", "").strip(),
        # Where each launch account works: DIR/ACCOUNT holds its launches' working
        # directories and its local batch spool. Outside instance/, reachable by the accounts.
        "POMS_LAUNCH_ACCOUNTS_DIR": environ.get("POMS_LAUNCH_ACCOUNTS_DIR", "").strip(),
        # The Python launch accounts run the embedded jobsub_submit/fife_launch with (empty:
        # this service's, or /usr/bin/python3 when the service's is closed to other accounts).
        "POMS_LAUNCH_PYTHON": environ.get("POMS_LAUNCH_PYTHON", "").strip(),
        # The hosts analysis campaigns may launch on (ssh launcher), comma-separated, as the
        # original's analysis_launch_hosts; production campaigns launch on other hosts.
        "POMS_ANALYSIS_LAUNCH_HOSTS": [h.strip() for h in environ.get(
            "POMS_ANALYSIS_LAUNCH_HOSTS", "").split(",") if h.strip()],
        # Options for ssh (-i key, -p port, -o ...), shell-split; e.g. "-i /etc/poms/id".
        "POMS_SSH_OPTIONS": environ.get("POMS_SSH_OPTIONS", ""),
        # Where each submission's launch work directory and output file go.
        "POMS_LAUNCH_DIR": environ.get("POMS_LAUNCH_DIR") or str(instance_path / "launches"),
        # A launch running longer than this is stopped (seconds).
        "POMS_LAUNCH_TIMEOUT": integer(environ, "POMS_LAUNCH_TIMEOUT", 1800),
        # A claimed launch with no process and no jobs after this long failed (seconds).
        "POMS_LAUNCH_GRACE": integer(environ, "POMS_LAUNCH_GRACE", 120),
        # An Idle submission whose clusters the batch system has never shown this long
        # after its launch announced them is LaunchFailed, naming them (seconds).
        "POMS_CLUSTER_GRACE": integer(environ, "POMS_CLUSTER_GRACE", 300),
        # How many times a launch of which nothing ran (a database error, a launch directory
        # that cannot be written, its worker killed before the script started) is tried.
        "POMS_LAUNCH_ATTEMPTS": integer(environ, "POMS_LAUNCH_ATTEMPTS", 3),
        "POMS_BATCH_ENGINE": engine,
        "POMS_BATCH_DIR": environ.get("POMS_BATCH_DIR") or str(instance_path / "batch"),
        # How many local-engine jobs run at once on this machine.
        "POMS_LOCAL_SLOTS": integer(environ, "POMS_LOCAL_SLOTS", max(2, (os.cpu_count() or 2))),
        # How many times a local-engine cluster's runner found gone (killed) is replaced by
        # a new one, which runs again the jobs it left unfinished (app/batch/local_runners.py).
        "POMS_LOCAL_RUNNER_RESTARTS": integer(environ, "POMS_LOCAL_RUNNER_RESTARTS", 3),
        "POMS_JOBSUB_GROUP": environ.get("POMS_JOBSUB_GROUP", ""),
        "POMS_JOBSUB_BIN": environ.get("POMS_JOBSUB_BIN", ""),
        # How often the worker's scheduler runs a tracking pass (seconds).
        "POMS_TRACKING_INTERVAL": integer(environ, "POMS_TRACKING_INTERVAL", 10),
        # Engines that log their jobs' changes (local, htcondor): how often the scheduler
        # looks for new events (milliseconds; 0: never, poll only), and how often the full
        # pass, the safety net for a lost event, runs instead (seconds). jobsub is polled
        # every POMS_TRACKING_INTERVAL (app/tracking/events.py).
        "POMS_TRACKING_EVENTS_MS": integer(environ, "POMS_TRACKING_EVENTS_MS", 250),
        "POMS_TRACKING_FULL_INTERVAL": integer(environ, "POMS_TRACKING_FULL_INTERVAL", 60),
        # How often the scheduler looks for finished jobs whose log analysis was lost (a worker
        # killed with the job in hand, a Redis restart), and analyses them (seconds; 0: never).
        "POMS_ANALYSIS_CATCHUP_INTERVAL": integer(environ, "POMS_ANALYSIS_CATCHUP_INTERVAL", 600),
        # Submissions per tracking batch (one engine query per batch).
        "POMS_TRACKING_BATCH": integer(environ, "POMS_TRACKING_BATCH", 200),
        # The URL launches are told POMS answers at (POMS_URL in their environment).
        "POMS_URL": environ.get("POMS_URL", "http://localhost:5000"),
        # What launches see as $POMS_TEST, which poms_jobsub_wrapper and poms_client read to
        # pick the POMS instance they report to. The original sets it from its host name:
        # empty on the production instance, "int" on integration, "1" anywhere else. Here
        # it is this setting: "1" (a test instance) unless set; a production instance sets
        # POMS_TEST= (empty), an integration one POMS_TEST=int.
        "POMS_TEST": environ.get("POMS_TEST", "1"),
    }

