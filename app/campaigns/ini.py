"""Campaign INI files in and out: parse_ini, export_ini and diff_campaigns.

The format is the one POMS uses (``poms_client upload_wf`` / the campaign editor's INI
upload, and its ``campaign_deps_ini`` export)::

    [campaign]                experiment, poms_role, name, state, campaign_stage_list,
                              campaign_keywords (JSON object), tags (ours: a comma list)
    [campaign_defaults]       any stage key; a stage takes what it lacks from here
    [campaign_stage NAME]     stage keys (spec.STAGE_KEYS, or the older ``dataset``)
    [dependencies NAME]       campaign_stage_N = PARENT / file_pattern_N = PATTERN pairs
    [login_setup NAME]        host, account, setup
    [job_type NAME]           launch_script, parameters, output_file_patterns, recoveries
    [node_positions]          nxyN = ["STAGE", x, y]   (graph layout, as POMS exports it)

Reading follows configparser's RawConfigParser exactly (no interpolation, keys keep their
case): ``%(dataset)s`` and ``%%`` are kept as written, since they are substituted when a
stage launches. Every problem in a file is reported at once, each with the file, section,
key and line where known.

Decisions where the original leaves room:

- A value that is empty means "not given": a stage then takes the key from
  [campaign_defaults], else the StageSpec default (the original's ``form[k] or
  defaults[k]``). ``None``/``none`` also means "not given", except for
  dataset_or_split_data and cs_split_type, where it means "no dataset" / "no split"
  explicitly (so a stage can say None over a campaign default).
- A stage listed in campaign_stage_list without a [campaign_stage NAME] section is accepted
  when [campaign_defaults] names both its job_type and its login_setup: it is then a stage
  made entirely of the defaults, and a warning says so. Otherwise it is a problem. (The
  original creates stages from sections only and ignores the list when importing.)
- A [campaign_stage NAME] section not in campaign_stage_list is imported after the listed
  stages, with a warning.
- A stage (or [campaign_defaults]) may name a job type or login setup the file does not
  define when the file is read against an experiment that holds one of that name
  (parse_ini's `shared`, as every upload does: app/campaigns/store.read_ini). The stage
  then uses the experiment's definition as it is, and a warning says so once per name,
  so the person sees it before confirming (the original looked every stage's names up in
  the experiment, whatever the file defined). A name found in neither is a problem, with
  suggestions from both. Read with no experiment, a file must define every one it uses.
  A default that no stage ends up using may name one that is found nowhere (the
  original's export writes ``job_type=generic`` into its defaults whether or not a stage
  uses it): a warning.
- ``campaign_keywords`` is also accepted in [campaign_defaults], with a warning: the
  original's importer read it from there, while its exporter writes it in [campaign].
- [node_positions] values are JSON lists ``["stage name", x, y]`` under any key (the
  original writes keys nxy0, nxy1, ...); they are stored as ``{name: {"x": x, "y": y}}``.
- Values the INI format cannot hold exactly (a line of a multi-line value that starts
  with ``#`` or ``;`` is a comment to configparser; whitespace at either end of a line is
  stripped) are written the way they will read back; normalise_value says how.
"""
from __future__ import annotations

import configparser
import copy
import difflib
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

from app.campaigns.spec import (
    CAMPAIGN_STATES,
    COMPLETION_TYPES,
    MAX_LENGTHS,
    ROLES,
    STAGE_KEYS,
    STAGE_TYPES,
    CampaignSpec,
    DependencySpec,
    InvalidCampaign,
    JobTypeSpec,
    LoginSetupSpec,
    Problem,
    SharedNames,
    StageSpec,
)
from app.launching.splits import parse_split_type

__all__ = [
    "CAMPAIGN_KEYS",
    "CHANGE_KINDS",
    "JOB_TYPE_KEYS",
    "LOGIN_SETUP_KEYS",
    "RECOVERY_TYPES",
    "Change",
    "declared_experiment",
    "diff_campaigns",
    "export_ini",
    "normalise_value",
    "parse_ini",
]

CAMPAIGN_KEYS = (
    "experiment",
    "poms_role",
    "name",
    "state",
    "campaign_stage_list",
    "campaign_keywords",
    "tags",
)
LOGIN_SETUP_KEYS = ("host", "account", "setup")
JOB_TYPE_KEYS = ("launch_script", "parameters", "output_file_patterns", "recoveries")
# proj_status is the older name of process_status; both are kept as written.
RECOVERY_TYPES = (
    "consumed_status",
    "process_status",
    "proj_status",
    "added_files",
    "delivered_not_consumed",
    "pending_files",
)
_OLD_STAGE_KEYS = {"dataset": "dataset_or_split_data"}

_UNNAMED_SECTIONS = ("campaign", "campaign_defaults", "node_positions")
_NAMED_SECTIONS = ("campaign_stage", "dependencies", "login_setup", "job_type")

_PAIR_KEYS = ("param_overrides", "test_param_overrides")
_BOOL_KEYS = ("merge_overrides", "default_clear_cronjob")
# Keys whose empty value cannot be said in a stage when the defaults give one (empty means
# "take the default"); the exporter leaves such a key out of [campaign_defaults].
_PLAIN_KEYS = ("vo_role", "software_version", "login_setup", "job_type", "state")
_NONE_MEANS_EMPTY = ("dataset_or_split_data", "cs_split_type")
_NONE_WORDS = ("None", "none")
_TRUE = ("true", "yes", "1", "on")
_FALSE = ("false", "no", "0", "off")
_DEP_KEY = re.compile(r"^(campaign_stage|file_pattern)_([0-9]+)$")
# A name that is not the root of configparser's: impossible to write as a section header.
_NO_DEFAULT_SECTION = "\x00no default section\x00"


