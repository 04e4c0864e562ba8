"""Campaign files the tests share: two campaigns sharing a job type and a login setup; and
what a real campaign file needs from the experiment it is imported into."""
import configparser

# "maker" defines the experiment's mc_jt and mc_ls; "user" uses both without defining them.
MAKER = """\
[campaign]
experiment = mu2e
name = maker
campaign_stage_list = gen

[campaign_defaults]
login_setup = mc_ls
job_type = mc_jt

[campaign_stage gen]
dataset_or_split_data = input_ds

[login_setup mc_ls]
host = pomsgpvm01.fnal.gov
account = mu2epro
setup = setup fife_utils

[job_type mc_jt]
launch_script = fife_launch
parameters = [["-c ", "mc.cfg"]]
output_file_patterns = %.art
"""

USER = """\
[campaign]
experiment = mu2e
name = user
campaign_stage_list = sim, reco

[campaign_defaults]
login_setup = mc_ls

[campaign_stage sim]
job_type = mc_jt

[campaign_stage reco]
job_type = reco_jt

[dependencies reco]
campaign_stage_1 = sim
file_pattern_1 = %.art

[job_type reco_jt]
launch_script = fife_launch
"""


def names_used_not_defined(text: str) -> tuple[set[str], set[str]]:
    """(job types, login setups) the file's stages and [campaign_defaults] name but its
    sections do not define: what the production experiment already holds. Read with the
    original's own parser (ConfigParser, interpolation off), apart from the importer."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string(text)
    used: dict[str, set[str]] = {"job_type": set(), "login_setup": set()}
    defined: dict[str, set[str]] = {"job_type": set(), "login_setup": set()}
    for section in parser.sections():
        kind, _space, name = section.partition(" ")
        if kind in defined:
            defined[kind].add(name.strip())
        if kind == "campaign_stage" or section == "campaign_defaults":
            for key in used:
                if parser.get(section, key, fallback="").strip():
                    used[key].add(parser.get(section, key).strip())
    return (used["job_type"] - defined["job_type"],
            used["login_setup"] - defined["login_setup"])


def has_campaign_section(text: str) -> bool:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read_string(text)
    return parser.has_section("campaign")
