"""Checking a campaign file's stages and dependencies (part of parse_ini).

As the original POMS (ini_to_campaign and save_campaign): every [campaign_stage NAME]
section is a stage, in the order of the sections; campaign_stage_list only draws warnings.
A stage's value is its own when it gives a non-empty one, else [campaign_defaults]'s (the
original's ``form.get(k) or defaults.get(k)``), so a default is checked only where a stage
takes it, and its trouble is told once, naming those stages.
"""
from __future__ import annotations

import copy
import difflib
import re
from dataclasses import dataclass

from app.campaigns import ini_values as values
from app.campaigns.ini_reading import Collector, Section, did_you_mean
from app.campaigns.spec import (
    SAME_INPUT_SPLITS,
    STAGE_KEYS,
    CampaignSpec,
    DependencySpec,
    SharedNames,
    StageSpec,
)
from app.catalog.splits import parse_split_type

OLD_STAGE_KEYS = {"dataset": "dataset_or_split_data"}
DEPENDENCY_KEY_PREFIXES = ("campaign_stage_", "file_pattern_")
# The largest N of campaign_stage_N taken as a number: with the next free Ns given to the
# others, every position stays well inside the database's integer column (MAX_INTEGER).
MAX_POSITION = 99_999_999


@dataclass
class _Raw:
    text: str
    line: int | None
    key: str  # as written (dataset for dataset_or_split_data)


def _stage_raw(section: Section, out: Collector) -> dict[str, _Raw]:
    """The stage keys a [campaign_stage X] or [campaign_defaults] section gives, as text."""
    found: dict[str, _Raw] = {}
    for key, text in section.values.items():
        line = section.lines.get(key)
        if key == "campaign_keywords" and section.header == "campaign_defaults":
            continue  # the campaign's, read with [campaign]
        canonical = OLD_STAGE_KEYS.get(key, key)
        if canonical not in STAGE_KEYS:
            if key not in section.inherited:
                out.warn(section.header, key,
                         f"unknown key, ignored{did_you_mean(key, STAGE_KEYS)}", line)
            continue
        if canonical != key and canonical in section.values:
            if key not in section.inherited:
                out.warn(section.header, key, f"'{key}' is the older name of '{canonical}', "
                         "which this section gives too: ignored", line)
            continue
        found[canonical] = _Raw(text, line, key)
    return found


def _stages_say(names: list[str], verb: str = "") -> str:
    """stage 'a' (takes) / stages 'a', 'b' (take): verb in its plural form."""
    quoted = ", ".join(f"'{n}'" for n in names[:10])
    more = f" and {len(names) - 10} more" if len(names) > 10 else ""
    said = f"{'stage' if len(names) == 1 else 'stages'} {quoted}{more}"
    if verb:
        said += f" {verb}s" if len(names) == 1 else f" {verb}"
    return said


def _check_list(listed: list[str] | None, sections: dict[str, Section],
                list_line: int | None, out: Collector) -> None:
    """campaign_stage_list against the sections: the original never reads the list."""
    for name, section in sections.items():
        if "," in name:
            out.warn(section.header, None, f"the stage name '{name}' has a comma, which "
                     "campaign_stage_list cannot hold: an export lists it in pieces",
                     section.line)
    if listed is None:
        return
    seen: set[str] = set()
    for name in listed:
        if name in seen:
            out.warn("campaign", "campaign_stage_list",
                     f"stage '{name}' is listed twice: it is one stage", list_line)
        seen.add(name)
    for name in dict.fromkeys(listed):
        if name in sections:
            continue
        parts = name.split()
        if len(parts) > 1 and all(p in sections for p in parts):
            hint = f" (is a comma missing between {' and '.join(repr(p) for p in parts)}?)"
        else:
            hint = did_you_mean(name, sections)
        out.warn("campaign", "campaign_stage_list",
                 f"stage '{name}' is listed but has no [campaign_stage {name}] section, so no "
                 f"stage '{name}' is made (stages come from their sections, as in the "
                 f"original POMS){hint}", list_line)
    for name, section in sections.items():
        if name not in seen:
            out.warn(section.header, None,
                     f"stage '{name}' is not in campaign_stage_list; it is a stage all the "
                     "same (every [campaign_stage NAME] section is one)", section.line)
    listed_order = [n for n in dict.fromkeys(listed) if n in sections]
    file_order = [n for n in sections if n in seen]
    if listed_order != file_order:
        first = next(i for i, (a, b) in enumerate(zip(listed_order, file_order, strict=True))
                     if a != b)
        out.warn("campaign", "campaign_stage_list",
                 f"lists the stages in another order than their sections ('{listed_order[first]}'"
                 f" where the sections have '{file_order[first]}'): the stages take the order "
                 "of their sections, as in the original POMS", list_line)


