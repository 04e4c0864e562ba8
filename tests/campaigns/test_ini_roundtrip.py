"""INI in, INI out: export_ini writes what parse_ini reads back to the same campaign."""
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.campaigns.ini import export_ini, normalise_value, parse_ini
from app.campaigns.spec import (
    COMPLETION_TYPES,
    STAGE_KEYS,
    STAGE_TYPES,
    CampaignSpec,
    DependencySpec,
    InvalidCampaign,
    JobTypeSpec,
    LoginSetupSpec,
    SharedNames,
    StageSpec,
)
from tests.campaigns.support import has_campaign_section, names_used_not_defined

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.rglob("*.ini"))


def production_names(text: str) -> SharedNames:
    """The experiment's job types and login setups a real file uses without defining."""
    job_types, login_setups = names_used_not_defined(text)
    return SharedNames("mu2e", frozenset(job_types), frozenset(login_setups))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_example_round_trips(path):
    """Every example (the production files with the names the experiment holds) exports
    to a file that reads back to the same campaign, says nothing new, and exports again
    to the same text."""
    text = path.read_text()
    shared = production_names(text)
    if not has_campaign_section(text):
        with pytest.raises(InvalidCampaign):
            parse_ini(text, str(path), shared)
        return
    spec, warnings = parse_ini(text, str(path), shared)
    exported = export_ini(spec)
    again, again_warnings = parse_ini(exported, "exported.ini", shared)
    assert again == spec
    assert export_ini(again) == exported
    # What is still worth saying about the campaign is said again; the file's own
    # slips (list, unknown keys, empty patterns) are gone.
    assert {w.reason for w in again_warnings} <= {w.reason for w in warnings}


def test_export_writes_only_what_differs_from_the_defaults():
    spec, _ = parse_ini((EXAMPLES / "mu2e_reco_tutorial.ini").read_text())
    text = export_ini(spec)
    reco_section = text.split("[campaign_stage reco]\n")[1].split("\n\n")[0]
    assert reco_section.splitlines() == [
        'param_overrides = [["--stage ", "reco"]]',
        'test_param_overrides = [["--stage ", "reco"]]',
    ]
    assert "[campaign_defaults]\nvo_role = Analysis\n" in text
    assert "dataset_or_split_data = None\n" in text
    assert "campaign_stage_list = reco_fcl, reco\n" in text


def test_export_without_defaults_spells_out_what_the_original_needs_in_each_stage():
    """The original's save_campaign pops completion_pct, completion_type,
    dataset_or_split_data, job_type, login_setup, software_version and vo_role from each
    stage merged with its defaults, with no fallback: with no [campaign_defaults] of
    its own, each exported stage spells them out (vo_role and software_version get an
    empty default, which our reader takes as not given)."""
    spec, _ = parse_ini((EXAMPLES / "poms-samples" / "sample_reco.ini").read_text())
    assert spec.defaults == {}
    text = export_ini(spec)
    assert "[campaign_defaults]\nvo_role =\nsoftware_version =\n\n" in text
    assert "[campaign_stage sample_reco]\nvo_role = Production\nsoftware_version = v1_0\n" in text
    assert "cs_split_type = nfiles(10000)\n" in text
    assert text.count("completion_pct = 95\n") == len(spec.stages)
    assert text.count("completion_type = complete\n") == len(spec.stages)
    # values equal to the built-in defaults that the original can do without are left out
    assert "stage_type" not in text and "output_ancestor_depth" not in text
    assert parse_ini(text)[0] == spec


def test_multiline_values_survive():
    setup = "source /cvmfs/fermilab.opensciencegrid.org/products/common/etc/setups\n" \
            "setup fife_utils v3_5_0\n\nexport X=%(experiment)s; kx509"
    spec = CampaignSpec(
        name="multi",
        stages=[StageSpec(name="s", job_type="j", login_setup="l")],
        job_types={"j": JobTypeSpec(name="j", launch_script="line one\nline two")},
        login_setups={"l": LoginSetupSpec(name="l", setup=setup)},
    )
    text = export_ini(spec)
    assert "setup = source /cvmfs" in text and "\n\tsetup fife_utils v3_5_0\n\n\texport" in text
    again, _ = parse_ini(text)
    assert again.login_setups["l"].setup == setup
    assert again.job_types["j"].launch_script == "line one\nline two"


