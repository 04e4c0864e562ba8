"""parse_ini: the real POMS sample files import unchanged; bad files say what and where."""
from pathlib import Path
from textwrap import dedent

import pytest

from app.campaigns.ini import Change, declared_experiment, diff_campaigns, parse_ini
from app.campaigns.spec import InvalidCampaign, Problem, SharedNames

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "examples"
# The original POMS's own samples and the tutorial: complete files that import with no
# warning. (Mu2e's production files are in test_real_files.py.)
SAMPLE_FILES = sorted([EXAMPLES / "mu2e_reco_tutorial.ini",
                       *(EXAMPLES / "poms-samples").glob("*.ini")])


def load(name: str):
    path = EXAMPLES / name
    return parse_ini(path.read_text(), str(path))


def problems(text: str) -> list[Problem]:
    with pytest.raises(InvalidCampaign) as err:
        parse_ini(dedent(text), "bad.ini")
    assert err.value.problems, "InvalidCampaign without problems"
    return err.value.problems


def only(found: list[Problem], section, key) -> Problem:
    matching = [p for p in found if p.section == section and p.key == key]
    assert len(matching) == 1, f"expected one problem at [{section}] {key}, got {found}"
    return matching[0]


# A small valid campaign; the tests below each break one thing in it.
GOOD = """\
[campaign]
experiment = samdev
poms_role = analysis
name = demo
campaign_stage_list = gen, reco

[campaign_defaults]
vo_role = Analysis
software_version = v1_0
login_setup = ls
job_type = jt

[campaign_stage gen]
dataset_or_split_data = input_ds
cs_split_type = nfiles(10)

[campaign_stage reco]
dataset_or_split_data = from_parent

[dependencies reco]
campaign_stage_1 = gen
file_pattern_1 = %.root

[login_setup ls]
host = pomsgpvm01.fnal.gov
account = poms_launcher
setup = setup fife_utils

[job_type jt]
launch_script = fife_launch -c generic.cfg
parameters = []
output_file_patterns = %.root
recoveries = [["consumed_status", []]]
"""


def test_good_base_file_is_valid():
    spec, warnings = parse_ini(GOOD, "good.ini")
    assert warnings == []
    assert [s.name for s in spec.stages] == ["gen", "reco"]


# --- the real examples -----------------------------------------------------------------


def test_the_six_samples_are_found():
    names = {p.name for p in SAMPLE_FILES}
    assert names >= {
        "mu2e_reco_tutorial.ini", "generic_analysis.ini", "sample_mc.ini",
        "sample_reco.ini", "sample_split_merge.ini", "test_mock_campaign_1.ini",
    }


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_example_imports_with_no_problems_or_warnings(path):
    spec, warnings = parse_ini(path.read_text(), str(path))
    assert warnings == []
    assert spec.stages
    for stage in spec.stages:
        assert stage.job_type in spec.job_types
        assert stage.login_setup in spec.login_setups


def test_tutorial_values():
    spec, _ = load("mu2e_reco_tutorial.ini")
    assert (spec.experiment, spec.poms_role, spec.name, spec.state) == (
        "mu2e", "analysis", "srsoleti_tutorial", "Active")
    reco_fcl, reco = spec.stages
    assert (reco_fcl.name, reco.name) == ("reco_fcl", "reco")
    # reco_fcl overrides the default job type, reco takes it from [campaign_defaults]
    assert reco_fcl.job_type == "generate_fcl_reco_srsoleti_jobtype"
    assert reco.job_type == "mu2e_reco_srsoleti_jobtype"
    assert reco.login_setup == "srsoleti_poms_login"
    assert reco.completion_pct == 100
    assert reco.software_version == "MDC2020t"
    assert reco.dataset_or_split_data == "" and reco.cs_split_type == ""
    assert reco.param_overrides == [["--stage ", "reco"]]
    assert reco.merge_overrides is False
    # "[]" written with quotes in the defaults is an empty list
    assert spec.defaults["param_overrides"] == []
    assert spec.defaults["completion_pct"] == 100
    assert [(d.child, d.parent, d.position, d.file_pattern) for d in spec.dependencies] == [
        ("reco", "reco_fcl", 1, "%.fcl")]
    job_type = spec.job_types["mu2e_reco_srsoleti_jobtype"]
    assert job_type.parameters == [["-c ", "/mu2e/app/users/srsoleti/tutorial/reco.cfg"]]
    assert job_type.output_file_patterns == "%.art"
    # launch-time substitutions stay as written
    assert job_type.recoveries == [["proj_status", [["-Osubmit.dataset=", "%(dataset)s"]]]]
    assert spec.login_setups["srsoleti_poms_login"].setup == (
        "setup fife_utils v3_5_0, poms_client, poms_jobsub_wrapper;")


def test_sample_mc_without_defaults_and_with_old_dataset_key():
    spec, _ = load("poms-samples/sample_mc.ini")
    assert spec.defaults == {}
    assert spec.poms_role == "analysis"  # not given: the default
    assert [s.name for s in spec.stages] == [
        "sample_gen", "sample_g4", "sample_detsim", "sample_reco", "sample_anatree"]
    gen, g4 = spec.stages[:2]
    assert gen.dataset_or_split_data == ""  # dataset=None
    assert g4.dataset_or_split_data == "from_parent"  # dataset=from_parent
    assert gen.state == "Inactive"
    assert gen.vo_role == "Production"
    assert g4.param_overrides == [["--stage=", "g4"], ["-Oglobal.sam_dataset=", "%(dataset)s"]]
    assert [(d.child, d.parent, d.file_pattern) for d in spec.dependencies] == [
        ("sample_g4", "sample_gen", "gen%%.root"),
        ("sample_detsim", "sample_g4", "g4%%.root"),
        ("sample_reco", "sample_detsim", "detsim%%.root"),
        ("sample_anatree", "sample_reco", "reco%%.root"),
    ]
    assert spec.login_setups["generic"].host == "%(experiment)sgpvm01.fnal.gov"
    assert spec.job_types["generic"].output_file_patterns == "%%.root"
    assert spec.job_types["generic"].recoveries == []


