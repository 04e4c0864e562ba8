"""The embedded UconDB server, endpoint by endpoint, over real HTTP.

Through our client where it has the call, and through plain `requests` where the test is
about the wire: status codes, content types, headers, the Digest challenge.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
import zlib

import pytest
import requests
from requests.auth import HTTPDigestAuth
from sqlalchemy import func, select

from app.extensions import db
from app.models import UconBlob, UconObject, UconVersion
from app.ucondb.client import (
    BadRequest,
    KeyConflict,
    NotFound,
    TooLarge,
    Unauthorized,
)
from tests.ucondb.conftest import LIMIT

FOLDER = "cnf_mu2e_tutorial_fcl"
FCL = b'#include "Offline/JobConfig/reco/Reco.fcl"\nservices.SeedService.baseSeed : 7\n'


def count(model) -> int:
    db.session.rollback()  # see what the server committed
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def folder(ucon):
    ucon.create_folder(FOLDER)
    return FOLDER


# -- version, probe, folders ------------------------------------------------------------


def test_version_and_probe_answer_as_the_real_server(ucondb_server, anon):
    assert anon.version() == "3.9.2"
    response = requests.get(f"{ucondb_server.url}/probe")
    assert response.status_code == 200 and response.text == "OK"
    assert response.headers["X-Server-Application-Version"].startswith("UConDB 3.9.2")


def test_folders_start_empty_and_list_what_was_created(ucon, anon, ucondb_server):
    assert anon.folders() == []
    ucon.create_folder("b_folder")
    ucon.create_folder("a_folder")
    assert anon.folders() == ["a_folder", "b_folder"]
    response = requests.get(f"{ucondb_server.url}/folders")
    assert response.headers["Content-Type"].startswith("text/json")  # what the real client checks
    csv = requests.get(f"{ucondb_server.url}/folders", params={"format": "csv"})
    assert csv.text == "Name\na_folder\nb_folder"


def test_databases_are_separate(ucon, ucondb_server):
    ucon.create_folder("only_here")
    other = ucondb_server.url.replace("/mu2e_ucondb_test/", "/dune_ucondb_test/")
    assert requests.get(f"{other}/folders").json() == []


def test_creating_a_folder_twice_changes_nothing(ucon, anon):
    ucon.create_folder("twice")
    assert ucon.ensure_folder("twice") is False
    ucon.create_folder("twice")
    assert anon.folders() == ["twice"]


@pytest.mark.parametrize("name, words", [
    ("cnf.mu2e.fcl", "dot"),
    ("has-dash", "'-'"),
    ("9starts_with_digit", "digit"),
    ("x" * 55, "longer than 54"),
])
def test_invalid_folder_names_are_refused_with_400(ucon, anon, name, words):
    with pytest.raises(BadRequest) as caught:
        ucon.create_folder(name)
    assert caught.value.status == 400 and words in caught.value.message
    assert anon.folders() == []


def test_an_invalid_database_name_is_400(ucondb_server):
    bad = ucondb_server.url.replace("/mu2e_ucondb_test/", "/bad-db/")
    response = requests.get(f"{bad}/folders")
    assert response.status_code == 400 and "database" in response.json()["error"]


def test_drop_is_refused(ucondb_server, folder):
    response = requests.post(f"{ucondb_server.url}/create_folder",
                             params={"folder": folder, "drop": "yes"},
                             auth=HTTPDigestAuth("writer", "s3cret"))
    assert response.status_code == 400 and "drop" in response.json()["error"]


# -- Digest authentication ----------------------------------------------------------------


def test_a_write_without_credentials_gets_a_digest_challenge(ucondb_server, anon):
    response = requests.post(f"{ucondb_server.url}/create_folder", params={"folder": "f"})
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Digest ")
    assert 'realm="f"' in challenge and 'qop="auth"' in challenge and "algorithm=MD5" in challenge
    assert response.json()["status"] == 401
    with pytest.raises(Unauthorized) as caught:
        anon.create_folder("f")
    assert "username and password" in str(caught.value)
    assert anon.folders() == []


def test_a_wrong_password_gets_401_with_a_fresh_challenge(ucondb_server):
    response = requests.post(f"{ucondb_server.url}/create_folder", params={"folder": "f"},
                             auth=HTTPDigestAuth("writer", "wrong"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Digest ")
    assert "wrong user name or password" in response.json()["error"]
    client = ucondb_server.client("writer", "wrong")
    with pytest.raises(Unauthorized) as caught:
        client.create_folder("f")
    assert caught.value.status == 401 and "/create_folder?folder=f" in str(caught.value)
    assert ucondb_server.client().folders() == []


def test_an_unknown_user_gets_401(ucondb_server):
    response = requests.post(f"{ucondb_server.url}/create_folder", params={"folder": "f"},
                             auth=HTTPDigestAuth("mallory", "s3cret"))
    assert response.status_code == 401
    # The same words as a wrong password: the answer does not tell which users exist.
    assert "wrong user name or password" in response.json()["error"]


def test_every_configured_writer_may_write(ucondb_server):
    ucondb_server.client("other", "pw2").create_folder("by_other")
    assert "by_other" in ucondb_server.client().folders()


def _digest_header(url: str, method: str, user: str, password: str, realm: str, nonce: str):
    """An Authorization header computed by hand (RFC 7616, MD5, qop=auth)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    uri = parts.path + ("?" + parts.query if parts.query else "")
    ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    nc, cnonce = "00000001", "0a4f113b"
    answer = hashlib.md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
    return (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
            f'algorithm=MD5, qop=auth, nc={nc}, cnonce="{cnonce}", response="{answer}"')


