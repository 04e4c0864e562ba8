"""Every `poms` command: its arguments, the API calls it makes, and what it prints.

A command returns a Result: `payload` for --json (the CLI adds "version" and "ok") and
`text` for people. Failures are raised (ApiFailure: exit 1; Usage: exit 2).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from poms_client.api import Api, ApiFailure
from poms_client.render import bar, impact_lines, size, table


class Usage(Exception):
    """The command line itself is wrong (exit 2)."""


@dataclass
class Result:
    payload: dict = field(default_factory=dict)
    text: str = ""
    ok: bool = True


@dataclass
class Command:
    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[Api, argparse.Namespace], Result]


COMMANDS: list[Command] = []


def command(name: str, help: str, *arguments: Callable[[argparse.ArgumentParser], None]):
    def register(run):
        def add(parser):
            for add_argument in arguments:
                add_argument(parser)
        COMMANDS.append(Command(name, help, add, run))
        return run
    return register


def arg(*names, **options):
    return lambda parser: parser.add_argument(*names, **options)


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise ApiFailure(f"{path}: {err.strerror}") from None


def _pairs(items: list[str]) -> dict[str, str]:
    fields = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise Usage(f"{item!r}: give KEY=VALUE (the value as the INI file writes it)")
        fields[key.strip()] = value
    return fields


# --- who and where ---------------------------------------------------------------------


@command("whoami", "who the server takes you for, and your role in each experiment")
def whoami(api: Api, args) -> Result:
    me = api.get("/me")
    roles = ", ".join(f"{e} ({r})" for e, r in me["experiments"].items()) or "none"
    return Result({"me": me}, f"{me['user']} (signed in by {me['auth']}); experiments: {roles}")


@command("experiments", "the experiments you are a member of")
def experiments(api: Api, args) -> Result:
    items, total = api.pages("/experiments")
    return Result({"experiments": items, "total": total},
                  table(["experiment", "role"], [[e["name"], e["role"]] for e in items]))


# --- campaigns -------------------------------------------------------------------------


@command("campaigns", "list the experiment's campaigns",
         arg("--search", "-q", help="part of the name"), arg("--tag"),
         arg("--state", choices=["Active", "Inactive", "all"], default="Active"),
         arg("--limit", type=int, help="at most this many"))
def campaigns(api: Api, args) -> Result:
    params = {"state": args.state}
    if args.search:
        params["q"] = args.search
    if args.tag:
        params["tag"] = args.tag
    items, total = api.pages(api.experiment_path("campaigns"), params, args.limit)
    rows = [[c["name"], c["poms_role"], c["state"], c["owner"], c["stages"],
             ",".join(c["tags"])] for c in items]
    return Result({"campaigns": items, "total": total},
                  table(["campaign", "role", "state", "owner", "stages", "tags"], rows))


def _campaign_text(c: dict) -> str:
    lines = [f"campaign {c['name']} ({c['poms_role']}, {c['state']}, owner {c['owner']})"]
    for s in c["stages"]:
        deps = "; ".join(f"after {d['stage']} on {d['file_pattern']}" for d in s["depends_on"])
        lines.append(f"  stage {s['name']}: job type {s['job_type']}, login {s['login_setup']}"
                     + (f" ({deps})" if deps else ""))
    return "\n".join(lines)


@command("campaign", "show one campaign and its stages", arg("campaign"))
def show_campaign(api: Api, args) -> Result:
    c = api.get(api.experiment_path("campaigns", args.campaign))
    return Result({"campaign": c}, _campaign_text(c))


@command("upload-ini", "upload an INI file: create the campaign, or update it in place",
         arg("file", help="the INI file ('-' reads standard input)"),
         arg("--dry-run", action="store_true", help="show what would change, write nothing"),
         arg("--reason", default="", help="why, kept with the campaign's new version"))
def upload_ini(api: Api, args) -> Result:
    data = _read(args.file)
    params = {"filename": Path(args.file).name if args.file != "-" else "<stdin>"}
    if args.reason:
        params["reason"] = args.reason
    if args.dry_run:
        params["dry_run"] = "1"
    answer = api.post(api.experiment_path("campaigns"), data=data, params=params,
                      headers={"Content-Type": "text/plain; charset=utf-8"})
    name = answer["campaign"]["name"]
    lines = [f"warning: {w['text']}" for w in answer["warnings"]]
    if args.dry_run:
        lines.append(f"dry run: campaign {name} would be "
                     f"{'created' if answer['created'] else 'updated'}; nothing was written")
    else:
        lines.append(f"campaign {name} {'created' if answer['created'] else 'updated'}")
    lines += [f"  {c['text']}" for c in answer["changes"]]
    if not answer["changes"] and not answer["created"]:
        lines.append("  no changes")
    if args.dry_run and "impact" in answer:
        lines += impact_lines(answer["impact"])
    return Result(answer, "\n".join(lines))


@command("export-ini", "print a campaign as an INI file (imports back to the same campaign)",
         arg("campaign"), arg("--output", "-o", help="write to this file instead"))
def export_ini(api: Api, args) -> Result:
    response = api.get(api.experiment_path("campaigns", args.campaign, "ini"),
                       expect_json=False)
    text = response.text
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        return Result({"campaign": args.campaign, "file": args.output},
                      f"wrote {args.output}")
    if args.json:
        return Result({"campaign": args.campaign, "ini": text})
    sys.stdout.write(text)
    return Result({}, "")


@command("clone", "copy a campaign under a new name", arg("campaign"), arg("new_name"))
def clone(api: Api, args) -> Result:
    c = api.post(api.experiment_path("campaigns", args.campaign, "clone"),
                 json={"new_name": args.new_name})
    return Result({"campaign": c}, f"cloned {args.campaign} as {c['name']}")


@command("delete-campaign", "delete a campaign that never launched", arg("campaign"))
def delete_campaign(api: Api, args) -> Result:
    answer = api.delete(api.experiment_path("campaigns", args.campaign))
    return Result(answer, f"deleted campaign {answer['deleted']}")


@command("edit-campaign", "change campaign fields (state, tags, campaign_keywords)",
         arg("campaign"), arg("fields", nargs="+", metavar="KEY=VALUE"))
def edit_campaign(api: Api, args) -> Result:
    c = api.patch(api.experiment_path("campaigns", args.campaign),
                  json={"fields": _pairs(args.fields)})
    return Result({"campaign": c}, _campaign_text(c))


# --- stages ----------------------------------------------------------------------------


def _stage_text(s: dict) -> str:
    lines = [f"stage {s['name']} of campaign {s['campaign']}"
             + (" (held)" if s.get("held") else "")]
    width = max(len(k) for k in s["ini"])
    lines += [f"  {k.ljust(width)} = {v}" for k, v in s["ini"].items()]
    for d in s["depends_on"]:
        lines.append(f"  after {d['stage']} on files matching {d['file_pattern']}")
    return "\n".join(lines)


@command("stage", "show a stage's fields", arg("campaign"), arg("stage"))
def show_stage(api: Api, args) -> Result:
    s = api.get(api.experiment_path("campaigns", args.campaign, "stages", args.stage))
    return Result({"stage": s}, _stage_text(s))


@command("edit-stage", "change stage fields; each VALUE as the INI file writes it",
         arg("campaign"), arg("stage"), arg("fields", nargs="+", metavar="KEY=VALUE"))
def edit_stage(api: Api, args) -> Result:
    s = api.patch(api.experiment_path("campaigns", args.campaign, "stages", args.stage),
                  json={"fields": _pairs(args.fields)})
    return Result({"stage": s}, _stage_text(s))


# --- credentials and tokens ------------------------------------------------------------


@command("upload-credential", "upload an X.509 proxy or a bearer token file for launches",
         arg("file", help="the proxy or token file ('-' reads standard input)"),
         arg("--role", choices=["analysis", "production"], default="analysis",
             help="the kind of work it is for"))
def upload_credential(api: Api, args) -> Result:
    answer = api.post(api.experiment_path("credentials"), data=_read(args.file),
                      params={"role": args.role},
                      headers={"Content-Type": "application/octet-stream"})
    c = answer["credential"]
    text = (f"kept your {c['role']} {c['kind']} (expires {c['expires']}, {c['time_left']})")
    if answer.get("warning"):
        text += f"\nwarning: {answer['warning']}"
    return Result(answer, text)


@command("credentials", "your credentials in the experiment and when they expire")
def credentials(api: Api, args) -> Result:
    items, total = api.pages(api.experiment_path("credentials"))
    rows = [[c["id"], c["role"], c["kind"], c["expires"], c["time_left"],
             "RENEW" if c["renew"] else ""] for c in items]
    return Result({"credentials": items, "total": total},
                  table(["id", "role", "kind", "expires", "left", ""], rows))


# --- uploaded files ($UPLOADS) ---------------------------------------------------------


def _credential_words(c: dict | None) -> str:
    if not c:
        return ""
    kind = "X.509 proxy" if c["kind"] == "proxy" else "bearer token"
    return f"{kind} for {c['role']} work, expires {c['expires']} ({c['time_left']})"


def _usage_words(answer: dict) -> str:
    return f"you use {size(answer['used'])} of your {size(answer['quota'])}"


@command("upload-file", "upload files your launches find as $UPLOADS/NAME (CFG files, "
         "scripts, your proxy or token); a file of the same name is replaced",
         arg("files", nargs="+", metavar="FILE", help="each is kept under its own name"),
         arg("--role", choices=["analysis", "production"],
             help="what work a proxy or token among them is for (default: production when "
                  "its name says so, else analysis)"))
def upload_file(api: Api, args) -> Result:
    parts = [("files", (Path(name).name, _read(name), "application/octet-stream"))
             for name in args.files]
    answer = api.post(api.experiment_path("uploads"), files=parts,
                      params={"role": args.role} if args.role else None)
    lines = []
    for f in answer["files"]:
        line = f"{'replaced' if f['replaced'] else 'uploaded'} {f['name']} ({size(f['size'])})"
        if f["credential"]:
            line += ": " + _credential_words(f["credential"])
        lines.append(line)
    lines += [f"warning: {w}" for w in answer["warnings"]]
    lines.append(_usage_words(answer))
    return Result(answer, "\n".join(lines))


@command("uploaded-files", "your uploaded files in the experiment, and your quota")
def uploaded_files(api: Api, args) -> Result:
    usage = api.get(api.experiment_path("uploads"), params={"per_page": 200})
    items, total = usage["items"], usage["total"]
    if usage["pages"] > 1:
        items, total = api.pages(api.experiment_path("uploads"))
    rows = []
    for f in items:
        c = f["credential"]
        note = ""
        if c:
            note = "EXPIRED" if c["expired"] else ("RENEW" if c["renew"] else "")
            note = " ".join(filter(None, [note, "in use" if c["in_use"] else ""]))
        rows.append([f["name"], size(f["size"]), f["uploaded"], _credential_words(c), note])
    text = table(["name", "size", "uploaded", "credential", ""], rows)
    return Result({"files": items, "total": total, "used": usage["used"],
                   "quota": usage["quota"]}, text + "\n" + _usage_words(usage))


@command("download-file", "fetch one of your uploaded files (to standard output, or -o PATH)",
         arg("name"), arg("--output", "-o", help="write to this file (made owner-only)"))
def download_file(api: Api, args) -> Result:
    if args.json and not args.output:
        raise Usage("download-file --json needs -o PATH: the file itself is not JSON")
    data = api.get(api.experiment_path("uploads", args.name), expect_json=False).content
    if args.output:
        # Owner-only from the start: the file may be a proxy or a token.
        try:
            fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        except OSError as err:
            raise ApiFailure(f"{args.output}: {err.strerror}") from None
        return Result({"name": args.name, "file": args.output, "size": len(data)},
                      f"wrote {args.output} ({size(len(data))})")
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    return Result({}, "")


@command("remove-file", "remove uploaded files", arg("names", nargs="+", metavar="NAME"))
def remove_file(api: Api, args) -> Result:
    removed = [api.delete(api.experiment_path("uploads", name)) for name in args.names]
    return Result({"removed": removed}, "\n".join(f"removed {f['name']}" for f in removed))


@command("token", "API tokens for scripts: create NAME [--days N], list, revoke ID",
         arg("action", choices=["create", "list", "revoke"]), arg("what", nargs="?"),
         arg("--days", type=int, default=90))
def token(api: Api, args) -> Result:
    if args.action == "list":
        items, total = api.pages("/tokens")
        rows = [[t["id"], t["name"], t["prefix"] + "…", t["expires"], t["last_used"] or "never",
                 t["status"]] for t in items]
        return Result({"tokens": items, "total": total},
                      table(["id", "name", "token", "expires", "last used", "state"], rows))
    if not args.what:
        raise Usage(f"token {args.action} needs a {'NAME' if args.action == 'create' else 'ID'}")
    if args.action == "create":
        t = api.post("/tokens", json={"name": args.what, "days": args.days})
        return Result({"token": t}, f"{t['token']}\n(shown once; expires {t['expires']})")
    try:
        token_id = int(args.what)
    except ValueError:
        raise Usage("token revoke takes the token's id (see poms token list)") from None
    t = api.delete(f"/tokens/{token_id}")
    return Result({"token": t}, f"revoked {t['prefix']}… ({t['name']})")


# --- launching and following work -------------------------------------------------------


def _submission_row(s: dict) -> list:
    jobs = s["jobs"]
    return [s["id"], s["campaign"], s["stage"], s["state"] + (" (test)" if s["test"] else ""),
            bar(jobs["done"], jobs["failed"], jobs["total"]),
            f"{jobs['done']}/{jobs['total']}", jobs["running"], jobs["failed"]]


_SUBMISSION_HEADERS = ["id", "campaign", "stage", "state", "progress", "done", "running",
                       "failed"]


@command("launch", "launch a stage (production, or --test), or show the --dry-run",
         arg("campaign"), arg("stage"), arg("--test", action="store_true"),
         arg("--dry-run", action="store_true", help="show the command; launch nothing"))
def launch(api: Api, args) -> Result:
    answer = api.post(api.experiment_path("campaigns", args.campaign, "stages", args.stage,
                                          "launch"),
                      json={"test": args.test, "dry_run": args.dry_run})
    if args.dry_run:
        lines = [f"# would run on {answer['where']} ({answer['launcher']} launcher)"
                 + (" -- the stage is held" if answer["held"] else ""),
                 answer["command"], "# environment:"]
        lines += [f"{k}={v}" for k, v in answer["environment"].items()]
        lines.append(f"# input: {answer['input']['note']}")
        lines += answer["input"]["files"] or []
        return Result(answer, "\n".join(lines))
    return Result(answer, f"{answer['message']}\n{answer['submission']['id']}")


@command("status", "campaign progress: each stage's submissions with progress bars "
         "(no CAMPAIGN: the experiment's active submissions)",
         arg("campaign", nargs="?"),
         arg("--watch", "-w", action="store_true",
             help="redraw until no submission is active (Ctrl-C stops)"),
         arg("--interval", type=float, default=5.0, help="seconds between redraws"))
def status(api: Api, args) -> Result:
    while True:
        if args.campaign:
            doc = api.get(api.experiment_path("campaigns", args.campaign, "status"))
            subs = [s for stage in doc["stages"] for s in stage["submissions"]]
            lines = [f"campaign {doc['campaign']}"]
            for stage in doc["stages"]:
                lines.append(f"stage {stage['name']}" + (" (held)" if stage["held"] else ""))
                rows = [_submission_row(s)[:1] + _submission_row(s)[3:]
                        for s in stage["submissions"]]
                lines += ["  " + line for line in table(
                    ["id", "state", "progress", "done", "running", "failed"], rows).splitlines()]
            payload = doc
        else:
            subs, total = api.pages(api.experiment_path("submissions"), {"active": "1"})
            lines = [table(_SUBMISSION_HEADERS, [_submission_row(s) for s in subs])]
            payload = {"submissions": subs, "total": total}
        active = any(s["active"] for s in subs)
        text = "\n".join(lines)
        if not args.watch or not active:
            return Result(payload, text)
        if args.json:
            print(json.dumps({"version": 1, "ok": True, **payload}, sort_keys=True), flush=True)
        elif sys.stdout.isatty():
            sys.stdout.write("\x1b[H\x1b[2J" + text + "\n")
            sys.stdout.flush()
        else:
            print(text + "\n", flush=True)
        time.sleep(max(0.1, args.interval))


@command("submissions", "the experiment's submissions, newest first",
         arg("--campaign"), arg("--stage"), arg("--state"),
         arg("--active", action="store_true", help="only New, Idle, Running, Held"),
         arg("--limit", type=int, default=50))
def submissions(api: Api, args) -> Result:
    params = {}
    for name in ("campaign", "stage", "state"):
        if getattr(args, name):
            params[name] = getattr(args, name)
    if args.active:
        params["active"] = "1"
    items, total = api.pages(api.experiment_path("submissions"), params, args.limit)
    return Result({"submissions": items, "total": total},
                  table(_SUBMISSION_HEADERS, [_submission_row(s) for s in items]))


@command("submission", "one submission: state, jobs, what ran, its history",
         arg("submission", type=int))
def submission(api: Api, args) -> Result:
    s = api.get(api.experiment_path("submissions", args.submission))
    events, _ = api.pages(api.experiment_path("submissions", args.submission, "history"))
    jobs = s["jobs"]
    lines = [f"submission {s['id']}: {s['campaign']} / {s['stage']}, {s['state']}"
             + (" (test)" if s["test"] else ""),
             f"  jobs {bar(jobs['done'], jobs['failed'], jobs['total'])} {jobs['done']}/"
             f"{jobs['total']} done, {jobs['running']} running, {jobs['failed']} failed",
             f"  batch id {s['batch_id'] or '-'}; launched by {s['launcher'] or '-'}"]
    if s["launch_error"]:
        lines.append(f"  launch error: {s['launch_error']}")
    lines += [f"  {e['at']}  {e['from'] or '-'} -> {e['to']}  {e['cause']}" for e in events]
    return Result({"submission": s, "history": events}, "\n".join(lines))


@command("jobs", "a submission's jobs", arg("submission", type=int),
         arg("--state", choices=["Idle", "Running", "Held", "Completed", "Failed", "Removed"]),
         arg("--limit", type=int, default=500))
def jobs(api: Api, args) -> Result:
    params = {"state": args.state} if args.state else {}
    items, total = api.pages(api.experiment_path("submissions", args.submission, "jobs"),
                             params, args.limit)
    rows = [[j["id"], j["batch_job_id"], j["state"], "" if j["exit_code"] is None
             else j["exit_code"], j["host"] or ""] for j in items]
    return Result({"submission": args.submission, "jobs": items, "total": total},
                  table(["job", "batch id", "state", "exit", "host"], rows))


@command("logs", "one job's log (JOB is the id `poms jobs` shows)", arg("job", type=int))
def logs(api: Api, args) -> Result:
    text = api.get(api.experiment_path("jobs", args.job, "log"), expect_json=False).text
    if args.json:
        return Result({"job": args.job, "log": text})
    sys.stdout.write(text)
    return Result({}, "")


@command("output", "a submission's launch output", arg("submission", type=int))
def output(api: Api, args) -> Result:
    text = api.get(api.experiment_path("submissions", args.submission, "output"),
                   expect_json=False).text
    if args.json:
        return Result({"submission": args.submission, "output": text})
    sys.stdout.write(text)
    return Result({}, "")


def _act(action: str):
    def run(api: Api, args) -> Result:
        answer = api.post(api.experiment_path("submissions", args.submission, action))
        s = answer["submission"]
        if "done" in answer:  # approve, refuse, or a kill before the launch ran
            return Result(answer, f"submission {s['id']}: {answer['done']} (now {s['state']})")
        # A kill, hold or release is requested: a worker asks the batch system.
        requested = answer["requested"]
        wait = getattr(args, "wait", None)
        if wait:
            requested = _wait_for_action(api, s["id"], requested["id"], wait)
            s = api.get(api.experiment_path("submissions", s["id"]))
            answer = {**answer, "submission": s, "requested": requested}
            if requested["state"] in ("refused", "failed"):
                raise ApiFailure(f"submission {s['id']}: {requested['said']}", body=answer)
            if not requested["pending"]:
                return Result(answer, f"submission {s['id']}: {requested['result']} "
                                      f"(now {s['state']})")
        return Result(answer, f"submission {s['id']}: {requested['said']}"
                              + ("" if wait else "; `poms actions "
                                 f"{s['id']}` shows how it went"))
    return run


def _wait_for_action(api: Api, submission_id: int, action_id: int, seconds: float) -> dict:
    """The action once a worker has done it, or as it is after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        rows = api.get(api.experiment_path("submissions", submission_id, "actions"))["actions"]
        row = next((r for r in rows if r["id"] == action_id), None)
        if row is None or not row["pending"] or time.monotonic() >= deadline:
            return row
        time.sleep(0.5)


