"""parse_ini and export_ini against the original POMS's rules, one test per rule; each says
which function of the original (github.com/fermitools/poms, webservice/) it follows.

Files written for the original must import here unchanged; what it stores but would fail
on later is kept, with a warning; our exports must import into the original too."""
from __future__ import annotations

from textwrap import dedent

import pytest

from app.campaigns.ini import export_ini, parse_ini
from app.campaigns.spec import InvalidCampaign, Problem, SharedNames
from tests.campaigns.support import original_import
from tests.campaigns.test_ini import EXAMPLES, GOOD, only, problems

CRY = EXAMPLES / "mu2e-production" / "CampaignConfig_mdc2020_cry.ini"


def reasons(warnings: list[Problem]) -> str:
    return "\n".join(str(w) for w in warnings)


# --- reading ---------------------------------------------------------------------------


def test_keys_are_case_insensitive():
    """ini_to_campaign (poms_service.py) reads with ConfigParser, whose optionxform
    lower-cases every key: Job_Type is job_type."""
    text = GOOD.replace("[campaign_stage gen]\n",
                        "[campaign_stage gen]\nJob_Type = jt\nMerge_Overrides = True\n")
    text = text.replace("vo_role = Analysis", "VO_ROLE = Analysis")
    spec, warnings = parse_ini(text)
    assert warnings == []
    assert spec.stage("gen").merge_overrides is True
    assert spec.stage("reco").vo_role == "Analysis"
    # Two spellings of one key in a section are the same key given twice.
    twice = GOOD.replace("[campaign_stage gen]\n",
                         "[campaign_stage gen]\nvo_role = a\nVO_role = b\n")
    assert "given twice" in only(problems(twice), "campaign_stage gen", "vo_role").reason


def test_default_section_applies_to_every_section():
    """ConfigParser(interpolation=None) keeps its default section: [DEFAULT]'s keys are in
    every section's items (a section's own key wins), so a stage gets them before
    [campaign_defaults] is even looked at. A [DEFAULT] key no section reads is ignored."""
    text = "[DEFAULT]\nsoftware_version = v9\ncompletion_pct = 80\nnobody_reads = 1\n\n" + GOOD
    text = text.replace("[campaign_stage reco]\n", "[campaign_stage reco]\ncompletion_pct = 70\n")
    spec, warnings = parse_ini(text, "default.ini")
    gen, reco = spec.stages
    # [DEFAULT] comes into the stage section itself, over [campaign_defaults]'s v1_0.
    assert (gen.software_version, reco.software_version) == ("v9", "v9")
    assert (gen.completion_pct, reco.completion_pct) == (80, 70)
    # [campaign_defaults] gets [DEFAULT]'s keys too, under its own.
    assert (spec.defaults["software_version"], spec.defaults["completion_pct"]) == ("v1_0", 80)
    # Keys [DEFAULT] gives sections that do not read them are no warning there...
    assert not [w for w in warnings if w.section and w.section.startswith(("job_type",
                                                                           "login_setup"))]
    # ... and a key no section reads is told once, at [DEFAULT].
    (warning,) = warnings
    assert (warning.section, warning.key, warning.line) == ("DEFAULT", "nobody_reads", 4)


# --- stages ----------------------------------------------------------------------------


def test_the_list_never_makes_or_unmakes_stages_and_export_adds_none():
    """ini_to_campaign builds stages from [campaign_stage NAME] sections only; a name
    listed twice is one stage and a listed name with no section is none. The export lists
    the stages there are, so re-importing it is quiet and the same."""
    text = GOOD.replace("campaign_stage_list = gen, reco",
                        "campaign_stage_list = gen, gen, reco, ghost")
    spec, warnings = parse_ini(text)
    assert [s.name for s in spec.stages] == ["gen", "reco"]
    said = reasons(warnings)
    assert "stage 'gen' is listed twice: it is one stage" in said
    assert "stage 'ghost' is listed but has no [campaign_stage ghost] section" in said
    exported = export_ini(spec)
    assert "campaign_stage_list = gen, reco\n" in exported
    assert "ghost" not in exported
    again, again_warnings = parse_ini(exported)
    assert again == spec and again_warnings == []