def test_an_old_nonce_is_stale_and_a_forged_one_is_refused(ucondb_server):
    from app.ucondb import digest

    url = f"{ucondb_server.url}/create_folder?folder=f"
    secret = ucondb_server.app.config["SECRET_KEY"].encode()
    old = digest.make_nonce(secret, "f", now=time.time() - digest.NONCE_TTL - 60)
    response = requests.post(url, headers={
        "Authorization": _digest_header(url, "POST", "writer", "s3cret", "f", old)})
    assert response.status_code == 401
    assert "stale=true" in response.headers["WWW-Authenticate"]
    forged = f"{int(time.time())}.{'0' * 32}"
    response = requests.post(url, headers={
        "Authorization": _digest_header(url, "POST", "writer", "s3cret", "f", forged)})
    assert response.status_code == 401 and "stale" not in response.headers["WWW-Authenticate"]
    assert "not issued here" in response.json()["error"]
    fresh = digest.make_nonce(secret, "f")
    response = requests.post(url, headers={
        "Authorization": _digest_header(url, "POST", "writer", "s3cret", "f", fresh)})
    assert response.status_code == 200 and response.text == "OK"


def test_a_signed_request_cannot_be_replayed_against_another_url(ucondb_server):
    from app.ucondb import digest

    secret = ucondb_server.app.config["SECRET_KEY"].encode()
    nonce = digest.make_nonce(secret, "f")
    signed_for = f"{ucondb_server.url}/create_folder?folder=f"
    header = _digest_header(signed_for, "POST", "writer", "s3cret", "f", nonce)
    response = requests.post(f"{ucondb_server.url}/create_folder?folder=f&owner=x",
                             headers={"Authorization": header})
    assert response.status_code == 401 and "is not this request" in response.json()["error"]
    # Nor used in another realm (folder).
    other = f"{ucondb_server.url}/create_folder?folder=g"
    response = requests.post(other, headers={
        "Authorization": _digest_header(other, "POST", "writer", "s3cret", "f", nonce)})
    assert response.status_code == 401


def test_reads_need_no_credentials_and_no_poms_session(ucon, ucondb_server, folder):
    ucon.put_data(folder, "a.fcl", FCL, key="a.fcl")
    session = requests.Session()  # no cookies, no auth
    assert session.get(f"{ucondb_server.url}/objects", params={"folder": folder}).json() == [
        "a.fcl"]
    assert session.get(f"{ucondb_server.url}/data/{folder}/a.fcl").content == FCL


# -- put and get ------------------------------------------------------------------------


