"""The embedded catalogue: files, parentage, locations, definitions, snapshots, projects."""
from datetime import datetime

import pytest

from app.catalog.base import CatalogError, NotFound


def test_declare_and_read_back_metadata(catalog):
    catalog.declare_file("in.art", size=10, checksum="adler32:1234", metadata={"version": "v2"})
    catalog.declare_file("out.root", size=5, parents=["in.art"],
                         metadata={"run_number": 7, "Mu2e.description": "reco"})
    md = catalog.get_metadata("out.root")
    assert md["file_name"] == "out.root"
    assert md["file_size"] == 5
    assert md["parents"] == [{"file_name": "in.art"}]
    assert md["Mu2e.description"] == "reco"
    assert catalog.get_metadata("in.art")["checksum"] == ["adler32:1234"]
    assert catalog.children("in.art") == ["out.root"]
    assert catalog.parents("out.root") == ["in.art"]


def test_names_are_unique_per_experiment(catalog, app):
    from app.catalog.embedded import EmbeddedCatalog
    from app.extensions import db

    catalog.declare_file("a.art")
    with pytest.raises(CatalogError, match="already declared in samdev: a.art"):
        catalog.declare_file("a.art")
    other = EmbeddedCatalog(db.session, "mu2e")
    other.declare_file("a.art")  # another experiment may have the same name
    assert other.count_files("file_name a.art") == 1
    assert catalog.count_files("file_name a.art") == 1


def test_parents_must_exist_and_names_are_plain(catalog):
    with pytest.raises(NotFound, match="no such file in samdev: ghost.art"):
        catalog.declare_file("child.art", parents=["ghost.art"])
    with pytest.raises(CatalogError, match="is not a file name"):
        catalog.declare_file("dir/file.art")


def test_locations(catalog):
    catalog.declare_file("a.fcl")
    assert catalog.locate("a.fcl") == []
    catalog.add_location("a.fcl", "dcache:/pnfs/mu2e/a")
    catalog.add_location("a.fcl", "ucondb.fnal.gov:/mu2e_ucondb_prod/app/data/ds_fcl")
    catalog.add_location("a.fcl", "dcache:/pnfs/mu2e/a")  # twice is once
    assert catalog.locate("a.fcl") == [
        "dcache:/pnfs/mu2e/a",
        "ucondb.fnal.gov:/mu2e_ucondb_prod/app/data/ds_fcl",
    ]
    assert catalog.count_files("file_name a.fcl with availability anylocation") == 1
    with pytest.raises(NotFound, match="no file named 'b.fcl'"):
        catalog.locate("b.fcl")


def test_definitions_and_snapshots(catalog, raw_files):
    assert catalog.count_files("defname: raw") == 20
    snap = catalog.take_snapshot("raw")
    catalog.declare_file("raw_late.art", metadata={"data_tier": "raw"})
    # the definition grows, the snapshot does not
    assert catalog.count_files("defname: raw") == 21
    assert catalog.snapshot_files(snap) == raw_files
    assert catalog.list_files(f"defname: raw minus snapshot_id {snap}") == ["raw_late.art"]
    catalog.create_definition("raw", "data_tier raw and run_number 1")  # replaced
    assert catalog.count_files("defname:raw") == 5
    with pytest.raises(NotFound, match="no definition named 'nope'"):
        catalog.take_snapshot("nope")


def test_explicit_list_definition(catalog, raw_files):
    catalog.create_list_definition("picked", [raw_files[3], raw_files[1]])
    assert catalog.definition_dimensions("picked").startswith("snapshot_id ")
    assert catalog.list_files("defname: picked") == [raw_files[1], raw_files[3]]


def test_frozen_definition_holds_what_the_dimensions_select_now(catalog, raw_files):
    # What chaining gives a dependent stage: the matching files, frozen in the database.
    assert catalog.create_frozen_definition("run2", "run_number 2") == 5
    catalog.declare_file("raw_late.art", metadata={"runs": [[2, 9, "physics"]]})
    assert catalog.list_files("defname: run2") == raw_files[5:10]  # not the late file
    assert catalog.list_files_located("defname: run2") == dict.fromkeys(raw_files[5:10], "")
    catalog.add_location(raw_files[6], "/pnfs/a")
    catalog.add_location(raw_files[6], "/pnfs/b")
    assert catalog.list_files_located("defname: run2")[raw_files[6]] == "/pnfs/a"
    # Nothing matches: no definition, as create_list_definition refuses an empty list.
    assert catalog.create_frozen_definition("none", "run_number 99") == 0
    with pytest.raises(NotFound, match="no definition named 'none'"):
        catalog.definition_dimensions("none")


