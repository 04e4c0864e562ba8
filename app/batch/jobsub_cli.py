"""jobsub_submit, jobsub_q, jobsub_rm, jobsub_hold, jobsub_release for the local engine.

Compatible with Fermilab's commands as launch scripts call them:

  jobsub_submit -G GROUP -N 5 --role=Analysis -e VAR -e VAR=value --memory=2000MB
                --expected-lifetime=3h --dataset_definition=DEF -f dropbox://FILE
                [other options] file:///path/to/script [script arguments...]

It prints the batch id as jobsub does ("Use job id 12.0@local to retrieve output") and,
as the original's poms_jobsub_wrapper does, ties the jobs to the POMS submission named in
the environment (POMS4_SUBMISSION_ID / POMS_TASK_ID): the engine records the submission and
every job gets the POMS variables. Options it does not know are accepted with a warning,
since real launch scripts pass many (--resource-provides, --OS, -l, ...).

The spool comes from POMS_BATCH_DIR (a launch gets it from the local engine).
"""
from __future__ import annotations

import os
import sys

from .base import BatchError, JobRequest
from .engines import engine_from_config
from .local import LocalEngine

# Options taking a value (long names as jobsub spells them; - and _ both accepted).
_VALUE_OPTIONS = {
    "-G": "group", "--group": "group",
    "-N": "count",
    "--role": "role",
    "-e": "env", "--environment": "env",
    "--memory": "memory",
    "--expected-lifetime": "lifetime",
    "--dataset_definition": "dataset", "--dataset-definition": "dataset",
    "--dataset": "dataset",
    "-f": "input_file",
}
_PASS_VARS = ("POMS_TASK_ID", "POMS4_SUBMISSION_ID", "POMS4_CAMPAIGN_ID",
              "POMS4_CAMPAIGN_STAGE_ID", "POMS4_CAMPAIGN_NAME", "POMS4_CAMPAIGN_STAGE_NAME",
              "POMS4_TEST_LAUNCH", "POMS_CAMPAIGN_ID", "POMS_PARENT_TASK_ID", "POMS_LAUNCHER",
              "POMS_URL", "EXPERIMENT",
              # the embedded tools (fife_wrap, setup) find their way back with these
              "POMS_ROOT", "POMS_PYTHON", "POMS_TOOLS_DIR")


class UsageError(ValueError):
    pass


def parse_submit(argv: list[str], environ: dict[str, str]) -> tuple[JobRequest, list[str]]:
    """(request, warnings) from jobsub_submit's arguments."""
    values: dict[str, object] = {"env": {}}
    warnings: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("file://"):
            values["executable"] = arg[len("file://"):]
            # file:///abs/path and file://relative/path both name a local file.
            values["arguments"] = argv[i + 1:]
            break
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        key = _VALUE_OPTIONS.get(name)
        if key is None and arg.startswith("-") and len(arg) > 2 and not arg.startswith("--"):
            # -N5, -Gmu2e
            key, inline, eq = _VALUE_OPTIONS.get(arg[:2]), arg[2:], "="
            name = arg[:2]
        if key is None:
            if arg.startswith("-"):
                takes_value = not eq and i + 1 < len(argv) and not argv[i + 1].startswith("-") \
                    and not argv[i + 1].startswith("file://")
                warnings.append(f"jobsub_submit (local engine): ignoring option {arg}"
                                + (f" {argv[i + 1]}" if takes_value else ""))
                i += 2 if takes_value else 1
                continue
            raise UsageError(f"unexpected argument {arg!r} before file://SCRIPT")
        if eq:
            value = inline
            i += 1
        else:
            if i + 1 >= len(argv):
                raise UsageError(f"option {name} needs a value")
            value = argv[i + 1]
            i += 2
        if key == "input_file":
            values.setdefault("input_files", []).append(_input_file(value))
        elif key == "env":
            var, has_value, val = value.partition("=")
            if has_value:
                values["env"][var] = val
            elif var in environ:
                values["env"][var] = environ[var]
            else:
                warnings.append(f"jobsub_submit: -e {var}: not set in the environment")
        else:
            values[key] = value
    if "executable" not in values:
        raise UsageError("missing file://SCRIPT: what should the jobs run?")
    try:
        count = int(values.get("count", 1))
    except ValueError:
        raise UsageError(f"-N {values['count']!r} is not a number") from None
    env: dict[str, str] = dict(values["env"])
    for var in _PASS_VARS:  # what poms_jobsub_wrapper adds to every job
        if var in environ and var not in env:
            env[var] = environ[var]
    sid = environ.get("POMS4_SUBMISSION_ID") or environ.get("POMS_TASK_ID") or ""
    request = JobRequest(
        executable=str(values["executable"]),
        arguments=list(values.get("arguments", [])),
        count=count,
        env=env,
        group=str(values.get("group", environ.get("JOBSUB_GROUP", ""))),
        role=str(values.get("role", "")),
        memory=str(values.get("memory", "")),
        lifetime=str(values.get("lifetime", "")),
        dataset=str(values.get("dataset", "")),
        submission_id=int(sid) if sid.isdigit() else None,
        input_files=list(values.get("input_files", [])),
    )
    return request, warnings