def test_split_types_in_samples():
    reco_spec, _ = load("poms-samples/sample_reco.ini")
    assert reco_spec.stage("sample_reco").cs_split_type == "nfiles(10000)"
    assert reco_spec.stage("sample_reco").dataset_or_split_data == "draining_production_reco_v1_0"
    merge_spec, _ = load("poms-samples/sample_split_merge.ini")
    assert merge_spec.name == "samples/sample_split_merge.ini"
    assert merge_spec.stage("sample_merge_triga").cs_split_type == ""  # cs_split_type=none
    patterns = {d.child: d.file_pattern for d in merge_spec.dependencies}
    assert patterns["sample_merge_trigc"] == "%%trigc%%"
    assert len(merge_spec.dependencies) == 6


def test_mock_campaign_odd_launch_script_kept_verbatim():
    spec, _ = load("poms-samples/test_mock_campaign_1.ini")
    job_type = spec.job_types["test_launch_mock_job_generic"]
    assert job_type.launch_script == (
        "cd $POMS_DIR; nohup python ./test/mock_job.py --campaign_id $POMS_CAMPAIGN_ID -N 3 "
        "-D %%(dataset)s --wait > /tmp/launch$$ 2>&1 & echo $!")
    assert job_type.output_file_patterns == "%%"
    assert spec.login_setups["test_mock_generic"].host == "`hostname`"
    assert spec.login_setups["test_mock_generic"].account == "$USER"
    assert spec.dependencies[0].file_pattern == "%%%%"
    assert spec.poms_role == "production"


def test_generic_analysis_name_with_slash_and_dot():
    spec, _ = load("poms-samples/generic_analysis.ini")
    assert spec.name == "samples/generic_analysis.ini"
    (stage,) = spec.stages
    assert stage.completion_type == "located"
    assert stage.dataset_or_split_data == "my_data_1"
    assert ["-Oglobal.dest=", "/pnfs/%(experiment)s/scratch/users/%(experimenter)s/output"] in (
        stage.param_overrides)
    assert spec.job_types["generic_analysis_job"].recoveries == [["consumed_status", []]]


# --- reading: syntax, duplicates -----------------------------------------------------------


def test_line_outside_any_section():
    found = problems("experiment = mu2e\n" + GOOD)
    problem = only(found, None, None)
    assert problem.line == 1
    assert "outside any section" in problem.reason and "experiment = mu2e" in problem.reason


def test_unreadable_line_inside_a_section():
    text = GOOD.replace("[campaign_stage reco]\n", "[campaign_stage reco]\nthis is not a key\n")
    found = problems(text)
    problem = only(found, None, None)
    assert problem.line == GOOD.splitlines().index("[campaign_stage reco]") + 2
    assert "cannot read this line" in problem.reason and "this is not a key" in problem.reason


def test_duplicate_key_is_a_problem_with_both_lines():
    text = GOOD.replace("[campaign_stage gen]\n",
                        "[campaign_stage gen]\nvo_role = A\nvo_role = B\n")
    found = problems(text)
    problem = only(found, "campaign_stage gen", "vo_role")
    first = GOOD.splitlines().index("[campaign_stage gen]") + 2
    assert problem.line == first + 1
    assert f"given twice (lines {first} and {first + 1})" in problem.reason


def test_duplicate_section_is_a_problem_with_both_lines():
    text = GOOD + "\n[campaign_stage gen]\nsoftware_version = v2\n"
    found = problems(text)
    problem = only(found, "campaign_stage gen", None)
    first = GOOD.splitlines().index("[campaign_stage gen]") + 1
    second = len(GOOD.splitlines()) + 2
    assert problem.line == second
    assert f"appears twice (lines {first} and {second})" in problem.reason


def warned(text: str, section, key) -> Problem:
    """The one warning parse_ini gives at [section] key (the file imports)."""
    _spec, warnings = parse_ini(dedent(text), "good.ini")
    return only(warnings, section, key)


def test_unknown_section_is_ignored_with_a_warning_suggesting_the_right_one():
    """The original (ini_to_campaign, webservice/poms_service.py) reads only the sections it
    knows: any other is ignored. Here too, with a warning and a suggestion."""
    text = GOOD + "\n[campain_stage extra]\njob_type = jt\n"
    spec, warnings = parse_ini(text, "good.ini")
    assert [s.name for s in spec.stages] == ["gen", "reco"]
    warning = only(warnings, "campain_stage extra", None)
    assert "unknown section [campain_stage extra], ignored" in warning.reason
    assert "did you mean 'campaign_stage'?" in warning.reason


@pytest.mark.parametrize(
    "section, line, misspelt, suggestion",
    [
        ("campaign_stage gen", "[campaign_stage gen]", "completion_prc = 90", "completion_pct"),
        ("campaign_defaults", "[campaign_defaults]", "software_versoin = v2", "software_version"),
        ("campaign", "[campaign]", "stage = Active", "state"),
        ("job_type jt", "[job_type jt]", "launch_scrpit = x", "launch_script"),
        ("login_setup ls", "[login_setup ls]", "acount = me", "account"),
        ("dependencies reco", "[dependencies reco]", "file_patern_1 = %.x", "file_pattern_1"),
    ],
)
def test_misspelt_key_is_ignored_with_a_warning_and_did_you_mean(section, line, misspelt,
                                                                  suggestion):
    """save_campaign (webservice/CampaignsPOMS.py) pops the keys it knows and ignores the
    rest; so does ini_to_campaign for [dependencies] keys other than campaign_stage_N.
    Here an unknown key is a warning, with the key it is close to."""
    text = GOOD.replace(line + "\n", f"{line}\n{misspelt}\n")
    key = misspelt.split(" = ")[0]
    warning = warned(text, section, key)
    assert warning.reason.startswith("unknown key")
    assert f"did you mean '{suggestion}'?" in warning.reason
    assert warning.line == GOOD.splitlines().index(line) + 2


