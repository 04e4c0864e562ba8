"""Checking a campaign INI file: sections -> CampaignSpec, with every problem and warning.

parse_ini is the one reader (app/campaigns/ini.py re-exports it). The campaign's own
sections are read here; stages and dependencies in app/campaigns/ini_stages.py, single
values in app/campaigns/ini_values.py. A problem is what the original POMS could not store
(it answers a bad file or fails writing it); a warning is what it stores but that will not
work as the file seems to mean, said before anything is written.
"""
from __future__ import annotations

from app.campaigns import ini_values as values
from app.campaigns.ini_reading import Collector, Section, did_you_mean, read_sections
from app.campaigns.ini_stages import (
    DEPENDENCY_KEY_PREFIXES,
    read_dependencies,
    read_stages,
)
from app.campaigns.spec import (
    DEFAULT_MAX_STAGES,
    MAX_LENGTHS,
    STAGE_KEYS,
    CampaignSpec,
    InvalidCampaign,
    JobTypeSpec,
    LoginSetupSpec,
    Problem,
    SharedNames,
)

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
UNNAMED_SECTIONS = ("campaign", "campaign_defaults", "node_positions")
NAMED_SECTIONS = ("campaign_stage", "dependencies", "login_setup", "job_type")
# Every key some section reads: a [DEFAULT] key outside these is read by none.
_KNOWN_KEYS = {*CAMPAIGN_KEYS, *LOGIN_SETUP_KEYS, *JOB_TYPE_KEYS, *STAGE_KEYS, "dataset"}


def declared_experiment(text: str) -> str:
    """The experiment the file's [campaign] section names ("" when none), read as parse_ini
    reads it; a caller that must know the experiment before reading the whole file (to
    give parse_ini its `shared` names) asks this first."""
    sections, _default = read_sections(text, Collector("<peek>"))
    for section in sections:
        if section.header.strip() == "campaign":
            return section.values.get("experiment", "").strip()
    return ""


def name_problem(name: str) -> str | None:
    if not name:
        return "needs a name"
    if not name.isprintable():
        return f"name {name!r} has a control character"
    return None


def parse_ini(
    text: str, filename: str = "<upload>", shared: SharedNames | None = None,
    max_stages: int = DEFAULT_MAX_STAGES,
) -> tuple[CampaignSpec, list[Problem]]:
    """Read a campaign INI file: (spec, warnings), or InvalidCampaign with every problem.

    With `shared` (the job types and login setups the experiment already holds), a stage
    may name one of those without the file defining it; spec.job_types and
    spec.login_setups then hold only what the file defines, and a warning names each one
    taken from the experiment. Without it, the file must define every one its stages use.
    A file with more than `max_stages` stages is refused before it is checked further.
    """
    out = Collector(filename)
    # A header at the start of a line is always one (configparser): counting those first
    # refuses a huge file before reading it.
    _refuse_over(sum(1 for line in text.splitlines()
                     if line.startswith("[campaign_stage ") and line.rstrip().endswith("]")),
                 max_stages, out)
    sections, default = read_sections(text, out)
    campaign, defaults_section, positions_section, named = _classify(sections, out)
    _refuse_over(len(named["campaign_stage"]), max_stages, out)

    spec = CampaignSpec(name="")
    listed = _read_campaign(spec, campaign, defaults_section, out)
    for name, section in named["login_setup"].items():
        spec.login_setups[name] = _read_login_setup(name, section, out)
    for name, section in named["job_type"].items():
        spec.job_types[name] = _read_job_type(name, section, out)
    read_stages(spec, listed, named["campaign_stage"], defaults_section, campaign, shared,
                out)
    read_dependencies(spec, named["dependencies"], named["campaign_stage"], out)
    if positions_section is not None:
        _read_positions(spec, positions_section, out)
    _check_lengths(spec, campaign, named, out)
    if default is not None:
        for key in default.values:
            if key not in _KNOWN_KEYS and not key.startswith(DEPENDENCY_KEY_PREFIXES):
                out.warn("DEFAULT", key, f"unknown key: no section reads it, so it is ignored"
                         f"{did_you_mean(key, _KNOWN_KEYS)}", default.lines.get(key))

    def where(problem: Problem):
        return (problem.line is None, problem.line or 0)

    problems = sorted(out.problems, key=where)
    warnings = sorted(out.warnings, key=where)
    if problems:
        raise InvalidCampaign(problems, warnings)
    return spec, warnings