class _Bad(ValueError):
    """A value that cannot be used; its text is the reason, for a Problem."""


# --- reading the text ----------------------------------------------------------------


@dataclass
class _Section:
    header: str  # as written between the brackets
    line: int
    values: dict[str, str]
    lines: dict[str, int]


class _Collector:
    """Where problems and warnings gather, each placed in the file."""

    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def problem(self, section, key, reason, line=None) -> None:
        self.problems.append(Problem(self.filename, section, key, reason, line))

    def warn(self, section, key, reason, line=None) -> None:
        self.warnings.append(Problem(self.filename, section, key, reason, line))


def _did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _did_you_mean_either(word: str, in_file, shared: SharedNames, in_experiment) -> str:
    """Close names from the file and from the experiment, each said with where it is."""
    in_file = set(in_file)
    choices = sorted(in_file | set(in_experiment))
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    if not close:
        return ""
    said = [f"'{name}' ({'this file' if name in in_file else f'experiment {shared.experiment}'})"
            for name in close]
    return f" (did you mean {' or '.join(said)}?)"


def _read_sections(text: str, out: _Collector) -> list[_Section]:
    """The file's sections in order, read by configparser, with line numbers kept.

    configparser is told to be lenient (strict=False) so that it reads the whole file; the
    duplicates it would have refused, and the lines it could not read, become problems.
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")

    # configparser stops at the first line before any section header: report and drop
    # every such line, keeping the numbering.
    header_re = configparser.RawConfigParser.SECTCRE
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        if header_re.match(stripped):
            break
        out.problem(None, None, f"line is outside any section: {stripped!r}", index + 1)
        lines[index] = ""

    state = {"line": 0, "reading": True}
    sections: list[_Section] = []
    by_dict: dict[int, _Section] = {}

    class LineDict(dict):
        """configparser's dict_type: notes on which line each section and key appears."""

        def __setitem__(self, key, value):
            if state["reading"]:
                if isinstance(value, LineDict):  # a new section
                    section = _Section(key, state["line"], {}, {})
                    sections.append(section)
                    by_dict[id(value)] = section
                elif isinstance(value, list) and id(self) in by_dict:  # a key's first line
                    section = by_dict[id(self)]
                    if key in section.lines:
                        out.problem(
                            section.header, key,
                            f"is given twice (lines {section.lines[key]} and {state['line']}); "
                            "keep one",
                            state["line"],
                        )
                    section.lines[key] = state["line"]
            super().__setitem__(key, value)

        def __getitem__(self, key):
            value = super().__getitem__(key)
            # Reading, configparser looks a section up by name only when its header
            # appears again.
            if state["reading"] and isinstance(value, LineDict) and id(value) in by_dict:
                section = by_dict[id(value)]
                out.problem(
                    section.header, None,
                    f"section [{section.header}] appears twice (lines {section.line} and "
                    f"{state['line']}); merge them into one",
                    state["line"],
                )
            return value

    def numbered(rows: list[str]) -> Iterator[str]:
        for number, row in enumerate(rows, start=1):
            state["line"] = number
            yield row + "\n"
        state["reading"] = False

    parser = configparser.RawConfigParser(
        interpolation=None,
        strict=False,
        dict_type=LineDict,
        default_section=_NO_DEFAULT_SECTION,
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_file(numbered(lines), source=out.filename)
    except configparser.ParsingError as err:
        for number, _bad in err.errors:
            out.problem(
                None, None,
                f"cannot read this line: {lines[number - 1].strip()!r} is not 'key = value', "
                "a [section] header, a comment or an indented continuation of the value above",
                number,
            )
    state["reading"] = False
    for section in sections:
        section.values = {
            key: parser.get(section.header, key)
            for key in parser.options(section.header)
            if key  # '= value' (no key) was reported as unreadable
        }
    return sections


# --- values --------------------------------------------------------------------------


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return raw[1:-1]
    return raw


def _json(raw: str) -> Any:
    try:
        return json.loads(_unquote(raw.strip()))
    except json.JSONDecodeError as err:
        raise _Bad(f"is not valid JSON ({err.msg} at character {err.pos + 1}): {raw!r}") from None


def _pairs(value: Any, what: str = "") -> list[list[str]]:
    """Check a [[key, value], ...] list; `what` says where it sits, for the reason."""
    if not isinstance(value, list):
        raise _Bad(f"{what}must be a JSON list of [key, value] pairs, like "
                   f'[["-c ", "file.cfg"]], not {json.dumps(value)}')
    for number, pair in enumerate(value, start=1):
        if not (isinstance(pair, list) and len(pair) == 2
                and all(isinstance(p, str) for p in pair)):
            raise _Bad(f"{what}pair {number} must be a [key, value] list of two strings, "
                       f"not {json.dumps(pair, ensure_ascii=False)}")
    return [list(pair) for pair in value]


def _parse_pairs(raw: str) -> list[list[str]]:
    return _pairs(_json(raw))


def _parse_recoveries(raw: str) -> list[list]:
    value = _json(raw)
    if not isinstance(value, list):
        raise _Bad("must be a JSON list of [recovery_type, [[key, value], ...]] entries, "
                   f"not {json.dumps(value)}")
    recoveries = []
    for number, entry in enumerate(value, start=1):
        if isinstance(entry, str):  # the oldest form: just the type name
            entry = [entry, []]
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)):
            raise _Bad(f"recovery {number} must be [recovery_type, [[key, value], ...]], "
                       f"not {json.dumps(entry, ensure_ascii=False)}")
        kind, params = entry
        if kind not in RECOVERY_TYPES:
            raise _Bad(f"recovery {number}: unknown recovery type '{kind}'"
                       f"{_did_you_mean(kind, RECOVERY_TYPES)}; known types are "
                       f"{', '.join(RECOVERY_TYPES)}")
        recoveries.append([kind, _pairs(params, f"recovery {number} ({kind}): parameters ")])
    return recoveries