def test_problem_text_names_file_line_section_and_key():
    text = GOOD.replace("cs_split_type = nfiles(10)", "completion_pct = ten")
    problem = only(problems(text), "campaign_stage gen", "completion_pct")
    line = GOOD.splitlines().index("cs_split_type = nfiles(10)") + 1
    assert str(problem).startswith(f"bad.ini:{line} [campaign_stage gen] completion_pct: ")
    assert "must be a whole number (a percentage), not 'ten'" in str(problem)


# --- values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key_value, reason",
    [
        ("completion_pct = 95%", "must be a whole number (a percentage), not '95%'"),
        ("completion_pct = 99.5", "must be a whole number (a percentage), not '99.5'"),
        ("output_ancestor_depth = two", "must be a whole number, not 'two'"),
        ("param_overrides = [[\"-c\", \"x\"]", "is not valid JSON"),
        ("test_param_overrides = {\"a\": \"b\"}", "must be a JSON list of [key, value] pairs"),
    ],
)
def test_bad_stage_value_names_stage_key_and_reason(key_value, reason):
    """What the original cannot store is refused: save_campaign json.loads the parameter
    lists, and completion_pct and output_ancestor_depth are number columns
    (webservice/poms_model.py); a list is what its launch_jobs merges."""
    text = GOOD.replace("[campaign_stage reco]\n", f"[campaign_stage reco]\n{key_value}\n")
    key = key_value.split(" = ")[0]
    problem = only(problems(text), "campaign_stage reco", key)
    assert reason in problem.reason
    assert problem.line == GOOD.splitlines().index("[campaign_stage reco]") + 2


@pytest.mark.parametrize(
    "key_value, field, kept, reason",
    [
        ("completion_type = done", "completion_type", "done",
         "neither 'complete' nor 'located'"),
        ("completion_pct = 101", "completion_pct", 101, "not a percentage from 0 to 100"),
        ("completion_pct = -1", "completion_pct", -1, "Located as soon as it has outputs"),
        ("stage_type = weird", "stage_type", "weird", "behaves as a regular one"),
        ("output_ancestor_depth = -2", "output_ancestor_depth", -2, "acts as 0"),
        ("merge_overrides = maybe", "merge_overrides", False, "read as False"),
        ("default_clear_cronjob = 2", "default_clear_cronjob", True, "read as True"),
        ("state = Paused", "state", "", "neither Active nor Inactive: ignored"),
        ("cs_split_type = bogus(3)", "cs_split_type", "bogus(3)", "unknown split type 'bogus'"),
        ("cs_split_type = byrun(low=1,hgh=5)", "cs_split_type", "byrun(low=1,hgh=5)",
         "has no argument 'hgh' (did you mean 'high'?)"),
        ('param_overrides = [["-c", 3]]', "param_overrides", [["-c", 3]],
         "every launch that uses it fails"),
        ('param_overrides = [["-c"]]', "param_overrides", [["-c"]],
         "is not a [key, value] pair of two strings"),
    ],
)
def test_values_the_original_stores_are_kept_with_a_warning(key_value, field, kept, reason):
    """save_campaign (webservice/CampaignsPOMS.py) stores these text columns as written and
    reads the booleans with `in (True, "True", "true")` / `not in (False, "False",
    "false")`; they fail or surprise only later, so they are kept and the warning says
    what will happen."""
    text = GOOD.replace("[campaign_stage reco]\n", f"[campaign_stage reco]\n{key_value}\n")
    key = key_value.split(" = ")[0]
    spec, warnings = parse_ini(text, "good.ini")
    assert getattr(spec.stage("reco"), field) == kept
    warning = only(warnings, "campaign_stage reco", key)
    assert reason in warning.reason
    assert warning.line == GOOD.splitlines().index("[campaign_stage reco]") + 2


def test_bad_default_value_is_reported_once_naming_the_stages_that_take_it():
    """save_campaign merges each stage with [campaign_defaults] (form.get(k) or
    defaults.get(k)) before it reads a value: a bad default fails for the stages that
    take it, told once."""
    text = GOOD.replace("vo_role = Analysis", "completion_pct = lots")
    problem = only(problems(text), "campaign_defaults", "completion_pct")
    assert "not 'lots' (stages 'gen', 'reco' take this default)" in problem.reason


def test_quoted_json_lists_are_accepted():
    text = GOOD.replace(
        "[campaign_stage gen]\n",
        "[campaign_stage gen]\nparam_overrides = '[[\"-N\", \"5\"]]'\n"
        "test_param_overrides = \"[]\"\n")
    spec, _ = parse_ini(text)
    assert spec.stage("gen").param_overrides == [["-N", "5"]]
    assert spec.stage("gen").test_param_overrides == []


def test_values_keep_percent_signs_and_semicolons():
    text = GOOD.replace(
        "[campaign_stage gen]\n",
        '[campaign_stage gen]\nparam_overrides = [["-Oglobal.x=", "%(dataset)s;%%d 100%"]]\n')
    spec, _ = parse_ini(text)
    assert spec.stage("gen").param_overrides == [["-Oglobal.x=", "%(dataset)s;%%d 100%"]]


