"""`poms file NAME` and `poms data-flow CAMPAIGN`: a file's provenance and a campaign's data
flow (issue 18)."""
from __future__ import annotations

from poms_client.api import Api
from poms_client.commands import Result, arg, command
from poms_client.render import size, table


def _generations(title: str, generations: list[dict], cut: bool) -> list[str]:
    lines = [f"{title}:"]
    if not generations:
        lines.append("  (none)")
    for g in generations:
        lines.append(f"  generation {g['generation']}:")
        for f in g["files"]:
            made = f" (stage {f['stage']}, submission {f['submission_id']})" if f["stage"] else ""
            lines.append(f"    {f['name']}{made}")
        if g["more"]:
            lines.append(f"    ... {g['more']} more (--limit shows more)")
    if cut:
        lines.append("  ... more generations (--depth goes deeper)")
    return lines


@command("file", "a file's provenance: the job that made it as launched, its inputs back to "
         "the first stage, what was made from it, an FCL file's place in UconDB",
         arg("name", help="the file's name in the catalogue"),
         arg("--limit", type=int, help="files shown per generation (default 50)"),
         arg("--depth", type=int, help="generations (default 20)"))
def show_file(api: Api, args) -> Result:
    params = {k: v for k, v in (("limit", args.limit), ("depth", args.depth)) if v is not None}
    answer = api.get(api.experiment_path("files", args.name, "provenance"),
                     params=params or None)
    lines = [f"file {answer['name']}: {size(answer['size'])}, checksum "
             f"{answer['checksum'] or '-'}, version {answer['version'] or '-'}"]
    lines += [f"  location {loc}" for loc in answer["locations"]] or ["  no location"]
    ucon = answer["ucondb"]
    if ucon:
        lines.append(f"UconDB: folder {ucon['folder']}, version "
                     f"{ucon['version'] if ucon['version'] is not None else 'not known'}, "
                     f"location {ucon['location']}")
    made = answer["made_by"]
    if made:
        jt, ls = made["job_type_as_launched"], made["login_setup_as_launched"]
        lines += [
            f"made by job {made['batch_job_id']} of submission {made['submission_id']}, "
            f"stage {made['stage']} of campaign {made['campaign']}",
            f"  job type {jt.get('name') or made['job_type']}: {jt.get('launch_script', '')}",
            f"  login setup {ls.get('name') or made['login_setup']}: "
            f"{ls.get('account', '')}@{ls.get('host', '')}",
            "  parameters as launched: " + (" ".join(
                "".join(str(x) for x in p) for p in made["parameters_as_launched"]) or "none")]
    else:
        lines.append("made by: no job of POMS is recorded as its maker")
    lines += _generations("inputs", answer["inputs"], answer["inputs_cut"])
    lines += _generations("made from it", answer["outputs"], answer["outputs_cut"])
    return Result(answer, "\n".join(lines))


@command("data-flow", "a campaign's data flow: per stage, files in, out and still to process",
         arg("campaign"))
def data_flow(api: Api, args) -> Result:
    answer = api.get(api.experiment_path("campaigns", args.campaign, "data_flow"))
    rows = [[s["stage"], ", ".join(f"{src['stage']} {src['pattern']}" for src in s["sources"])
             or "its dataset", s["files_in"], s["processed"], s["files_out"], s["to_process"]]
            for s in answer["stages"]]
    return Result(answer, table(["stage", "takes from", "in", "processed", "out",
                                "to process"], rows))