def test_put_answers_the_new_versions_metadata(ucon, folder):
    before = time.time()
    meta = ucon.put_data(folder, "job_001.fcl", FCL, key="job_001.fcl", tags=["mdc2020"],
                         tv=123.5)
    assert set(meta) == {"object", "folder", "tv", "tr", "tags", "adler32", "uadler32",
                         "data_size", "data_key", "id", "key"}
    assert meta["object"] == "job_001.fcl" and meta["folder"] == folder
    assert meta["tv"] == 123.5 and before - 1 <= meta["tr"] <= time.time() + 1
    assert meta["tags"] == ["mdc2020"] and meta["key"] == "job_001.fcl"
    assert meta["data_size"] == len(FCL)
    assert meta["adler32"] == meta["uadler32"] == zlib.adler32(FCL)
    assert meta["data_key"] == hashlib.sha256(FCL).hexdigest()


def test_put_without_full_meta_answers_the_id(ucondb_server, folder):
    response = requests.post(f"{ucondb_server.url}/data/{folder}/plain.fcl", data=b"x",
                             auth=HTTPDigestAuth("writer", "s3cret"))
    assert response.status_code == 200 and response.text.isdigit()
    also = requests.put(f"{ucondb_server.url}/put/{folder}/plain.fcl", data=b"y",
                        auth=HTTPDigestAuth("writer", "s3cret"))
    assert also.status_code == 200 and int(also.text) == int(response.text) + 1


def test_get_answers_the_bytes_with_the_real_servers_headers(ucon, ucondb_server, folder):
    meta = ucon.put_data(folder, "a.fcl", FCL, key="k1")
    response = requests.get(f"{ucondb_server.url}/data/{folder}/a.fcl")
    assert response.status_code == 200 and response.content == FCL
    headers = response.headers
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["X-UConDB-version-id"] == str(meta["id"])
    assert headers["X-UConDB-data-key"] == meta["data_key"]
    assert headers["X-UConDB-version-key"] == "k1"
    assert headers["X-UConDB-data-size"] == str(len(FCL))
    assert json.loads(headers["X-UConDB-metadata"]) == meta
    # The other URL forms of the real server.
    for url in (f"{ucondb_server.url}/data?folder={folder}&object=a.fcl",
                f"{ucondb_server.url}/data/folder={folder}/object=a.fcl",
                f"{ucondb_server.url}/get/{folder}/a.fcl"):
        assert requests.get(url).content == FCL, url
    meta_only = requests.get(f"{ucondb_server.url}/data/{folder}/a.fcl",
                             params={"meta_only": "yes"})
    assert meta_only.headers["Content-Type"].startswith("text/json")
    assert meta_only.json() == meta


def test_versions_are_chosen_by_key_id_tag_tv_and_tr(ucon, anon, folder):
    first = ucon.put_data(folder, "calib", b"v1", tv=100, key="first", tags=["good"])
    time.sleep(0.01)
    second = ucon.put_data(folder, "calib", b"v2", tv=200)
    time.sleep(0.01)
    future = ucon.put_data(folder, "calib", b"v3", tv=time.time() + 3600)
    assert anon.get_data(folder, "calib") == b"v2"  # valid now: v3 is not yet
    assert anon.get_data(folder, "calib", tv=150) == b"v1"
    assert anon.get_data(folder, "calib", tv=time.time() + 7200) == b"v3"
    assert anon.get_data(folder, "calib", key="first") == b"v1"
    assert anon.get_data(folder, "calib", version_id=future["id"]) == b"v3"
    assert anon.get_data(folder, "calib", tag="good") == b"v1"
    assert anon.get_data(folder, "calib", tv=10**10, tr=second["tr"]) == b"v2"
    assert anon.get_version(folder, "calib", key="first")["id"] == first["id"]
    with pytest.raises(NotFound):
        anon.get_data(folder, "calib", tv=50)  # nothing valid yet
    with pytest.raises(NotFound):
        anon.get_data(folder, "calib", key="nope")
    with pytest.raises(NotFound):
        anon.get_data(folder, "calib", tag="nope")


def test_tv_and_tr_take_dates(ucon, anon, folder):
    ucon.put_data(folder, "dated", b"2020", tv="2020-01-01")
    ucon.put_data(folder, "dated", b"2024", tv="2024-06-01 12:00:00")
    assert anon.get_data(folder, "dated", tv="2023-01-01") == b"2020"
    assert anon.get_data(folder, "dated", tv="2025-01-01 00:00:00") == b"2024"
    with pytest.raises(BadRequest) as caught:
        anon.get_data(folder, "dated", tv="yesterday")
    assert "tv='yesterday'" in caught.value.message