def test_booleans_read_as_the_original_reads_them():
    """save_campaign: merge_overrides is on only for True/true; default_clear_cronjob is
    off only for False/false. Other words read the same way, with a warning where that is
    not what the word says."""
    for word, expected, warns in [("True", True, False), ("true", True, False),
                                  ("false", False, False), ("no", False, False),
                                  ("yes", False, True), ("1", False, True),
                                  ("TRUE", False, True)]:
        text = GOOD.replace("[campaign_stage gen]\n",
                            f"[campaign_stage gen]\nmerge_overrides = {word}\n")
        spec, warnings = parse_ini(text)
        assert spec.stage("gen").merge_overrides is expected, word
        assert bool(warnings) is warns, word
    for word, expected in [("False", False), ("false", False), ("no", True), ("0", True)]:
        text = GOOD.replace("[campaign_stage gen]\n",
                            f"[campaign_stage gen]\ndefault_clear_cronjob = {word}\n")
        assert parse_ini(text)[0].stage("gen").default_clear_cronjob is expected, word


def test_stage_state_true_false_as_the_original_took_them():
    text = GOOD.replace("[campaign_stage gen]\n", "[campaign_stage gen]\nstate = true\n")
    assert parse_ini(text)[0].stage("gen").state == "Active"
    text = GOOD.replace("[campaign_stage gen]\n", "[campaign_stage gen]\nstate = False\n")
    assert parse_ini(text)[0].stage("gen").state == "Inactive"


def test_none_overrides_a_default_dataset_but_empty_takes_it():
    text = GOOD.replace("job_type = jt\n\n", "job_type = jt\ndataset_or_split_data = base_ds\n"
                        "cs_split_type = mod(3)\n\n", 1)
    text = text.replace("dataset_or_split_data = input_ds\ncs_split_type = nfiles(10)",
                        "dataset_or_split_data = None\ncs_split_type = none")
    text = text.replace("dataset_or_split_data = from_parent", "dataset_or_split_data =")
    spec, _ = parse_ini(text)
    assert spec.stage("gen").dataset_or_split_data == ""
    assert spec.stage("gen").cs_split_type == ""
    assert spec.stage("reco").dataset_or_split_data == "base_ds"
    assert spec.stage("reco").cs_split_type == "mod(3)"


def test_old_dataset_key_beside_the_new_one_is_ignored_with_a_warning():
    """save_campaign reads dataset_or_split_data only; an older `dataset` key beside it is
    ignored."""
    text = GOOD.replace("[campaign_stage gen]\n", "[campaign_stage gen]\ndataset = other\n")
    spec, warnings = parse_ini(text)
    assert spec.stage("gen").dataset_or_split_data == "input_ds"
    warning = only(warnings, "campaign_stage gen", "dataset")
    assert "older name of 'dataset_or_split_data'" in warning.reason


def test_stages_do_not_share_default_lists():
    text = GOOD.replace("vo_role = Analysis", 'vo_role = Analysis\nparam_overrides = [["-a", "1"]]')
    spec, _ = parse_ini(text)
    spec.stage("gen").param_overrides.append(["-b", "2"])
    assert spec.stage("reco").param_overrides == [["-a", "1"]]
    assert spec.defaults["param_overrides"] == [["-a", "1"]]


def test_none_is_kept_as_written_except_where_it_means_nothing():
    """save_campaign stores the text it is given: vo_role = None is the text None (POMS's
    own export writes vo_role=None when its defaults lack one, and the original stores
    it). completion_pct is a number column, which cannot hold None: it counts as not
    given."""
    text = GOOD.replace("vo_role = Analysis", "vo_role = None\ncompletion_pct = None")
    spec, warnings = parse_ini(text)
    assert spec.defaults["vo_role"] == "None" and "completion_pct" not in spec.defaults
    assert spec.stage("gen").vo_role == "None"
    assert spec.stage("gen").completion_pct == 95
    assert {(w.section, w.key) for w in warnings} == {("campaign_defaults", "vo_role"),
                                                     ("campaign_defaults", "completion_pct")}


def test_multiline_setup_survives():
    text = GOOD.replace(
        "setup = setup fife_utils\n",
        "setup = source /cvmfs/setup.sh\n    setup fife_utils v3_5_0\n\n    kx509 --minhours 1\n")
    spec, _ = parse_ini(text)
    assert spec.login_setups["ls"].setup == (
        "source /cvmfs/setup.sh\nsetup fife_utils v3_5_0\n\nkx509 --minhours 1")


def test_split_type_is_stored_canonical():
    text = GOOD.replace("cs_split_type = nfiles(10)", "cs_split_type = byrun( high=9 , low=2 )")
    spec, _ = parse_ini(text)
    assert spec.stage("gen").cs_split_type == "byrun(low=2,high=9)"


# --- campaign section ----------------------------------------------------------------


def test_missing_campaign_section():
    text = GOOD.split("[campaign_defaults]")[1]
    found = problems("[campaign_defaults]" + text)
    problem = only(found, "campaign", None)
    assert "no [campaign] section" in problem.reason


def test_campaign_without_stages():
    text = GOOD.split("[campaign_stage gen]")[0].replace("campaign_stage_list = gen, reco\n", "")
    text += "[login_setup ls]\n[job_type jt]\nlaunch_script = x\n"
    problem = only(problems(text), "campaign", "campaign_stage_list")
    assert "the campaign has no stages" in problem.reason


def test_missing_campaign_name():
    problem = only(problems(GOOD.replace("name = demo\n", "")), "campaign", "name")
    assert "needs a name" in problem.reason


@pytest.mark.parametrize(
    "old, new, key, reason",
    [
        ("name = demo", "name = demo\ncampaign_keywords = {a}", "campaign_keywords",
         "is not valid JSON"),
        ("name = demo", "name = demo\ncampaign_keywords = [1]", "campaign_keywords",
         "must be a JSON object of names to values"),
    ],
)
def test_bad_campaign_values(old, new, key, reason):
    problem = only(problems(GOOD.replace(old, new)), "campaign", key)
    assert reason in problem.reason