def read_stages(spec: CampaignSpec, listed: list[str] | None, sections: dict[str, Section],
                defaults_section: Section | None, campaign: Section | None,
                shared: SharedNames | None, out: Collector) -> None:
    list_line = campaign.lines.get("campaign_stage_list") if campaign is not None else None
    _check_list(listed, sections, list_line, out)
    if campaign is not None and not sections:
        out.problem("campaign", "campaign_stage_list", "the campaign has no stages: give "
                    "each a [campaign_stage NAME] section (the original POMS refuses such a "
                    "file too)", list_line or campaign.line)

    cache: dict[tuple[str, str], tuple | values.Bad] = {}

    def checked(key: str, text: str):
        if (key, text) not in cache:
            try:
                cache[key, text] = values.stage_value(key, text)
            except values.Bad as bad:
                cache[key, text] = bad
        return cache[key, text]

    defaults = _stage_raw(defaults_section, out) if defaults_section is not None else {}
    from_defaults = {k: checked(k, raw.text) for k, raw in defaults.items() if raw.text.strip()}
    takers: dict[str, list[str]] = {key: [] for key in from_defaults}
    own_keys: dict[str, set[str]] = {}
    for name, section in sections.items():
        header = section.header
        own = _stage_raw(section, out)
        stage = StageSpec(name=name)
        own_keys[name] = set()
        for key in STAGE_KEYS:
            raw = own.get(key)
            if raw is not None and raw.text.strip():
                got = checked(key, raw.text)
                if isinstance(got, values.Bad):
                    out.problem(header, raw.key, str(got), raw.line)
                    continue
                value, said = got
                for reason in said:
                    out.warn(header, raw.key, reason, raw.line)
                if value is not None:
                    setattr(stage, key, copy.deepcopy(value))
                    own_keys[name].add(key)
                    continue
            if key in from_defaults:
                takers[key].append(name)
                got = from_defaults[key]
                if not isinstance(got, values.Bad) and got[0] is not None:
                    setattr(stage, key, copy.deepcopy(got[0]))
        if stage.merge_overrides and name not in takers.get("param_overrides", [name]):
            takers["param_overrides"].append(name)  # merged in at launch
        spec.stages.append(stage)

    for key, got in from_defaults.items():
        raw = defaults[key]
        if isinstance(got, values.Bad):
            if takers[key]:
                out.problem("campaign_defaults", raw.key,
                            f"{got} ({_stages_say(takers[key], 'take')} this default)", raw.line)
            else:
                out.warn("campaign_defaults", raw.key, f"{got}; no stage takes this default, "
                         "so it is not kept", raw.line)
            continue
        value, said = got
        if takers[key]:
            for reason in said:
                out.warn("campaign_defaults", raw.key,
                         f"{reason} ({_stages_say(takers[key], 'take')} this default)", raw.line)
        if value is not None:
            spec.defaults[key] = value

    _check_references(spec, sections, defaults, own_keys, takers, shared, out)


def _what(key: str) -> str:
    return key.replace("_", " ")  # "job type", "login setup"


def _shared_names(shared: SharedNames, key: str) -> frozenset[str]:
    return shared.job_types if key == "job_type" else shared.login_setups


def _did_you_mean_either(word: str, in_file, shared: SharedNames, in_experiment) -> str:
    """Close names from the file and from the experiment, each said with where it is."""
    in_file = set(in_file)
    close = difflib.get_close_matches(word, sorted(in_file | set(in_experiment)), n=3,
                                      cutoff=0.6)
    if not close:
        return ""
    said = [f"'{name}' ({'this file' if name in in_file else f'experiment {shared.experiment}'})"
            for name in close]
    return f" (did you mean {' or '.join(said)}?)"


def _not_found(key: str, value: str, table: dict, shared: SharedNames | None) -> str:
    """Why a stage's job type or login setup cannot be used, and what is close to it."""
    if shared is None:
        return (f"is not defined in this file: add a [{key} {value}] section"
                f"{did_you_mean(value, table)}")
    return (f"is defined neither in this file nor in experiment '{shared.experiment}': "
            f"add a [{key} {value}] section or name one the experiment has"
            f"{_did_you_mean_either(value, table, shared, _shared_names(shared, key))}")