# -- idempotence, dedup, keys ----------------------------------------------------------------


def test_the_same_content_under_the_same_key_makes_no_new_version(ucon, anon, folder):
    first = ucon.put_data(folder, "a.fcl", FCL, key="a.fcl")
    again = ucon.put_data(folder, "a.fcl", FCL, key="a.fcl")
    assert again == first
    assert len(anon.versions(folder, "a.fcl")) == 1
    assert count(UconVersion) == 1 and count(UconBlob) == 1


def test_the_same_content_without_a_key_is_a_new_version_sharing_the_blob(ucon, anon, folder):
    one = ucon.put_data(folder, "a.fcl", FCL)
    two = ucon.put_data(folder, "a.fcl", FCL)
    assert two["id"] != one["id"] and two["data_key"] == one["data_key"]
    assert len(anon.versions(folder, "a.fcl")) == 2
    assert count(UconBlob) == 1


def test_blobs_are_stored_once_across_objects_and_folders(ucon, anon, folder):
    ucon.create_folder("other_folder")
    a = ucon.put_data(folder, "a.fcl", FCL, key="a.fcl")
    b = ucon.put_data(folder, "b.fcl", FCL, key="b.fcl")
    c = ucon.put_data("other_folder", "c.fcl", FCL)
    assert a["data_key"] == b["data_key"] == c["data_key"]
    assert count(UconBlob) == 1 and count(UconVersion) == 3
    assert anon.get_data(folder, "b.fcl") == FCL


def test_other_content_under_an_existing_key_is_409_unless_override(ucon, anon, folder):
    first = ucon.put_data(folder, "a.fcl", FCL, key="a.fcl")
    with pytest.raises(KeyConflict) as caught:
        ucon.put_data(folder, "a.fcl", b"other", key="a.fcl")
    assert caught.value.status == 409 and "override=yes" in caught.value.message
    assert count(UconVersion) == 1 and count(UconBlob) == 1  # nothing half-stored
    moved = ucon.put_data(folder, "a.fcl", b"other", key="a.fcl", override=True)
    assert moved["key"] == "a.fcl" and moved["id"] != first["id"]
    assert anon.get_data(folder, "a.fcl", key="a.fcl") == b"other"
    old = anon.lookup_versions(folder, ids=[first["id"]])[0]
    assert old["key"] is None
    assert anon.get_data(folder, "a.fcl", version_id=first["id"]) == FCL