def _parse_bool(raw: str) -> bool:
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise _Bad(f"must be True or False, not {raw!r}")


def _parse_int(raw: str, low: int, high: int | None, what: str) -> int:
    text = raw.strip()
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise _Bad(f"must be {what}, not {raw!r}")
    number = int(text)
    if number < low or (high is not None and number > high):
        raise _Bad(f"must be {what}, not {number}")
    return number


def _parse_state(raw: str) -> str:
    word = raw.strip()
    if word in CAMPAIGN_STATES:
        return word
    # The original took True/true/1 (and Active) as active, anything else as not.
    if word.lower() in _TRUE:
        return "Active"
    if word.lower() in _FALSE:
        return "Inactive"
    raise _Bad(f"must be Active or Inactive, not {raw!r}"
               f"{_did_you_mean(word, CAMPAIGN_STATES)}")


def _parse_choice(raw: str, choices: tuple[str, ...]) -> str:
    word = raw.strip()
    if word in choices:
        return word
    listed = " or ".join(f"'{c}'" for c in choices) if len(choices) == 2 else ", ".join(choices)
    raise _Bad(f"must be {listed}, not {raw!r}{_did_you_mean(word, choices)}")


def _parse_split(raw: str) -> str:
    try:
        split = parse_split_type(raw)
    except ValueError as err:
        raise _Bad(str(err)) from None
    return "" if split.is_none else str(split)


def _stage_value(key: str, raw: str) -> Any:
    """The typed value of a stage key (raw is never empty nor None here)."""
    if key == "dataset_or_split_data":
        return "" if raw in _NONE_WORDS else raw
    if key == "cs_split_type":
        return _parse_split(raw)
    if key == "completion_type":
        return _parse_choice(raw, COMPLETION_TYPES)
    if key == "completion_pct":
        return _parse_int(raw, 0, 100, "a whole number from 0 to 100")
    if key in _PAIR_KEYS:
        return _parse_pairs(raw)
    if key in _BOOL_KEYS:
        return _parse_bool(raw)
    if key == "stage_type":
        return _parse_choice(raw, STAGE_TYPES)
    if key == "output_ancestor_depth":
        return _parse_int(raw, 0, None, "a whole number, 0 or more")
    if key == "state":
        return _parse_state(raw)
    return raw  # vo_role, software_version, login_setup, job_type


def _stage_values(section: _Section, out: _Collector) -> tuple[dict, dict[str, int]]:
    """The stage keys a [campaign_stage X] or [campaign_defaults] section gives, typed.

    Returns (values, line of each key). Keys left empty or None are left out.
    """
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key, raw in section.values.items():
        line = section.lines.get(key)
        if key == "campaign_keywords" and section.header == "campaign_defaults":
            continue  # handled with [campaign]
        canonical = _OLD_STAGE_KEYS.get(key, key)
        if canonical not in STAGE_KEYS:
            out.problem(section.header, key,
                        f"unknown key{_did_you_mean(key, STAGE_KEYS)}", line)
            continue
        if canonical != key and canonical in section.values:
            out.problem(section.header, key,
                        f"'{key}' and '{canonical}' are the same setting; give only "
                        f"'{canonical}'", line)
            continue
        raw = raw.strip()
        if not raw or (raw in _NONE_WORDS and canonical not in _NONE_MEANS_EMPTY):
            continue
        try:
            values[canonical] = _stage_value(canonical, raw)
        except _Bad as bad:
            out.problem(section.header, key, str(bad), line)
            continue
        lines[canonical] = line
    return values, lines


def _list(raw: str) -> list[str]:
    return [item.strip() for item in re.split(r"[,\n]", raw) if item.strip()]


def _name_problem(name: str, comma_ok: bool = True) -> str | None:
    if not name:
        return "needs a name"
    if not name.isprintable():
        return f"name {name!r} has a control character"
    if not comma_ok and "," in name:
        return f"name '{name}' has a comma, which campaign_stage_list cannot hold"
    return None


# --- parse_ini -----------------------------------------------------------------------


def declared_experiment(text: str) -> str:
    """The experiment the file's [campaign] section names ("" when none), read as parse_ini
    reads it; a caller that must know the experiment before reading the whole file (to
    give parse_ini its `shared` names) asks this first."""
    for section in _read_sections(text, _Collector("<peek>")):
        if section.header.strip() == "campaign":
            return section.values.get("experiment", "").strip()
    return ""