for _action, _help in (("kill", "ask for a submission's jobs to be killed (a worker does it; "
                                "a submission not launched yet is cancelled at once)"),
                       ("hold", "ask for a submission's jobs to be held (a worker does it)"),
                       ("release", "ask for a held submission to be released (a worker "
                                   "does it)")):
    command(_action, _help, arg("submission", type=int),
            arg("--wait", type=float, default=None, metavar="SECONDS",
                help="wait up to SECONDS for a worker to do it, and say how it went")
            )(_act(_action))


@command("actions", "a submission's kill, hold and release requests, newest first, and "
         "what the batch system did", arg("submission", type=int))
def submission_actions(api: Api, args) -> Result:
    rows = api.get(api.experiment_path("submissions", args.submission, "actions"))["actions"]
    return Result({"submission": args.submission, "actions": rows},
                  "\n".join(r["said"] for r in rows) or "(no kill, hold or release asked for)")


def _stage_hold(hold: bool):
    def run(api: Api, args) -> Result:
        answer = api.post(api.experiment_path("campaigns", args.campaign, "stages",
                                              args.stage, "hold" if hold else "release"))
        text = f"stage {args.stage} {'held: launches wait' if hold else 'released'}"
        if answer["released_submissions"]:
            text += f"; queued {', '.join(map(str, answer['released_submissions']))}"
        return Result(answer, text)
    return run


