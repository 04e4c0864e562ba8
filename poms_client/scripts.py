"""The original POMS client's commands, under their own names and options, each a thin layer
over poms_client.compat: upload_file, upload_wf, launch_jobs, campaign_stage_edit,
job_type_edit, launch_template_edit, get_submission_id_for, get_task_id_for,
register_poms_campaign, await_approval, poms_run_script_stage, wrap_proj.

Exit codes are the original's: 0 when done, 1 when the call failed (the reason on stderr;
the traceback too with --verbose), 2 for a command line optparse/argparse refuses. Where
the original checked a value itself and then stopped with 0 (campaign_stage_edit's action,
completion and vo_role; job_type_edit's action), so do we, after the same error message.
"""
from __future__ import annotations

import argparse
import logging
import optparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from poms_client import compat

log = logging.getLogger("poms_client")


def _logging(verbose) -> None:
    level = logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s")
    log.setLevel(level)


def _failed(prog: str, err: BaseException, verbose) -> int:
    if verbose:
        log.exception(prog)
    else:
        print(f"{prog}: {err}", file=sys.stderr)
    return 1


def _server_options(parser: optparse.OptionParser, role: str, dest: str = "test") -> None:
    parser.add_option("--poms_role", type=str, default=role,
                      help="act in this role in POMS (analysis, production, ...)")
    parser.add_option("--experiment", default=os.environ.get("EXPERIMENT"),
                      help="experiment name (default $EXPERIMENT, then the config file)")
    parser.add_option("--test", dest=dest, help="use the test server", default=None)
    parser.add_option("--dev", action="store_const", const="dev", dest=dest,
                      help="use the dev/test instance of POMS")
    parser.add_option("--int", action="store_const", const="int", dest=dest,
                      help="use the int/integration instance of POMS")


# --- upload_file ---------------------------------------------------------------------------


def _grid_credential(options, kind: str) -> str:
    """The proxy (--proxy) or bearer token (--vaulttoken) to upload: the one the grid tools
    left where they leave it; the original fetched a new one (ifdh, condor_vault_storer),
    which needs Fermilab's services."""
    if kind == "proxy":
        path = compat.auth_cert()
        path = path if path and os.path.exists(path) else None
        where = "$X509_USER_PROXY or /tmp/x509up_u<uid>"
    else:
        path = os.environ.get("BEARER_TOKEN_FILE") or f"/tmp/bt_u{os.getuid()}"
        path = path if os.path.exists(path) else None
        where = "$BEARER_TOKEN_FILE or /tmp/bt_u<uid>"
    if not path:
        raise FileNotFoundError(f"no {kind} to upload: get one first (it is read from "
                                f"{where})")
    return path


def upload_file(argv=None) -> int:
    parser = optparse.OptionParser(usage="usage: %prog [options] FILE...\n upload file to POMS")
    _server_options(parser, "analysis")
    parser.add_option("--verbose", action="store_true", help="be verbose", default=None)
    parser.add_option("--proxy", action="store_true", default=None,
                      help="upload your X.509 proxy ($X509_USER_PROXY or /tmp/x509up_u<uid>)")
    parser.add_option("--vaulttoken", action="store_true", default=None,
                      help="upload your bearer token ($BEARER_TOKEN_FILE or /tmp/bt_u<uid>)")
    parser.add_option("--refresh", action="store_true", default=None,
                      help="with --proxy/--vaulttoken: only if POMS's is 3 days old")
    options, args = parser.parse_args(argv)
    _logging(options.verbose)
    try:
        compat.update_session_experiment(options.experiment, test_client=options.test)
        compat.update_session_role(options.poms_role, test_client=options.test)
        for wanted, kind, stale in ((options.vaulttoken, "token", compat.check_stale_token),
                                    (options.proxy, "proxy", compat.check_stale_proxy)):
            if not wanted:
                continue
            if options.refresh and not stale(options):
                if options.verbose:
                    log.info("POMS's %s is less than 3 days old: leaving it alone", kind)
                continue
            path = _grid_credential(options, kind)
            compat.upload_credential(path, role=options.poms_role, test=options.test)
            print(f"uploaded: {path} to POMS server")
        for name in args:
            log.debug("uploading: %s", name)
            compat.upload_file(name, test=options.test)
            print(f"uploaded: {name} to POMS server")
    except Exception as err:  # the original: any failure is exit 1
        return _failed("upload_file", err, options.verbose)
    return 0