def parse_ini(
    text: str, filename: str = "<upload>", shared: SharedNames | None = None
) -> tuple[CampaignSpec, list[Problem]]:
    """Read a campaign INI file: (spec, warnings), or InvalidCampaign with every problem.

    With `shared` (the job types and login setups the experiment already holds), a stage
    may name one of those without the file defining it; spec.job_types and
    spec.login_setups then hold only what the file defines, and a warning names each one
    taken from the experiment. Without it, the file must define every one its stages use.
    """
    out = _Collector(filename)
    sections = _read_sections(text, out)

    campaign: _Section | None = None
    defaults_section: _Section | None = None
    positions_section: _Section | None = None
    named: dict[str, dict[str, _Section]] = {kind: {} for kind in _NAMED_SECTIONS}

    for section in sections:
        kind, _space, rest = section.header.strip().partition(" ")
        name = rest.strip()
        if kind in _UNNAMED_SECTIONS:
            if name:
                out.problem(section.header, None,
                            f"[{kind}] takes no name: write it as [{kind}]", section.line)
            elif kind == "campaign":
                campaign = campaign or section
            elif kind == "campaign_defaults":
                defaults_section = defaults_section or section
            else:
                positions_section = positions_section or section
        elif kind in _NAMED_SECTIONS:
            reason = _name_problem(name, comma_ok=kind not in ("campaign_stage", "dependencies"))
            if reason:
                out.problem(section.header, None, f"[{kind} NAME] {reason}", section.line)
            elif name in named[kind]:
                first = named[kind][name]
                out.problem(section.header, None,
                            f"section [{kind} {name}] appears twice (lines {first.line} and "
                            f"{section.line}); merge them into one", section.line)
            else:
                named[kind][name] = section
        else:
            out.problem(section.header, None,
                        f"unknown section [{section.header}]"
                        f"{_did_you_mean(kind, _UNNAMED_SECTIONS + _NAMED_SECTIONS)}",
                        section.line)

    spec = CampaignSpec(name="")
    listed = _read_campaign(spec, campaign, defaults_section, out)
    defaults, default_lines = ({}, {})
    if defaults_section is not None:
        defaults, default_lines = _stage_values(defaults_section, out)
    spec.defaults = defaults
    for name, section in named["login_setup"].items():
        spec.login_setups[name] = _read_login_setup(name, section, out)
    for name, section in named["job_type"].items():
        spec.job_types[name] = _read_job_type(name, section, out)
    _read_stages(spec, listed, named["campaign_stage"], defaults, default_lines,
                 campaign, shared, out)
    _read_dependencies(spec, named["dependencies"], out)
    if positions_section is not None:
        _read_positions(spec, positions_section, out)
    _check_lengths(spec, campaign, defaults_section, named, out)

    def where(problem: Problem):
        return (problem.line is None, problem.line or 0)

    problems = sorted(out.problems, key=where)
    warnings = sorted(out.warnings, key=where)
    if problems:
        raise InvalidCampaign(problems, warnings)
    return spec, warnings


def _check_lengths(spec: CampaignSpec, campaign: _Section | None,
                   defaults: _Section | None, named: dict[str, dict[str, _Section]],
                   out: _Collector) -> None:
    """Every name and value longer than its database column is a problem (see MAX_LENGTHS)."""

    def check(section: _Section | None, header: str, key: str | None, value, limit: str,
              what: str | None = None) -> None:
        if not isinstance(value, str) or len(value) <= MAX_LENGTHS[limit]:
            return
        line = section.lines.get(key, section.line) if section and key else (
            section.line if section else None)
        what = what or ("the value" if key else "the name")
        out.problem(header, key, f"{what} is {len(value)} characters long; at most "
                    f"{MAX_LENGTHS[limit]} fit", line)

    check(campaign, "campaign", "name", spec.name, "campaign")
    check(campaign, "campaign", "experiment", spec.experiment, "experiment")
    for tag in spec.tags:
        check(campaign, "campaign", "tags", tag, "tag", f"tag '{tag[:20]}...'")
    stage_keys = ("vo_role", "software_version", "cs_split_type")
    for key in stage_keys:
        check(defaults, "campaign_defaults", key, spec.defaults.get(key), key)
    for stage in spec.stages:
        header = f"campaign_stage {stage.name}"
        section = named["campaign_stage"].get(stage.name)
        check(section, header, None, stage.name, "stage")
        for key in stage_keys:
            value = getattr(stage, key)
            if value != spec.defaults.get(key):  # a default's problem is told once, above
                check(section, header, key, value, key)
    for name, setup in spec.login_setups.items():
        section = named["login_setup"].get(name)
        check(section, f"login_setup {name}", None, name, "login_setup")
        check(section, f"login_setup {name}", "host", setup.host, "host")
        check(section, f"login_setup {name}", "account", setup.account, "account")
    for name in spec.job_types:
        check(named["job_type"].get(name), f"job_type {name}", None, name, "job_type")
    for dep in spec.dependencies:
        check(named["dependencies"].get(dep.child), f"dependencies {dep.child}",
              f"file_pattern_{dep.position}", dep.file_pattern, "file_pattern")