command("hold-stage", "hold a stage: its launches wait", arg("campaign"), arg("stage")
        )(_stage_hold(True))
command("release-stage", "release a held stage", arg("campaign"), arg("stage")
        )(_stage_hold(False))


@command("split", "preview the next slices of a stage's split type", arg("campaign"),
         arg("stage"), arg("-n", type=int, default=5, help="how many launches ahead"))
def split(api: Api, args) -> Result:
    answer = api.get(api.experiment_path("campaigns", args.campaign, "stages", args.stage,
                                         "split"), params={"n": args.n})
    lines = [f"split {answer['split_type']} of {answer['dataset'] or '(no dataset)'}:"]
    lines += [f"  {i}. {s['dataset']}" + (f"  ({s['description']})" if s["description"] else "")
              for i, s in enumerate(answer["slices"], 1)]
    if answer["done"]:
        lines.append(f"  then: {answer['done']}")
    return Result(answer, "\n".join(lines))


# --- log analysis ------------------------------------------------------------------------


@command("signatures", "the experiment's failure signatures (log analysis), in matching order")
def signatures(api: Api, args) -> Result:
    items, total = api.pages(api.experiment_path("signatures"))
    rows = [[s["id"], s["name"], s["category"], s["exit_codes"], s["hits"],
             s["pattern"][:40]] for s in items]
    return Result({"signatures": items, "total": total},
                  table(["id", "name", "category", "exit codes", "hits", "pattern"], rows))


