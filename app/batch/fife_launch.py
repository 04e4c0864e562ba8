"""A fife_launch-compatible command: a cfg file in, one jobsub_submit out.

Reads the sections Fermilab's fife_launch reads, with its meanings:
  [global]      variables every other value may use as %(name)s (plus `cfg_dir`, the
                directory of the cfg file, so job scripts can ship beside it)
  [env_pass]    VAR = value: exported, and passed to the jobs with -e VAR
  [submit]      jobsub_submit options: one-letter keys as -K value, `True` as --key,
                others as --key=value; a _N suffix allows a key twice (f_1, f_2)
  [job_setup]   the job wrapper's options (--setup, --source, --prescript, --export, ...)
  [executable]  name = the program; arg_1, arg_2, ... its arguments
  [job_output]  (and _1, _2 ...) --addoutput / --dest ... for the wrapper, numbered as
                fife_launch numbers them
  [stage_NAME]  section.key = value overrides applied by --stage NAME
and `-Osection.key=value` overrides last. The cfg is found as given, else under each
directory of FIFE_LAUNCH_PATH. The jobsub_submit command runs with an argument list, never
through a shell.
"""
from __future__ import annotations

import argparse
import configparser
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from . import job_files


class CfgError(ValueError):
    pass


def find_cfg(name: str, environ) -> Path:
    candidates = [Path(name)]
    if not os.path.isabs(name):
        candidates += [Path(d) / name for d in environ.get("FIFE_LAUNCH_PATH", "").split(":") if d]
    for path in candidates:
        if path.is_file():
            return path.resolve()
    raise CfgError(f"-c configfile {name!r} not found (looked in . and FIFE_LAUNCH_PATH)")


def load(path: Path, stages: list[str], overrides: list[str]) -> configparser.ConfigParser:
    cfg = configparser.ConfigParser(interpolation=configparser.BasicInterpolation(),
                                    defaults=None)
    cfg.optionxform = str  # keys keep their case (env_pass VAR names, submit N vs n)
    cfg.read(path)
    if not cfg.has_section("global"):
        cfg.add_section("global")
    cfg.set("global", "cfg_dir", str(path.parent).replace("%", "%%"))
    for stage in stages:
        section = f"stage_{stage}"
        if not cfg.has_section(section):
            raise CfgError(f"--stage {stage}: the cfg has no [{section}] section")
        for key, value in cfg.items(section, raw=True):
            _set(cfg, key, value, f"[{section}] {key}")
    for override in overrides:
        key, eq, value = override.partition("=")
        if not eq:
            raise CfgError(f"cannot parse -O{override}: expected -Osection.key=value")
        _set(cfg, key, value, f"-O{override}")
    return cfg


def _set(cfg, dotted: str, value: str, where: str) -> None:
    section, dot, key = dotted.partition(".")
    if not dot:
        raise CfgError(f"{where}: expected section.key")
    if not cfg.has_section(section):
        cfg.add_section(section)
    cfg.set(section, key, value)


def _get(cfg, section: str, key: str, variables: dict) -> str:
    try:
        return cfg.get(section, key, vars=variables)
    except (configparser.InterpolationError, ValueError) as err:
        raise CfgError(f"[{section}] {key}: {err}") from None


def _items(cfg, section: str, variables: dict) -> list[tuple[str, str]]:
    if not cfg.has_section(section):
        return []
    # Without vars=, items() lists the section's own keys only.
    return [(k, _get(cfg, section, k, variables)) for k, _ in cfg.items(section, raw=True)]


def _strip_suffix(key: str) -> str:
    return key[:-2] if len(key) > 2 and key[-2] == "_" and key[-1].isdigit() else key


def _is_true(value: str) -> bool:
    return value in ("True", "true")


