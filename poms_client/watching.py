"""`poms watch`, `poms unwatch`, `poms watches`, `poms deliveries`, `poms breaker` and
`poms resume-stage`: watches and the circuit breaker (issue 18)."""
from __future__ import annotations

from poms_client.api import Api
from poms_client.commands import Result, arg, command
from poms_client.render import table

EVENTS = ("submission_failed", "recovery_refused", "breaker_tripped", "finished",
          "fcl_upload_failed", "credential_expiring", "launches_held")


@command("watch", "watch a campaign or one of its stages: be told by email or webhook",
         arg("campaign"), arg("stage", nargs="?"),
         arg("--event", action="append", choices=EVENTS, dest="events",
             help="an event to be told of (repeat; default: all)"),
         arg("--webhook", metavar="URL", help="post to this webhook instead of mailing"),
         arg("--email", metavar="ADDRESS", help="mail here (default: yours)"),
         arg("--digest", choices=("hourly", "daily"), help="gather events into a digest"))
def watch(api: Api, args) -> Result:
    body = {"campaign": args.campaign, "stage": args.stage,
            "channel": "webhook" if args.webhook else "email",
            "target": args.webhook or args.email or "",
            "cadence": args.digest or "immediate"}
    if args.events:
        body["events"] = args.events
    answer = api.post(api.experiment_path("watches"), json=body)
    what = f"stage {answer['stage']} of " if answer["stage"] else ""
    return Result(answer, f"watching {what}campaign {answer['campaign']}: {answer['channel']} "
                          f"to {answer['target']}, {answer['cadence']}; "
                          f"events: {', '.join(answer['events'])}")


@command("unwatch", "stop watching a campaign or stage", arg("campaign"),
         arg("stage", nargs="?"), arg("--target", help="only the watch sent here"))
def unwatch(api: Api, args) -> Result:
    answer = api.post(api.experiment_path("watches", "remove"), json={
        "campaign": args.campaign, "stage": args.stage, "target": args.target})
    return Result(answer, f"{answer['removed']} watch{'es' if answer['removed'] != 1 else ''} "
                          "removed", ok=answer["removed"] > 0)


@command("watches", "your watches in the experiment")
def watches(api: Api, args) -> Result:
    answer = api.get(api.experiment_path("watches"))
    rows = [[w["id"], w["campaign"], w["stage"] or "all", w["channel"], w["target"],
             w["cadence"], ",".join(w["events"])] for w in answer["watches"]]
    return Result(answer, table(["id", "campaign", "stage", "how", "to", "when", "events"],
                                rows))


@command("deliveries", "what your watches sent, and what failed",
         arg("--state", choices=("pending", "retrying", "sent", "failed")))
def deliveries(api: Api, args) -> Result:
    answer = api.get(api.experiment_path("deliveries"),
                     params={"state": args.state} if args.state else None)
    rows = [[d["id"], d["created"], d["state"], d["channel"], d["target"], d["attempts"],
             d["subject"], d["error"]] for d in answer["deliveries"]]
    return Result(answer, table(["id", "created", "state", "how", "to", "tries", "subject",
                                 "why it failed"], rows))


@command("breaker", "a stage's circuit breaker: tripped or not, why, its policy",
         arg("campaign"), arg("stage"))
def show_breaker(api: Api, args) -> Result:
    answer = api.get(api.experiment_path("campaigns", args.campaign, "stages", args.stage,
                                         "breaker"))
    policy = answer["policy"]
    text = (f"stage {answer['stage']}: "
            + (f"STOPPED since {answer['tripped_at']}: {answer['reason']}"
               if answer["tripped"] else "running")
            + f"\npolicy: more than {policy['percent']}% of the last {policy['window']} "
              f"finished jobs failed ({policy['source']}{'' if policy['enabled'] else ', off'})")
    if answer["failures_by_signature"]:
        text += "\n" + table(["failure signature", "jobs"], [
            [f["signature"], f["jobs"]] for f in answer["failures_by_signature"]])
    return Result(answer, text)


@command("resume-stage", "release a stage's tripped circuit breaker; waiting launches go",
         arg("campaign"), arg("stage"))
def resume_stage(api: Api, args) -> Result:
    answer = api.post(api.experiment_path("campaigns", args.campaign, "stages", args.stage,
                                          "resume"))
    text = f"stage {answer['stage']}: circuit breaker released"
    if answer["released_submissions"]:
        text += f"; queued {', '.join(map(str, answer['released_submissions']))}"
    return Result(answer, text)