def _read_campaign(spec: CampaignSpec, section: _Section | None,
                   defaults_section: _Section | None, out: _Collector) -> list[str] | None:
    """Fill the campaign fields; return campaign_stage_list (None if not given)."""
    if section is None:
        out.problem("campaign", None, "the file has no [campaign] section; it needs one with "
                    "at least name and campaign_stage_list")
        return None
    values, lines = section.values, section.lines
    for key in values:
        if key not in CAMPAIGN_KEYS:
            out.problem("campaign", key, f"unknown key{_did_you_mean(key, CAMPAIGN_KEYS)}",
                        lines.get(key))

    spec.name = values.get("name", "").strip()
    if not spec.name:
        out.problem("campaign", "name", "the campaign needs a name",
                    lines.get("name", section.line))
    elif reason := _name_problem(spec.name):
        out.problem("campaign", "name", reason, lines.get("name"))
    spec.experiment = values.get("experiment", "").strip()

    role = values.get("poms_role", "").strip()
    if role:
        try:
            spec.poms_role = _parse_choice(role, ROLES)
        except _Bad as bad:
            out.problem("campaign", "poms_role", str(bad), lines.get("poms_role"))
    state = values.get("state", "").strip()
    if state:
        try:
            spec.state = _parse_state(state)
        except _Bad as bad:
            out.problem("campaign", "state", str(bad), lines.get("state"))

    spec.tags = list(dict.fromkeys(_list(values.get("tags", ""))))

    keywords_raw, where = values.get("campaign_keywords", ""), "campaign"
    key_line = lines.get("campaign_keywords")
    if defaults_section is not None and "campaign_keywords" in defaults_section.values:
        line = defaults_section.lines.get("campaign_keywords")
        if keywords_raw.strip():
            out.warn("campaign_defaults", "campaign_keywords",
                     "ignored: [campaign] gives campaign_keywords too", line)
        else:
            out.warn("campaign_defaults", "campaign_keywords",
                     "belongs in [campaign]; taken as the campaign's keywords", line)
            keywords_raw, where, key_line = (
                defaults_section.values["campaign_keywords"], "campaign_defaults", line)
    if keywords_raw.strip() and keywords_raw.strip() not in _NONE_WORDS:
        try:
            keywords = _json(keywords_raw)
            if not isinstance(keywords, dict) or not all(
                isinstance(v, str) for v in keywords.values()
            ):
                raise _Bad('must be a JSON object of names to text, like {"run": "1234"}, '
                           f"not {keywords_raw.strip()!r}")
            spec.keywords = keywords
        except _Bad as bad:
            out.problem(where, "campaign_keywords", str(bad), key_line)

    if "campaign_stage_list" not in values:
        out.warn("campaign", "campaign_stage_list",
                 "not given: the stages are taken in the order of their sections", section.line)
        return None
    listed = _list(values["campaign_stage_list"])
    seen: set[str] = set()
    for name in listed:
        if name in seen:
            out.problem("campaign", "campaign_stage_list", f"stage '{name}' is listed twice",
                        lines.get("campaign_stage_list"))
        seen.add(name)
    return list(dict.fromkeys(listed))


def _read_login_setup(name: str, section: _Section, out: _Collector) -> LoginSetupSpec:
    for key in section.values:
        if key not in LOGIN_SETUP_KEYS:
            out.problem(section.header, key,
                        f"unknown key{_did_you_mean(key, LOGIN_SETUP_KEYS)}",
                        section.lines.get(key))
    return LoginSetupSpec(
        name=name,
        host=section.values.get("host", "").strip(),
        account=section.values.get("account", "").strip(),
        setup=section.values.get("setup", "").strip(),
    )


def _read_job_type(name: str, section: _Section, out: _Collector) -> JobTypeSpec:
    job_type = JobTypeSpec(name=name)
    for key, raw in section.values.items():
        line = section.lines.get(key)
        if key not in JOB_TYPE_KEYS:
            out.problem(section.header, key, f"unknown key{_did_you_mean(key, JOB_TYPE_KEYS)}",
                        line)
            continue
        raw = raw.strip()
        try:
            if key == "parameters":
                job_type.parameters = _parse_pairs(raw) if raw and raw not in _NONE_WORDS else []
            elif key == "recoveries":
                job_type.recoveries = (
                    _parse_recoveries(raw) if raw and raw not in _NONE_WORDS else []
                )
            else:
                setattr(job_type, key, raw)
        except _Bad as bad:
            out.problem(section.header, key, str(bad), line)
    if not job_type.launch_script:
        out.warn(section.header, "launch_script",
                 "no launch_script: stages of this job type cannot launch", section.line)
    return job_type


