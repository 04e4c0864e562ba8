"""Issue 17: ids beyond what a database holds gave 500 (OverflowError on SQLite for
/…/submissions/99999999999999999999, PostgreSQL's integer range above 2**31-1), in page
URLs and in UconDB parameters. Every route of the app's own table with an id in its URL,
and every place an id or a page number arrives as a parameter, is replayed with such
numbers: each must be a plain "not found" (or, for a page number, the last page)."""
from __future__ import annotations

import pytest

from app import create_app
from app.extensions import db
from app.ucondb import store
from tests.fixtures.app import csrf_token, signed_in
from tests.security.routes import path_for, routes

HUGE = [99999999999999999999, 2**31, 2**63]  # the probe's; PostgreSQL's; SQLite's
WORDS = {"experiment": "mu2e", "kind": "job_type", "key": "name", "campaign": "c",
         "stage": "s", "name": "n", "database": "poms", "rest": "f1/o1", "folder_name": "f1",
         "filename": "x"}

_TABLE = routes(create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x",
                            "POMS_AUTH": "dev"}))
WITH_IDS = [r for r in _TABLE if r.int_args]


@pytest.fixture
def su(app, client, member):
    app.config["POMS_ADMINS"] = ["su"]
    member("mu2e", "su", "superuser")
    signed_in(client, "su")
    client.csrf = csrf_token(client, "/e/mu2e/campaigns")
    return client


def test_the_table_has_ids_to_try():
    assert len(WITH_IDS) > 40  # pages and API alike


@pytest.mark.parametrize("route", WITH_IDS, ids=[r.id for r in WITH_IDS])
def test_an_id_no_table_holds_is_not_found(su, route):
    for number in HUGE:
        url = path_for(route.rule, {**WORDS, **{name: number for name in route.int_args}})
        headers = {"X-CSRFToken": su.csrf}
        if route.is_api:
            headers["X-POMS-User"] = "su"
        response = su.open(url, method=route.method, headers=headers)
        assert response.status_code == 404, (url, response.status_code,
                                             response.get_data(as_text=True)[:300])


@pytest.fixture
def folder(app):
    store.create_folder(db.session, "poms", "f1", created_by="test")
    stored = store.store_version(db.session, "poms", "f1", "o1", b"data", writer="test")
    db.session.commit()
    return stored.meta["id"]


@pytest.mark.parametrize("number", HUGE)
def test_ucondb_version_ids_in_parameters(client, folder, number):
    for url in (f"/ucondb/poms/app/UI/version?folder=f1&vid={number}",
                f"/ucondb/poms/app/get_blob?folder=f1&version_id={number}",
                f"/ucondb/poms/app/data/f1/o1?id={number}",
                f"/ucondb/poms/app/get/f1/o1?id={number}&meta_only=yes"):
        response = client.get(url)
        assert response.status_code == 404, (url, response.get_data(as_text=True)[:300])
    found = client.post("/ucondb/poms/app/lookup_versions?folder=f1",
                        json={"ids": [number, folder]})
    assert found.status_code == 200
    assert f'"id": {folder}' in found.get_data(as_text=True)
    assert str(number) not in found.get_data(as_text=True)


@pytest.mark.parametrize("number", HUGE)
def test_page_numbers_past_every_page(su, folder, number):
    for url in (f"/e/mu2e/campaigns?page={number}", f"/e/mu2e/audit?page={number}",
                f"/admin/audit?page={number}",
                f"/ucondb/poms/app/UI/folder?folder=f1&page={number}"):
        response = su.get(url)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
    api = su.get(f"/api/v1/experiments/mu2e/campaigns?page={number}",
                 headers={"X-POMS-User": "su"})
    assert api.status_code == 400 and api.get_json()["field"] == "page"
