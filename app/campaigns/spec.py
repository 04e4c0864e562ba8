"""A campaign as plain data: what an INI file says, before and after the database.

The importer (parse_ini, app/campaigns/ini.py) turns text into a CampaignSpec, the exporter
(export_ini) turns one back into text, and app/campaigns/store.py moves it in and out of
the models. Nothing here knows about Flask or SQLAlchemy.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# A parameter list as the original keeps it: [[key, value], ...]. A key ending in a
# space becomes two arguments at launch ("-c ", "/path"), any other key one.
Parameters = list[list[str]]
# A recovery list: [[recovery_type, parameters], ...], tried in order.
Recoveries = list[list]

# The most characters each text field holds: the lengths of its database columns
# (app/models/campaign.py, experiment.py). PostgreSQL refuses a longer value where SQLite
# would keep it, so the importer refuses it first, with the reason.
MAX_LENGTHS = {
    "experiment": 64,
    "campaign": 255,
    "tag": 64,
    "stage": 255,
    "vo_role": 64,
    "software_version": 255,
    "cs_split_type": 255,
    "completion_type": 16,
    "stage_type": 32,
    "job_type": 255,
    "login_setup": 255,
    "host": 255,
    "account": 255,
    "file_pattern": 512,
}

# The largest whole number an integer column holds (PostgreSQL's integer; SQLite's is
# larger): completion_pct, output_ancestor_depth, a dependency's N.
MAX_INTEGER = 2**31 - 1

# The most stages one campaign file may hold, unless the server says otherwise
# (POMS_MAX_STAGES): a file with more is refused before it is checked.
DEFAULT_MAX_STAGES = 500

# The values the original POMS gives a meaning to; others are kept as written (ini_values).
STAGE_TYPES = ("regular", "test", "generator", "approval", "datatransfer")
COMPLETION_TYPES = ("complete", "located")
CAMPAIGN_STATES = ("Active", "Inactive")
# Split types whose every launch takes the same input: a stage of one of these that depends
# on itself would launch forever, so chaining does not relaunch it (app/chaining/chain.py).
SAME_INPUT_SPLITS = ("none", "draining", "limitn")
ROLES = ("analysis", "production")  # poms_role of a campaign

# Every key a stage (or [campaign_defaults]) may carry, in the order the exporter writes
# them. Values are the Python types the importer produces.
STAGE_KEYS = (
    "vo_role",
    "software_version",
    "dataset_or_split_data",
    "cs_split_type",
    "completion_type",
    "completion_pct",
    "param_overrides",
    "test_param_overrides",
    "merge_overrides",
    "login_setup",
    "job_type",
    "stage_type",
    "output_ancestor_depth",
    "default_clear_cronjob",
    "state",
)


@dataclass
class LoginSetupSpec:
    name: str
    host: str = ""
    account: str = ""
    setup: str = ""


@dataclass
class JobTypeSpec:
    name: str
    launch_script: str = ""
    parameters: Parameters = field(default_factory=list)
    output_file_patterns: str = ""
    recoveries: Recoveries = field(default_factory=list)


@dataclass
class StageSpec:
    """One stage with every field resolved (its own value, else the campaign default)."""

    name: str
    vo_role: str = ""
    software_version: str = ""
    dataset_or_split_data: str = ""  # "" means none
    cs_split_type: str = ""  # "" means none
    completion_type: str = "complete"
    completion_pct: int = 95
    param_overrides: Parameters = field(default_factory=list)
    test_param_overrides: Parameters = field(default_factory=list)
    merge_overrides: bool = False
    login_setup: str = ""
    job_type: str = ""
    stage_type: str = "regular"
    output_ancestor_depth: int = 1
    default_clear_cronjob: bool = True
    state: str = ""  # "" means the campaign's state


@dataclass
class DependencySpec:
    """Stage `child` consumes the outputs of `parent` whose names match `file_pattern`."""

    child: str
    parent: str
    position: int  # the N of campaign_stage_N / file_pattern_N
    file_pattern: str


@dataclass
class CampaignSpec:
    name: str
    experiment: str = ""
    poms_role: str = "analysis"
    state: str = "Active"
    tags: list[str] = field(default_factory=list)
    keywords: dict = field(default_factory=dict)  # campaign_keywords, values as written
    # [campaign_defaults] as given (already typed); stages are stored resolved, the
    # defaults are kept so the export can write them once.
    defaults: dict = field(default_factory=dict)
    stages: list[StageSpec] = field(default_factory=list)  # in campaign_stage_list order
    dependencies: list[DependencySpec] = field(default_factory=list)
    job_types: dict[str, JobTypeSpec] = field(default_factory=dict)
    login_setups: dict[str, LoginSetupSpec] = field(default_factory=dict)
    node_positions: dict[str, dict] = field(default_factory=dict)  # [node_positions]

    def stage(self, name: str) -> StageSpec | None:
        return next((s for s in self.stages if s.name == name), None)


@dataclass(frozen=True)
class SharedNames:
    """The job types and login setups an experiment already holds, by name.

    A campaign file read against them (parse_ini's `shared`) may name one of these without
    defining it: its stages then use the experiment's definition as it is.
    """

    experiment: str
    job_types: frozenset[str] = frozenset()
    login_setups: frozenset[str] = frozenset()


@dataclass
class Problem:
    """One thing wrong with an INI file, said so a person can find and fix it."""

    file: str
    section: str | None
    key: str | None
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.line:
            where[0] = f"{self.file}:{self.line}"
        if self.section:
            where.append(f"[{_shown(self.section)}]")
        if self.key:
            where.append(_shown(self.key))
        return f"{' '.join(where)}: {_shown(self.reason)}"


def _shown(text: str) -> str:
    """Text from the file as it is, with any character that is not printable (a line break
    in a multi-line value, a paragraph separator, a right-to-left override) escaped, so
    that a problem stays on one line and reads in order."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


class InvalidCampaign(Exception):
    """Raised with every problem found, never just the first."""

    def __init__(self, problems: list[Problem], warnings: list[Problem] | None = None):
        self.problems = problems
        self.warnings = warnings or []
        super().__init__("\n".join(str(p) for p in problems))