def _read_stages(spec: CampaignSpec, listed: list[str] | None,
                 sections: dict[str, _Section], defaults: dict,
                 default_lines: dict[str, int], campaign: _Section | None,
                 shared: SharedNames | None, out: _Collector) -> None:
    order = list(listed) if listed is not None else list(sections)
    list_line = campaign.lines.get("campaign_stage_list") if campaign is not None else None
    for name in sections:
        if name not in order:
            order.append(name)
            if listed is not None:
                out.warn(f"campaign_stage {name}", None,
                         f"stage '{name}' is not in campaign_stage_list; it is imported "
                         "after the listed stages", sections[name].line)
    if campaign is not None and not order:
        out.problem("campaign", "campaign_stage_list",
                    "the campaign has no stages: list them here and give each a "
                    "[campaign_stage NAME] section", list_line or campaign.line)

    used_defaults: set[str] = set()
    # (key, name) -> [(stage, whether it came from [campaign_defaults], section, line)]
    from_experiment: dict[tuple[str, str], list[tuple[str, bool, str, int | None]]] = {}
    for name in order:
        header = f"campaign_stage {name}"
        section = sections.get(name)
        if section is None:
            if (reason := _name_problem(name, comma_ok=False)) is not None:
                out.problem("campaign", "campaign_stage_list", f"stage {reason}", list_line)
                continue
            if not (defaults.get("job_type") and defaults.get("login_setup")):
                out.problem("campaign", "campaign_stage_list",
                            f"stage '{name}' is listed but has no [campaign_stage {name}] "
                            "section (it could do without one only if [campaign_defaults] "
                            "gave both job_type and login_setup)"
                            f"{_did_you_mean(name, sections)}", list_line)
                continue
            out.warn("campaign", "campaign_stage_list",
                     f"stage '{name}' has no [campaign_stage {name}] section: every value "
                     "comes from [campaign_defaults]", list_line)
            own, own_lines = {}, {}
        else:
            own, own_lines = _stage_values(section, out)

        stage = StageSpec(name=name)
        for key in STAGE_KEYS:
            if key in own:
                setattr(stage, key, own[key])
            elif key in defaults:
                setattr(stage, key, copy.deepcopy(defaults[key]))
                used_defaults.add(key)
        spec.stages.append(stage)

        for key, table in (("job_type", spec.job_types),
                           ("login_setup", spec.login_setups)):
            value = getattr(stage, key)
            inherited = key not in own
            line = default_lines.get(key) if inherited else own_lines.get(key)
            if not value:
                out.problem(header, key,
                            f"the stage has no {key}: give one here or in [campaign_defaults]",
                            section.line if section is not None else list_line)
            elif value in table:
                continue
            elif shared is not None and value in _shared_names(shared, key):
                from_experiment.setdefault((key, value), []).append(
                    (name, inherited, header, line))
            else:
                source = " (from [campaign_defaults])" if inherited else ""
                out.problem(header, key, f"{_what(key)} '{value}'{source} "
                            f"{_not_found(key, value, table, shared)}", line)

    # One warning per definition taken from the experiment, where it is first named.
    for (key, value), users in from_experiment.items():
        stages = ", ".join(f"'{stage}'" for stage, _inherited, _header, _line in users)
        if any(inherited for _stage, inherited, _header, _line in users):
            where, line = "campaign_defaults", default_lines.get(key)
        else:
            where, line = users[0][2], users[0][3]
        experiment = shared.experiment if shared is not None else ""
        out.warn(where, key,
                 f"{_what(key)} '{value}' is not defined in this file: "
                 f"{'stage' if len(users) == 1 else 'stages'} {stages} will use experiment "
                 f"{experiment}'s {_what(key)} '{value}' as it is", line)

    # A default nobody uses may name a definition found nowhere: say so only.
    for key, table in (("job_type", spec.job_types), ("login_setup", spec.login_setups)):
        value = defaults.get(key)
        if (value and value not in table and key not in used_defaults
                and (shared is None or value not in _shared_names(shared, key))):
            where = ("not defined in this file" if shared is None else
                     f"defined neither in this file nor in experiment '{shared.experiment}'")
            out.warn("campaign_defaults", key,
                     f"{_what(key)} '{value}' is {where}; no stage uses this default",
                     default_lines.get(key))


def _what(key: str) -> str:
    return key.replace("_", " ")  # "job type", "login setup"


def _shared_names(shared: SharedNames, key: str) -> frozenset[str]:
    return shared.job_types if key == "job_type" else shared.login_setups


def _not_found(key: str, value: str, table: dict, shared: SharedNames | None) -> str:
    """Why a stage's job type or login setup cannot be used, and what is close to it."""
    if shared is None:
        return (f"is not defined in this file: add a [{key} {value}] section"
                f"{_did_you_mean(value, table)}")
    return (f"is defined neither in this file nor in experiment '{shared.experiment}': "
            f"add a [{key} {value}] section or name one the experiment has"
            f"{_did_you_mean_either(value, table, shared, _shared_names(shared, key))}")