# --- upload_wf -----------------------------------------------------------------------------


def upload_wf(argv=None) -> int:
    parser = optparse.OptionParser(usage="usage: %prog [options] FILE.ini...\n upload ini file "
                                   "to POMS")
    _server_options(parser, "analysis")
    parser.add_option("--verbose", action="store_true", help="be verbose", default=None)
    options, args = parser.parse_args(argv)
    _logging(options.verbose)
    if not args:
        print("upload_wf: give the .ini file(s) to upload", file=sys.stderr)
        return 1
    ok = True
    try:
        compat.update_session_experiment(options.experiment, test_client=options.test)
        compat.update_session_role(options.poms_role, test_client=options.test)
        for name in args:
            log.debug("uploading: %s", name)
            done, data = compat.upload_wf(name, test=options.test)
            messages = data.get("message", [])
            for line in [messages] if isinstance(messages, str) else messages:
                print(line, file=sys.stdout if done else sys.stderr)
            ok = ok and done
    except Exception as err:
        return _failed("upload_wf", err, options.verbose)
    return 0 if ok else 1


# --- launch_jobs ---------------------------------------------------------------------------


def launch_jobs(argv=None) -> int:
    parser = optparse.OptionParser(usage="usage: %prog [options] \n launch a submission of "
                                   "jobs for campaign")
    parser.add_option("--verbose", "-v", action="count")
    parser.add_option("--campaign", help="campaign stage id (or campaign/stage)", default=None)
    parser.add_option("--campaign_stage", help="campaign stage id", default=None)
    _server_options(parser, "production")
    options, _args = parser.parse_args(argv)
    _logging(options.verbose)
    try:
        compat.update_session_role(options.poms_role, test_client=options.test)
        res = compat.launch_jobs(campaign=options.campaign or options.campaign_stage,
                                 experiment=options.experiment, test=options.test)
        print(res)
    except Exception as err:
        return _failed("launch_jobs", err, options.verbose)
    return 0


# --- get_submission_id_for, get_task_id_for, register_poms_campaign ----------------------


def _user_default() -> str | None:
    return os.environ.get("GRID_USER", os.environ.get("USER"))


def get_submission_id_for(argv=None, deprecated_names: bool = False) -> int:
    word = "task" if deprecated_names else "submission"
    parser = optparse.OptionParser(usage=f"usage: %prog [options] \n get a {word} id")
    parser.add_option("--campaign", help="campaign stage id or name", default=None)
    parser.add_option("--user", help="username (not used: POMS knows you)",
                      default=_user_default())
    parser.add_option("--command_executed", help="command name for job", default=None)
    parser.add_option("--input_dataset", help="dataset name for job", default=None)
    parser.add_option(f"--parent_{word}_id", dest="parent", default=None,
                      help=f"parent {word} id, if any")
    parser.add_option(f"--{word}_id", dest="existing", default=None,
                      help=f"{word}_id if we are updating it not just getting it")
    parser.add_option("--verbose", action="store_true", help="be verbose", default=None)
    _server_options(parser, "")
    options, _args = parser.parse_args(argv)
    _logging(options.verbose)
    if deprecated_names:
        log.warning("Notice: get_task_id_for is deprecated, use get_submission_id_for")
    try:
        compat.update_session_role(options.poms_role, test_client=options.test)
        res = compat.get_submission_id_for(
            options.campaign, user=options.user, experiment=options.experiment,
            command_executed=options.command_executed, input_dataset=options.input_dataset,
            parent_submission_id=options.parent, submission_id=options.existing,
            test=options.test)
        print(res)
    except Exception as err:
        return _failed(f"get_{word}_id_for", err, options.verbose)
    return 0


