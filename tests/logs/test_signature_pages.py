"""The failure signature page of an experiment, driven as people in each role would."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.logs.starting_set import STARTING_SET
from app.models import AuditEntry
from app.models.logs import FailureSignature
from tests.fixtures.app import csrf_token, signed_in
from tests.logs.logfiles import FAILURES, clean_log
from tests.logs.stored import stored_jobs

PAGE = "/e/mu2e/signatures"
HX = {"HX-Request": "true"}


def text(response) -> str:
    return response.get_data(as_text=True)


def rows() -> list[FailureSignature]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(FailureSignature).order_by(FailureSignature.position, FailureSignature.id)))


def named(name: str) -> FailureSignature:
    return next(r for r in rows() if r.name == name)


@pytest.fixture
def producer(client, member):
    member("mu2e", "pat", "production")
    return signed_in(client, "pat")


@pytest.fixture
def analyst(app, member):
    member("mu2e", "ann", "analysis")
    return signed_in(app.test_client(), "ann")


def post(client, url, data, htmx=True):
    token = csrf_token(client, PAGE)
    return client.post(url, data={**data, "csrf_token": token}, headers=HX if htmx else {})


def edit_form(row: FailureSignature, **changes) -> dict:
    form = {"name": row.name, "pattern": row.pattern, "category": row.category,
            "exit_codes": row.exit_codes, "action": row.action}
    form.update(changes)
    return form


def test_first_visit_installs_the_starting_set_once_and_members_see_it(analyst):
    page = text(analyst.get(PAGE))
    assert [r.name for r in rows()] == [row[1] for row in STARTING_SET]
    assert "Out of memory" in page and "---- ProductNotFound BEGIN" in page
    assert "edit" not in page.split("<table", 1)[1].split("</table>")[0]  # no buttons
    assert "Try a pattern" not in page
    analyst.get(PAGE)
    assert len(rows()) == len(STARTING_SET)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "failure signatures installed")) == 1


def test_production_edits_a_signature_in_place(producer):
    producer.get(PAGE)
    row = named("Disk full")
    form = edit_form(row, pattern=r"No space left on device|Quota exceeded", exit_codes="28")
    response = post(producer, f"/e/mu2e/signature/{row.id}", form)
    assert response.status_code == 200
    assert 'class="error"' not in text(response) and "Quota exceeded" in text(response)
    row = named("Disk full")
    assert (row.pattern, row.exit_codes) == (r"No space left on device|Quota exceeded", "28")
    edit = text(producer.get(f"/e/mu2e/signature/{row.id}?edit=1", headers=HX))
    assert 'name="pattern"' in edit and "Quota exceeded" in edit
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "failure signature changed"))
    assert entry.subject == "Disk full" and entry.after == {
        "pattern": r"No space left on device|Quota exceeded", "exit_codes": "28"}


@pytest.mark.parametrize("pattern, reason", [
    ("(unclosed", "not a regular expression: missing ), unterminated subpattern at position 0"),
    (r"(x)\1", "back-references"),
    (".*", "matches an empty line"),
])
def test_a_bad_regex_is_refused_with_its_reason_and_nothing_changes(producer, pattern,
                                                                    reason):
    producer.get(PAGE)
    row = named("Disk full")
    before = row.pattern
    response = post(producer, f"/e/mu2e/signature/{row.id}", edit_form(row, pattern=pattern))
    assert response.status_code == 200  # htmx swaps the form back in, with the reason
    page = text(response)
    assert 'class="error"' in page and reason in page
    assert 'name="pattern"' in page  # what was typed stays in the form
    assert named("Disk full").pattern == before
    plain = post(producer, f"/e/mu2e/signature/{row.id}", edit_form(row, pattern=pattern),
                 htmx=False)
    assert plain.status_code == 422


def test_analysis_members_may_not_change_anything(analyst):
    analyst.get(PAGE)
    row = named("Disk full")
    for url, data in [
        (f"/e/mu2e/signature/{row.id}", edit_form(row, name="mine")),
        (f"/e/mu2e/signature/{row.id}/delete", {}),
        (f"/e/mu2e/signature/{row.id}/move", {"direction": "up"}),
        (PAGE, edit_form(row, name="new one")),
        (f"{PAGE}/try", {"pattern": "Killed"}),
    ]:
        response = post(analyst, url, data)
        assert response.status_code == 403, url
        assert "production or superuser may" in text(response)
    assert named("Disk full").name == "Disk full" and len(rows()) == len(STARTING_SET)


def test_posts_without_the_csrf_token_are_refused(producer):
    producer.get(PAGE)
    row = named("Disk full")
    response = producer.post(f"/e/mu2e/signature/{row.id}/delete", headers=HX)
    assert response.status_code == 400
    response = producer.post(f"/e/mu2e/signature/{row.id}", data=edit_form(row, name="x"))
    assert response.status_code == 400
    assert len(rows()) == len(STARTING_SET) and named("Disk full")


def test_add_delete_and_reorder(producer):
    producer.get(PAGE)
    added = post(producer, PAGE, {"name": "Geometry missing", "pattern": "cannot open geom",
                                  "category": "software", "exit_codes": "", "action": "Fix"})
    assert added.status_code == 200 and "Added Geometry missing." in text(added)
    assert rows()[-1].name == "Geometry missing"
    again = post(producer, PAGE, {"name": "Geometry missing", "pattern": "other",
                                  "category": "software"})
    assert "already has a signature named" in text(again)
    assert 'value="other"' in text(again)  # the form keeps what was typed

    last = rows()[-1]
    moved = post(producer, f"/e/mu2e/signature/{last.id}/move", {"direction": "up"})
    assert moved.status_code == 200
    assert [r.name for r in rows()][-2:] == ["Geometry missing", STARTING_SET[-1][1]]

    gone = post(producer, f"/e/mu2e/signature/{named('Out of memory').id}/delete", {})
    assert gone.status_code == 200 and text(gone) == ""
    assert "Out of memory" not in [r.name for r in rows()]
    producer.get(PAGE)  # a deleted starting signature stays deleted
    assert "Out of memory" not in [r.name for r in rows()]


def test_try_a_pattern_against_the_experiments_stored_logs(app, producer, tmp_path):
    jobs = stored_jobs(app, tmp_path / "joblogs", [(FAILURES["disk-full"][0], 1),
                                                   (FAILURES["cvmfs"][0], 1),
                                                   (clean_log(), 0)])
    stored_jobs(app, tmp_path / "joblogs", [(FAILURES["disk-full"][0], 1)], experiment="dune")
    producer.get(PAGE)
    response = post(producer, f"{PAGE}/try", {"pattern": r"No space left"})
    page = text(response)
    line = next(n for n, s in enumerate(FAILURES["disk-full"][0].splitlines(), 1)
                if "No space left" in s)
    # The two failed jobs of mu2e; dune's job is not read, nor the job that succeeded.
    assert "Scanned 2 logs" in page and "of the 2 failed jobs of mu2e" in page
    assert "would match 1." in page
    log = (f"/e/mu2e/results/submission/{jobs[0].submission_id}/job/{jobs[0].id}"
           f"?line={line}#line-{line}")
    assert f'<a href="{log}">{jobs[0].batch_job_id}</a>' in page
    refused = text(post(producer, f"{PAGE}/try", {"pattern": r"(x)\1"}))
    assert "back-references" in refused
    assert len([r for r in rows() if r.experiment.name == "mu2e"]) == len(STARTING_SET)


def test_the_trial_says_what_its_limits_left_out(app, producer, tmp_path):
    from app.logs.signatures import Signature
    from app.logs.trial import try_on_stored_logs

    stored_jobs(app, tmp_path / "joblogs", [(FAILURES["disk-full"][0], 1)] * 5)
    from app.auth.members import find_experiment

    report = try_on_stored_logs(find_experiment("mu2e"),
                                Signature.build("t", "No space", "site"), app.config,
                                max_logs=3)
    assert (report.considered, report.files_scanned, report.files_skipped) == (5, 3, 2)
    assert len(report.matches) == 3
    page = text(post(producer, f"{PAGE}/try", {"pattern": "No space"}))
    assert "Scanned 5 logs" in page and "left out" not in page


def test_another_experiments_signature_is_not_reachable(producer, member):
    member("dune", "pat", "production")
    producer.get("/e/dune/signatures")
    dune_row = rows()[0]
    assert dune_row.experiment.name == "dune"
    assert producer.get(f"/e/mu2e/signature/{dune_row.id}").status_code == 404
    response = post(producer, f"/e/mu2e/signature/{dune_row.id}/delete", {})
    assert response.status_code == 404


def test_what_people_typed_is_escaped(producer):
    producer.get(PAGE)
    post(producer, PAGE, {"name": "<script>alert(1)</script>", "pattern": "<b>bold</b>",
                          "category": "site"})
    page = text(producer.get(PAGE))
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