def _refuse_over(stages: int, max_stages: int, out: Collector) -> None:
    if stages > max_stages:
        out.problem(None, None, f"the file has {stages} [campaign_stage NAME] sections; at "
                    f"most {max_stages} stages are allowed in one campaign (the server's "
                    "POMS_MAX_STAGES)")
        raise InvalidCampaign(out.problems, out.warnings)


def _classify(sections: list[Section], out: Collector):
    """(campaign, campaign_defaults, node_positions, {kind: {name: section}}). As in the
    original, a section it does not read is ignored: a warning says so."""
    campaign = defaults = positions = None
    named: dict[str, dict[str, Section]] = {kind: {} for kind in NAMED_SECTIONS}
    for section in sections:
        kind, _space, rest = section.header.strip().partition(" ")
        name = rest.strip()
        if kind in UNNAMED_SECTIONS and not name:
            if kind == "campaign":
                campaign = section
            elif kind == "campaign_defaults":
                defaults = section
            else:
                positions = section
        elif kind in UNNAMED_SECTIONS:
            out.warn(section.header, None, f"[{kind}] takes no name, so this section is "
                     f"ignored: write it as [{kind}]", section.line)
        elif kind in NAMED_SECTIONS and not name:
            out.warn(section.header, None, f"[{kind}] has no name, so this section is "
                     f"ignored: write it as [{kind} NAME]", section.line)
        elif kind in NAMED_SECTIONS:
            if reason := name_problem(name):
                out.problem(section.header, None, f"[{kind} NAME] {reason}", section.line)
            elif name in named[kind]:
                first = named[kind][name]
                out.problem(section.header, None,
                            f"section [{kind} {name}] appears twice (lines {first.line} and "
                            f"{section.line}); merge them into one", section.line)
            else:
                named[kind][name] = section
        else:
            choices = UNNAMED_SECTIONS + NAMED_SECTIONS
            out.warn(section.header, None,
                     f"unknown section [{section.header}], ignored"
                     f"{did_you_mean(kind, choices) or did_you_mean(kind.lower(), choices)}",
                     section.line)
    return campaign, defaults, positions, named


def _unknown_keys(section: Section, known, out: Collector, also=()) -> None:
    """A key the original does not read is ignored by it: a warning here."""
    for key in section.values:
        if key not in known and key not in also and key not in section.inherited:
            out.warn(section.header, key, f"unknown key, ignored{did_you_mean(key, known)}",
                     section.lines.get(key))


def _list(raw: str) -> list[str]:
    return [item.strip() for item in raw.replace("\n", ",").split(",") if item.strip()]


def _read_campaign(spec: CampaignSpec, section: Section | None,
                   defaults_section: Section | None, out: Collector) -> list[str] | None:
    """Fill the campaign fields; return campaign_stage_list as written (None if not given).

    The original's importer reads only `name` here (and campaign_keywords from
    [campaign_defaults]); the other keys are ours, read leniently.
    """
    if section is None:
        out.problem("campaign", None, "the file has no [campaign] section; it needs one with "
                    "at least name (the original POMS refuses such a file too)")
        return None
    raw, lines = section.values, section.lines
    _unknown_keys(section, CAMPAIGN_KEYS, out)

    spec.name = raw.get("name", "").strip()
    if not spec.name:
        out.problem("campaign", "name", "the campaign needs a name",
                    lines.get("name", section.line))
    elif reason := name_problem(spec.name):
        out.problem("campaign", "name", reason, lines.get("name"))
    spec.experiment = raw.get("experiment", "").strip()
    if raw.get("poms_role", "").strip():
        spec.poms_role, said = values.poms_role(raw["poms_role"])
        for reason in said:
            out.warn("campaign", "poms_role", reason, lines.get("poms_role"))
    if raw.get("state", "").strip():
        state, said = values.state(raw["state"], "the campaign is Active")
        spec.state = state or "Active"
        for reason in said:
            out.warn("campaign", "state", reason, lines.get("state"))
    # Tags have no order: kept sorted, as the campaign gives them back (Campaign.tags).
    spec.tags = sorted(set(_list(raw.get("tags", ""))))
    _read_keywords(spec, section, defaults_section, out)
    if "campaign_stage_list" not in raw:
        return None
    return _list(raw["campaign_stage_list"])


