"""`poms versions` and `poms rollback`: every version of a campaign (issue 18)."""
from __future__ import annotations

import sys

from poms_client.api import Api
from poms_client.commands import Result, arg, command
from poms_client.render import impact_lines, table


@command("versions", "a campaign's versions: who, when, why; --diff A B; --export N",
         arg("campaign"),
         arg("--diff", nargs=2, type=int, metavar=("FROM", "TO"),
             help="what changed from version FROM to TO, field by field"),
         arg("--export", type=int, metavar="N", help="print version N as INI"))
def versions(api: Api, args) -> Result:
    root = ("campaigns", args.campaign, "versions")
    if args.export is not None:
        text = api.get(api.experiment_path(*root, args.export, "ini"),
                       expect_json=False).text
        if args.json:
            return Result({"campaign": args.campaign, "number": args.export, "ini": text})
        sys.stdout.write(text)
        return Result({}, "")
    if args.diff:
        answer = api.get(api.experiment_path(*root, "diff"),
                         params={"from": args.diff[0], "to": args.diff[1]})
        return Result(answer, "\n".join(c["text"] for c in answer["changes"])
                      or f"versions {args.diff[0]} and {args.diff[1]} say the same")
    answer = api.get(api.experiment_path(*root))
    rows = [[v["number"], v["created"], v["by"], v["source"], v["reason"]]
            for v in answer["versions"]]
    return Result(answer, table(["version", "saved", "by", "how", "why"], rows))


@command("rollback", "put a campaign back as a version held it (a new version)",
         arg("campaign"), arg("number", type=int),
         arg("--reason", default="", help="why, kept with the new version"),
         arg("--dry-run", action="store_true",
             help="show the changes and what they do to the launches; save nothing"))
def rollback(api: Api, args) -> Result:
    params = {"reason": args.reason} if args.reason else {}
    if args.dry_run:
        params["dry_run"] = "1"
    answer = api.post(api.experiment_path("campaigns", args.campaign, "versions",
                                          args.number, "rollback"), params=params)
    lines = [f"change: {c['text']}" for c in answer["changes"]]
    if args.dry_run:
        return Result(answer, "\n".join(lines + impact_lines(answer["impact"])))
    version = answer.get("version") or {}
    return Result(answer, "\n".join(lines + [
        f"campaign {args.campaign}: version {version.get('number')}"]))