def test_a_project_over_a_list_definition_shares_its_snapshot(catalog, raw_files):
    catalog.create_list_definition("picked", [raw_files[3], raw_files[1]])
    listed = int(catalog.definition_dimensions("picked").split()[1])
    assert catalog.start_project("p_picked", "picked") == listed
    catalog.deliver("p_picked", "job.0", raw_files[1])
    with pytest.raises(CatalogError, match="not in project 'p_picked's snapshot"):
        catalog.deliver("p_picked", "job.0", raw_files[2])
    # A definition naming a snapshot that does not exist is snapshotted as before.
    catalog.create_definition("ghost", "snapshot_id 999999")
    assert catalog.start_project("p_ghost", "ghost") != 999999


def test_bad_definition_is_refused_with_the_reason(catalog):
    with pytest.raises(ValueError, match="expected a value after 'version'"):
        catalog.create_definition("bad", "version")


def test_project_deliveries_and_summary(catalog, raw_files):
    catalog.create_definition("run1", "run_number 1")
    snapshot = catalog.start_project("p1", "run1")
    assert catalog.snapshot_files(snapshot) == raw_files[:5]
    catalog.deliver("p1", "job.0", raw_files[0])
    catalog.deliver("p1", "job.0", raw_files[1])
    catalog.deliver("p1", "job.1", raw_files[2])
    catalog.set_file_status("p1", "job.0", raw_files[0], "consumed")
    catalog.set_file_status("p1", "job.0", raw_files[1], "failed")
    catalog.end_process("p1", "job.0", "completed")
    catalog.end_process("p1", "job.1", "bad")
    summary = catalog.project_summary("p1")
    assert summary["file_counts"] == {
        "delivered": 1, "consumed": 1, "failed": 1, "skipped": 0, "not_delivered": 2,
    }
    assert summary["process_counts"] == {"active": 0, "completed": 1, "bad": 1}
    assert summary["tot_consumed"] == 1 and summary["tot_jobfails"] == 1
    assert summary["dataset_def_name"] == "run1"
    with pytest.raises(CatalogError, match="not in project 'p1's snapshot"):
        catalog.deliver("p1", "job.2", raw_files[10])
    with pytest.raises(CatalogError, match="is not a file status"):
        catalog.set_file_status("p1", "job.0", raw_files[0], "eaten")
    with pytest.raises(CatalogError, match="exists already"):
        catalog.start_project("p1", "run1")
    catalog.end_project("p1")
    with pytest.raises(CatalogError, match="has ended"):
        catalog.deliver("p1", "job.3", raw_files[3])


def test_redelivery_keeps_the_best_status(catalog, raw_files):
    catalog.create_definition("run1", "run_number 1")
    catalog.start_project("p", "run1")
    catalog.deliver("p", "a", raw_files[0])
    catalog.set_file_status("p", "a", raw_files[0], "failed")
    catalog.deliver("p", "b", raw_files[0])
    catalog.set_file_status("p", "b", raw_files[0], "consumed")
    assert catalog.count_files("project_name p and consumed_status consumed") == 1
    assert catalog.count_files("project_name p and consumed_status failed") == 0
    got = catalog.deliveries("p", [raw_files[0], raw_files[1]])
    assert got[raw_files[0]].status == "consumed" and got[raw_files[0]].process == "b"
    assert got[raw_files[1]].status == "not delivered"


def test_recovery_dimensions(catalog, raw_files):
    catalog.create_definition("run1", "run_number 1")
    catalog.start_project("p", "run1")
    for name in raw_files[:5]:
        catalog.deliver("p", "job", name)
        catalog.set_file_status("p", "job", name, "consumed")
    catalog.end_process("p", "job", "completed")
    assert catalog.recovery_dimensions("p") == ""
    catalog.create_definition("run2", "run_number 2")
    catalog.start_project("q", "run2")
    catalog.deliver("q", "job", raw_files[5])
    catalog.set_file_status("q", "job", raw_files[5], "consumed")
    catalog.end_process("q", "job", "bad")  # consumed, but by a process that failed
    catalog.deliver("q", "job2", raw_files[6])
    catalog.set_file_status("q", "job2", raw_files[6], "consumed")
    catalog.end_process("q", "job2", "completed")
    by_file = catalog.recovery_dimensions("q")
    by_process = catalog.recovery_dimensions("q", useprocess=True)
    assert catalog.list_files(by_file) == raw_files[7:10]
    assert catalog.list_files(by_process) == [raw_files[5]] + raw_files[7:10]


def test_create_date_is_kept(catalog):
    when = datetime(2025, 5, 5, 12, 0, 0)
    catalog.declare_file("old.art", create_date=when)
    assert catalog.get_metadata("old.art")["create_date"].startswith("2025-05-05T12:00:00")