def test_a_default_every_stage_overrides_is_never_an_error():
    """save_campaign (CampaignsPOMS.py) merges each stage with its defaults (form.get(k) or
    defaults.get(k)) and reads only the merged values: a default that every stage
    overrides is never read. mdc2020_corsika.ini gives login_setup=mu2epro in
    [campaign_defaults]; here every stage names another."""
    text = GOOD.replace("login_setup = ls\n", "login_setup = mu2epro\n", 1)
    text = text.replace("vo_role = Analysis", "vo_role = Analysis\ncompletion_pct = lots\n"
                        "param_overrides = [broken")
    for stage in ("gen", "reco"):
        text = text.replace(f"[campaign_stage {stage}]\n",
                            f"[campaign_stage {stage}]\nlogin_setup = ls\ncompletion_pct = 90\n"
                            "param_overrides = []\n")
    spec, warnings = parse_ini(text, "defaults.ini")
    assert [s.login_setup for s in spec.stages] == ["ls", "ls"]
    assert [s.completion_pct for s in spec.stages] == [90, 90]
    # The unusable defaults are not kept, and the warnings say so.
    assert "completion_pct" not in spec.defaults and "param_overrides" not in spec.defaults
    said = {w.key: w.reason for w in warnings}
    assert "no stage takes this default, so it is not kept" in said["completion_pct"]
    assert "no stage takes this default" in said["login_setup"]


def test_a_bad_default_merged_in_by_merge_overrides_is_a_problem_for_that_stage():
    """launch_jobs (SubmissionsPOMS.py) starts a merge_overrides stage's overrides with the
    campaign defaults' param_overrides: a stage that merges them takes that default."""
    text = GOOD.replace("vo_role = Analysis", "vo_role = Analysis\nparam_overrides = [broken")
    text = text.replace("[campaign_stage gen]\n", "[campaign_stage gen]\nparam_overrides = []\n"
                        "merge_overrides = True\n")
    text = text.replace("[campaign_stage reco]\n", "[campaign_stage reco]\nparam_overrides = []\n")
    problem = only(problems(text), "campaign_defaults", "param_overrides")
    assert "(stage 'gen' takes this default)" in problem.reason


def test_unknown_stage_keys_are_accepted_with_a_warning():
    """save_campaign pops the keys it knows from each stage's form and leaves the rest:
    a key it does not know changes nothing."""
    text = GOOD.replace("[campaign_stage gen]\n", "[campaign_stage gen]\nnotes = keep it\n")
    spec, warnings = parse_ini(text)
    assert spec == parse_ini(GOOD)[0]
    assert only(warnings, "campaign_stage gen", "notes").reason.startswith("unknown key, ignored")


def test_plain_values_are_stored_as_written_and_none_only_means_nothing_for_dataset_and_split():
    """save_campaign stores vo_role and software_version as the text given, None
    included; launch_jobs and the split types read dataset None and split type None as
    "none" (get_dataset_for, `dataset != "None"`)."""
    text = GOOD.replace("dataset_or_split_data = input_ds\ncs_split_type = nfiles(10)",
                        "software_version = None\ndataset_or_split_data = None\n"
                        "cs_split_type = None")
    spec, warnings = parse_ini(text)
    gen = spec.stage("gen")
    assert (gen.software_version, gen.dataset_or_split_data, gen.cs_split_type) == (
        "None", "", "")
    assert "kept as the text 'None'" in only(warnings, "campaign_stage gen",
                                             "software_version").reason


# --- recoveries and parameter lists -----------------------------------------------------


def test_recovery_parameters_of_any_shape_are_kept_as_written():
    """fixup_recoveries (MiscPOMS.py) stores each entry's [1] as the recovery's
    param_overrides, whatever it holds, and get_recoveries (its export, through
    campaign_deps_ini) gives back [type, param_overrides]. mdc2020_cry.ini's one-element
    pair is kept, exported and read back unchanged, with a warning naming it."""
    spec, warnings = parse_ini(CRY.read_text(), CRY.name)
    recoveries = spec.job_types["mu2e_cvmfs_cry_production_jobtype"].recoveries
    assert recoveries == [["proj_status", [["-Oglobal.override_dataset=','%(dataset)s"],
                                           ["--stage ", "recovery"]]]]
    warning = only(warnings, "job_type mu2e_cvmfs_cry_production_jobtype", "recoveries")
    assert "recovery 1 (proj_status): parameter entry 1" in warning.reason
    assert "every launch that uses it fails" in warning.reason
    exported = export_ini(spec)
    assert ('recoveries = [["proj_status", [["-Oglobal.override_dataset=\',\'%(dataset)s"], '
            '["--stage ", "recovery"]]]]') in exported
    assert parse_ini(exported)[0] == spec