@command("add-signature", "add a failure signature (production or superuser)",
         arg("name"), arg("--pattern", default=""), arg("--category", required=True),
         arg("--action", default=""), arg("--exit-codes", default=""))
def add_signature(api: Api, args) -> Result:
    s = api.post(api.experiment_path("signatures"), json={
        "name": args.name, "pattern": args.pattern, "category": args.category,
        "action": args.action, "exit_codes": args.exit_codes})
    return Result({"signature": s}, f"added failure signature {s['name']} (id {s['id']})")


# --- UconDB (its own API) ------------------------------------------------------------------


def _ucondb(api: Api, args) -> str:
    import os

    url = args.ucondb_url or os.environ.get("POMS_UCONDB_URL")
    if not url:
        url = api.get("/ucondb")["url"]
    return url.rstrip("/")


def _ucondb_call(method: str, url: str, *, auth=None, **kwargs):
    import requests

    try:
        response = requests.request(method, url, auth=auth, timeout=60, **kwargs)
    except requests.exceptions.RequestException:
        raise ApiFailure(f"cannot reach UconDB at {url}") from None
    if response.status_code >= 400:
        try:
            message = response.json().get("error")
        except ValueError:
            message = None
        raise ApiFailure(f"UconDB: {message or response.reason}", response.status_code)
    return response


