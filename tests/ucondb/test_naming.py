"""The folder naming rule and what names, keys and tags may hold."""
from __future__ import annotations

import pytest

from app.ucondb.naming import (
    InvalidName,
    check_database,
    check_folder,
    check_key,
    check_object,
    check_tag,
    folder_for_dataset,
    pages_url,
)


@pytest.mark.parametrize("dataset, folder", [
    ("cnf.mu2e.tutorial.fcl", "cnf_mu2e_tutorial_fcl"),
    ("cnf.srsoleti.tutorial.MDC2020t.fcl", "cnf_srsoleti_tutorial_MDC2020t_fcl"),
    ("already_fine", "already_fine"),
    ("_x", "_x"),
])
def test_a_datasets_folder_replaces_every_dot(dataset, folder):
    assert folder_for_dataset(dataset) == folder


@pytest.mark.parametrize("dataset, words", [
    ("cnf.mu2e.CeEndpoint-mix.fcl", "'-'"),
    ("cnf.mu2e space.fcl", "' '"),
    ("1cnf.mu2e.fcl", "starts with a digit"),
    ("c." + "x" * 60, "longer than 54"),
    ("", "empty"),
    ("cnf.mü.fcl", "'ü'"),
])
def test_a_dataset_whose_folder_is_still_invalid_is_refused(dataset, words):
    with pytest.raises(InvalidName) as caught:
        folder_for_dataset(dataset)
    assert words in str(caught.value)
    if dataset:
        assert repr(dataset) in str(caught.value)  # the message names the dataset


def test_a_folder_name_may_not_hold_a_dot():
    with pytest.raises(InvalidName, match="dot"):
        check_folder("cnf.fcl")
    assert check_folder("cnf_fcl") == "cnf_fcl"


@pytest.mark.parametrize("check", [check_object, check_key, check_tag])
@pytest.mark.parametrize("value", ["a/b", "..", "x..y", "a\\b", "tab\there", "", "a'b", "a;b",
                                   " padded"])
def test_names_keys_and_tags_refuse_paths_and_quotes(check, value):
    with pytest.raises(InvalidName):
        check(value)


def test_ordinary_fcl_names_are_fine():
    name = "cnf.srsoleti.tutorial.MDC2020t.001000_00000001.fcl"
    assert check_object(name) == name and check_key(name) == name


@pytest.mark.parametrize("name", ["mu2e_ucondb_prod", "dune_ucondb", "_x"])
def test_database_names(name):
    assert check_database(name) == name


@pytest.mark.parametrize("name", ["bad-db", "9db", "", "a" * 64, "db.x"])
def test_bad_database_names(name):
    with pytest.raises(InvalidName):
        check_database(name)


def test_the_ucondb_pages_link_is_a_path_here_or_the_real_servers_ui():
    # The embedded server, whatever host name the settings gave it: a path on this site.
    assert pages_url("http://0.0.0.0:5000/ucondb/mu2e_ucondb_prod/app") == \
        "/ucondb/mu2e_ucondb_prod/app/UI/index"
    assert pages_url("http://localhost:5000/ucondb/db/app/", "a_b") == \
        "/ucondb/db/app/UI/folder?folder=a_b"
    # Fermilab's server: its own UI pages.
    real = "https://dbdata0vm.fnal.gov:9443/mu2e_ucondb_prod/app"
    assert pages_url(real) == f"{real}/UI/index"
    assert pages_url(real, "x&y") == f"{real}/UI/folder?folder=x%26y"