def test_concurrent_puts_of_the_same_key_make_one_version(ucondb_server, folder):
    results, errors = [], []

    def put():
        client = ucondb_server.client("writer", "s3cret")
        try:
            results.append(client.put_data(folder, "race.fcl", FCL, key="race.fcl"))
        except Exception as err:  # noqa: BLE001 -- reported below
            errors.append(err)

    threads = [threading.Thread(target=put) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len({r["id"] for r in results}) == 1 and len(results) == 8
    assert count(UconVersion) == 1 and count(UconObject) == 1 and count(UconBlob) == 1


def test_concurrent_puts_of_other_content_under_one_key_keep_one(ucondb_server, folder):
    outcomes = []

    def put(n):
        client = ucondb_server.client("writer", "s3cret")
        try:
            outcomes.append(client.put_data(folder, "race.fcl", b"content %d" % n, key="k"))
        except KeyConflict as err:
            outcomes.append(err)

    threads = [threading.Thread(target=put, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    stored = [o for o in outcomes if isinstance(o, dict)]
    assert len(outcomes) == 6 and len(stored) == 1
    assert count(UconVersion) == 1 and count(UconBlob) == 1


# -- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["a/b", "../etc", "a..b", "a\\b", "a;b"])
def test_keys_with_slashes_or_dotdot_are_400(ucon, folder, key):
    with pytest.raises(BadRequest) as caught:
        ucon.put_data(folder, "a.fcl", FCL, key=key)
    assert caught.value.status == 400 and "version key" in caught.value.message
    assert count(UconObject) == 0 and count(UconBlob) == 0


def test_object_names_with_dotdot_are_400(ucondb_server, folder):
    response = requests.post(f"{ucondb_server.url}/data/{folder}/..x.fcl", data=b"x",
                             auth=HTTPDigestAuth("writer", "s3cret"))
    assert response.status_code == 400 and "object name" in response.json()["error"]
    too_deep = requests.get(f"{ucondb_server.url}/data/{folder}/a/b")
    assert too_deep.status_code == 400


def test_a_blob_over_the_limit_is_413_and_stores_nothing(ucon, folder):
    with pytest.raises(TooLarge) as caught:
        ucon.put_data(folder, "big.fcl", b"x" * (LIMIT + 1), key="big.fcl")
    assert caught.value.status == 413 and str(LIMIT) in caught.value.message
    assert count(UconObject) == 0 and count(UconBlob) == 0
    assert ucon.put_data(folder, "big.fcl", b"x" * LIMIT)["data_size"] == LIMIT


def test_a_chunked_blob_over_the_limit_is_413(ucondb_server, folder):
    def chunks():
        for _ in range(LIMIT // 1000 + 2):
            yield b"y" * 1000

    # requests sends a generator chunked, without Content-Length.
    auth = HTTPDigestAuth("writer", "s3cret")
    requests.post(f"{ucondb_server.url}/create_folder", params={"folder": folder}, auth=auth)
    response = requests.post(f"{ucondb_server.url}/data/{folder}/chunked.fcl", data=chunks(),
                             auth=auth)
    assert response.status_code == 413
    assert count(UconObject) == 0


def test_unknown_folder_object_version_and_data_key_are_404_json(ucon, anon, ucondb_server,
                                                                 folder):
    meta = ucon.put_data(folder, "a.fcl", FCL)
    url = ucondb_server.url
    cases = [
        requests.get(f"{url}/objects", params={"folder": "nope"}),
        requests.get(f"{url}/tags", params={"folder": "nope"}),
        requests.get(f"{url}/versions", params={"folder": "nope", "object": "a.fcl"}),
        requests.get(f"{url}/versions", params={"folder": folder, "object": "nope"}),
        requests.get(f"{url}/data/nope/a.fcl"),
        requests.get(f"{url}/data/{folder}/nope"),
        requests.get(f"{url}/get_blob", params={"folder": folder, "version_id": 999}),
        requests.get(f"{url}/get_blob", params={"folder": folder, "data_key": "0" * 64}),
        requests.post(f"{url}/lookup_versions", params={"folder": "nope"}, data="{}"),
        requests.post(f"{url}/data/nope/a.fcl", data=b"x", auth=HTTPDigestAuth("writer",
                                                                                 "s3cret")),
    ]
    for response in cases:
        assert response.status_code == 404, response.url
        assert response.headers["Content-Type"].startswith("text/json")
        assert "not found" in response.json()["error"], response.url
    # A data key is found only through a folder that holds it.
    ucon.create_folder("empty_folder")
    with pytest.raises(NotFound) as caught:
        anon.get_blob("empty_folder", data_key=meta["data_key"])
    assert caught.value.status == 404 and "empty_folder" in caught.value.message


def test_missing_or_bad_parameters_are_400(ucondb_server, folder):
    url = ucondb_server.url
    for response in (
        requests.get(f"{url}/objects"),
        requests.get(f"{url}/get_blob", params={"folder": folder}),
        requests.get(f"{url}/get_blob", params={"folder": folder, "version_id": 1,
                                                "data_key": "x"}),
        requests.get(f"{url}/get_blob", params={"folder": folder, "version_id": "one"}),
        requests.post(f"{url}/lookup_versions", params={"folder": folder}, data="not json"),
        requests.post(f"{url}/lookup_versions", params={"folder": folder},
                      data=json.dumps({"ids": ["x"]})),
        requests.post(f"{url}/lookup_versions", params={"folder": folder},
                      data=json.dumps({"keys": ["k"]})),  # keys need an object
        requests.get(f"{url}/data/{folder}"),
    ):
        assert response.status_code == 400, response.url
        assert response.json()["error"]


# -- listing and lookup ------------------------------------------------------------------


def test_objects_versions_and_tags(ucon, anon, folder):
    ucon.put_data(folder, "b.fcl", b"b1", tags=["t2"])
    ucon.put_data(folder, "a.fcl", b"a1", tags=["t1", "t2"])
    time.sleep(0.01)
    newest = ucon.put_data(folder, "a.fcl", b"a2")
    assert anon.objects(folder) == ["a.fcl", "b.fcl"]
    assert anon.tags(folder) == ["t1", "t2"]
    listed = anon.versions(folder, "a.fcl")
    assert [v["id"] for v in listed][0] == newest["id"] and len(listed) == 2
    assert [v["tags"] for v in listed] == [[], ["t1", "t2"]]


def test_add_tag_by_id_or_key(ucon, anon, folder):
    one = ucon.put_data(folder, "a.fcl", b"1", key="k1")
    ucon.add_tag(folder, "blessed", version_id=one["id"])
    ucon.add_tag(folder, "blessed", object_name="a.fcl", key="k1")  # twice: no change
    assert anon.get_version(folder, "a.fcl", key="k1")["tags"] == ["blessed"]
    with pytest.raises(Unauthorized):
        anon.add_tag(folder, "x", version_id=one["id"])
    with pytest.raises(NotFound):
        ucon.add_tag(folder, "x", version_id=9999)


def test_lookup_versions_by_ids_keys_key_range_and_tvs(ucon, anon, ucondb_server, folder):
    v1 = ucon.put_data(folder, "run", b"r1", tv=10, key="r001")
    v2 = ucon.put_data(folder, "run", b"r2", tv=20, key="r002")
    v3 = ucon.put_data(folder, "run", b"r3", tv=30, key="r003")
    other = ucon.put_data(folder, "other", b"o", key="r001")
    by_ids = anon.lookup_versions(folder, ids=[v1["id"], v3["id"], other["id"], 9999])
    assert [v["id"] for v in by_ids] == [v1["id"], v3["id"], other["id"]]
    by_keys = anon.lookup_versions(folder, "run", keys=["r002", "r001", "zzz"])
    assert [v["id"] for v in by_keys] == [v1["id"], v2["id"]]
    ranged = anon.lookup_versions(folder, "run", key_min="r002", key_max="r003")
    assert [v["id"] for v in ranged] == [v2["id"]]
    by_tvs = anon.lookup_versions(folder, "run", tvs=[5, 15, 25, 35])
    assert [(v["lookup_tv"], v["id"]) for v in by_tvs] == [
        (15, v1["id"]), (25, v2["id"]), (35, v3["id"])]
    every = anon.lookup_versions(folder, "run")
    assert {v["id"] for v in every} == {v1["id"], v2["id"], v3["id"]}
    raw_every = requests.post(f"{ucondb_server.url}/lookup_versions/{folder}/run", data="{}")
    assert raw_every.content.count(b"\x1e") == 3
    # On the wire: an RFC 7464 JSON text sequence, as the real server sends it.
    raw = requests.post(f"{ucondb_server.url}/lookup_versions",
                        params={"folder": folder, "object": "run"},
                        data=json.dumps({"keys": ["r001"]}))
    assert raw.headers["Content-Type"].startswith("text/json-seq")
    assert raw.content.startswith(b"\x1e{")


def test_get_blob_by_version_id_and_data_key(ucon, anon, folder):
    meta = ucon.put_data(folder, "a.fcl", FCL)
    assert anon.get_blob(folder, version_id=meta["id"]) == FCL
    assert anon.get_blob(folder, data_key=meta["data_key"]) == FCL


def test_binary_content_round_trips(ucon, anon, folder):
    data = bytes(range(256)) * 8
    meta = ucon.put_data(folder, "table.bin", data)
    assert anon.get_data(folder, "table.bin") == data
    assert anon.get_blob(folder, version_id=meta["id"]) == data


# -- pages ------------------------------------------------------------------------------


def test_the_pages_show_folders_objects_versions_and_the_blob(ucon, ucondb_server, folder):
    meta = ucon.put_data(folder, "job_001.fcl", FCL, key="job_001.fcl", tags=["mdc2020"])
    ui = f"{ucondb_server.url}/UI"
    index = requests.get(f"{ui}/index")
    assert index.status_code == 200 and f">{folder}</a>" in index.text
    assert requests.get(f"{ucondb_server.url}/").url.endswith("/UI/index")
    page = requests.get(f"{ui}/folder", params={"folder": folder})
    assert page.status_code == 200 and ">job_001.fcl</a>" in page.text
    versions = requests.get(f"{ui}/object", params={"folder": folder, "name": "job_001.fcl"})
    assert versions.status_code == 200
    assert f"vid={meta['id']}" in versions.text and "mdc2020" in versions.text
    shown = requests.get(f"{ui}/version", params={"folder": folder, "vid": meta["id"]})
    assert shown.status_code == 200
    assert "services.SeedService.baseSeed : 7" in shown.text
    assert meta["data_key"] in shown.text and "by writer" in shown.text
    by_key = requests.get(f"{ui}/object", params={"folder": folder, "name": "job_001.fcl",
                                                  "key": "job_001.fcl"})
    assert by_key.url.endswith(f"vid={meta['id']}")


def test_the_blob_page_shows_binary_as_hex_and_cuts_long_text(ucon, ucondb_server, folder):
    ucondb_server.app.config["POMS_UCONDB_MAX_BLOB_BYTES"] = 100_000
    binary = ucon.put_data(folder, "bin", b"\x00\xff\x10")
    long_text = ucon.put_data(folder, "long", b"a" * 40_000 + b"THE END")
    ui = f"{ucondb_server.url}/UI"
    page = requests.get(f"{ui}/version", params={"folder": folder, "vid": binary["id"]}).text
    assert "00 FF 10" in page
    page = requests.get(f"{ui}/version", params={"folder": folder, "vid": long_text["id"]}).text
    assert "THE END" in page and "left out" in page


def test_pages_for_unknown_things_are_404_pages(ucondb_server):
    response = requests.get(f"{ucondb_server.url}/UI/folder", params={"folder": "nope"})
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert "folder nope not found" in response.text
    wrong_method = requests.post(f"{ucondb_server.url}/UI/index")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Content-Type"].startswith("text/html")


def test_a_bad_page_number_is_a_400_page(ucon, ucondb_server, folder):
    response = requests.get(f"{ucondb_server.url}/UI/folder",
                            params={"folder": folder, "page": "x"})
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")
    assert "page= must be a number" in response.text


def test_another_digest_client_is_understood_too(ucondb_server, anon):
    """Python's own urllib Digest handler, an implementation independent of requests."""
    import urllib.request

    passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    passwords.add_password(None, ucondb_server.url, "other", "pw2")
    opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(passwords))
    created = opener.open(urllib.request.Request(
        f"{ucondb_server.url}/create_folder?folder=by_urllib", data=b"", method="POST"),
        timeout=20)
    assert created.status == 200 and created.read() == b"OK"
    stored = opener.open(urllib.request.Request(
        f"{ucondb_server.url}/data/by_urllib/x.fcl?full_meta=yes&key=x.fcl", data=FCL,
        method="POST"), timeout=20)
    assert json.loads(stored.read())["data_key"] == hashlib.sha256(FCL).hexdigest()
    assert anon.get_data("by_urllib", "x.fcl") == FCL


def test_the_folder_page_pages_and_filters_by_prefix(ucon, ucondb_server, folder, monkeypatch):
    from app.blueprints.ucondb import pages

    monkeypatch.setattr(pages, "PAGE", 2)
    for name in ("a_1.fcl", "a_2.fcl", "ab.fcl", "b.fcl"):
        ucon.put_data(folder, name, name.encode())
    url = f"{ucondb_server.url}/UI/folder"
    first = requests.get(url, params={"folder": folder}).text
    assert ">a_1.fcl</a>" in first and ">a_2.fcl</a>" in first and ">ab.fcl</a>" not in first
    assert "next &gt;" in first and "previous" not in first
    second = requests.get(url, params={"folder": folder, "page": 1}).text
    assert ">ab.fcl</a>" in second and ">b.fcl</a>" in second and "&lt; previous" in second
    # `_` is a letter here, not SQL's one-character wildcard.
    prefixed = requests.get(url, params={"folder": folder, "begins_with": "a_"}).text
    assert ">a_1.fcl</a>" in prefixed and ">ab.fcl</a>" not in prefixed
    # Names are case-sensitive, on SQLite as on PostgreSQL.
    ucon.put_data(folder, "A_3.fcl", b"A_3")
    prefixed = requests.get(url, params={"folder": folder, "begins_with": "a_"}).text
    assert ">a_1.fcl</a>" in prefixed and ">A_3.fcl</a>" not in prefixed
    upper = requests.get(url, params={"folder": folder, "begins_with": "A_"}).text
    assert ">A_3.fcl</a>" in upper and ">a_1.fcl</a>" not in upper