def get_task_id_for(argv=None) -> int:
    return get_submission_id_for(argv, deprecated_names=True)


def register_poms_campaign(argv=None) -> int:
    parser = optparse.OptionParser(usage="usage: %prog [options] \n get a campaign stage id")
    parser.add_option("--verbose", "-v", action="count")
    parser.add_option("--campaign", help="campaign stage name or id", default=None)
    parser.add_option("--user", help="username (not used)", default=_user_default())
    parser.add_option("--version", help="software version for campaign", default=None)
    parser.add_option("--campaign-definition", dest="campaign_definition", default=None,
                      help="job type of the stage")
    parser.add_option("--dataset", help="dataset name for job", default=None)
    parser.add_option("--test_client", dest="test", help="use test server", default=None)
    _server_options(parser, "production")
    options, _args = parser.parse_args(argv)
    _logging(options.verbose)
    try:
        compat.update_session_role(options.poms_role, test_client=options.test)
        res = compat.register_poms_campaign(
            campaign_name=options.campaign, user=options.user, experiment=options.experiment,
            version=options.version, dataset=options.dataset,
            campaign_definition=options.campaign_definition, test=options.test)
        print(res)
    except Exception as err:
        return _failed("register_poms_campaign", err, options.verbose)
    return 0


# --- await_approval ------------------------------------------------------------------------


# What a launch's output says when its script ran await_approval: POMS reads these lines
# when the launch ends (app/launching/await_approval.py parses them; the embedded stand-in
# there prints the same).
_AWAITS = "== POMS: submission {sid} awaits approval =="
_PASSES = "== POMS: submission {sid} passes dataset {dataset} to its dependents =="


def await_approval(argv=None) -> int:
    """Inside the submission's own launch ($POMS4_SUBMISSION_ID and $POMS_TASK_ID are it),
    say on the output that it awaits approval (and which dataset its dependents read), as
    the embedded stand-in does; anywhere else tell POMS through update_submission, as the
    original did."""
    parser = optparse.OptionParser(usage="usage: %prog [options] \n mark submission as "
                                   "awaiting approval")
    parser.add_option("--submission_id", default=os.environ.get("POMS4_SUBMISSION_ID"),
                      help="submission id (default $POMS4_SUBMISSION_ID)")
    parser.add_option("--verbose", "-v", action="store_true", default=None)
    parser.add_option("--dataset", default=None,
                      help="dataset for the dependent stages (in the submission's launch)")
    _server_options(parser, "production", dest="test_client")
    options, _args = parser.parse_args(argv)
    _logging(options.verbose)
    sid = str(options.submission_id or "").strip()
    in_its_launch = sid and all(os.environ.get(v) == sid
                                for v in ("POMS4_SUBMISSION_ID", "POMS_TASK_ID"))
    try:
        if not sid.isdigit():
            raise ValueError("no submission: give --submission_id or set POMS4_SUBMISSION_ID "
                             "(a POMS launch sets it)")
        if in_its_launch:
            if options.dataset:
                print(_PASSES.format(sid=int(sid), dataset=options.dataset.strip()))
            print(_AWAITS.format(sid=int(sid)), flush=True)
            return 0
        if options.dataset:
            # Dependents read a dataset the launch's output names (above); from outside the
            # launch there is no way to pass one.
            raise ValueError("--dataset reaches the dependent stages only from the "
                             "submission's own launch; nothing was changed")
        compat.update_session_role(options.poms_role)
        compat.update_submission(sid, status="Awaiting Approval", test=options.test_client,
                                 experiment=options.experiment)
    except Exception as err:
        return _failed("await_approval", err, options.verbose)
    return 0


# --- job_type_edit, launch_template_edit, campaign_stage_edit ------------------------------


