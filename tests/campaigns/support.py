"""Campaign files the tests share: two campaigns sharing a job type and a login setup; and
what a real campaign file needs from the experiment it is imported into."""
import configparser
import json

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


# The keys save_campaign pops from each stage merged with [campaign_defaults] with no
# fallback (form.pop(key)): a KeyError in the original when one is missing.
ORIGINAL_POPS = ("completion_pct", "completion_type", "dataset_or_split_data", "job_type",
                 "login_setup", "software_version", "vo_role")


def original_import(text: str) -> dict:
    """What the original POMS makes of an INI file: ini_to_campaign (poms_service.py) then
    save_campaign (CampaignsPOMS.py) and fixup_recoveries (MiscPOMS.py), read step by step
    from their code, without the database. Raises where they raise."""
    parser = configparser.ConfigParser(interpolation=None)  # strict, as the original's
    parser.read_string(text)
    cfg = {section: dict(parser.items(section)) for section in parser.sections()}
    name = cfg["campaign"]["name"]
    defaults = dict(cfg.get("campaign_defaults", {}))
    keywords = json.loads(defaults.pop("campaign_keywords", "") or "{}")
    stages = {}
    for section in [k for k in cfg if k.startswith("campaign_stage ")]:
        form = cfg[section]
        form = {k: (form.get(k) or defaults.get(k)) for k in set(defaults) | set(form)}
        stage = {key: form.pop(key) for key in ORIGINAL_POPS}
        stage["dataset"] = stage.pop("dataset_or_split_data")
        stage["split_type"] = form.pop("cs_split_type", None)
        stage["default_clear_cronjob"] = form.pop("default_clear_cronjob", True) not in (
            False, "False", "false")
        stage["param_overrides"] = json.loads(form.pop("param_overrides", None) or "[]")
        stage["merge_overrides"] = form.pop("merge_overrides", False) in (True, "True", "true")
        test_overrides = form.pop("test_param_overrides", None)
        stage["test_param_overrides"] = json.loads(test_overrides) if test_overrides else None
        stage["output_ancestor_depth"] = form.pop("output_ancestor_depth", 1)
        stage["stage_type"] = form.pop("stage_type", "regular")
        for column in ("vo_role", "software_version", "dataset"):  # NOT NULL columns
            assert stage[column] is not None, f"{section}: {column} would be NULL"
        stages[section.split(" ", 1)[1]] = stage
    dependencies = []
    for section in [k for k in cfg if k.startswith("dependencies ")]:
        values = cfg[section]
        for key in [k for k in values if k.startswith("campaign_stage_")]:
            suffix = key.rsplit("_", 1)[1]
            dependencies.append((section.split(" ", 1)[1], values[key],
                                 values[f"file_pattern_{suffix}"]))
    job_types = {}
    for section in [k for k in cfg if k.startswith("job_type ")]:
        form = cfg[section]
        parameters = form.get("parameters")
        recoveries = json.loads(form["recoveries"]) if form.get("recoveries") else []
        job_types[section.split(" ", 1)[1]] = {
            "launch_script": form.get("launch_script"),
            "parameters": json.loads(parameters) if parameters else None,
            "output_file_patterns": form.get("output_file_patterns"),
            "recoveries": [[entry[0], entry[1]] for entry in recoveries],
        }
    return {"name": name, "keywords": keywords, "stages": stages,
            "dependencies": dependencies, "job_types": job_types}