def _input_file(value: str) -> str:
    """A -f file as a path on this machine: `dropbox://PATH` (jobsub copies it when the jobs
    are submitted) or a plain path, which this engine also takes at submission, having no
    ifdh to fetch it later; a relative one is the launch's, from its working directory."""
    path = value[len("dropbox://"):] if value.startswith("dropbox://") else value
    if not path or "://" in path:
        raise UsageError(f"-f {value}: the local engine takes a file on this machine "
                         "(PATH or dropbox://PATH)")
    return os.path.abspath(path)


def _engine(environ):
    """The engine the launch was told to use: the same script runs on any of them."""
    if environ.get("POMS_BATCH_ENGINE", "local") != "local":
        return engine_from_config(environ)
    spool = environ.get("POMS_BATCH_DIR")
    if not spool:
        raise UsageError("POMS_BATCH_DIR is not set: run this from a POMS launch")
    # A launch account's submits go to its own area, under ids named after it.
    return LocalEngine(spool, slots=int(environ.get("POMS_LOCAL_SLOTS", "4")),
                       schedd=environ.get("POMS_LOCAL_SCHEDD") or "local")


def submit_main(argv: list[str], environ=None) -> int:
    environ = dict(os.environ if environ is None else environ)
    try:
        request, warnings = parse_submit(argv, environ)
        for warning in warnings:
            print(warning, file=sys.stderr)
        batch_id = _engine(environ).submit(request)
    except (UsageError, BatchError) as err:
        print(f"jobsub_submit: {err}", file=sys.stderr)
        return 1
    cluster = batch_id.split(".")[0]
    print("Submitting job(s)" + "." * request.count)
    print(f"{request.count} job(s) submitted to cluster {cluster}.")
    print(f"JobsubJobId of first job: {batch_id}")
    print(f"Use job id {batch_id} to retrieve output")
    return 0


def _ids(argv: list[str]) -> list[str]:
    ids = []
    skip = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg in ("-G", "--group", "--role", "--jobid"):
            skip = arg != "--jobid"
            if arg == "--jobid" and i + 1 < len(argv):
                ids.extend(argv[i + 1].split(","))
                skip = True
            continue
        if arg.startswith("--jobid="):
            ids.extend(arg.split("=", 1)[1].split(","))
        elif "@" in arg:
            ids.extend(arg.split(","))
    return ids


def q_main(argv: list[str], environ=None) -> int:
    environ = dict(os.environ if environ is None else environ)
    engine = _engine(environ)
    ids = _ids(argv)
    print("JOBSUBJOBID                           OWNER    SUBMITTED     RUN_TIME   ST PRI SIZE CMD")
    codes = {"Idle": "I", "Running": "R", "Held": "H", "Completed": "C", "Removed": "X"}
    for job in engine.query(ids):
        print(f"{job.job_id:<37} {environ.get('USER', 'poms'):<8} -             0+00:00:00 "
              f"{codes.get(job.state, '?')}  0   0.0  job")
    return 0


def _control_main(action: str, argv: list[str], environ=None) -> int:
    environ = dict(os.environ if environ is None else environ)
    ids = _ids(argv)
    if not ids:
        print(f"jobsub_{action}: give --jobid CLUSTER.0@local", file=sys.stderr)
        return 1
    try:
        getattr(_engine(environ), action)(ids)
    except BatchError as err:
        print(f"jobsub_{action}: {err}", file=sys.stderr)
        return 1
    print(f"{action}: {', '.join(ids)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print("usage: python -m batch.jobsub_cli submit|q|rm|hold|release ...",
              file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "submit":
        return submit_main(rest)
    if command == "q":
        return q_main(rest)
    if command in ("rm", "remove"):
        return _control_main("remove", rest)
    if command in ("hold", "release"):
        return _control_main(command, rest)
    print(f"unknown command {command}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