def build(cfg: configparser.ConfigParser, environ) -> tuple[list[str], dict[str, str]]:
    """(jobsub_submit argv, environment to export) from a loaded cfg."""
    variables = {k: v for k, v in cfg.items("global", raw=True)}
    variables = {k: _get(cfg, "global", k, {}) for k in variables}
    env: dict[str, str] = {}
    argv = ["jobsub_submit"]
    for key, value in _items(cfg, "env_pass", variables):
        env[key] = value
        argv += ["-e", key]
    for key, value in _items(cfg, "submit", variables):
        if key == "n_files_per_job":
            continue
        key = _strip_suffix(key)
        if len(key) == 1:
            argv += [f"-{key}", value]
        elif _is_true(value):
            argv.append(f"--{key}")
        else:
            argv.append(f"--{key}={value}")
    wrapper = os.path.expandvars(variables.get("wrapper", ""))
    if wrapper.startswith("file://"):
        wrapper = wrapper[len("file://"):]
    wrapper = wrapper.replace("//", "/")
    if not wrapper or not Path(wrapper).is_file():
        # No fife_utils here: the embedded job wrapper stands in for fife_wrap.
        found = shutil.which("fife_wrap", path=environ.get("PATH"))
        if not found:
            raise CfgError("no job wrapper: [global] wrapper is missing and no fife_wrap on PATH")
        wrapper = found
    argv.append(f"file://{wrapper}")
    for key, value in _items(cfg, "job_setup", variables):
        key = _strip_suffix(key)
        if _is_true(value):
            argv.append(f"--{key}")
        elif value not in ("False", "false"):
            argv += [f"--{key}", value]
    for n in range(10):
        section = "job_output" if n == 0 else f"job_output_{n}"
        suffix = "" if n == 0 else str(n)
        if not cfg.has_section(section):
            if n:
                break
            continue
        for key, value in _items(cfg, section, variables):
            key = _strip_suffix(key)
            if _is_true(value):
                argv.append(f"--{key}{suffix}")
            elif value not in ("False", "false"):
                argv += [f"--{key}{suffix}", value]
    if not cfg.has_section("executable"):
        raise CfgError("the cfg has no [executable] section")
    name = _get(cfg, "executable", "name", variables) if cfg.has_option("executable", "name") \
        else ""
    if not name:
        raise CfgError("[executable] name is missing")
    argv += ["--exe", name, "--"]
    args = []
    for key, value in _items(cfg, "executable", variables):
        if key.startswith("arg_") and key[4:].isdigit():
            args.append((int(key[4:]), value))
    argv += [value for _n, value in sorted(args)]
    return argv, env


def with_inputs(cfg: configparser.ConfigParser, argv: list[str], environ) -> list[str]:
    """Hand the launch's input list (job_files.py) to the jobs; with [submit]
    n_files_per_job the number of jobs follows the file count, as fife_launch computes it
    from `samweb count-files` of the dataset."""
    listed = job_files.find_input_list(environ)
    if listed is None:
        return argv
    count = len(job_files.read_input_list(listed))
    argv = list(argv)
    njobs = int(argv[argv.index("-N") + 1]) if "-N" in argv else 1
    if cfg.has_option("submit", "n_files_per_job"):
        variables = {k: _get(cfg, "global", k, {}) for k, _ in cfg.items("global", raw=True)}
        per = int(_get(cfg, "submit", "n_files_per_job", variables) or 1)
        njobs = max(1, -(-count // max(1, per)))
        if "-N" in argv:
            argv[argv.index("-N") + 1] = str(njobs)
        else:
            argv[1:1] = ["-N", str(njobs)]
    argv[1:1] = ["-e", f"POMS_INPUT_LIST={listed}", "-e", f"POMS_NJOBS={njobs}"]
    if environ.get("POMS_UCONDB_URL"):  # inputs whose location is UconDB's come from there
        argv[1:1] = ["-e", f"POMS_UCONDB_URL={environ['POMS_UCONDB_URL']}"]
    return argv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fife_launch", description=__doc__.split("\n")[0])
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-O", "--override", action="append", default=[])
    parser.add_argument("--stage", action="append", default=[])
    parser.add_argument("--dry_run", "--dry-run", action="store_true")
    parser.add_argument("--arg_push", action="append", default=[])
    parser.add_argument("--arg_del", action="append", default=[])
    args = parser.parse_args(argv)
    environ = dict(os.environ)
    try:
        cfg = load(find_cfg(args.config, environ), args.stage, args.override)
        command, env = build(cfg, environ)
        command = with_inputs(cfg, command, environ)
    except (CfgError, ValueError) as err:
        print(f"fife_launch: {err}", file=sys.stderr)
        return 1
    environ.update(env)
    print("running:\n " + shlex.join(command), flush=True)
    if args.dry_run:
        return 0
    return subprocess.call(command, env=environ)


if __name__ == "__main__":
    sys.exit(main())