@pytest.mark.parametrize(
    "old, new, key, field, kept, reason",
    [
        ("poms_role = analysis", "poms_role = admin", "poms_role", "poms_role", "analysis",
         "not a campaign role"),
        ("name = demo", "name = demo\nstate = Running", "state", "state", "Active",
         "neither Active nor Inactive"),
        ("campaign_stage_list = gen, reco", "campaign_stage_list = gen, reco, gen",
         "campaign_stage_list", "stages", None, "stage 'gen' is listed twice: it is one stage"),
    ],
)
def test_campaign_values_the_original_ignores_are_warnings(old, new, key, field, kept,
                                                           reason):
    """ini_to_campaign (webservice/poms_service.py) reads only `name` from [campaign]: the
    role is the uploader's, a new campaign is active, and campaign_stage_list is never
    read. Ours are read leniently: a word we cannot use is a warning."""
    spec, warnings = parse_ini(GOOD.replace(old, new))
    if field == "stages":
        assert [s.name for s in spec.stages] == ["gen", "reco"]
    else:
        assert getattr(spec, field) == kept
    assert reason in only(warnings, "campaign", key).reason


def test_campaign_keywords_tags_and_state():
    text = GOOD.replace("name = demo", 'name = demo\nstate = Inactive\n'
                        'campaign_keywords = {"run": "1234", "beam": "on", "n": 5}\n'
                        "tags = mdc2020 ,  reco,, mdc2020")
    spec, _ = parse_ini(text)
    assert spec.state == "Inactive"
    assert spec.keywords == {"run": "1234", "beam": "on", "n": 5}  # kept as written
    assert spec.tags == ["mdc2020", "reco"]


def test_stage_list_is_whitespace_tolerant():
    spec, _ = parse_ini(GOOD.replace("campaign_stage_list = gen, reco",
                                     "campaign_stage_list =   gen ,reco  "))
    assert [s.name for s in spec.stages] == ["gen", "reco"]


def test_keywords_in_defaults_are_the_campaigns():
    """save_campaign reads campaign_keywords from [campaign_defaults] (and drops it from
    the stage defaults); its export, campaign_deps_ini, writes them in [campaign]. Both
    are read; where both differ, [campaign_defaults] wins, with a warning."""
    text = GOOD.replace("vo_role = Analysis", 'vo_role = Analysis\ncampaign_keywords = {"a": "b"}')
    spec, warnings = parse_ini(text)
    assert spec.keywords == {"a": "b"}
    assert "campaign_keywords" not in spec.defaults
    assert warnings == []
    both = text.replace("name = demo", 'name = demo\ncampaign_keywords = {"a": "c"}')
    spec, warnings = parse_ini(both)
    assert spec.keywords == {"a": "b"}
    assert "ignored: [campaign_defaults] gives campaign_keywords too" in only(
        warnings, "campaign", "campaign_keywords").reason


# --- stages: sections, the list, references ------------------------------------------


def test_stages_come_from_their_sections_in_file_order():
    """ini_to_campaign makes a stage of every [campaign_stage NAME] section, in file order,
    and never reads campaign_stage_list: a section missing from the list is a stage all
    the same (with a warning), and the sections' order wins."""
    text = GOOD.replace("campaign_stage_list = gen, reco", "campaign_stage_list = reco")
    spec, warnings = parse_ini(text)
    assert [s.name for s in spec.stages] == ["gen", "reco"]
    warning = only(warnings, "campaign_stage gen", None)
    assert "not in campaign_stage_list; it is a stage all the same" in warning.reason
    assert warning.line == GOOD.splitlines().index("[campaign_stage gen]") + 1
    spec, warnings = parse_ini(GOOD.replace("= gen, reco", "= reco, gen"))
    assert [s.name for s in spec.stages] == ["gen", "reco"]
    assert "take the order of their sections" in only(warnings, "campaign",
                                                      "campaign_stage_list").reason


def test_listed_stage_without_a_section_makes_no_stage():
    """ini_to_campaign creates stages from sections only: a listed name without one is no
    stage (a warning says so, with a hint when a comma looks missing)."""
    text = GOOD.replace("campaign_stage_list = gen, reco", "campaign_stage_list = gen reco, ana")
    spec, warnings = parse_ini(text)
    assert [s.name for s in spec.stages] == ["gen", "reco"]
    reasons = [w.reason for w in warnings if w.key == "campaign_stage_list"]
    assert any("stage 'ana' is listed but has no [campaign_stage ana] section, so no stage"
               in r for r in reasons)
    assert any("is a comma missing between 'gen' and 'reco'?" in r for r in reasons)


def test_undefined_job_type_names_stage_and_key():
    text = GOOD.replace("[campaign_stage reco]\n", "[campaign_stage reco]\njob_type = jtt\n")
    problem = only(problems(text), "campaign_stage reco", "job_type")
    assert "job type 'jtt' is not defined in this file" in problem.reason
    assert "did you mean 'jt'?" in problem.reason


def test_undefined_login_setup_from_defaults_names_each_stage():
    text = GOOD.replace("[login_setup ls]", "[login_setup other]")
    found = problems(text)
    for stage in ("gen", "reco"):
        problem = only(found, f"campaign_stage {stage}", "login_setup")
        assert "login setup 'ls' (from [campaign_defaults]) is not defined" in problem.reason
        assert problem.line == GOOD.splitlines().index("login_setup = ls") + 1


def test_stage_without_any_job_type_is_a_problem():
    text = GOOD.replace("job_type = jt\n", "", 1)
    found = problems(text)
    problem = only(found, "campaign_stage gen", "job_type")
    assert "has no job_type" in problem.reason


def test_unused_undefined_default_is_only_a_warning():
    text = GOOD.replace("job_type = jt\n", "job_type = generic\n", 1)
    text = text.replace("[campaign_stage gen]\n", "[campaign_stage gen]\njob_type = jt\n")
    text = text.replace("[campaign_stage reco]\n", "[campaign_stage reco]\njob_type = jt\n")
    spec, warnings = parse_ini(text)
    (warning,) = warnings
    assert (warning.section, warning.key) == ("campaign_defaults", "job_type")
    assert "'generic' is not defined" in warning.reason