def test_values_an_ini_cannot_hold_are_written_as_they_read_back():
    awkward = "  indented first\r\n   # a shell comment\n\tkept  \n\n\n"
    spec = CampaignSpec(
        name="awkward",
        stages=[StageSpec(name="s", job_type="j", login_setup="l")],
        job_types={"j": JobTypeSpec(name="j")},
        login_setups={"l": LoginSetupSpec(name="l", setup=awkward)},
    )
    again, _ = parse_ini(export_ini(spec))
    assert again.login_setups["l"].setup == normalise_value(awkward) == "indented first\nkept"


def test_stage_emptying_a_default_moves_that_default_into_the_stages():
    # "vo_role =" in a stage means "take the default", so an empty vo_role under a
    # default one cannot be written as an override: the default goes into each stage.
    spec = CampaignSpec(
        name="rebase",
        defaults={"vo_role": "Analysis", "completion_pct": 80},
        stages=[
            StageSpec(name="a", job_type="j", login_setup="l", vo_role="", completion_pct=80),
            StageSpec(name="b", job_type="j", login_setup="l", vo_role="Analysis",
                      completion_pct=80),
        ],
        job_types={"j": JobTypeSpec(name="j")},
        login_setups={"l": LoginSetupSpec(name="l")},
    )
    again, _ = parse_ini(export_ini(spec))
    assert again.stages == spec.stages
    assert again.defaults == {"completion_pct": 80}


def test_node_positions_round_trip():
    spec, _ = parse_ini((EXAMPLES / "mu2e_reco_tutorial.ini").read_text())
    spec.node_positions = {"reco_fcl": {"x": -120, "y": 40}, "reco": {"x": 80.25, "y": 40}}
    text = export_ini(spec)
    assert '[node_positions]\nnxy0 = ["reco_fcl", -120, 40]\nnxy1 = ["reco", 80.25, 40]\n' in text
    assert parse_ini(text)[0] == spec


# --- the property ----------------------------------------------------------------------

# Text that an INI value holds exactly: lines without edge whitespace, continuation lines
# not starting with a comment character, no blank lines at either end. Any unicode but
# surrogates and NUL (which the reader refuses: PostgreSQL cannot store it).
_ANY_CHAR = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
_LINE_CHARS = st.characters(exclude_categories=("Cs",), exclude_characters="\n\r\x00")
_line = st.text(_LINE_CHARS, max_size=12).map(str.strip)
_continuation = _line.filter(lambda s: not s.startswith(("#", ";")))


@st.composite
def ini_text(draw, non_empty=False):
    lines = [draw(_line)] + draw(st.lists(_continuation, max_size=2))
    text = "\n".join(lines).strip()
    if non_empty and not text:
        text = draw(st.sampled_from(["x", "%%", "a;b", "é"]))
    # None/none in a stage key means "not given"
    return text + "!" if text in ("None", "none") else text


_NAME_CHARS = st.sampled_from(list("abcxyzAZ0189_./-#;=:\"'[]é字 %"))
names = st.text(_NAME_CHARS, min_size=1, max_size=8).map(str.strip).filter(bool)
single_line = st.text(_LINE_CHARS, min_size=1, max_size=15).map(str.strip).filter(
    lambda s: s and s.isprintable())
pairs = st.lists(st.lists(st.text(_ANY_CHAR, max_size=8),
                          min_size=2, max_size=2), max_size=3)
SPLITS = ["", "list", "nfiles(10000)", "mod(3)", "limitn(7)", "byrun(low=1,high=9)",
          "byexistingruns", "new", "new(window=6h,fts=30m)", "new_local(window=1d)",
          "draining", "drainingn(5)", "stagedfiles(2)", "multiparam"]
RECOVERY_TYPES = ["consumed_status", "process_status", "proj_status", "added_files",
                  "delivered_not_consumed", "pending_files"]


def value_of(key, job_types, login_setups, non_empty=False):
    """A strategy for one stage key's value, as the importer types it."""
    return {
        "vo_role": ini_text(non_empty),
        "software_version": ini_text(non_empty),
        "dataset_or_split_data": st.one_of(ini_text(), st.just("from_parent")),
        "cs_split_type": st.sampled_from(SPLITS),
        "completion_type": st.sampled_from(COMPLETION_TYPES),
        "completion_pct": st.integers(0, 100),
        "param_overrides": pairs,
        "test_param_overrides": pairs,
        "merge_overrides": st.booleans(),
        "login_setup": st.sampled_from(login_setups),
        "job_type": st.sampled_from(job_types),
        "stage_type": st.sampled_from(STAGE_TYPES),
        "output_ancestor_depth": st.integers(0, 5),
        "default_clear_cronjob": st.booleans(),
        "state": st.sampled_from(("Active", "Inactive") if non_empty
                                 else ("", "Active", "Inactive")),
    }[key]