def _read_dependencies(spec: CampaignSpec, sections: dict[str, _Section],
                       out: _Collector) -> None:
    stage_names = [s.name for s in spec.stages]
    found: list[DependencySpec] = []
    for child, section in sections.items():
        if child not in stage_names:
            out.problem(section.header, None,
                        f"stage '{child}' is not in this campaign"
                        f"{_did_you_mean(child, stage_names)}", section.line)
            continue
        parents: dict[int, tuple[str, int]] = {}
        patterns: dict[int, tuple[str, int]] = {}
        for key, raw in section.values.items():
            line = section.lines.get(key)
            match = _DEP_KEY.match(key)
            if not match:
                number = re.search(r"([0-9]+)$", key)
                n = number.group(1) if number else "1"
                out.problem(section.header, key,
                            "unknown key: a dependency is a campaign_stage_N = STAGE and "
                            "file_pattern_N = PATTERN pair"
                            f"{_did_you_mean(key, [f'campaign_stage_{n}', f'file_pattern_{n}'])}",
                            line)
                continue
            what, n = match.group(1), int(match.group(2))
            if n < 1:
                out.problem(section.header, key, "N in campaign_stage_N / file_pattern_N "
                            "starts at 1", line)
                continue
            table = parents if what == "campaign_stage" else patterns
            if n in table:
                out.problem(section.header, key,
                            f"{what}_{n} is given twice (lines {table[n][1]} and {line})", line)
                continue
            table[n] = (raw.strip(), line)

        seen_parents: dict[str, int] = {}
        for n in sorted(set(parents) | set(patterns)):
            if n not in patterns:
                out.problem(section.header, f"campaign_stage_{n}",
                            f"campaign_stage_{n} has no file_pattern_{n} to go with it",
                            parents[n][1])
                continue
            if n not in parents:
                out.problem(section.header, f"file_pattern_{n}",
                            f"file_pattern_{n} has no campaign_stage_{n} to go with it",
                            patterns[n][1])
                continue
            parent, line = parents[n]
            pattern, pattern_line = patterns[n]
            if parent not in stage_names:
                out.problem(section.header, f"campaign_stage_{n}",
                            f"stage '{parent}' is not in this campaign"
                            f"{_did_you_mean(parent, stage_names)}", line)
                continue
            if not pattern:
                out.problem(section.header, f"file_pattern_{n}",
                            "is empty: say which of the parent's files this stage takes, "
                            "e.g. %.root", pattern_line)
                continue
            if parent in seen_parents:
                out.problem(section.header, f"campaign_stage_{n}",
                            f"stage '{child}' already depends on '{parent}' "
                            f"(campaign_stage_{seen_parents[parent]}); one dependency per pair",
                            line)
                continue
            seen_parents[parent] = n
            found.append(DependencySpec(child=child, parent=parent, position=n,
                                        file_pattern=pattern))

    index = {name: i for i, name in enumerate(stage_names)}
    found.sort(key=lambda d: (index[d.child], d.position))
    spec.dependencies = found

    for cycle in _cycles(found, stage_names):
        path = " -> ".join(cycle + [cycle[0]])
        if len(cycle) == 1:
            reason = f"stage '{cycle[0]}' depends on itself"
        else:
            reason = f"dependency cycle: {path} (each stage waits for the one after it)"
        line = sections[cycle[0]].line if cycle[0] in sections else None
        out.problem(f"dependencies {cycle[0]}", None, reason, line)


def _cycles(dependencies: list[DependencySpec], order: list[str]) -> list[list[str]]:
    """One cycle (as a list of stages, each needing the next) per group of stages in one."""
    needs: dict[str, list[str]] = {name: [] for name in order}
    for dep in dependencies:
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


def _read_positions(spec: CampaignSpec, section: _Section, out: _Collector) -> None:
    stage_names = {s.name for s in spec.stages}
    for key, raw in section.values.items():
        line = section.lines.get(key)
        try:
            value = _json(raw)
            if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
                    and all(_is_number(v) for v in value[1:])):
                raise _Bad('must be ["stage name", x, y] with x and y numbers, '
                           f"not {raw.strip()!r}")
        except _Bad as bad:
            out.problem("node_positions", key, str(bad), line)
            continue
        name, x, y = value
        if name in spec.node_positions:
            out.problem("node_positions", key, f"stage '{name}' is placed twice", line)
            continue
        if name not in stage_names:
            out.warn("node_positions", key, f"'{name}' is not a stage of this campaign"
                     f"{_did_you_mean(name, stage_names)}; its position is kept", line)
        spec.node_positions[name] = {"x": x, "y": y}


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


# --- export_ini ----------------------------------------------------------------------


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
    if key in _PAIR_KEYS or key in ("parameters", "recoveries", "campaign_keywords"):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "True" if value else "False"
    if key in _NONE_MEANS_EMPTY and value == "":
        return "None"
    return str(value)