# --- job types and login setups the experiment already holds -------------------------

# What experiment samdev holds when GOOD is read against it (parse_ini's `shared`).
SAMDEV = SharedNames("samdev", job_types=frozenset({"mc_gen", "mc_reco"}),
                     login_setups=frozenset({"samdev_ls"}))


def test_a_stage_may_use_the_experiments_job_type_with_a_warning_naming_it():
    text = GOOD.replace("[campaign_stage gen]\n", "[campaign_stage gen]\njob_type = mc_gen\n")
    spec, warnings = parse_ini(text, "good.ini", SAMDEV)
    assert spec.stage("gen").job_type == "mc_gen" and spec.stage("reco").job_type == "jt"
    assert set(spec.job_types) == {"jt"}  # only what the file defines
    (warning,) = warnings
    assert (warning.file, warning.section, warning.key) == (
        "good.ini", "campaign_stage gen", "job_type")
    assert warning.line == text.splitlines().index("job_type = mc_gen") + 1
    assert warning.reason == ("job type 'mc_gen' is not defined in this file: stage 'gen' "
                              "will use experiment samdev's job type 'mc_gen' as it is")


def test_a_default_naming_the_experiments_login_setup_is_told_once_for_every_stage():
    text = GOOD.replace("login_setup = ls", "login_setup = samdev_ls")
    text = text.split("[login_setup ls]")[0] + "[job_type jt]" + text.split("[job_type jt]")[1]
    spec, warnings = parse_ini(text, "good.ini", SAMDEV)
    assert [s.login_setup for s in spec.stages] == ["samdev_ls", "samdev_ls"]
    assert spec.login_setups == {}
    (warning,) = warnings
    assert (warning.section, warning.key) == ("campaign_defaults", "login_setup")
    assert "stages 'gen', 'reco' will use experiment samdev's login setup 'samdev_ls'" \
        in warning.reason


def test_the_files_own_definition_wins_over_the_experiments_without_a_warning():
    shared = SharedNames("samdev", frozenset({"jt"}), frozenset({"ls"}))
    spec, warnings = parse_ini(GOOD, "good.ini", shared)
    assert warnings == []
    assert set(spec.job_types) == {"jt"} and set(spec.login_setups) == {"ls"}


def test_a_name_found_nowhere_names_file_section_key_and_suggests_from_both():
    text = GOOD.replace("[campaign_stage gen]\n", "[campaign_stage gen]\njob_type = mc_gne\n")
    text = text.replace("[campaign_stage reco]\n", "[campaign_stage reco]\njob_type = jtt\n")
    with pytest.raises(InvalidCampaign) as err:
        parse_ini(text, "bad.ini", SAMDEV)
    gen = only(err.value.problems, "campaign_stage gen", "job_type")
    assert gen.file == "bad.ini" and gen.line == text.splitlines().index("job_type = mc_gne") + 1
    assert gen.reason.startswith("job type 'mc_gne' is defined neither in this file nor in "
                                 "experiment 'samdev': add a [job_type mc_gne] section")
    assert "did you mean 'mc_gen' (experiment samdev)" in gen.reason
    reco = only(err.value.problems, "campaign_stage reco", "job_type")
    assert "did you mean 'jt' (this file)?" in reco.reason


def test_a_login_setup_from_the_defaults_found_nowhere_is_a_problem_in_each_stage():
    text = GOOD.replace("login_setup = ls", "login_setup = samdev_l")
    text = text.replace("[login_setup ls]", "[login_setup other]")
    with pytest.raises(InvalidCampaign) as err:
        parse_ini(text, "bad.ini", SAMDEV)
    for stage in ("gen", "reco"):
        problem = only(err.value.problems, f"campaign_stage {stage}", "login_setup")
        assert "login setup 'samdev_l' (from [campaign_defaults]) is defined neither" \
            in problem.reason
        assert "'samdev_ls' (experiment samdev)" in problem.reason


def test_an_unused_default_is_quiet_when_the_experiment_has_it_and_warned_when_not():
    text = GOOD.replace("job_type = jt\n", "job_type = mc_reco\n", 1)
    text = text.replace("[campaign_stage gen]\n", "[campaign_stage gen]\njob_type = jt\n")
    text = text.replace("[campaign_stage reco]\n", "[campaign_stage reco]\njob_type = jt\n")
    assert parse_ini(text, "good.ini", SAMDEV)[1] == []
    (warning,) = parse_ini(text.replace("mc_reco", "generic"), "good.ini", SAMDEV)[1]
    assert (warning.section, warning.key) == ("campaign_defaults", "job_type")
    assert "defined neither in this file nor in experiment 'samdev'" in warning.reason


def test_read_without_an_experiment_the_file_must_define_what_it_uses():
    text = GOOD.replace("[campaign_stage gen]\n", "[campaign_stage gen]\njob_type = mc_gen\n")
    problem = only(problems(text), "campaign_stage gen", "job_type")
    assert "job type 'mc_gen' is not defined in this file" in problem.reason


def test_declared_experiment_reads_the_campaign_section_only():
    assert declared_experiment(GOOD) == "samdev"
    assert declared_experiment(GOOD.replace("experiment = samdev\n", "")) == ""
    assert declared_experiment("not an ini file") == ""


def test_job_type_recoveries():
    text = GOOD.replace('recoveries = [["consumed_status", []]]',
                        'recoveries = [["proj_status", [["-Osubmit.dataset=", "%(dataset)s"]]], '
                        '["process_status", []], "pending_files"]')
    spec, _ = parse_ini(text)
    assert spec.job_types["jt"].recoveries == [
        ["proj_status", [["-Osubmit.dataset=", "%(dataset)s"]]],
        ["process_status", []],
        ["pending_files", []],
    ]


