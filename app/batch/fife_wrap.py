"""The job wrapper fife_launch submits (a stand-in for fife_utils' fife_wrap).

In the job it runs, in order: --export NAME=VALUE, --source FILE, --setup PRODUCT (through
whatever `setup` the job's PATH has, else a stand-in that says so), --prescript, the --exe
program with the arguments after `--`, --postscript; then copies the outputs: each
--addoutputN GLOB goes to --destN (environment variables in DEST and in the --exe path are
the job's). `-unquote` variants take URL-quoted values, as fife_launch writes them. Other
options are accepted and ignored.
The exit code is the program's.
"""
from __future__ import annotations

import glob
import os
import shlex
import shutil
import string
import subprocess
import sys
import urllib.parse
from pathlib import Path

from . import job_files

_VALUE = ("export", "source", "setup", "prescript", "postscript", "exe", "addoutput", "dest",
          "rename", "exe_stdout", "exe_stderr", "metadata_extractor", "self_destruct_timer",
          "limit", "appvers", "appname", "appfamily", "inputfile", "ifdh_art")


def parse(argv: list[str]) -> tuple[list[tuple[str, str | None]], list[str]]:
    options: list[tuple[str, str | None]] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return options, argv[i + 1:]
        if not arg.startswith("--"):
            return options, argv[i:]
        name, eq, inline = arg[2:].partition("=")
        base = name.rstrip("0123456789")
        unquote = base.endswith("-unquote") or base.endswith("_unquote")
        if unquote:
            base = base[: -len("-unquote")]
        takes = base in _VALUE or eq or (
            i + 1 < len(argv) and not argv[i + 1].startswith("--")
        )
        if eq:
            value, i = inline, i + 1
        elif takes and i + 1 < len(argv):
            value, i = argv[i + 1], i + 2
        else:
            value, i = None, i + 1
        if unquote and value is not None:
            value = urllib.parse.unquote(value)
        options.append((base + name[len(name.rstrip("0123456789")):], value))
    return options, []


# UPS `setup` is a shell function on Fermilab's worker nodes; a job of the embedded engines
# may run where nothing defines it (an HTCondor job's PATH is the pool's, without the
# embedded tools), so the job says what it would set up instead of "command not found".
_SETUP_STAND_IN = ('type setup >/dev/null 2>&1 || setup() { '
                   'echo "setup (embedded POMS, nothing to set up): $*"; }')


def script_for(options, exe_args: list[str], environ=None) -> str:
    """The job's bash script. The program's path (--exe) is read in the job, as the shell
    jobsub runs jobs with reads it: `${CONDOR_DIR_INPUT}/reco.sh` is the copy of a file
    sent with -f; nothing else of it is shell."""
    environ = os.environ if environ is None else environ
    lines = ["set -u"]
    exe = None
    for name, value in options:
        if name == "export" and value:
            var, _eq, val = value.partition("=")
            lines.append(f"export {var}={shlex.quote(val)}")
        elif name == "source" and value:
            lines.append(f"source {value}")  # a trusted path from the cfg
        elif name == "setup" and value:
            if shutil.which("setup", path=environ.get("PATH")) is None:
                lines.append(_SETUP_STAND_IN)
            lines.append(f"setup {value}")
        elif name == "prescript" and value:
            lines.append(value)
        elif name == "exe" and value:
            exe = _expand(value, environ)
    if exe is None:
        raise SystemExit("fife_wrap: no --exe given")
    lines.append(" ".join(shlex.quote(a) for a in [exe, *exe_args]))
    lines.append("status=$?")
    for name, value in options:
        if name == "postscript" and value:
            lines.append(value)
    lines.append("exit $status")
    return "\n".join(lines) + "\n"


def _expand(text: str, environ) -> str:
    """$VAR and ${VAR} replaced by the job's values (an unset one is left as written)."""
    return string.Template(text).safe_substitute(environ)


def copy_outputs(options, workdir: Path) -> list[str]:
    outputs: dict[str, dict[str, str]] = {}
    for name, value in options:
        base = name.rstrip("0123456789")
        number = name[len(base):]
        if base in ("addoutput", "dest") and value:
            outputs.setdefault(number, {})[base] = value
    copied = []
    for spec in outputs.values():
        pattern, dest = spec.get("addoutput"), spec.get("dest")
        if not pattern or not dest:
            continue
        target = Path(os.path.expandvars(dest))
        target.mkdir(parents=True, exist_ok=True)
        for found in sorted(glob.glob(str(workdir / pattern))):
            shutil.copy2(found, target / Path(found).name)
            copied.append(str(target / Path(found).name))
    return copied


def main(argv: list[str] | None = None) -> int:
    options, exe_args = parse(list(sys.argv[1:] if argv is None else argv))
    workdir = Path.cwd()
    # Where jobsub puts a job's -f files; an engine that transfers them into the job's
    # directory (HTCondor) leaves it to the wrapper, as job_files does.
    os.environ.setdefault("CONDOR_DIR_INPUT", str(workdir / "input"))
    script = script_for(options, exe_args)
    print(f"fife_wrap: running in {os.getcwd()}", flush=True)
    # The launch's input files (POMS_INPUT_LIST): this job's share is fetched first, and
    # the job reports what it was given, its status and its outputs (job_files.py).
    report = job_files.manifest_path(workdir)
    inputs, input_env, error = job_files.take_inputs(dict(os.environ), workdir)
    job_files.write_json_atomic(report, {"job": os.environ.get("JOBSUBJOBID", ""),
                                         "inputs": inputs, "status": None, "outputs": []})
    if error:
        print(f"fife_wrap: {error}", file=sys.stderr, flush=True)
        status = 1
    else:
        status = subprocess.call(["bash", "-c", script], env={**os.environ, **input_env})
    copied = []
    if status == 0:
        copied = copy_outputs(options, workdir)
        for path in copied:
            print(f"fife_wrap: output {path}", flush=True)
    job_files.write_json_atomic(report, {
        "job": os.environ.get("JOBSUBJOBID", ""), "inputs": inputs, "status": status,
        "error": error, "outputs": job_files.describe_outputs(copied),
    })
    print(f"fife_wrap: exit status {status}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