def _check_references(spec: CampaignSpec, sections: dict[str, Section],
                      defaults: dict[str, _Raw], own_keys: dict[str, set[str]],
                      takers: dict[str, list[str]], shared: SharedNames | None,
                      out: Collector) -> None:
    """Each stage's job type and login setup: defined in the file, else the experiment's
    (the original looked every stage's names up in the experiment), else a problem."""
    # (key, name) -> [(stage, whether it came from [campaign_defaults], section, line)]
    from_experiment: dict[tuple[str, str], list[tuple[str, bool, str, int | None]]] = {}
    for stage in spec.stages:
        section = sections[stage.name]
        for key, table in (("job_type", spec.job_types), ("login_setup", spec.login_setups)):
            value = getattr(stage, key)
            inherited = key not in own_keys[stage.name]
            line = (defaults[key].line if inherited and key in defaults
                    else section.lines.get(key, section.line))
            if not value:
                out.problem(section.header, key, f"the stage has no {key}: give one here or "
                            "in [campaign_defaults]", section.line)
            elif value in table:
                continue
            elif shared is not None and value in _shared_names(shared, key):
                from_experiment.setdefault((key, value), []).append(
                    (stage.name, inherited, section.header, line))
            else:
                source = " (from [campaign_defaults])" if inherited else ""
                out.problem(section.header, key, f"{_what(key)} '{value}'{source} "
                            f"{_not_found(key, value, table, shared)}", line)

    # One warning per definition taken from the experiment, where it is first named.
    for (key, value), users in from_experiment.items():
        if any(inherited for _stage, inherited, _header, _line in users):
            where, line = "campaign_defaults", defaults[key].line
        else:
            where, line = users[0][2], users[0][3]
        experiment = shared.experiment if shared is not None else ""
        out.warn(where, key,
                 f"{_what(key)} '{value}' is not defined in this file: "
                 f"{_stages_say([u[0] for u in users])} will use experiment "
                 f"{experiment}'s {_what(key)} '{value}' as it is", line)

    # A default no stage takes may name a definition found nowhere: say so only.
    for key, table in (("job_type", spec.job_types), ("login_setup", spec.login_setups)):
        value = spec.defaults.get(key)
        if (value and value not in table and not takers.get(key)
                and (shared is None or value not in _shared_names(shared, key))):
            where = ("not defined in this file" if shared is None else
                     f"defined neither in this file nor in experiment '{shared.experiment}'")
            out.warn("campaign_defaults", defaults[key].key,
                     f"{_what(key)} '{value}' is {where}; no stage takes this default",
                     defaults[key].line)


# --- dependencies ------------------------------------------------------------------------


def _split_name(text: str) -> str | None:
    try:
        return parse_split_type(text).name
    except ValueError:
        return None


def _self_dependency(stage: StageSpec, key: str) -> str:
    """What a stage depending on itself does: the original's launch_dependents launches it
    again as an ordinary launch (its next split), whatever the pattern says."""
    split = _split_name(stage.cs_split_type)
    said = f"split type {stage.cs_split_type or 'none'}"
    if split in SAME_INPUT_SPLITS:
        then = (f"with {said} every launch takes the same input, so that would repeat "
                "forever: POMS does not launch it again (give a split type that moves on, "
                "such as nfiles(N), or remove the dependency)")
    else:
        then = f"with {said} that goes on until its splits run out"
    return (f"stage '{stage.name}' depends on itself ({key}): as in the original POMS, each "
            "of its submissions, once Located, launches the stage again as an ordinary "
            f"launch of its next split, not on its own outputs; {then}")


def read_dependencies(spec: CampaignSpec, sections: dict[str, Section],
                      stage_sections: dict[str, Section], out: Collector) -> None:
    """[dependencies CHILD]: campaign_stage_N = PARENT with file_pattern_N = PATTERN, N
    anything after the last '_' (the original's rsplit), numbers kept as positions."""
    stages = {s.name: s for s in spec.stages}
    found: list[DependencySpec] = []
    for child, section in sections.items():
        if child not in stages:
            out.problem(section.header, None, f"stage '{child}' is not in this campaign: "
                        f"it has no [campaign_stage {child}] section"
                        f"{did_you_mean(child, stages)}", section.line)
            continue
        found += _read_links(stages, child, section, out)

    index = {name: i for i, name in enumerate(stages)}
    found.sort(key=lambda d: (index[d.child], d.position))
    spec.dependencies = found

    for cycle in _cycles(found, list(stages)):
        path = " -> ".join(cycle + [cycle[0]])
        section = sections.get(cycle[0])
        out.problem(f"dependencies {cycle[0]}", None,
                    f"dependency cycle: {path} (each stage waits for the one after it): its "
                    "stages would launch each other forever, so POMS refuses it",
                    section.line if section is not None else None)


