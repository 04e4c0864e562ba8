"""Writing a campaign as INI text: export_ini, which parse_ini reads back to the same campaign
and the original POMS's importer (ini_to_campaign + save_campaign) reads as well."""
from __future__ import annotations

import json
from typing import Any

from app.campaigns.ini_checking import JOB_TYPE_KEYS, LOGIN_SETUP_KEYS
from app.campaigns.spec import STAGE_KEYS, CampaignSpec, DependencySpec, StageSpec

_JSON_KEYS = ("param_overrides", "test_param_overrides", "parameters", "recoveries",
              "campaign_keywords")
_NONE_MEANS_EMPTY = ("dataset_or_split_data", "cs_split_type")
# Keys whose empty value cannot be said in a stage when the defaults give one (empty means
# "take the default"); the exporter leaves such a key out of [campaign_defaults].
_PLAIN_KEYS = ("vo_role", "software_version", "login_setup", "job_type", "state")
# The keys the original's save_campaign pops from each stage merged with its defaults
# without a fallback (form.pop(key)): every exported stage must get them.
ORIGINAL_NEEDS = ("completion_pct", "completion_type", "dataset_or_split_data", "job_type",
                  "login_setup", "software_version", "vo_role")
# Of those, the ones an empty [campaign_defaults] value gives the original as "" (what our
# stages hold when they say nothing): parse_ini takes an empty value as not given.
_EMPTY_DEFAULT_OK = ("software_version", "vo_role")


def normalise_value(text: str) -> str:
    """What a text value becomes after being written to an INI file and read back.

    Line breaks become \\n, each line loses the whitespace at its ends, blank lines at
    either end go, and a line after the first that starts with # or ; is dropped
    (configparser takes it for a comment). Store code may use it to keep only what an
    export can carry.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = [lines[0].strip()]
    for line in lines[1:]:
        line = line.strip()
        if not line.startswith(("#", ";")):
            kept.append(line)
    return "\n".join(kept).strip()


def _write_value(key: str, value: str) -> list[str]:
    lines = normalise_value(value).split("\n")
    first = f"{key} = {lines[0]}" if lines[0] else f"{key} ="
    return [first] + [f"\t{line}" if line else "" for line in lines[1:]]


def _format(key: str, value: Any) -> str:
    if key in _JSON_KEYS:
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "True" if value else "False"
    if key in _NONE_MEANS_EMPTY and value == "":
        return "None"
    return str(value)


def _defaults_to_write(spec: CampaignSpec) -> dict:
    defaults = {k: spec.defaults[k] for k in STAGE_KEYS if k in spec.defaults}
    for key in _PLAIN_KEYS:
        if key in defaults and (
            defaults[key] == "" or any(getattr(s, key) == "" for s in spec.stages)
        ):
            del defaults[key]
    return defaults


def export_ini(spec: CampaignSpec) -> str:
    """The campaign as INI text that parse_ini reads back to the same CampaignSpec.

    Stages carry only what differs from [campaign_defaults] (then StageSpec defaults), so
    exports stay short, except the keys the original's importer needs in every stage
    (ORIGINAL_NEEDS): each stage spells those out when [campaign_defaults] lacks them, and
    vo_role and software_version get an empty default line, which gives the original the
    empty value our stages then hold. A default that some stage must override with an
    empty value (which an INI stage cannot say: empty means "take the default") is left
    out of [campaign_defaults] and written in each stage instead. campaign_keywords are
    written in [campaign_defaults], where the original's importer reads them.

    Every job type and login setup in spec.job_types / spec.login_setups is written, and a
    campaign read from the database (store.spec_from_campaign) holds every one its stages
    use, including those it shares with other campaigns of the experiment. So an export
    always carries the definitions it needs: it imports anywhere (another experiment, a
    fresh POMS, parse_ini with no experiment), and a job type or login setup has no owning
    campaign that would let us tell "shared" from "its own" anyway. Imported back into the
    same experiment, the definitions compare equal and nothing changes; if one was edited
    there since the export, the upload's preview shows that the import would put the
    exported version back (store.upload_plan), before anything is written. A file with
    those sections taken out imports too, using the experiment's definitions as they are.
    """
    out: list[str] = ["[campaign]"]
    if spec.experiment:
        out += _write_value("experiment", spec.experiment)
    out += _write_value("poms_role", spec.poms_role)
    out += _write_value("name", spec.name)
    out += _write_value("state", spec.state)
    out += _write_value("campaign_stage_list", ", ".join(s.name for s in spec.stages))
    if spec.tags:
        out += _write_value("tags", ", ".join(spec.tags))
    out.append("")

    defaults = _defaults_to_write(spec)
    out.append("[campaign_defaults]")
    if spec.keywords:
        out += _write_value("campaign_keywords", _format("campaign_keywords", spec.keywords))
    for key in STAGE_KEYS:
        if key in defaults:
            out += _write_value(key, _format(key, defaults[key]))
        elif key in _EMPTY_DEFAULT_OK:
            out += _write_value(key, "")
    out.append("")

    builtin = StageSpec(name="")
    spelt_out = [k for k in ORIGINAL_NEEDS if k not in defaults and k not in _EMPTY_DEFAULT_OK]
    deps_of: dict[str, list[DependencySpec]] = {}
    for dep in spec.dependencies:
        deps_of.setdefault(dep.child, []).append(dep)
    for stage in spec.stages:
        out.append(f"[campaign_stage {stage.name}]")
        for key in STAGE_KEYS:
            value = getattr(stage, key)
            if key in spelt_out or value != defaults.get(key, getattr(builtin, key)):
                out += _write_value(key, _format(key, value))
        out.append("")
        if stage.name in deps_of:
            out.append(f"[dependencies {stage.name}]")
            for dep in sorted(deps_of[stage.name], key=lambda d: d.position):
                out += _write_value(f"campaign_stage_{dep.position}", dep.parent)
                out += _write_value(f"file_pattern_{dep.position}", dep.file_pattern)
            out.append("")

    for login_setup in spec.login_setups.values():
        out.append(f"[login_setup {login_setup.name}]")
        for key in LOGIN_SETUP_KEYS:
            out += _write_value(key, getattr(login_setup, key))
        out.append("")
    for job_type in spec.job_types.values():
        out.append(f"[job_type {job_type.name}]")
        for key in JOB_TYPE_KEYS:
            out += _write_value(key, _format(key, getattr(job_type, key)))
        out.append("")

    if spec.node_positions:
        out.append("[node_positions]")
        for n, (name, where) in enumerate(spec.node_positions.items()):
            value = json.dumps([name, where["x"], where["y"]], ensure_ascii=False)
            out += _write_value(f"nxy{n}", value)
        out.append("")
    return "\n".join(out)