def _writer():
    import os

    from requests.auth import HTTPDigestAuth

    user = os.environ.get("POMS_UCONDB_USER")
    password = os.environ.get("POMS_UCONDB_PASSWORD")
    if not user or not password:
        raise ApiFailure("UconDB writes need POMS_UCONDB_USER and POMS_UCONDB_PASSWORD "
                         "(a UconDB writer's name and password)")
    return HTTPDigestAuth(user, password)


@command("ucondb", "UconDB, where FCL files live: folders | objects FOLDER | "
         "get FOLDER OBJECT | put FOLDER OBJECT FILE",
         arg("action", choices=["folders", "objects", "get", "put"]),
         arg("names", nargs="*", metavar="FOLDER [OBJECT [FILE]]"),
         arg("--key", help="the version's key (get: that version; put: name it)"),
         arg("--output", "-o", help="get: write to this file"),
         arg("--create-folder", action="store_true", help="put: make the folder if missing"),
         arg("--ucondb-url", help="UconDB API root (env POMS_UCONDB_URL; default: the "
                                  "server's)"))
def ucondb(api: Api, args) -> Result:
    wanted = {"folders": 0, "objects": 1, "get": 2, "put": 3}[args.action]
    if len(args.names) != wanted:
        raise Usage(f"ucondb {args.action} takes "
                    + (["no names", "FOLDER", "FOLDER OBJECT", "FOLDER OBJECT FILE"][wanted]))
    url = _ucondb(api, args)
    if args.action == "folders":
        names = _ucondb_call("GET", f"{url}/folders").json()
        return Result({"ucondb": url, "folders": names}, "\n".join(names) or "(none)")
    folder = args.names[0]
    if args.action == "objects":
        names = _ucondb_call("GET", f"{url}/objects", params={"folder": folder}).json()
        return Result({"folder": folder, "objects": names}, "\n".join(names) or "(none)")
    obj = args.names[1]
    params = {"folder": folder, "object": obj}
    if args.action == "get":
        if args.key:
            params["key"] = args.key
        response = _ucondb_call("GET", f"{url}/get", params=params)
        meta = json.loads(response.headers.get("X-UConDB-metadata", "{}") or "{}")
        if args.output:
            Path(args.output).write_bytes(response.content)
            return Result({"metadata": meta, "file": args.output}, f"wrote {args.output}")
        if args.json:
            return Result({"metadata": meta, "data": response.content.decode("utf-8",
                                                                              "replace")})
        sys.stdout.buffer.write(response.content)
        sys.stdout.flush()
        return Result({}, "")
    data = _read(args.names[2])
    auth = _writer()
    if args.create_folder and folder not in _ucondb_call("GET", f"{url}/folders").json():
        _ucondb_call("POST", f"{url}/create_folder", params={"folder": folder}, auth=auth)
    put = {"full_meta": "yes"}
    if args.key:
        put["key"] = args.key
    meta = _ucondb_call("POST", f"{url}/data/{folder}/{obj}", params=put, data=data,
                        auth=auth).json()
    return Result({"metadata": meta},
                  f"stored {folder}/{obj} version {meta.get('id')} ({meta.get('data_size')} "
                  "bytes)")