def _argparse_server(parser: argparse.ArgumentParser, role: str = "production") -> None:
    parser.add_argument("--test_client", type=str, default=False,
                        help="use the test server (dev, int)")
    parser.add_argument("--poms_role", type=str, default=role, help="role to use for POMS")
    parser.add_argument("--dev", action="store_const", const="dev", dest="test_client",
                        help="use the dev/test instance of POMS")
    parser.add_argument("--int", action="store_const", const="int", dest="test_client",
                        help="use the int/integration instance of POMS")


def _edit_parser(description: str) -> tuple[argparse.ArgumentParser, argparse._ArgumentGroup]:
    """The original's edit commands: --verbose, --action and --experiment in a group."""
    parser = argparse.ArgumentParser(description=description)
    group = parser.add_argument_group("Require Arguments")
    group.add_argument("--verbose", "-v", action="count")
    group.add_argument("--action", metavar="add-edit-delete", type=str, required=True)
    group.add_argument("--experiment", type=str, default=os.environ.get("EXPERIMENT"))
    return parser, group


def _json_words(words) -> str | None:
    """The original's nargs='*' JSON values: the words joined back into one text."""
    return None if words is None else " ".join(words)


def job_type_edit(argv=None) -> int:
    parser, group = _edit_parser("Add, edit or delete a job type")
    group.add_argument("--name", type=str, required=True, help="the job type's name")
    group.add_argument("--user", type=str, default=_user_default(), help="not used")
    parser.add_argument("--output_file_patterns", type=str, default=None)
    parser.add_argument("--launch_script", type=str, nargs="*", default=None)
    parser.add_argument("--def_parameter", type=str, nargs="*", default=None,
                        help='parameters as JSON, e.g. [["-c ", "file.cfg"]]')
    _argparse_server(parser)
    args = parser.parse_args(argv)
    _logging(args.verbose)
    try:
        compat.update_session_role(args.poms_role, test_client=args.test_client)
        if args.action not in ("add", "delete", "edit"):
            log.error("the action you chose was [action=%s]; it must be add, edit or delete",
                      args.action)
            return 0
        res = compat.job_type_edit(
            pc_username=args.user, action=args.action, name=args.name,
            experiment=args.experiment, output_file_patterns=args.output_file_patterns,
            launch_script=args.launch_script, def_parameter=_json_words(args.def_parameter),
            test_client=args.test_client)
    except Exception as err:
        return _failed("job_type_edit", err, args.verbose)
    return _edit_result(res)


def _edit_result(res) -> int:
    if res[0] == "status_code" and res[1] == 200:
        log.info("Succeeded.")
        return 0
    log.error("Failed: %r", res)
    return 1


def launch_template_edit(argv=None) -> int:
    user = _user_default() or "unknown"
    parser, group = _edit_parser("Add, edit or delete a login setup (launch template)")
    group.add_argument("--launch_account", type=str, default=user,
                       help="the account launches run as (e.g. mu2epro)")
    parser.add_argument("--launch_name", type=str, default=None, help="the login setup's name")
    parser.add_argument("--host", type=str, default=None, help="the launch host")
    parser.add_argument("--user", type=str, default=user, help="not used")
    parser.add_argument("--setup", type=str, nargs="*", default=None,
                        help="the setup commands on the launch host")
    _argparse_server(parser)
    args = parser.parse_args(argv)
    _logging(args.verbose)
    try:
        compat.update_session_role(args.poms_role, test_client=args.test_client)
        res = compat.launch_template_edit(
            action=args.action, launch_name=args.launch_name, launch_host=args.host,
            user_account=args.launch_account, launch_setup=args.setup,
            experiment=args.experiment, pc_username=args.user,
            test_client=str(args.test_client))
    except Exception as err:
        return _failed("launch_template_edit", err, args.verbose)
    return _edit_result(res)


# The original's defaults for a new stage; an edit changes only what is given.
_STAGE_ADD_DEFAULTS = {"software_version": "Non provide", "completion_type": "Located",
                       "completion": 100}