def test_a_recovery_entry_is_its_first_two_items():
    """fixup_recoveries reads rtn[0] and rtn[1] of each entry: more items are ignored; an
    entry with fewer fails (IndexError), as an unknown type loses the whole list."""
    text = GOOD.replace('recoveries = [["consumed_status", []]]',
                        'recoveries = [["consumed_status", [["-a ", "1"]], "extra"]]')
    spec, warnings = parse_ini(text)
    assert spec.job_types["jt"].recoveries == [["consumed_status", [["-a ", "1"]]]]
    assert '["extra"] after them is ignored' in only(warnings, "job_type jt",
                                                     "recoveries").reason


# --- dependencies ----------------------------------------------------------------------


def test_an_empty_file_pattern_is_every_file():
    """save_campaign stores an empty file_pattern_N; get_file_patterns (SubmissionsPOMS.py)
    reads an empty one as "%", every output. mdc2020_corsika.ini has two."""
    text = GOOD.replace("file_pattern_1 = %.root", "file_pattern_1 =")
    spec, warnings = parse_ini(text)
    assert spec.dependencies[0].file_pattern == "%"
    assert "taken as %" in only(warnings, "dependencies reco", "file_pattern_1").reason
    assert "file_pattern_1 = %\n" in export_ini(spec)


def test_a_stage_may_depend_on_one_parent_twice_and_on_a_named_dependency():
    """ini_to_campaign makes one dependency per campaign_stage_X key, X anything after the
    last '_' (rsplit), and save_campaign stores each: both are kept."""
    text = GOOD.replace("file_pattern_1 = %.root\n", "file_pattern_1 = %.root\n"
                        "campaign_stage_x = gen\nfile_pattern_x = %.art\n")
    spec, warnings = parse_ini(text)
    assert [(d.parent, d.position, d.file_pattern) for d in spec.dependencies] == [
        ("gen", 1, "%.root"), ("gen", 2, "%.art")]
    said = reasons(warnings)
    assert "depends on 'gen' again" in said and "kept as dependency 2" in said
    assert parse_ini(export_ini(spec))[0] == spec


# --- the whole file --------------------------------------------------------------------


def test_a_file_without_a_campaign_section_is_refused():
    """ini_to_campaign answers "No Campaign section in the file": so does Mu2e's
    mdc2020_digireco_extracted_addon.ini, a piece meant to be pasted into another file."""
    path = EXAMPLES / "mu2e-production" / "CampaignConfig_mdc2020_digireco_extracted_addon.ini"
    with pytest.raises(InvalidCampaign) as err:
        parse_ini(path.read_text(), path.name, SharedNames("mu2e"))
    campaign = [p for p in err.value.problems if p.section == "campaign"]
    assert campaign and "has no [campaign] section" in campaign[0].reason


# --- our export, read by the original's importer -----------------------------------------


