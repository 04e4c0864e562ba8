"""store_fcl_files: what the FCL stage's uploads job will call, against the embedded server."""
from __future__ import annotations

import pytest
import requests
from sqlalchemy import func, select

from app.extensions import db
from app.models import UconVersion
from app.ucondb.client import KeyConflict
from app.ucondb.fcl import file_url, store_fcl_files
from app.ucondb.naming import InvalidName

DATASET = "cnf.srsoleti.tutorial.MDC2020t.fcl"
FOLDER = "cnf_srsoleti_tutorial_MDC2020t_fcl"


@pytest.fixture
def fcl_files(tmp_path):
    files = []
    for n in range(3):
        path = tmp_path / f"cnf.srsoleti.tutorial.MDC2020t.001000_{n:08d}.fcl"
        path.write_text(f'#include "reco.fcl"\nsource.firstSubRun : {n}\n')
        files.append(path)
    return files


def versions() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(UconVersion))


def test_files_land_in_the_datasets_folder_keyed_by_name(ucon, anon, ucondb_server, fcl_files):
    stored = store_fcl_files(ucon, DATASET, fcl_files)
    locations = [s["location"] for s in stored]
    host_path = f"localhost:/ucondb/mu2e_ucondb_test/app/data/{FOLDER}"
    assert locations == [host_path] * 3
    # Each with the folder and the UconDB version that holds it (what provenance shows).
    assert [s["folder"] for s in stored] == [FOLDER] * 3
    assert [s["version"] for s in stored] == [
        ucon.versions(FOLDER, f.name)[0]["id"] for f in fcl_files]
    assert anon.folders() == [FOLDER]
    assert anon.objects(FOLDER) == sorted(f.name for f in fcl_files)
    for path, location in zip(fcl_files, locations, strict=True):
        assert anon.get_data(FOLDER, path.name, key=path.name) == path.read_bytes()
        # What a job of the next stage does: location + file name -> URL -> the bytes.
        url = file_url(location, path.name, ucondb_server.url)
        assert url == f"{ucondb_server.url}/data/{FOLDER}/{path.name}"
        assert requests.get(url).content == path.read_bytes()


def test_the_client_the_settings_describe_stores_them(ucondb_server, fcl_files):
    from app.ucondb.client import UconDBClient

    client = UconDBClient.from_config(ucondb_server.app.config)
    assert client.base_url == ucondb_server.url and client.database == "mu2e_ucondb_test"
    assert store_fcl_files(client, DATASET, fcl_files[:1])[0]["location"].endswith(
        f"/data/{FOLDER}")
    assert versions() == 1


def test_storing_again_makes_no_new_versions(ucon, fcl_files):
    first = store_fcl_files(ucon, DATASET, fcl_files)
    assert versions() == 3
    again = store_fcl_files(ucon, DATASET, fcl_files)
    assert again[0]["location"].endswith(FOLDER)
    assert [s["version"] for s in again] == [s["version"] for s in first]
    assert versions() == 3


def test_an_existing_folder_is_used(ucon, fcl_files):
    ucon.create_folder(FOLDER)
    store_fcl_files(ucon, DATASET, fcl_files[:1])
    assert versions() == 1


def test_other_bytes_under_a_stored_file_name_are_refused(ucon, fcl_files):
    store_fcl_files(ucon, DATASET, fcl_files)
    fcl_files[0].write_text("changed\n")
    with pytest.raises(KeyConflict):
        store_fcl_files(ucon, DATASET, fcl_files)


def test_a_dataset_with_no_valid_folder_is_refused_before_writing(ucon, anon, fcl_files):
    with pytest.raises(InvalidName) as caught:
        store_fcl_files(ucon, "cnf.mu2e.bad-name.fcl", fcl_files)
    assert "cnf.mu2e.bad-name.fcl" in str(caught.value) and "'-'" in str(caught.value)
    assert anon.folders() == []


def test_a_bad_file_name_is_refused_before_writing(ucon, anon, tmp_path):
    bad = tmp_path / "semi;colon.fcl"
    bad.write_text("x")
    with pytest.raises(InvalidName):
        store_fcl_files(ucon, DATASET, [bad])
    assert anon.folders() == []


def test_file_url_refuses_a_location_on_another_server():
    with pytest.raises(ValueError):
        file_url("otherhost:/db/app/data/f", "a.fcl", "http://localhost:5000/ucondb/db/app")
    assert file_url("dbdata0vm.fnal.gov:/mu2e_ucondb_prod/app/data/f", "a.fcl",
                    "https://dbdata0vm.fnal.gov:9443/mu2e_ucondb_prod/app") == (
        "https://dbdata0vm.fnal.gov:9443/mu2e_ucondb_prod/app/data/f/a.fcl")