def campaign_stage_edit(argv=None) -> int:
    parser, group = _edit_parser("Add, edit or delete a campaign stage")
    group.add_argument("--campaign_stage_name", type=str, required=True)
    group.add_argument("--user", type=str, default=_user_default() or "unknown",
                       help="not used")
    group.add_argument("--vo_role", metavar="Analysis-Production", type=str, required=True)
    group.add_argument("--dataset", type=str, required=True)
    group.add_argument("--launch_name", type=str, required=True, help="its login setup")
    group.add_argument("--campaign_name", type=str, default=None)
    group.add_argument("--job_type", type=str, required=True)
    parser.add_argument("--split_type", type=str, default=None)
    parser.add_argument("--software_version", type=str, default=None,
                        help="default for a new stage: 'Non provide'")
    parser.add_argument("--completion_type", type=str, default=None,
                        help="located or complete (default for a new stage: Located)")
    parser.add_argument("--completion", type=int, default=None,
                        help="completion percent, 1 to 100 (default for a new stage: 100)")
    parser.add_argument("--param_overrides", type=str, nargs="*", default=None,
                        help='JSON pairs, e.g. [["-Oglobal.x=", "1"]]')
    parser.add_argument("--depends_on", type=str, nargs="*", default=None,
                        help='e.g. {"campaigns": ["stage_a"], "file_patterns": ["%%.root"]}')
    _argparse_server(parser)
    args = parser.parse_args(argv)
    _logging(args.verbose)
    if args.action == "add":
        for key, value in _STAGE_ADD_DEFAULTS.items():
            if getattr(args, key) is None:
                setattr(args, key, value)
    try:
        compat.update_session_role(args.poms_role, test_client=args.test_client)
        if args.action not in ("add", "delete", "edit"):
            log.error("the action you chose was [action=%s]; it must be add, edit or delete",
                      args.action)
            return 0
        if args.completion is not None and not 0 < args.completion <= 100:
            log.error("give the completion percent as a whole number in (0-100], not %s",
                      args.completion)
            return 0
        if args.vo_role not in ("Analysis", "Production"):
            log.error("the vo_role may be Analysis or Production, not %s", args.vo_role)
            return 0
        res = compat.campaign_stage_edit(
            args.action, args.campaign_name, args.campaign_stage_name, args.user,
            args.experiment, args.vo_role, args.dataset, None, args.split_type,
            args.software_version, args.completion_type, args.completion,
            _json_words(args.param_overrides), _json_words(args.depends_on),
            args.launch_name, args.job_type, None, test_client=args.test_client)
    except Exception as err:
        return _failed("campaign_stage_edit", err, args.verbose)
    return _edit_result(res)


# --- poms_run_script_stage -----------------------------------------------------------------