@pytest.mark.parametrize("path", sorted(EXAMPLES.rglob("*.ini")), ids=lambda p: p.name)
def test_an_export_gives_the_original_every_key_it_pops(path):
    """Our export read as the original reads it (ini_to_campaign, then save_campaign's
    form.pop of each stage merged with [campaign_defaults], fixup_recoveries): every key
    it pops without a fallback is there, and every stage gets the values we hold."""
    from tests.campaigns.test_ini_roundtrip import production_names

    text = path.read_text()
    try:
        spec, _ = parse_ini(text, path.name, production_names(text))
    except InvalidCampaign:
        return  # a file we refuse (no [campaign]) has no export
    got = original_import(export_ini(spec))
    assert got["name"] == spec.name and got["keywords"] == spec.keywords
    assert list(got["stages"]) == [s.name for s in spec.stages]
    for stage in spec.stages:
        form = got["stages"][stage.name]
        # The NOT NULL text columns get text, the number columns numbers.
        assert form["vo_role"] == stage.vo_role and form["software_version"] == \
            stage.software_version
        assert form["dataset"] == (stage.dataset_or_split_data or "None")
        assert (form["split_type"] or "None") == (stage.cs_split_type or "None")
        assert int(form["completion_pct"]) == stage.completion_pct
        assert int(form["output_ancestor_depth"]) == stage.output_ancestor_depth
        assert form["completion_type"] == stage.completion_type
        assert (form["job_type"], form["login_setup"]) == (stage.job_type, stage.login_setup)
        assert form["param_overrides"] == stage.param_overrides
        assert (form["test_param_overrides"] or []) == stage.test_param_overrides
        assert form["merge_overrides"] is stage.merge_overrides
        assert form["default_clear_cronjob"] is stage.default_clear_cronjob
        assert form["stage_type"] == stage.stage_type
    assert sorted(got["dependencies"]) == sorted(
        (d.child, d.parent, d.file_pattern) for d in spec.dependencies)
    for name, job_type in spec.job_types.items():
        assert got["job_types"][name]["recoveries"] == job_type.recoveries
        assert got["job_types"][name]["parameters"] == job_type.parameters


# --- bad input from anyone (issue 17) ----------------------------------------------------


@pytest.mark.parametrize("section, key", [
    ("campaign_stage gen", "param_overrides"),
    ("job_type jt", "recoveries"),
    ("campaign", "campaign_keywords"),
])
def test_deeply_nested_json_is_a_bad_value_with_its_key(section, key):
    """json.loads of 100,000 nested brackets raises RecursionError: a bad value here."""
    deep = "[" * 100_000 + "]" * 100_000
    text = GOOD.replace(f"[{section}]\n", f"[{section}]\n{key} = {deep}\n")
    text = text.replace('recoveries = [["consumed_status", []]]\n', "") if key == "recoveries" \
        else text
    problem = only(problems(text), section, key)
    assert "nested more than 32 levels deep" in problem.reason
    # Just over the limit is refused too, before the database's JSON encoder could recurse.
    text = GOOD.replace("[campaign_stage gen]\n",
                        "[campaign_stage gen]\nparam_overrides = " + "[" * 33 + "]" * 33 + "\n")
    assert "nested more than 32" in only(problems(text), "campaign_stage gen",
                                         "param_overrides").reason


@pytest.mark.parametrize("where, line", [
    ("vo_role = Analysis", "vo_role = Ana\x00lysis"),
    ("host = pomsgpvm01.fnal.gov", "host = poms\x00gpvm01"),
    ("[campaign_stage gen]", "[campaign_stage gen]\nsoftware_version = v1\n\tmore\x00"),
    ("[campaign_stage gen]", '[campaign_stage gen]\nparam_overrides = [["-a", "\\u0000"]]'),
])
def test_nul_bytes_are_refused_naming_file_section_and_key(where, line):
    """PostgreSQL cannot store NUL in text: refused, wherever it is."""
    text = GOOD.replace(where, line)
    found = problems(text)
    assert len(found) == 1, found
    (problem,) = found
    assert problem.file == "bad.ini" and problem.section and problem.key and problem.line
    assert "NUL" in problem.reason


def test_more_stages_than_the_limit_are_refused_at_once():
    """A 10,000-stage file is refused before it is checked, with the setting to change."""
    many = "".join(f"[campaign_stage s{i}]\n" for i in range(10_000))
    text = GOOD + many
    with pytest.raises(InvalidCampaign) as err:
        parse_ini(text, "many.ini", max_stages=500)
    (problem,) = err.value.problems  # nothing else: the stages were not checked
    assert "10002 [campaign_stage NAME] sections; at most 500" in problem.reason
    assert "POMS_MAX_STAGES" in problem.reason
    spec, _ = parse_ini(dedent(GOOD), max_stages=2)  # at the limit is fine
    assert len(spec.stages) == 2