@command("files", "the input files a submission was launched with", arg("submission", type=int))
def files(api: Api, args) -> Result:
    items, total = api.pages(api.experiment_path("submissions", args.submission, "files"))
    return Result({"submission": args.submission, "files": items, "total": total},
                  "\n".join(f["name"] for f in items) or "(no file list)")


for _action, _help in (("approve", "approve a submission of an approval stage"),
                       ("refuse", "refuse a submission of an approval stage")):
    command(_action, _help, arg("submission", type=int))(_act(_action))


@command("schedule", "set a stage's cron schedule of launches ('' clears it)",
         arg("campaign"), arg("stage"), arg("cron", help="e.g. '0 */6 * * *'"),
         arg("--test", action="store_true", help="scheduled launches are test launches"))
def schedule(api: Api, args) -> Result:
    answer = api.request("PUT", api.experiment_path("campaigns", args.campaign, "stages",
                                                    args.stage, "schedule"),
                         json={"schedule": args.cron, "test": args.test})
    if not answer["schedule"]:
        return Result(answer, f"stage {args.stage}: no scheduled launches")
    return Result(answer, f"stage {args.stage}: launches on '{answer['schedule']}', next at "
                          f"{answer['next']}")


@command("definitions", "the experiment's job types or login setups (one NAME: its fields)",
         arg("kind", choices=["job_types", "login_setups"]), arg("name", nargs="?"))