def _read_keywords(spec: CampaignSpec, section: Section,
                   defaults_section: Section | None, out: Collector) -> None:
    """campaign_keywords: the original's importer reads them from [campaign_defaults] (its
    exporter writes them in [campaign]); either is taken, [campaign_defaults] first."""
    given = []
    for where in (defaults_section, section):
        if where is not None and where.values.get("campaign_keywords", "").strip() not in (
                "", *values.NONE_WORDS):
            given.append(where)
    if not given:
        return
    where = given[0]
    line = where.lines.get("campaign_keywords")
    try:
        keywords = values.load_json(where.values["campaign_keywords"])
        if not isinstance(keywords, dict):
            raise values.Bad('must be a JSON object of names to values, like {"run": "1234"}, '
                             f"not {where.values['campaign_keywords'].strip()!r}")
    except values.Bad as bad:
        out.problem(where.header, "campaign_keywords", str(bad), line)
        return
    spec.keywords = keywords
    if len(given) == 2 and given[1].values["campaign_keywords"].strip() != \
            where.values["campaign_keywords"].strip():
        out.warn("campaign", "campaign_keywords", "ignored: [campaign_defaults] gives "
                 "campaign_keywords too, and that is where the original POMS reads them",
                 section.lines.get("campaign_keywords"))


def _read_login_setup(name: str, section: Section, out: Collector) -> LoginSetupSpec:
    _unknown_keys(section, LOGIN_SETUP_KEYS, out)
    return LoginSetupSpec(
        name=name,
        host=section.values.get("host", "").strip(),
        account=section.values.get("account", "").strip(),
        setup=section.values.get("setup", "").strip(),
    )


def _read_job_type(name: str, section: Section, out: Collector) -> JobTypeSpec:
    _unknown_keys(section, JOB_TYPE_KEYS, out)
    job_type = JobTypeSpec(name=name)
    for key in JOB_TYPE_KEYS:
        raw = section.values.get(key, "").strip()
        line = section.lines.get(key)
        try:
            if key in ("parameters", "recoveries"):
                if raw and raw not in values.NONE_WORDS:
                    check = values.parameter_list if key == "parameters" else values.recoveries
                    value, said = check(raw)
                    setattr(job_type, key, value)
                    for reason in said:
                        out.warn(section.header, key, reason, line)
            else:
                setattr(job_type, key, raw)
        except values.Bad as bad:
            out.problem(section.header, key, str(bad), line)
    if not job_type.launch_script:
        out.warn(section.header, "launch_script",
                 "no launch_script: stages of this job type cannot launch", section.line)
    return job_type


def _read_positions(spec: CampaignSpec, section: Section, out: Collector) -> None:
    """[node_positions]: ours (the original's importer ignores it). nxyN = ["stage", x, y]."""
    stage_names = {s.name for s in spec.stages}
    for key, raw in section.values.items():
        if key in section.inherited:
            continue
        line = section.lines.get(key)
        try:
            value = values.load_json(raw)
            if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
                    and all(values.is_number(v) for v in value[1:])):
                raise values.Bad('must be ["stage name", x, y] with x and y numbers, '
                                 f"not {raw.strip()!r}")
        except values.Bad as bad:
            out.problem("node_positions", key, str(bad), line)
            continue
        name, x, y = value
        if name in spec.node_positions:
            out.problem("node_positions", key, f"stage '{name}' is placed twice", line)
            continue
        if name not in stage_names:
            out.warn("node_positions", key, f"'{name}' is not a stage of this campaign"
                     f"{did_you_mean(name, stage_names)}; its position is kept", line)
        spec.node_positions[name] = {"x": x, "y": y}


def _check_lengths(spec: CampaignSpec, campaign: Section | None,
                   named: dict[str, dict[str, Section]], out: Collector) -> None:
    """Every name and value longer than its database column is a problem (see MAX_LENGTHS)."""

    def check(section: Section | None, header: str, key: str | None, value, limit: str,
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
    told: set[tuple[str, str]] = set()  # a value from [campaign_defaults] is told once
    for stage in spec.stages:
        header = f"campaign_stage {stage.name}"
        section = named["campaign_stage"].get(stage.name)
        check(section, header, None, stage.name, "stage")
        for key in ("vo_role", "software_version", "cs_split_type", "completion_type",
                    "stage_type"):
            value = getattr(stage, key)
            if (key, value) not in told:
                told.add((key, value))
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