def export_ini(spec: CampaignSpec) -> str:
    """The campaign as INI text that parse_ini reads back to the same CampaignSpec.

    Stages carry only what differs from [campaign_defaults] (then StageSpec defaults), so
    exports stay short. A default that some stage must override with an empty value (which
    an INI stage cannot say: empty means "take the default") is left out of
    [campaign_defaults] and written in each stage instead.

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
    if spec.keywords:
        out += _write_value("campaign_keywords", _format("campaign_keywords", spec.keywords))
    if spec.tags:
        out += _write_value("tags", ", ".join(spec.tags))
    out.append("")

    defaults = {k: spec.defaults[k] for k in STAGE_KEYS if k in spec.defaults}
    for key in _PLAIN_KEYS:
        if key in defaults and (
            defaults[key] == "" or any(getattr(s, key) == "" for s in spec.stages)
        ):
            del defaults[key]
    if defaults:
        out.append("[campaign_defaults]")
        for key, value in defaults.items():
            out += _write_value(key, _format(key, value))
        out.append("")

    builtin = StageSpec(name="")
    deps_of: dict[str, list[DependencySpec]] = {}
    for dep in spec.dependencies:
        deps_of.setdefault(dep.child, []).append(dep)
    for stage in spec.stages:
        out.append(f"[campaign_stage {stage.name}]")
        for key in STAGE_KEYS:
            value = getattr(stage, key)
            if value != defaults.get(key, getattr(builtin, key)):
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


# --- diff_campaigns ------------------------------------------------------------------


CHANGE_KINDS = (
    "campaign field changed",
    "stage added",
    "stage removed",
    "field changed",
    "job type changed",
    "login setup changed",
    "dependency added",
    "dependency removed",
)


def _show(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, list | dict):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, str):
        text = repr(value)
    else:
        text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass
class Change:
    """One difference between two versions of a campaign, for a person to read.

    kind is one of CHANGE_KINDS. subject is the campaign, stage, job type or login setup
    name (for dependencies: the stage that depends). field is the key that changed (for
    dependencies: the parent stage); for a job type or login setup added or removed it is
    None and before/after is None on the missing side. used_by names the other campaigns
    that use a job type or login setup that changes (it is the experiment's, shared), when
    the caller knows them (store.upload_plan).
    """

    kind: str
    subject: str
    field: str | None = None
    before: Any = None
    after: Any = None
    used_by: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.kind == "stage added":
            return f"Stage '{self.subject}' is added."
        if self.kind == "stage removed":
            return f"Stage '{self.subject}' is removed."
        if self.kind == "field changed":
            return (f"Stage '{self.subject}': {self.field} changes from {_show(self.before)} "
                    f"to {_show(self.after)}.")
        if self.kind == "campaign field changed":
            if self.field == "node_positions":
                return f"Campaign '{self.subject}': the graph layout changes."
            return (f"Campaign '{self.subject}': {self.field} changes from "
                    f"{_show(self.before)} to {_show(self.after)}.")
        if self.kind in ("job type changed", "login setup changed"):
            what = "Job type" if self.kind == "job type changed" else "Login setup"
            if self.field is None:
                added = self.before is None
                return f"{what} '{self.subject}' is {'added' if added else 'removed'}."
            also = ""
            if self.used_by:
                names = ", ".join(f"'{name}'" for name in self.used_by)
                also = (f" (campaign {names} uses it too)" if len(self.used_by) == 1
                        else f" (campaigns {names} use it too)")
            return (f"{what} '{self.subject}': {self.field} changes from {_show(self.before)} "
                    f"to {_show(self.after)}{also}.")
        if self.kind == "dependency added":
            return (f"Stage '{self.subject}' will depend on '{self.field}' "
                    f"(files matching {self.after!r}).")
        if self.kind == "dependency removed":
            return (f"Stage '{self.subject}' will no longer depend on '{self.field}' "
                    f"(files matching {self.before!r}).")
        return f"{self.kind}: {self.subject} {self.field or ''}".strip()


def diff_campaigns(old: CampaignSpec, new: CampaignSpec) -> list[Change]:
    """What changes when `new` replaces `old`, campaign fields first, then stages,
    dependencies, job types and login setups."""
    changes: list[Change] = []
    subject = new.name or old.name

    def campaign(field: str, before: Any, after: Any) -> None:
        if before != after:
            changes.append(Change("campaign field changed", subject, field, before, after))

    campaign("name", old.name, new.name)
    campaign("experiment", old.experiment, new.experiment)
    campaign("poms_role", old.poms_role, new.poms_role)
    campaign("state", old.state, new.state)
    campaign("tags", old.tags, new.tags)
    campaign("campaign_keywords", old.keywords, new.keywords)
    for key in STAGE_KEYS:
        campaign(f"campaign_defaults {key}", old.defaults.get(key), new.defaults.get(key))
    old_names = [s.name for s in old.stages]
    new_names = [s.name for s in new.stages]
    kept_old = [n for n in old_names if n in new_names]
    kept_new = [n for n in new_names if n in old_names]
    if kept_old != kept_new:
        campaign("campaign_stage_list", ", ".join(old_names), ", ".join(new_names))
    campaign("node_positions", old.node_positions, new.node_positions)

    for name in old_names:
        if name not in new_names:
            changes.append(Change("stage removed", name))
    for stage in new.stages:
        before = old.stage(stage.name)
        if before is None:
            changes.append(Change("stage added", stage.name))
            continue
        for key in STAGE_KEYS:
            if getattr(before, key) != getattr(stage, key):
                changes.append(Change("field changed", stage.name, key,
                                      getattr(before, key), getattr(stage, key)))

    old_deps = {(d.child, d.parent): d.file_pattern for d in old.dependencies}
    new_deps = {(d.child, d.parent): d.file_pattern for d in new.dependencies}
    for (child, parent), pattern in old_deps.items():
        if new_deps.get((child, parent)) != pattern:
            changes.append(Change("dependency removed", child, parent, pattern, None))
    for (child, parent), pattern in new_deps.items():
        if old_deps.get((child, parent)) != pattern:
            changes.append(Change("dependency added", child, parent, None, pattern))

    changes += _diff_named("job type changed", old.job_types, new.job_types)
    changes += _diff_named("login setup changed", old.login_setups, new.login_setups)
    return changes


def _diff_named(kind: str, old: dict, new: dict) -> list[Change]:
    changes = []
    for name, item in old.items():
        if name not in new:
            changes.append(Change(kind, name, None, item, None))
    for name, item in new.items():
        before = old.get(name)
        if before is None:
            changes.append(Change(kind, name, None, None, item))
            continue
        for f in fields(item):
            if f.name != "name" and getattr(before, f.name) != getattr(item, f.name):
                changes.append(Change(kind, name, f.name, getattr(before, f.name),
                                      getattr(item, f.name)))
    return changes