def _read_links(stages: dict[str, StageSpec], child: str, section: Section,
                out: Collector) -> list[DependencySpec]:
    parents: list[tuple[str, str, str, int | None]] = []  # (suffix, key, parent, line)
    for key, raw in section.values.items():
        line = section.lines.get(key)
        if key.startswith("campaign_stage_"):
            parents.append((key.rsplit("_", 1)[1], key, raw.strip(), line))
        elif key.startswith("file_pattern_"):
            if f"campaign_stage_{key.rsplit('_', 1)[1]}" not in section.values:
                out.warn(section.header, key, f"{key} has no "
                         f"campaign_stage_{key.rsplit('_', 1)[1]} to go with it: ignored",
                         line)
        elif key not in section.inherited:
            number = re.search(r"([0-9]+)$", key)
            n = number.group(1) if number else "1"
            out.warn(section.header, key, "unknown key, ignored: a dependency is a "
                     "campaign_stage_N = STAGE and file_pattern_N = PATTERN pair"
                     f"{did_you_mean(key, [f'campaign_stage_{n}', f'file_pattern_{n}'])}",
                     line)

    taken = {n for s, *_ in parents if (n := _position(s)) is not None}
    next_free = max(taken, default=0) + 1
    links: list[DependencySpec] = []
    seen: dict[str, str] = {}
    for suffix, key, parent, line in parents:
        pattern_key = f"file_pattern_{suffix}"
        if pattern_key not in section.values:
            out.problem(section.header, key, f"{key} has no {pattern_key} to go with it "
                        "(the original POMS cannot read such a file)", line)
            continue
        if parent not in stages:
            out.problem(section.header, key, f"stage '{parent}' is not in this campaign"
                        f"{did_you_mean(parent, stages)}", line)
            continue
        if (position := _position(suffix)) is None:
            position, next_free = next_free, next_free + 1
            out.warn(section.header, key, f"kept as dependency {position}: an export writes "
                     f"it as campaign_stage_{position} / file_pattern_{position}", line)
        pattern = section.values[pattern_key].strip()
        if not pattern:
            pattern = "%"
            out.warn(section.header, pattern_key,
                     "is empty: taken as % (every output of the parent), as the original "
                     "POMS reads an empty pattern", section.lines.get(pattern_key))
        if parent == child:
            out.warn(section.header, key, _self_dependency(stages[child], key), line)
        elif parent in seen:
            out.warn(section.header, key,
                     f"stage '{child}' depends on '{parent}' again (after {seen[parent]}): "
                     "both are kept, and a launch after it takes the files matching any of "
                     "the patterns", line)
        seen.setdefault(parent, key)
        links.append(DependencySpec(child=child, parent=parent, position=position,
                                    file_pattern=pattern))
    return links


def _position(suffix: str) -> int | None:
    """The N of campaign_stage_N as a number, when it is one as written (no sign, no
    leading zero) and no larger than MAX_POSITION; None means it is taken as a name."""
    if re.fullmatch(r"0|[1-9][0-9]{0,8}", suffix) and int(suffix) <= MAX_POSITION:
        return int(suffix)
    return None


def _cycles(dependencies: list[DependencySpec], order: list[str]) -> list[list[str]]:
    """One cycle of two or more stages (as a list of stages, each needing the next) per
    group of stages in one; a stage depending on itself is not a cycle here."""
    needs: dict[str, list[str]] = {name: [] for name in order}
    for dep in dependencies:
        if dep.child != dep.parent:
            needs[dep.child].append(dep.parent)
    colour = dict.fromkeys(order, 0)  # 0 unvisited, 1 on the path, 2 done
    cycles: list[list[str]] = []
    reported: set[frozenset[str]] = set()
    for start in order:
        if colour[start]:
            continue
        path: list[str] = [start]
        colour[start] = 1
        stack = [iter(needs[start])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                colour[path.pop()] = 2
                stack.pop()
            elif colour[nxt] == 1:
                cycle = path[path.index(nxt):]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    cycles.append(cycle)
            elif colour[nxt] == 0:
                colour[nxt] = 1
                path.append(nxt)
                stack.append(iter(needs[nxt]))
    return cycles
