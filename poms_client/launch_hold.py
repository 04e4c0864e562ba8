"""`poms launches [hold|release] [--reason ...]`: the experiment-wide hold of every launch,
for downtimes (production or superuser may change it; anyone may read it)."""
from __future__ import annotations

from poms_client.api import Api
from poms_client.commands import Result, arg, command


@command("launches", "show, hold or release every launch of the experiment (a downtime)",
         arg("switch", nargs="?", choices=("hold", "release"),
             help="hold: launches are recorded and wait; release: the waiting ones are "
                  "queued (no argument: say whether they are held)"),
         arg("--reason", default="", help="why, shown on every page while held"))
def launches(api: Api, args) -> Result:
    if args.switch is None:
        answer = api.get(api.experiment_path("launches"))
    else:
        body = {"reason": args.reason} if args.switch == "hold" else None
        answer = api.post(api.experiment_path("launches", args.switch),
                          **({"json": body} if body is not None else {}))
    if answer["held"]:
        text = f"launches of {answer['experiment']} are held by {answer['held_by']}"
        text += f": {answer['reason']}" if answer["reason"] else ""
    else:
        text = f"launches of {answer['experiment']} are allowed"
        if answer["released_submissions"]:
            text += "; queued " + ", ".join(map(str, answer["released_submissions"]))
    return Result(answer, text)