def definitions(api: Api, args) -> Result:
    if args.name:
        d = api.get(api.experiment_path(args.kind, args.name))
        width = max(len(k) for k in d["ini"])
        lines = [f"{args.kind[:-1].replace('_', ' ')} {d['name']}"]
        lines += [f"  {k.ljust(width)} = {v}" for k, v in d["ini"].items()]
        return Result({"definition": d}, "\n".join(lines))
    items, total = api.pages(api.experiment_path(args.kind))
    return Result({args.kind: items, "total": total},
                  table(["name", "creator", "updated"],
                        [[d["name"], d["creator"] or "", d["updated"]] for d in items]))


@command("recover", "recover a submission now: re-run the files it did not process",
         arg("submission", type=int), arg("--type", help="a recovery type (default: the job "
                                                         "type's next one)"),
         arg("--dry-run", action="store_true", help="list the files and why; launch nothing"))
def recover(api: Api, args) -> Result:
    answer = api.post(api.experiment_path("submissions", args.submission, "recover"),
                      json={"type": args.type, "dry_run": args.dry_run})
    if args.dry_run:
        lines = [f"# recovery {answer['position']} ({answer['type'] or 'none'}) of submission "
                 f"{answer['recovers']}: {answer['file_count']} files"]
        if answer["note"]:
            lines.append(f"# {answer['note']}")
        lines += [f"{f['name']}\t{f['reason']}" for f in answer["files"]]
        return Result(answer, "\n".join(lines))
    s = answer["submission"]
    return Result(answer, f"recovery of submission {s['recovery_of']} queued\n{s['id']}")