@st.composite
def campaigns(draw):
    job_type_names = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    login_names = draw(st.lists(names, min_size=1, max_size=2, unique=True))
    job_types = {
        n: JobTypeSpec(
            name=n,
            launch_script=draw(ini_text()),
            parameters=draw(pairs),
            output_file_patterns=draw(ini_text()),
            recoveries=draw(st.lists(st.tuples(st.sampled_from(RECOVERY_TYPES), pairs).map(list),
                                     max_size=3)),
        )
        for n in job_type_names
    }
    login_setups = {
        n: LoginSetupSpec(name=n, host=draw(ini_text()), account=draw(ini_text()),
                          setup=draw(ini_text()))
        for n in login_names
    }

    default_keys = draw(st.lists(st.sampled_from(STAGE_KEYS), unique=True))
    defaults = {
        key: draw(value_of(key, job_type_names, login_names, non_empty=True))
        for key in STAGE_KEYS if key in default_keys
    }

    stage_names = draw(st.lists(names.filter(lambda n: "," not in n), min_size=1, max_size=5,
                                unique=True))
    stages = []
    for stage_name in stage_names:
        stage = StageSpec(name=stage_name)
        for key in STAGE_KEYS:
            plain = key in defaults or key in ("job_type", "login_setup")
            own = value_of(key, job_type_names, login_names, non_empty=plain)
            if key in defaults:
                own = st.one_of(st.just(defaults[key]), own)
            setattr(stage, key, draw(own))
        stages.append(stage)

    # A random DAG: each stage may depend on stages before it in a shuffled order.
    order = draw(st.permutations(stage_names))
    dependencies = []
    for i, child in enumerate(order):
        parents = draw(st.lists(st.sampled_from(order[:i]), unique=True, max_size=3)) if i else []
        position = 0
        for parent in parents:
            position += draw(st.integers(1, 3))
            dependencies.append(DependencySpec(child=child, parent=parent, position=position,
                                               file_pattern=draw(ini_text(non_empty=True))))
    index = {n: i for i, n in enumerate(stage_names)}
    dependencies.sort(key=lambda d: (index[d.child], d.position))

    coordinate = st.one_of(st.integers(-5000, 5000),
                           st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))
    placed = draw(st.lists(st.sampled_from(stage_names), unique=True))
    return CampaignSpec(
        name=draw(single_line),
        experiment=draw(st.sampled_from(["", "mu2e", "dune", "samdev"])),
        poms_role=draw(st.sampled_from(["analysis", "production"])),
        state=draw(st.sampled_from(["Active", "Inactive"])),
        tags=sorted(draw(st.lists(single_line.filter(lambda t: "," not in t), unique=True,
                                  max_size=3))),  # tags have no order: read back sorted
        keywords=draw(st.dictionaries(st.text(_ANY_CHAR, max_size=5),
                                      st.text(_ANY_CHAR, max_size=8), max_size=3)),
        defaults=defaults,
        stages=stages,
        dependencies=dependencies,
        job_types=job_types,
        login_setups=login_setups,
        node_positions={n: {"x": draw(coordinate), "y": draw(coordinate)} for n in placed},
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(campaigns())
def test_any_campaign_round_trips(spec):
    text = export_ini(spec)
    again, _warnings = parse_ini(text, "generated.ini")
    assert again == spec
    assert export_ini(again) == text


@settings(max_examples=100, deadline=None)
@given(st.text(_ANY_CHAR, max_size=40))
def test_any_text_reads_back_as_its_normal_form(setup):
    spec = CampaignSpec(
        name="n",
        stages=[StageSpec(name="s", job_type="j", login_setup="l")],
        job_types={"j": JobTypeSpec(name="j", launch_script="x")},
        login_setups={"l": LoginSetupSpec(name="l", setup=setup)},
    )
    again, _ = parse_ini(export_ini(spec))
    assert again.login_setups["l"].setup == normalise_value(setup)
    # and the normal form is a fixed point
    assert normalise_value(normalise_value(setup)) == normalise_value(setup)