def poms_run_script_stage(argv=None) -> int:
    """poms_run_script_stage [--test|--dev|--int] [--debug] [--experiment E]
    [--poms_role R] COMMAND [ARGS...]: run COMMAND here as a submission of the stage in
    $POMS_CAMPAIGN_ID ($POMS_TASK_ID when set, else a new external one), reporting Idle,
    Running, then Completed (or Failed when COMMAND fails)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    test, experiment, role, debug = None, os.environ.get("EXPERIMENT"), None, False
    while argv:
        head = argv[0]
        if head == "--test":
            test = "1"
        elif head in ("--dev", "--int"):
            test = head[2:]
        elif head == "--debug":
            debug = True
        elif head.startswith(("--experiment=", "--poms_role=")):
            name, _, value = head[2:].partition("=")
            experiment, role = (value, role) if name == "experiment" else (experiment, value)
        else:
            break
        argv.pop(0)
    _logging(debug)
    if not argv:
        print("usage: poms_run_script_stage [--test|--dev|--int] [--debug] COMMAND [ARGS...]",
              file=sys.stderr)
        return 2
    compat.update_session_role(role)
    cmd = shlex.join(["poms_run_script_stage", *argv])
    try:
        sid = os.environ.get("POMS_TASK_ID")
        if not sid:
            stage = os.environ.get("POMS_CAMPAIGN_ID")
            if not stage:
                raise ValueError("no stage: set POMS_CAMPAIGN_ID (a stage id) or POMS_TASK_ID")
            sid = str(compat.get_submission_id_for(stage, command_executed=cmd,
                                                   experiment=experiment, test=test))
            os.environ["POMS_TASK_ID"] = sid
        compat.update_submission(sid, status="Idle", test=test, experiment=experiment)
        compat.update_submission(sid, status="Running", test=test, experiment=experiment)
    except Exception as err:
        return _failed("poms_run_script_stage", err, debug)
    try:
        code = subprocess.call(argv)
    except OSError as err:
        log.error("%s: %s", argv[0], err)
        code = 127
    try:
        compat.update_submission(sid, status="Completed" if code == 0 else "Failed",
                                 test=test, experiment=experiment)
    except Exception as err:
        return _failed("poms_run_script_stage", err, debug)
    return 0


# --- wrap_proj -----------------------------------------------------------------------------


def patch_xml(text: str, overrides: list[tuple[str, str]]) -> str:
    """Apply wrap_proj's -Oname=value overrides to project.py XML, line by line as the
    original does: `a.b.field` sets <field> inside <a>/<b>; `field[N]` only the Nth."""
    rules = []
    counts: dict[str, int] = {}
    for field, value in overrides:
        nth = None
        found = re.fullmatch(r"(.*)\[([0-9]+)\]", field)
        if found:
            field, nth = found.group(1), int(found.group(2))
        *inside, name = field.split(".")
        rules.append((inside, name, nth, value))
        counts[name] = 0
    out = []
    open_tags: list[str] = []
    for line in text.splitlines(keepends=True):
        for tag in re.findall(r"<(\w+)", line):
            open_tags.insert(0, tag)
        for inside, name, nth, value in rules:
            if any(p not in open_tags for p in inside):
                continue
            pattern = f"<{name}>.*</{name}>"
            if re.search(pattern, line):
                counts[name] += 1
            if nth and nth != counts[name]:
                continue
            line = re.sub(pattern, lambda _m, n=name, v=value: f"<{n}>{v}</{n}>", line)
        for tag in re.findall(r"</(\w+)", line):
            if tag in open_tags:
                open_tags.remove(tag)
        out.append(line)
    return "".join(out)


def wrap_proj(argv=None) -> int:
    """wrap_proj -Oname=value ... -- project.py --xml FILE ...: run project.py on a copy of
    FILE with the overrides applied."""
    argv = list(sys.argv[1:] if argv is None else argv)
    overrides = []
    rest = []
    for arg in argv:
        if arg.startswith("-O") and "=" in arg:
            name, _, value = arg[2:].partition("=")
            overrides.append((name, value))
        else:
            rest.append(arg)
    overrides.reverse()  # the original collects them from the last one back
    if rest and rest[0] == "--":
        rest = rest[1:]
    if "--xml" not in rest or rest.index("--xml") + 1 >= len(rest) or not rest:
        print("usage: wrap_proj -Oname=value ... -- project.py --xml FILE ...",
              file=sys.stderr)
        return 1
    at = rest.index("--xml") + 1
    try:
        text = Path(rest[at]).read_text()
    except OSError as err:
        print(f"wrap_proj: {rest[at]}: {err.strerror}", file=sys.stderr)
        return 1
    with tempfile.NamedTemporaryFile("w", prefix="xmlpatch", suffix=".xml",
                                     delete=False) as patched:
        patched.write(patch_xml(text, overrides))
    rest[at] = patched.name
    try:
        subprocess.call(rest)
    except OSError as err:
        print(f"wrap_proj: {rest[0]}: {err}", file=sys.stderr)
    finally:
        os.unlink(patched.name)
    # As the original: the project.py command's own status is not wrap_proj's.
    return 0


# The console scripts pyproject.toml installs, each poms_client.scripts:<name>.
COMMANDS = ("upload_file", "upload_wf", "launch_jobs", "campaign_stage_edit",
            "job_type_edit", "launch_template_edit", "get_submission_id_for",
            "get_task_id_for", "register_poms_campaign", "await_approval",
            "poms_run_script_stage", "wrap_proj")
