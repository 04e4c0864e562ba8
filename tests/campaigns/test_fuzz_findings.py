"""What the INI fuzz test (tests/security/test_ini_fuzz.py, issue 17) found, each kept as the
smallest file that showed it. Before the fixes each crashed an upload (a traceback on the
CLI, a 500 from the API) or lost what the file said; now each is refused with the file, the
place and the reason, or stored as written, on SQLite and on PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.auth.members import find_or_create_experiment
from app.auth.session import find_or_create_experimenter
from app.campaigns import store
from app.campaigns.ini import export_ini, parse_ini
from app.campaigns.spec import InvalidCampaign, Problem
from app.extensions import db
from app.models import Campaign, CampaignStage, Experiment, StageDependency
from tests.fixtures.app import _app

ROOT = Path(__file__).resolve().parents[2]


def campaign_file(stages: str = "[campaign_stage gen]\n", defaults: str = "",
                  job_type: str = "", name: str = "fuzzed") -> str:
    return f"""[campaign]
experiment = mu2e
name = {name}

[campaign_defaults]
job_type = jt
login_setup = ls
{defaults}

{stages}

[login_setup ls]
host = pomsgpvm01.fnal.gov
account = mu2epro

[job_type jt]
launch_script = fife_launch
{job_type}
"""


def upload(text: str, filename: str = "fuzzed.ini") -> Campaign:
    """What the upload page does: read against the experiment, plan, save, commit."""
    experiment = find_or_create_experiment("mu2e")
    spec, _warnings = store.read_ini(experiment, text, filename)
    spec.experiment = experiment.name
    store.upload_plan(experiment, spec)
    campaign = store.save_campaign(experiment, spec, find_or_create_experimenter("fuzz"))
    db.session.commit()
    return campaign


def refused(text: str, filename: str = "fuzzed.ini") -> list[Problem]:
    experiment = find_or_create_experiment("mu2e")
    with pytest.raises(InvalidCampaign) as err:
        store.read_ini(experiment, text, filename)
    db.session.rollback()
    return err.value.problems


def dependencies() -> list[tuple[str, str, int, str]]:
    db.session.expire_all()
    return sorted((link.child.name, link.parent.name, link.position, link.file_pattern)
                  for link in db.session.scalars(select(StageDependency)))


# --- a dependency moved off a stage the update removes -------------------------------------


def test_a_dependency_moved_from_a_removed_stage_to_a_kept_one_is_kept(app):
    """Seed 17, cases 685 then 818: reco took gen's outputs as dependency 1, and merge's too;
    the update removes gen and merge, and reco's dependency 1 is now on sim. Removing gen
    deleted the links the database held gen as the parent of, the moved one included: the
    campaign was stored without it."""
    upload(campaign_file("""
[campaign_stage gen]
[campaign_stage reco]
[campaign_stage merge]
[dependencies reco]
campaign_stage_1 = gen
file_pattern_1 = %.art
[dependencies merge]
campaign_stage_1 = gen
file_pattern_1 = %.art
"""))
    campaign = upload(campaign_file("""
[campaign_stage sim]
[campaign_stage reco]
[dependencies reco]
campaign_stage_1 = sim
file_pattern_1 = %.fcl
"""))
    assert dependencies() == [("reco", "sim", 1, "%.fcl")]
    assert [s.name for s in campaign.stages] == ["sim", "reco"]
    assert db.session.scalar(select(func.count()).select_from(CampaignStage)) == 2


def test_a_file_whose_tags_are_not_in_order_uploads_again_with_no_change(app):
    """Seed 1, case 964: tags are stored without an order and came back sorted, so the same
    file uploaded again showed a change ("tags changes from [...] to [...]") in the preview
    and the API's dry run."""
    text = campaign_file().replace("name = fuzzed", "name = fuzzed\ntags = reco, B, mdc, reco")
    campaign = upload(text)
    experiment = find_or_create_experiment("mu2e")
    spec, _warnings = store.read_ini(experiment, text, "fuzzed.ini")
    spec.experiment = experiment.name
    existing, changes = store.upload_plan(experiment, spec)
    assert existing.id == campaign.id and [str(c) for c in changes] == []
    assert campaign.tags == spec.tags == ["B", "mdc", "reco"]


