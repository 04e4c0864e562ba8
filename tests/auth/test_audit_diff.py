"""The audit log as a person reads it: one line per change with what changed field by field,
filtered by who, what object and when, a page at a time; only superusers read it."""
from __future__ import annotations

import re

import pytest

from app.audit import FieldChange, audit, field_changes
from app.auth.members import find_experiment
from app.extensions import db
from app.models.logs import FailureSignature
from tests.fixtures.app import csrf_token, signed_in

PAGE = "/e/mu2e/signatures"


def test_field_changes_lists_only_what_differs_field_by_field():
    assert field_changes({"name": "Disk full", "pattern": "No space", "category": "site"},
                         {"name": "Disk full", "pattern": "No space|Quota",
                          "category": "site"}) == [
        FieldChange("pattern", "No space", "No space|Quota")]
    added = field_changes(None, {"name": "x", "exit_codes": "137, 124"})
    assert [(c.field, c.kind, c.after) for c in added] == [
        ("name", "added", "x"), ("exit_codes", "added", "137, 124")]
    removed = field_changes({"role": "production", "roles": {"mu2e": "analysis"}}, None)
    assert [(c.field, c.kind) for c in removed] == [("role", "removed"),
                                                    ("roles.mu2e", "removed")]
    assert field_changes({"hold": None}, {"hold": True}) == [FieldChange("hold", "null",
                                                                         "true")]
    assert field_changes("v1", "v2") == [FieldChange("", "v1", "v2")]
    assert field_changes(None, None) == [] and field_changes({"a": 1}, {"a": 1}) == []
    long = field_changes(None, {"script": "x" * 1000})[0].after
    assert len(long) == 300 and long.endswith("…")


@pytest.fixture
def people(client, member, app):
    member("mu2e", "su", "superuser")
    member("mu2e", "pat", "production")
    member("mu2e", "ann", "analysis")
    app.config["POMS_PAGE_SIZE"] = 5
    return signed_in(client, "su"), signed_in(app.test_client(), "pat"), signed_in(
        app.test_client(), "ann")


def edit_signature(client, row_id: int, **fields):
    token = csrf_token(client, PAGE)
    base = {"name": "Disk full", "pattern": "No space left on device", "category": "site",
            "action": "clean up", "exit_codes": ""}
    return client.post(f"/e/mu2e/signature/{row_id}", data={**base, **fields,
                                                             "csrf_token": token},
                       headers={"HX-Request": "true"})


def entry_rows(html: str) -> list[str]:
    return re.findall(r'<tr id="audit-\d+">(.*?)</tr>', html, re.S)


def test_an_edit_is_one_line_with_its_field_diff_and_the_filters_find_it(people):
    su, pat, ann = people
    pat.get(PAGE)  # installs the starting set (one entry, by the operator)
    disk = db.session.query(FailureSignature).filter_by(name="Disk full").one()
    assert edit_signature(pat, disk.id, pattern="No space|Quota", category="site",
                          action=disk.action).status_code == 200
    for n in range(6):
        edit_signature(pat, disk.id, pattern=f"No space {n}", action=disk.action)

    page = su.get("/e/mu2e/audit", query_string={"person": "pat",
                                                 "subject": "disk"}).get_data(as_text=True)
    rows = entry_rows(page)
    assert len(rows) == 5 and "7 entries, page 1 of 2" in page
    newest = rows[0]
    assert "failure signature changed" in newest and "<td>Disk full</td>" in newest
    assert ('<span class="field">pattern</span>: <del>No space 4</del> → '
            '<ins>No space 5</ins>') in newest
    assert "action" not in newest  # an unchanged field is not listed
    oldest = entry_rows(su.get("/e/mu2e/audit", query_string={
        "person": "pat", "subject": "disk", "page": 2}).get_data(as_text=True))
    assert len(oldest) == 2
    assert re.search(r"<del>No space left on device\|Disk quota exceeded[^<]*</del> → "
                     r"<ins>No space\|Quota</ins>", oldest[-1])

    # By time: none tomorrow; by person: the operator's installation, not pat's edits.
    assert entry_rows(su.get("/e/mu2e/audit?since=2999-01-01").get_data(as_text=True)) == []
    operator = entry_rows(su.get("/e/mu2e/audit?person=operator").get_data(as_text=True))
    assert len(operator) == 1 and "failure signatures installed" in operator[0]
    # The same filters as a fragment, as the page's filter form asks for them.
    fragment = su.get("/e/mu2e/audit?person=pat&page=2",
                      headers={"HX-Request": "true", "HX-Target": "audit-table"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert len(entry_rows(fragment.get_data(as_text=True))) == 2

    assert '<option value="pat">' in page  # who appears in the log, to pick from
    assert pat.get("/e/mu2e/audit").status_code == 403
    assert ann.get("/e/mu2e/audit").status_code == 403


def test_a_change_of_many_fields_stays_one_compact_line(people):
    su, _pat, _ann = people
    audit(find_experiment("mu2e"), None, "campaign created", "big",
          None, {f"field{n}": n for n in range(20)})
    db.session.commit()
    [row] = entry_rows(su.get("/e/mu2e/audit?subject=big").get_data(as_text=True))
    shown, folded = row.split("<details>")
    assert shown.count("<li ") == 4 and "16 more fields" in folded
    assert folded.count("<li ") == 16