@pytest.mark.parametrize(
    "value, reason",
    [
        ('[["consumed_stat", []]]', "unknown recovery type 'consumed_stat' (did you mean "
                                    "'consumed_status'?)"),
        ('[["consumed_status"]]', "recovery 1 must be [recovery_type, [[key, value], ...]]"),
        ('{"consumed_status": []}', "must be a JSON list of [recovery_type"),
        ("[[consumed_status]]", "is not valid JSON"),
    ],
)
def test_bad_recoveries(value, reason):
    text = GOOD.replace('recoveries = [["consumed_status", []]]', f"recoveries = {value}")
    problem = only(problems(text), "job_type jt", "recoveries")
    assert reason in problem.reason


def test_job_type_parameters_of_any_shape_are_kept_with_a_warning():
    """save_campaign stores json.loads(parameters) as it is; an entry that is no [key,
    value] pair fails only when a launch uses it."""
    text = GOOD.replace("parameters = []", 'parameters = [["-c ", ["nested"]]]')
    spec, warnings = parse_ini(text)
    assert spec.job_types["jt"].parameters == [["-c ", ["nested"]]]
    assert "entry 1, [\"-c \", [\"nested\"]], is not a [key, value] pair" in only(
        warnings, "job_type jt", "parameters").reason


def test_job_type_without_launch_script_warns():
    spec, warnings = parse_ini(GOOD.replace("launch_script = fife_launch -c generic.cfg\n", ""))
    (warning,) = warnings
    assert (warning.section, warning.key) == ("job_type jt", "launch_script")


# --- dependencies --------------------------------------------------------------------


def test_dependencies_for_a_stage_not_in_the_campaign():
    text = GOOD + "\n[dependencies rekko]\ncampaign_stage_1 = gen\nfile_pattern_1 = %\n"
    problem = only(problems(text), "dependencies rekko", None)
    assert "stage 'rekko' is not in this campaign" in problem.reason
    assert "(did you mean 'reco'?)" in problem.reason


def test_dependency_on_an_unknown_stage():
    text = GOOD.replace("campaign_stage_1 = gen", "campaign_stage_1 = gem")
    problem = only(problems(text), "dependencies reco", "campaign_stage_1")
    assert "stage 'gem' is not in this campaign (did you mean 'gen'?)" in problem.reason


def test_dependency_pair_halves_missing():
    """ini_to_campaign reads file_pattern_N for each campaign_stage_N (section[sel]: a
    missing one fails) and never looks at a file_pattern_N alone."""
    text = GOOD.replace("file_pattern_1 = %.root\n",
                        "file_pattern_1 = %.root\ncampaign_stage_2 = gen\n")
    assert "has no file_pattern_2" in only(problems(text), "dependencies reco",
                                           "campaign_stage_2").reason
    text = GOOD.replace("file_pattern_1 = %.root\n",
                        "file_pattern_1 = %.root\nfile_pattern_3 = %.x\n")
    assert "has no campaign_stage_3 to go with it: ignored" in warned(
        text, "dependencies reco", "file_pattern_3").reason


def test_several_parents_with_any_numbers():
    text = GOOD.replace("campaign_stage_list = gen, reco", "campaign_stage_list = gen, sim, reco")
    text = text.replace("[campaign_stage reco]", "[campaign_stage sim]\n\n[campaign_stage reco]")
    text = text.replace("file_pattern_1 = %.root\n",
                        "file_pattern_1 = %.root\ncampaign_stage_7 = sim\nfile_pattern_7 = sim%\n")
    spec, _ = parse_ini(text)
    assert [(d.parent, d.position, d.file_pattern) for d in spec.dependencies] == [
        ("gen", 1, "%.root"), ("sim", 7, "sim%")]


def test_dependency_cycle_names_every_stage_in_it():
    text = GOOD.replace("campaign_stage_list = gen, reco", "campaign_stage_list = gen, reco, ana")
    text += (
        "\n[campaign_stage ana]\n"
        "[dependencies ana]\ncampaign_stage_1 = reco\nfile_pattern_1 = %\n"
        "[dependencies gen]\ncampaign_stage_1 = ana\nfile_pattern_1 = %\n"
    )
    found = problems(text)
    cycles = [p for p in found if "cycle" in p.reason]
    assert len(cycles) == 1
    assert "gen -> ana -> reco -> gen" in cycles[0].reason


def test_stage_depending_on_itself_is_kept_with_a_warning():
    """save_campaign stores a dependency of a stage on itself; launch_dependents
    (webservice/SubmissionsPOMS.py) then launches the stage again as a normal launch."""
    text = GOOD.replace("campaign_stage_1 = gen", "campaign_stage_1 = reco")
    spec, warnings = parse_ini(text)
    assert [(d.child, d.parent) for d in spec.dependencies] == [("reco", "reco")]
    warning = only(warnings, "dependencies reco", "campaign_stage_1")
    assert "stage 'reco' depends on itself" in warning.reason
    assert "POMS does not launch it again" in warning.reason  # no split type: same input


# --- node positions ------------------------------------------------------------------


def test_node_positions_as_poms_exports_them():
    text = GOOD + '\n[node_positions]\nnxy0 = ["gen", 100, -50]\nnxy1 = ["reco", 300.5, 0]\n'
    spec, warnings = parse_ini(text)
    assert warnings == []
    assert spec.node_positions == {"gen": {"x": 100, "y": -50}, "reco": {"x": 300.5, "y": 0}}


def test_bad_node_position():
    text = GOOD + '\n[node_positions]\nnxy0 = ["gen", "left", 3]\n'
    problem = only(problems(text), "node_positions", "nxy0")
    assert 'must be ["stage name", x, y]' in problem.reason


# --- everything at once --------------------------------------------------------------