# --- numbers Python cannot read, or the database cannot hold --------------------------------

DIGITS = "9" * 5000  # more than Python turns into an int (sys.get_int_max_str_digits)


@pytest.mark.parametrize(("where", "line", "reason"), [
    ("stage", f"param_overrides = [[\"-c \", {DIGITS}]]", "a number of 5000 digits"),
    ("job_type", f"recoveries = [{DIGITS}]", "a number of 5000 digits"),
    ("job_type", f"parameters = {DIGITS}", "a number of 5000 digits"),
    ("stage", f"completion_pct = {DIGITS}", "from -2147483647 to 2147483647"),
    ("stage", "output_ancestor_depth = 2147483648", "from -2147483647 to 2147483647"),
    ("stage", "completion_pct = -99999999999999999999", "from -2147483647 to 2147483647"),
])
def test_a_number_too_long_or_too_large_is_refused_with_the_reason(app, where, line, reason):
    """Seed 17, cases 60, 548 and 985 (ValueError: Exceeds the limit (4300 digits) for
    integer string conversion), and a completion_pct PostgreSQL's integer cannot hold."""
    text = (campaign_file(job_type=line) if where == "job_type"
            else campaign_file(f"[campaign_stage gen]\n{line}\n"))
    (problem,) = refused(text)
    key = line.split(" =")[0]
    assert (problem.file, problem.key) == ("fuzzed.ini", key)
    assert reason in problem.reason
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_the_largest_numbers_the_columns_hold_are_stored(app):
    campaign = upload(campaign_file(
        "[campaign_stage gen]\ncompletion_pct = 2147483647\noutput_ancestor_depth = 2147483647\n"))
    db.session.expire_all()
    (stage,) = campaign.stages
    assert (stage.completion_pct, stage.output_ancestor_depth) == (2147483647, 2147483647)


@pytest.mark.parametrize("number", ["99999999999999999999", DIGITS, "100000000"])
def test_a_dependency_numbered_beyond_the_column_is_kept_as_the_next_number(app, number):
    """Seed 17, case 1811 (OverflowError: Python int too large to convert to SQLite INTEGER;
    PostgreSQL refused it too) and case 62 (ValueError, 5000 digits): the original reads N
    only to pair campaign_stage_N with file_pattern_N, so such an N is a name, kept as the
    next free number, as campaign_stage_x is."""
    text = campaign_file(f"""
[campaign_stage gen]
[campaign_stage reco]
[dependencies reco]
campaign_stage_3 = gen
file_pattern_3 = %.art
campaign_stage_{number} = gen
file_pattern_{number} = %.root
""")
    experiment = find_or_create_experiment("mu2e")
    _spec, warnings = store.read_ini(experiment, text, "fuzzed.ini")
    assert any(w.key == f"campaign_stage_{number}" and "kept as dependency 4" in w.reason
               for w in warnings)
    upload(text)
    assert dependencies() == [("reco", "gen", 3, "%.art"), ("reco", "gen", 4, "%.root")]


# --- JSON the database cannot store ---------------------------------------------------------


@pytest.mark.parametrize(("value", "reason"), [
    ('[["-c ", NaN]]', "NaN, which is not a JSON number"),
    ('[["-c ", Infinity]]', "Infinity, which is not a JSON number"),
    ('[["-c ", -Infinity]]', "-Infinity, which is not a JSON number"),
    ('[["-c ", 1e999]]', "the number 1e999, too large to store"),
    ('[["-c ", "\\ud800"]]', "not half of a pair"),
    ('[["\\udfff\\ud800", "x"]]', "not half of a pair"),
])
def test_json_the_database_cannot_store_is_refused(app, value, reason):
    """json.loads reads NaN, Infinity, 1e999 (as inf) and a lone \\uD800 escape. PostgreSQL's
    json refused the first three as they were written to it (DataError: a 500 from the API);
    the last was stored on both databases, and then its export could not be encoded
    (UnicodeEncodeError: a 500 from GET .../ini, a traceback from export-ini)."""
    for text, key in ((campaign_file(f"[campaign_stage gen]\nparam_overrides = {value}\n"),
                       "param_overrides"),
                      (campaign_file(job_type=f"parameters = {value}"), "parameters"),
                      (campaign_file(defaults=f'campaign_keywords = {{"k": {value}}}'),
                       "campaign_keywords")):
        (problem,) = refused(text)
        assert (problem.file, problem.key) == ("fuzzed.ini", key)
        assert reason in problem.reason


