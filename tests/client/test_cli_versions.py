"""`poms versions` and `poms rollback` (and `upload-ini --reason`) against a live server:
the history, a diff, a version's INI, a rollback's dry run with what it does to the
launches, the rollback itself, and its refusal to who may not change the campaign."""
from __future__ import annotations

from tests.fixtures.app import EXAMPLES

TUTORIAL = (EXAMPLES / "mu2e_reco_tutorial.ini").read_text()
V2 = TUTORIAL.replace("tutorial/reco.cfg\"]]\noutput_file_patterns = %.art",
                      "tutorial/reco_v2.cfg\"]]\noutput_file_patterns = %.art")


def test_versions_and_rollback_from_the_shell(poms, dev_server, tmp_path):
    one, two = tmp_path / "one.ini", tmp_path / "two.ini"
    one.write_text(TUTORIAL)
    two.write_text(V2)
    assert poms("upload-ini", one, "--reason", "first pass").code == 0
    first = poms("export-ini", "srsoleti_tutorial").out
    dry = poms("upload-ini", two, "--dry-run")
    assert "impact: stage reco: changes" in dry.out and "+" in dry.out
    assert poms("upload-ini", two, "--reason", "new reco configuration").code == 0

    listed = poms("--json", "versions", "srsoleti_tutorial").json["versions"]
    assert [(v["number"], v["by"], v["reason"]) for v in listed] == [
        (2, "alice", "new reco configuration"), (1, "alice", "first pass")]
    diff = poms("versions", "srsoleti_tutorial", "--diff", "1", "2").out
    assert diff.startswith("Job type 'mu2e_reco_srsoleti_jobtype': parameters changes")
    assert poms("versions", "srsoleti_tutorial", "--export", "1").out == first

    refused = poms("rollback", "srsoleti_tutorial", "1", env={"POMS_USER": "bob"})
    assert refused.code == 1 and "may not change campaign" in refused.err

    plan = poms("rollback", "srsoleti_tutorial", "1", "--dry-run", env={"POMS_USER": "alice"})
    assert plan.code == 0, plan.err
    assert "impact: stage reco: changes" in plan.out
    assert any(line.startswith("-") and "reco_v2.cfg" in line for line in plan.out.split("\n"))
    assert len(poms("--json", "versions", "srsoleti_tutorial").json["versions"]) == 2

    done = poms("rollback", "srsoleti_tutorial", "1", "--reason", "v2 broke reco")
    assert done.code == 0, done.err
    assert done.out.strip().endswith("campaign srsoleti_tutorial: version 3")
    assert poms("export-ini", "srsoleti_tutorial").out == first