def test_a_file_with_many_problems_reports_all_of_them():
    text = dedent("""\
        stray = 1
        [campaign]
        name = many
        poms_role = boss
        campaign_stage_list = a, b, ghost

        [campaign_defaults]
        completion_pct = lots
        job_typ = jt

        [campaign_stage a]
        job_type = jt
        login_setup = ls
        output_ancestor_depth = deep
        param_overrides = [["-c", 3]
        vo_role = x
        vo_role = y
        garbage line

        [campaign_stage b]
        job_type = nope
        login_setup = ls
        completion_type = done

        [dependencies a]
        campaign_stage_1 = b
        file_pattern_1 = %.root
        [dependencies b]
        campaign_stage_1 = a
        file_pattern_1 = %.root
        campaign_stage_2 = zz
        [job_type jt]
        launch_script = x
        recoveries = [["bogus_status", []]]
        [login_setup ls]
        host = h
        [wat]
        """)
    with pytest.raises(InvalidCampaign) as err:
        parse_ini(text, "bad.ini")
    expected = [
        (1, None, None, "outside any section"),
        (8, "campaign_defaults", "completion_pct", "stages 'a', 'b' take this default"),
        (14, "campaign_stage a", "output_ancestor_depth", "not 'deep'"),
        (15, "campaign_stage a", "param_overrides", "is not valid JSON"),
        (17, "campaign_stage a", "vo_role", "given twice (lines 16 and 17)"),
        (18, None, None, "cannot read this line: 'garbage line'"),
        (21, "campaign_stage b", "job_type", "job type 'nope' is not defined"),
        (25, "dependencies a", None, "dependency cycle: a -> b -> a"),
        (31, "dependencies b", "campaign_stage_2", "has no file_pattern_2"),
        (34, "job_type jt", "recoveries", "unknown recovery type 'bogus_status'"),
    ]
    found = err.value.problems
    assert len(found) == len(expected), "\n".join(map(str, found))
    for problem, (line, section, key, reason) in zip(found, expected, strict=True):
        assert (problem.line, problem.section, problem.key) == (line, section, key), problem
        assert reason in problem.reason, problem
    # What the original reads past is said too, with the problems.
    assert [(w.line, w.section, w.key) for w in err.value.warnings] == [
        (4, "campaign", "poms_role"),
        (5, "campaign", "campaign_stage_list"),  # ghost has no section
        (9, "campaign_defaults", "job_typ"),
        (23, "campaign_stage b", "completion_type"),
        (37, "wat", None),
    ]


def test_warnings_come_with_the_problems():
    text = GOOD.replace("campaign_stage_list = gen, reco", "campaign_stage_list = reco")
    text = text.replace("[campaign_stage reco]\n", "[campaign_stage reco]\ncompletion_pct = 9OO\n")
    with pytest.raises(InvalidCampaign) as err:
        parse_ini(text, "w.ini")
    assert [p.key for p in err.value.problems] == ["completion_pct"]
    assert [w.section for w in err.value.warnings] == ["campaign_stage gen"]


# --- diff_campaigns ------------------------------------------------------------------


def test_diff_of_identical_campaigns_is_empty():
    spec, _ = load("mu2e_reco_tutorial.ini")
    again, _ = load("mu2e_reco_tutorial.ini")
    assert diff_campaigns(spec, again) == []


def test_diff_says_what_an_update_changes():
    old, _ = parse_ini(GOOD)
    text = GOOD.replace("campaign_stage_list = gen, reco", "campaign_stage_list = gen, ana")
    text = text.replace("[campaign_stage reco]\ndataset_or_split_data = from_parent\n\n"
                        "[dependencies reco]\ncampaign_stage_1 = gen\nfile_pattern_1 = %.root\n",
                        "[campaign_stage ana]\n\n[dependencies ana]\ncampaign_stage_1 = gen\n"
                        "file_pattern_1 = %.art\n")
    text = text.replace("cs_split_type = nfiles(10)", "cs_split_type = nfiles(20)")
    text = text.replace("host = pomsgpvm01.fnal.gov", "host = pomsgpvm02.fnal.gov")
    text = text.replace("name = demo", "name = demo\nstate = Inactive")
    text = text.replace("parameters = []", 'parameters = [["-N", "2"]]')
    new, _ = parse_ini(text)
    changes = diff_campaigns(old, new)
    sentences = [str(c) for c in changes]
    assert "Campaign 'demo': state changes from 'Active' to 'Inactive'." in sentences
    assert "Stage 'reco' is removed." in sentences
    assert "Stage 'ana' is added." in sentences
    assert ("Stage 'gen': cs_split_type changes from 'nfiles(10)' to 'nfiles(20)'."
            in sentences)
    assert "Stage 'reco' will no longer depend on 'gen' (files matching '%.root')." in sentences
    assert "Stage 'ana' will depend on 'gen' (files matching '%.art')." in sentences
    assert ("Login setup 'ls': host changes from 'pomsgpvm01.fnal.gov' to "
            "'pomsgpvm02.fnal.gov'." in sentences)
    assert 'Job type \'jt\': parameters changes from [] to [["-N", "2"]].' in sentences
    kinds = {c.kind for c in changes}
    assert kinds == {"campaign field changed", "stage removed", "stage added", "field changed",
                     "dependency removed", "dependency added", "login setup changed",
                     "job type changed"}
    change = next(c for c in changes if c.kind == "field changed")
    assert (change.subject, change.field, change.before, change.after) == (
        "gen", "cs_split_type", "nfiles(10)", "nfiles(20)")


def test_diff_new_job_type_and_changed_pattern():
    old, _ = parse_ini(GOOD)
    text = GOOD.replace("file_pattern_1 = %.root", "file_pattern_1 = %.art")
    text += "\n[job_type extra]\nlaunch_script = run\n"
    new, _ = parse_ini(text)
    changes = diff_campaigns(old, new)
    assert Change("job type changed", "extra", None, None, new.job_types["extra"]) in changes
    assert "Job type 'extra' is added." in [str(c) for c in changes]
    assert Change("dependency removed", "reco", "gen", "%.root", None) in changes
    assert Change("dependency added", "reco", "gen", None, "%.art") in changes