def test_json_numbers_the_database_can_store_are_kept_as_written(app):
    big = 2**70  # beyond a 64-bit integer, but JSON: the json columns keep it as text
    text = campaign_file(f'[campaign_stage gen]\nparam_overrides = [["-n ", {big}]]\n',
                         defaults='campaign_keywords = {"run": 1.5e300, "emoji": "\\ud83d\\ude00"}')
    campaign = upload(text)
    db.session.expire_all()
    assert campaign.stages[0].param_overrides == [["-n ", big]]
    assert campaign.keywords == {"run": 1.5e300, "emoji": "😀"}
    again, _warnings = parse_ini(export_ini(store.spec_from_campaign(campaign)))
    assert again.stages[0].param_overrides == [["-n ", big]]


# --- messages -------------------------------------------------------------------------------


def test_a_problem_shows_a_name_with_control_characters_escaped_on_one_line():
    """Seed 17, case 1946 through `poms import-ini`: a section name holding a paragraph
    separator and a right-to-left override was printed as it is, breaking the line (and the
    order it reads in)."""
    text = campaign_file("[campaign_stage gen]\n[dependencies gen\u2029\u202e]\n"
                         "campaign_stage_1 = gen\nfile_pattern_1 = %\n")
    with pytest.raises(InvalidCampaign) as err:
        parse_ini(text, "fuzzed.ini")
    said = str(err.value.problems[0])
    assert said.startswith("fuzzed.ini:") and "[dependencies gen\\u2029\\u202e]" in said
    assert said.isprintable()


def test_a_problem_about_a_value_of_several_lines_stays_on_one_line():
    """Seed 17, case 349 through `poms import-ini`: a section header indented by mistake
    continues the value above it, so the job type's name held a line break, and the
    problem naming it ran over three lines of the command's output."""
    text = campaign_file("[campaign_stage gen]\njob_type = jt\n\t[campaign_stage reco]\n")
    with pytest.raises(InvalidCampaign) as err:
        parse_ini(text, "fuzzed.ini")
    (said,) = [str(p) for p in err.value.problems if p.key == "job_type"]
    assert "job type 'jt\\n[campaign_stage reco]' is not defined in this file" in said
    assert said.isprintable()


# --- the experiment `poms import-ini` would create ------------------------------------------


@pytest.mark.parametrize("experiment", ["x" * 80, "mu2e\x07", "MU2E", "mu2e/prod"])
def test_import_ini_refuses_to_create_an_experiment_with_a_name_no_experiment_may_have(
        new_database, tmp_path, experiment):
    """Seed 17 through `poms import-ini`: the command created the experiment the file names
    before reading the file. A name longer than the column was a traceback on PostgreSQL
    (StringDataRightTruncation); any other, a new experiment on either database, one the
    admin pages refuse to make (app/auth/members.EXPERIMENT_NAME)."""
    url = new_database()
    path = tmp_path / "odd.ini"
    path.write_text(campaign_file().replace("experiment = mu2e", f"experiment = {experiment}"))
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "poms", "import-ini", str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "POMS_DATABASE_URL": url, "POMS_SECRET_KEY": "fuzz",
             "POMS_UPLOADS_DIR": str(tmp_path / "uploads")})
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"{path} [campaign] experiment: ")
    assert "is not an experiment name" in done.stderr
    app = _app(url)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Experiment)) == 0
        db.session.remove()
        db.engine.dispose()
