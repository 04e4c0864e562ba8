"""`poms versions` and `poms rollback`, run as an operator runs them; `poms import-ini`
makes a version with its --reason."""
from __future__ import annotations

from tests.campaigns.test_cli import flask_cli  # noqa: F401  (the fixture)
from tests.fixtures.app import EXAMPLES

TUTORIAL = (EXAMPLES / "mu2e_reco_tutorial.ini").read_text()
V2 = TUTORIAL.replace("tutorial/reco.cfg\"]]\noutput_file_patterns = %.art",
                      "tutorial/reco_v2.cfg\"]]\noutput_file_patterns = %.art")
assert V2 != TUTORIAL


def test_import_versions_diff_export_and_rollback_from_the_command_line(flask_cli, tmp_path):  # noqa: F811
    one, two = tmp_path / "one.ini", tmp_path / "two.ini"
    one.write_text(TUTORIAL)
    two.write_text(V2)
    for path, reason in ((one, "first pass"), (two, "new reco configuration")):
        done = flask_cli("poms", "import-ini", str(path), "--user", "srsoleti",
                         "--reason", reason)
        assert done.returncode == 0, done.stderr
    first = flask_cli("poms", "versions", "srsoleti_tutorial", "--export", "1").stdout

    listed = flask_cli("poms", "versions", "srsoleti_tutorial")
    assert listed.returncode == 0, listed.stderr
    lines = [line.split("\t") for line in listed.stdout.splitlines()]
    assert [(f[0], f[2], f[3], f[4]) for f in lines] == [
        ("2", "srsoleti", "cli", "new reco configuration"),
        ("1", "srsoleti", "cli", "first pass")]

    diff = flask_cli("poms", "versions", "srsoleti_tutorial", "--diff", "1", "2")
    assert diff.stdout.splitlines() == [
        "Job type 'mu2e_reco_srsoleti_jobtype': parameters changes from "
        '[["-c ", "/mu2e/app/users/srsoleti/tutorial/reco.cfg"]] to '
        '[["-c ", "/mu2e/app/users/srsoleti/tutorial/reco_v2.cfg"]].']

    # Someone who may not change the campaign is refused, and nothing changes.
    other = tmp_path / "other.ini"
    other.write_text(TUTORIAL.replace("experiment = mu2e", "experiment = nova"))
    assert flask_cli("poms", "import-ini", str(other), "--user", "bob").returncode == 0
    refused = flask_cli("poms", "rollback", "srsoleti_tutorial", "1", "--experiment", "mu2e",
                        "--user", "bob", "--yes")
    assert refused.returncode == 1 and "may not change campaign" in refused.stderr
    # Not saying which experiment, when two hold the name, is refused too.
    assert "give --experiment" in flask_cli("poms", "rollback", "srsoleti_tutorial", "1",
                                            "--yes").stderr

    # Without --yes the answer is asked; "n" leaves it as it is.
    asked = flask_cli("poms", "rollback", "srsoleti_tutorial", "1", "--experiment", "mu2e",
                      input_text="n\n")
    assert asked.returncode == 1 and "nothing changed" in asked.stderr
    assert "-" in asked.stderr and "reco_v2.cfg" in asked.stderr  # the script's diff

    done = flask_cli("poms", "rollback", "srsoleti_tutorial", "1", "--experiment", "mu2e",
                     "--reason", "v2 broke reco", "--yes")
    assert done.returncode == 0, done.stderr
    assert "impact: stage reco: changes" in done.stderr
    assert done.stdout.strip() == "campaign srsoleti_tutorial: version 3"
    assert flask_cli("poms", "export-ini", "mu2e", "srsoleti_tutorial").stdout == first
    newest = flask_cli("poms", "versions", "srsoleti_tutorial", "--experiment", "mu2e")
    assert newest.stdout.splitlines()[0].split("\t")[3:] == [
        "rollback", "rolled back to version 1: v2 broke reco"]
